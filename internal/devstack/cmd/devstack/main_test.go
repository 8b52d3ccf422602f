package main

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/ticketflow/ticketflow/internal/devstack"
)

// TestShell evals the output in bash, as stack.sh does, and reads the variables back.
func TestShell(t *testing.T) {
	sas, err := devstack.SearchAttributes()
	if err != nil {
		t.Fatal(err)
	}
	var attrs []string
	for _, sa := range sas {
		attrs = append(attrs, sa.String())
	}
	for _, p := range devstack.Profiles {
		out, err := shell(p.Name)
		if err != nil {
			t.Fatal(err)
		}
		script := "set -eu\n" + out + `printf '%s\n' "$PG_PORT" "${REDIS_PORTS[*]}" "$TEMPORAL_PORT" "$TEMPORAL_UI_PORT" ` +
			`"$TEMPORAL_HTTP_PORT" "$TEMPORAL_METRICS_PORT" "$PG_DSN" "$REDIS_SEEDS" "$TEMPORAL_ADDR" "${SEARCH_ATTRIBUTES[*]}"`
		got, err := exec.Command("bash", "-c", script).Output()
		if err != nil {
			t.Fatalf("%s: bash: %v\n%s", p.Name, err, out)
		}
		var redis []string
		for _, port := range p.RedisPorts() {
			redis = append(redis, strconv.Itoa(port))
		}
		ui := ""
		if p.TemporalUI != 0 {
			ui = strconv.Itoa(p.TemporalUI)
		}
		want := strings.Join([]string{
			strconv.Itoa(p.Postgres), strings.Join(redis, " "), strconv.Itoa(p.Temporal), ui,
			strconv.Itoa(p.TemporalHTTP), strconv.Itoa(p.TemporalMetrics), p.DSN(),
			strings.Join(p.RedisAddrs(), ","), p.TemporalAddress(), strings.Join(attrs, " "),
		}, "\n") + "\n"
		if string(got) != want {
			t.Errorf("%s: bash read\n%s\nwant\n%s", p.Name, got, want)
		}
	}
	if _, err := shell("nope"); err == nil {
		t.Error("shell(nope) succeeded")
	}
}

func TestQuote(t *testing.T) {
	s := `it's $HOME; "x" *`
	got, err := exec.Command("bash", "-c", "printf %s "+quote(s)).Output()
	if err != nil || string(got) != s {
		t.Errorf("bash read %q (%v), want %q", got, err, s)
	}
}
