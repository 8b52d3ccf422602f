package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of one run.
type Report struct {
	Machine  Machine
	Settings Settings
	ListRows int

	Create, RawStart, RawUpdate, Transition, RawGet, Get, List Result
	// ListAssignee is one agent's queue: GET /tickets?assignee=…; Search a two-word q=.
	ListAssignee, Search Result
	// RawUpdateAlone and TransitionAlone are the same round trips with one client: latency
	// without a queue in front of it.
	RawUpdateAlone, TransitionAlone Result
	// EventTransition is the load under which events out are timed: WebhookDelivery from a
	// change to its webhook's receiver, StreamDelivery to each open event stream.
	EventTransition, WebhookDelivery, StreamDelivery Result
	// Fill is the opening of the tickets that the heap is measured with.
	Fill Result
	// RawStartDrain is how long the raw workflows' first tasks ran on after the last start
	// returned; it is part of RawStart.Elapsed.
	RawStartDrain time.Duration
	Heap          Heap
	// CPU is the CPU time, in milliseconds per operation, that each process of the stack spent in
	// each phase: "bench" is this process (load, API and worker together).
	CPU map[string]map[string]float64
	// ServerWork is what the Temporal server did per operation of each phase, by counter
	// ("persistence_requests/UpdateWorkflowExecution", "task_requests/…", "service_requests/…").
	ServerWork map[string]map[string]float64
	// Figures are the flat key/value figures that the JSON output carries.
	Figures map[string]float64
}

// Machine says where and when the figures were taken.
type Machine struct {
	When       time.Time `json:"when"`
	Host       string    `json:"host"`
	CPU        string    `json:"cpu"`
	Cores      int       `json:"cores"`
	MemoryGiB  float64   `json:"memory_gib"`
	Go         string    `json:"go"`
	Commit     string    `json:"commit"`
	LoadBefore string    `json:"load_before"`
	LoadAfter  string    `json:"load_after"`
}

func ms(d time.Duration) float64 { return round(float64(d.Microseconds())/1000, 3) }

func round(v float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(v*p) / p
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return round(a/b, 3)
}

// figures flattens the report into the keys of the JSON output. A ratio is ticketflow's figure
// over the raw one: for rates, above 1 is faster; for latencies, below 1 is faster.
func (r *Report) figures() map[string]float64 {
	f := map[string]float64{
		"concurrency":       float64(r.Settings.Concurrency),
		"list_concurrency":  float64(r.Settings.ListConcurrency),
		"raw_start_drain_s": round(r.RawStartDrain.Seconds(), 2),
		"list_rows":         float64(r.ListRows),

		"open_tickets":                 float64(r.Fill.Ops),
		"worker_heap_kib_per_ticket":   round(r.Heap.HeapKiB, 2),
		"worker_stack_kib_per_ticket":  round(r.Heap.StackKiB, 2),
		"worker_goroutines_per_ticket": round(r.Heap.Goroutines, 2),

		"transition_p50_ratio":       ratio(ms(r.Transition.P50), ms(r.RawUpdate.P50)),
		"transition_p99_ratio":       ratio(ms(r.Transition.P99), ms(r.RawUpdate.P99)),
		"transition_alone_p50_ratio": ratio(ms(r.TransitionAlone.P50), ms(r.RawUpdateAlone.P50)),
		"transition_alone_p99_ratio": ratio(ms(r.TransitionAlone.P99), ms(r.RawUpdateAlone.P99)),
		"transition_rate_ratio":      ratio(r.Transition.PerSecond(), r.RawUpdate.PerSecond()),
		"create_rate_ratio":          ratio(r.Create.PerSecond(), r.RawStart.PerSecond()),
		"get_rate_ratio":             ratio(r.Get.PerSecond(), r.RawGet.PerSecond()),
		"get_p99_ratio":              ratio(ms(r.Get.P99), ms(r.RawGet.P99)),
	}
	// Every measured series gives <name>_p50_ms, <name>_p99_ms and <name>_per_s.
	for name, res := range map[string]Result{
		"raw_update": r.RawUpdate, "raw_start": r.RawStart, "raw_get": r.RawGet,
		"transition": r.Transition, "create": r.Create, "get": r.Get, "list": r.List, "list_assignee": r.ListAssignee, "search": r.Search, "fill_create": r.Fill,
		"raw_update_alone": r.RawUpdateAlone, "transition_alone": r.TransitionAlone,
		"event_transition": r.EventTransition, "webhook_delivery": r.WebhookDelivery, "stream_delivery": r.StreamDelivery,
	} {
		f[name+"_p50_ms"], f[name+"_p99_ms"] = ms(res.P50), ms(res.P99)
		f[name+"_per_s"] = round(res.PerSecond(), 1)
	}
	return f
}

