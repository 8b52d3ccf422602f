package bench

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
)

// serverCounters reads the Temporal server's own Prometheus counters: what the server did for the
// operations of a phase, which its CPU time alone does not say. The dev server has no pprof, so
// this is the server-side profile: persistence requests (each one a write or read of its
// SQLite database, serialised on one connection), history tasks by type (timers, visibility
// upserts, transfers), and history service calls by API.
type serverCounters struct {
	url    string
	client *http.Client
}

// watched are the counters kept, by metric name, each summed over its labels but "operation".
var watched = map[string]bool{"persistence_requests": true, "task_requests": true, "service_requests": true}

// read returns each watched counter as "metric/operation" → value; nil when there is no URL or
// the server does not answer, which leaves this part of the report empty.
func (s serverCounters) read(ctx context.Context) map[string]float64 {
	if s.url == "" {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil
	}
	res, err := s.client.Do(req)
	if err != nil {
		return nil
	}
	defer res.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		brace := strings.IndexByte(line, '{')
		if brace < 0 || !watched[line[:brace]] {
			continue
		}
		end := strings.LastIndexByte(line, '}')
		if end < brace {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
		if err != nil {
			continue
		}
		name := line[:brace]
		labels := line[brace+1 : end]
		// The history service's calls only: the frontend's repeat them, and matching's polls
		// count waiting, not work.
		if name == "service_requests" && !strings.Contains(labels, `service_name="history"`) {
			continue
		}
		out[name+"/"+label(labels, "operation")] += v
	}
	return out
}

// label returns the value of label name in a Prometheus label set.
func label(labels, name string) string {
	i := strings.Index(labels, name+`="`)
	if i < 0 {
		return ""
	}
	rest := labels[i+len(name)+2:]
	if j := strings.IndexByte(rest, '"'); j >= 0 {
		return rest[:j]
	}
	return ""
}
