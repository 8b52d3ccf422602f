// Command devstack prints a profile of package devstack as bash assignments, for
// internal/devstack/stack.sh to eval: the ports and addresses of its services, and the search
// attributes that its Temporal server registers.
//
//	devstack shell <profile>
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/ticketflow/ticketflow/internal/devstack"
)

func main() {
	if len(os.Args) != 3 || os.Args[1] != "shell" {
		fmt.Fprintln(os.Stderr, "usage: devstack shell <profile>")
		os.Exit(2)
	}
	out, err := shell(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Print(out)
}

// shell returns the assignments of the profile called name. The names are stack.sh's variables.
func shell(name string) (string, error) {
	p, err := devstack.Lookup(name)
	if err != nil {
		return "", err
	}
	sas, err := devstack.SearchAttributes()
	if err != nil {
		return "", err
	}
	var ui string // empty: headless
	if p.TemporalUI != 0 {
		ui = strconv.Itoa(p.TemporalUI)
	}
	var redis, attrs []string
	for _, port := range p.RedisPorts() {
		redis = append(redis, strconv.Itoa(port))
	}
	for _, sa := range sas {
		attrs = append(attrs, quote(sa.String()))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "PG_PORT=%d\n", p.Postgres)
	fmt.Fprintf(&b, "REDIS_PORTS=(%s)\n", strings.Join(redis, " "))
	fmt.Fprintf(&b, "TEMPORAL_PORT=%d\n", p.Temporal)
	fmt.Fprintf(&b, "TEMPORAL_UI_PORT=%s\n", quote(ui))
	fmt.Fprintf(&b, "TEMPORAL_HTTP_PORT=%d\n", p.TemporalHTTP)
	fmt.Fprintf(&b, "TEMPORAL_METRICS_PORT=%d\n", p.TemporalMetrics)
	fmt.Fprintf(&b, "PG_DSN=%s\n", quote(p.DSN()))
	fmt.Fprintf(&b, "REDIS_SEEDS=%s\n", quote(strings.Join(p.RedisAddrs(), ",")))
	fmt.Fprintf(&b, "TEMPORAL_ADDR=%s\n", quote(p.TemporalAddress()))
	fmt.Fprintf(&b, "SEARCH_ATTRIBUTES=(%s)\n", strings.Join(attrs, " "))
	return b.String(), nil
}

// quote makes s one bash word, whatever it holds.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