// target is one of the performance targets: a figure, and the bound it must stay on the right
// side of.
type target struct {
	key    string
	atMost bool
	bound  float64
	// minRows is the table size the target is stated for; below it the target is not judged.
	minRows int
}

var targets = []target{
	{key: "transition_p50_ratio", atMost: true, bound: 1.2},
	{key: "transition_rate_ratio", bound: 0.9},
	{key: "create_rate_ratio", bound: 0.8},
	{key: "get_rate_ratio", bound: 0.9},
	{key: "list_p99_ms", atMost: true, bound: 20, minRows: 1_000_000},
	{key: "list_assignee_p99_ms", atMost: true, bound: 20, minRows: 1_000_000},
	{key: "search_p99_ms", atMost: true, bound: 50, minRows: 1_000_000},
	{key: "worker_heap_kib_per_ticket", atMost: true, bound: 30},
	{key: "webhook_delivery_p99_ms", atMost: true, bound: 250},
	{key: "stream_delivery_p99_ms", atMost: true, bound: 250},
}

func (t target) String() string {
	op := "≥"
	if t.atMost {
		op = "≤"
	}
	s := fmt.Sprintf("%s %g", op, t.bound)
	if t.minRows > 0 {
		s += fmt.Sprintf(" at %d rows", t.minRows)
	}
	return s
}

// verdict says whether the figures meet t: "yes", "NO", or why it is not judged.
func (t target) verdict(f map[string]float64) string {
	v := f[t.key]
	if t.minRows > 0 && f["list_rows"] < float64(t.minRows) {
		if v <= t.bound {
			return fmt.Sprintf("(yes at %d rows)", int(f["list_rows"]))
		}
		return fmt.Sprintf("(no at %d rows)", int(f["list_rows"]))
	}
	if (t.atMost && v <= t.bound) || (!t.atMost && v >= t.bound) {
		return "yes"
	}
	return "NO"
}

// Targets returns, for each target, its key and verdict.
func (r *Report) Targets() map[string]string {
	out := map[string]string{}
	for _, t := range targets {
		out[t.key] = t.verdict(r.Figures)
	}
	return out
}

// WriteTable prints the figures, each pair with its ratio and target, then where the CPU went.
func (r *Report) WriteTable(out io.Writer) {
	f := r.Figures
	m := r.Machine
	fmt.Fprintf(out, "\nticketflow bench, %s\n", m.When.Format(time.RFC3339))
	fmt.Fprintf(out, "machine: %s, %d cores, %.0f GiB, %s, commit %s; load average before %s, after %s\n",
		m.CPU, m.Cores, m.MemoryGiB, m.Go, m.Commit, m.LoadBefore, m.LoadAfter)
	fmt.Fprintf(out, "each pair: same concurrency, warmed up, %d alternating rounds; list on %d rows\n\n",
		r.Settings.Rounds, r.ListRows)

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "measure\tclients\tops\traw\tticketflow\tratio\ttarget\tholds\t")
	verdicts := map[string]string{}
	bounds := map[string]string{}
	for _, t := range targets {
		verdicts[t.key], bounds[t.key] = t.verdict(f), t.String()
	}
	row := func(name string, res Result, raw, tf any, ratioKey string) {
		ratioCell := ""
		if ratioKey != "" {
			ratioCell = fmt.Sprintf("%.3f", f[ratioKey])
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%v\t%v\t%s\t%s\t%s\t\n", name, res.Concurrency, res.Ops,
			cell(raw), cell(tf), ratioCell, bounds[ratioKey], verdicts[ratioKey])
	}
	row("update: raw no-op update vs transition, p50 ms", r.Transition, f["raw_update_p50_ms"], f["transition_p50_ms"], "transition_p50_ratio")
	row("  p99 ms", r.Transition, f["raw_update_p99_ms"], f["transition_p99_ms"], "transition_p99_ratio")
	row("  per s", r.Transition, f["raw_update_per_s"], f["transition_per_s"], "transition_rate_ratio")
	row("  alone: p50 ms", r.TransitionAlone, f["raw_update_alone_p50_ms"], f["transition_alone_p50_ms"], "transition_alone_p50_ratio")
	row("  alone: p99 ms", r.TransitionAlone, f["raw_update_alone_p99_ms"], f["transition_alone_p99_ms"], "transition_alone_p99_ratio")
	row("start: raw workflow start vs create, per s", r.Create, f["raw_start_per_s"], f["create_per_s"], "create_rate_ratio")
	row("  p50 ms", r.Create, f["raw_start_p50_ms"], f["create_p50_ms"], "")
	row("  p99 ms", r.Create, f["raw_start_p99_ms"], f["create_p99_ms"], "")
	row("read: raw chi+go-redis vs cached GET, per s", r.Get, f["raw_get_per_s"], f["get_per_s"], "get_rate_ratio")
	row("  p50 ms", r.Get, f["raw_get_p50_ms"], f["get_p50_ms"], "")
	row("  p99 ms", r.Get, f["raw_get_p99_ms"], f["get_p99_ms"], "get_p99_ratio")
	row(fmt.Sprintf("GET /tickets?status=open, %d rows, p50 ms", r.ListRows), r.List, nil, f["list_p50_ms"], "")
	fmt.Fprintf(tw, "  p99 ms\t%d\t%d\t\t%v\t\t%s\t%s\t\n", r.List.Concurrency, r.List.Ops, cell(f["list_p99_ms"]),
		bounds["list_p99_ms"], verdicts["list_p99_ms"])
	row("GET /tickets?assignee=<one agent's>, p50 ms", r.ListAssignee, nil, f["list_assignee_p50_ms"], "")
	fmt.Fprintf(tw, "  p99 ms\t%d\t%d\t\t%v\t\t%s\t%s\t\n", r.ListAssignee.Concurrency, r.ListAssignee.Ops,
		cell(f["list_assignee_p99_ms"]), bounds["list_assignee_p99_ms"], verdicts["list_assignee_p99_ms"])
	row(fmt.Sprintf("GET /tickets?q=%s, p50 ms", searchQuery), r.Search, nil, f["search_p50_ms"], "")
	fmt.Fprintf(tw, "  p99 ms\t%d\t%d\t\t%v\t\t%s\t%s\t\n", r.Search.Concurrency, r.Search.Ops,
		cell(f["search_p99_ms"]), bounds["search_p99_ms"], verdicts["search_p99_ms"])
	row("transitions while events go out, per s", r.EventTransition, nil, f["event_transition_per_s"], "")
	row("  change to its webhook's receiver, p50 ms", r.WebhookDelivery, nil, f["webhook_delivery_p50_ms"], "")
	fmt.Fprintf(tw, "  p99 ms\t%d\t%d\t\t%v\t\t%s\t%s\t\n", r.WebhookDelivery.Concurrency, r.WebhookDelivery.Ops,
		cell(f["webhook_delivery_p99_ms"]), bounds["webhook_delivery_p99_ms"], verdicts["webhook_delivery_p99_ms"])
	row(fmt.Sprintf("  change to each of %d event streams, p50 ms", r.StreamDelivery.Concurrency), r.StreamDelivery, nil, f["stream_delivery_p50_ms"], "")
	fmt.Fprintf(tw, "  p99 ms\t%d\t%d\t\t%v\t\t%s\t%s\t\n", r.StreamDelivery.Concurrency, r.StreamDelivery.Ops,
		cell(f["stream_delivery_p99_ms"]), bounds["stream_delivery_p99_ms"], verdicts["stream_delivery_p99_ms"])
	fmt.Fprintf(tw, "opening the tickets held open, per s\t%d\t%d\t\t%v\t\t\t\t\n", r.Fill.Concurrency, r.Fill.Ops, cell(f["fill_create_per_s"]))
	fmt.Fprintf(tw, "worker heap per open ticket, KiB\t\t%d\t\t%v\t\t%s\t%s\t\n", r.Fill.Ops,
		cell(f["worker_heap_kib_per_ticket"]), bounds["worker_heap_kib_per_ticket"], verdicts["worker_heap_kib_per_ticket"])
	fmt.Fprintf(tw, "  goroutine stacks per open ticket, KiB\t\t%d\t\t%v\t\t\t\t\n", r.Fill.Ops, cell(f["worker_stack_kib_per_ticket"]))
	fmt.Fprintf(tw, "  goroutines per open ticket\t\t%d\t\t%v\t\t\t\t\n", r.Fill.Ops, cell(f["worker_goroutines_per_ticket"]))
	tw.Flush()

	if len(r.CPU) == 0 {
		return
	}
	fmt.Fprintf(out, "\nCPU ms per operation, by process (bench = load + API + worker, this process;\n"+
		"other = the rest of the machine meanwhile, i.e. noise), and the store's connection pool\n"+
		"(acquires that found no idle connection, and ms spent acquiring, per operation):\n\n")
	groups := []string{"bench", "temporal", "postgres", "redis"}
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "phase\t%s\tstack\tother\tpg pool waits\tpg acquire ms\t\n", strings.Join(groups, "\t"))
	for _, p := range phaseOrder(r.CPU) {
		var total float64
		fmt.Fprintf(tw, "%s\t", p)
		for _, g := range groups {
			total += r.CPU[p][g]
			fmt.Fprintf(tw, "%.3f\t", r.CPU[p][g])
		}
		fmt.Fprintf(tw, "%.3f\t%.3f\t%.3f\t%.3f\t\n", total, max(r.CPU[p]["machine"]-total, 0),
			r.CPU[p]["pg_pool_waits"], r.CPU[p]["pg_pool_wait_ms"])
	}
	tw.Flush()

	if len(r.ServerWork) == 0 {
		return
	}
	fmt.Fprintf(out, "\nTemporal server work per operation (from its /metrics):\n\n")
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "phase\tpersistence requests\thistory tasks\thistory calls\tlargest\t\n")
	for _, p := range phaseOrder(r.ServerWork) {
		sums := map[string]float64{}
		type kv struct {
			k string
			v float64
		}
		var top []kv
		for k, v := range r.ServerWork[p] {
			metric, _, _ := strings.Cut(k, "/")
			sums[metric] += v
			if metric == "persistence_requests" || metric == "task_requests" {
				top = append(top, kv{k, v})
			}
		}
		slices.SortFunc(top, func(a, b kv) int { return cmpDesc(a.v, b.v) })
		var largest []string
		for _, e := range top[:min(len(top), 4)] {
			_, op, _ := strings.Cut(e.k, "/")
			largest = append(largest, fmt.Sprintf("%s %.2f", op, e.v))
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%s\t\n", p, sums["persistence_requests"], sums["task_requests"],
			sums["service_requests"], strings.Join(largest, ", "))
	}
	tw.Flush()
}

func cmpDesc(a, b float64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

// phaseOrder lists the phases of m in the order of the table.
func phaseOrder[V any](m map[string]V) []string {
	order := []string{"raw-start", "create", "raw-update", "transition", "raw-update-alone", "transition-alone",
		"raw-get", "get", "list", "event-transition"}
	phases := make([]string, 0, len(m))
	for p := range m {
		if slices.Contains(order, p) {
			phases = append(phases, p)
		}
	}
	slices.SortFunc(phases, func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) })
	return phases
}

func cell(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case float64:
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprint(v)
}

// WriteJSON writes the figures, with the machine, the settings, the verdicts and the CPU table,
// as one JSON object whose top-level keys include every figure.
func (r *Report) WriteJSON(file string) error {
	obj := map[string]any{}
	for k, v := range r.Figures {
		obj[k] = v
	}
	obj["machine"] = r.Machine
	obj["settings"] = map[string]any{
		"rows": r.Settings.Rows, "concurrency": r.Settings.Concurrency, "tickets": r.Settings.Tickets, "starts": r.Settings.Starts,
		"transitions": r.Settings.Transitions, "gets": r.Settings.Gets, "lists": r.Settings.Lists,
		"list_concurrency": r.Settings.ListConcurrency, "rounds": r.Settings.Rounds,
	}
	obj["targets"] = r.Targets()
	obj["cpu_ms_per_op"] = r.CPU
	obj["temporal_server_per_op"] = r.ServerWork
	b, err := json.MarshalIndent(obj, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(b, '\n'), 0o644)
}

// machine describes this machine as far as Linux tells.
func machine() Machine {
	m := Machine{When: time.Now().UTC().Truncate(time.Second), Cores: runtime.NumCPU(), Go: runtime.Version(),
		LoadBefore: loadAverage()}
	m.Host, _ = os.Hostname()
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %f kB", &kb); err == nil {
			m.MemoryGiB = round(kb/1024/1024, 1)
		}
	}
	m.Commit = "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				m.Commit = s.Value[:min(len(s.Value), 12)]
			}
		}
	}
	if m.Commit == "unknown" {
		// go run does not stamp the revision; ask git, if it is there.
		if out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output(); err == nil {
			m.Commit = strings.TrimSpace(string(out))
			if exec.Command("git", "diff", "--quiet", "HEAD").Run() != nil {
				m.Commit += "+dirty"
			}
		}
	}
	return m
}

// loadAverage is the 1-, 5- and 15-minute load average: how busy the machine was with other work.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
