package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/httpapi"
)

// TestDocsPagesRender loads Swagger UI and ReDoc from a running system in headless Chromium and
// checks that each renders every operation of the document, in the elements that it renders
// operations in. A page that loads but shows nothing (a script that is missing or blocked by the
// page's Content-Security-Policy, a document that the page cannot read) fails, which fetching the
// HTML could not show. Chromium has no network here beyond the test server, so a page that
// needed a CDN would fail too.
func TestDocsPagesRender(t *testing.T) {
	chromium := findChromium(t)
	s := startSystem(t)
	requireDocsAssets(t, s)
	ops := documentedOperations(t)

	t.Run("swagger-ui", func(t *testing.T) {
		dom := dumpDOM(t, chromium, s.url+"/api/openapi")
		// <span class="opblock-summary-method">POST</span>…<span class="opblock-summary-path"
		// data-path="/api/v1/tickets/{id}/answer">…<div class="opblock-summary-description">Answer a ticket</div>
		re := regexp.MustCompile(`(?s)class="opblock-summary-method">([A-Z]+)</span>.*?class="opblock-summary-path" data-path="([^"]+)".*?class="opblock-summary-description">([^<]*)</div>`)
		rendered := map[string]string{}
		for _, m := range re.FindAllStringSubmatch(dom, -1) {
			rendered[m[1]+" "+m[2]] = m[3]
		}
		for _, op := range ops {
			if got, ok := rendered[op.key()]; !ok || got != op.Summary {
				t.Errorf("Swagger UI does not show %s %q (it shows %q)", op.key(), op.Summary, got)
			}
		}
		if strings.Contains(dom, `class="errors-wrapper"`) {
			t.Errorf("Swagger UI reports problems with the document: %s", between(dom, `class="errors-wrapper"`, "</div>"))
		}
	})

	t.Run("redoc", func(t *testing.T) {
		dom := dumpDOM(t, chromium, s.url+"/api/redoc")
		// The operation's heading, <h2><a href="#tag/Lifecycle/operation/answerTicket" …></a>Answer a ticket </h2>,
		// and its endpoint, <span class="… http-verb post">post</span><span …>/api/v1/tickets/{id}/answer</span>.
		headings := map[string]string{}
		for _, m := range regexp.MustCompile(`<h2[^>]*><a[^>]*href="#[^"]*operation/([A-Za-z]+)"[^>]*></a>([^<]*)</h2>`).FindAllStringSubmatch(dom, -1) {
			headings[m[1]] = strings.TrimSpace(m[2])
		}
		endpoints := map[string]bool{}
		for _, m := range regexp.MustCompile(`http-verb (\w+)">\w+</span><span[^>]*>([^<]+)</span>`).FindAllStringSubmatch(dom, -1) {
			endpoints[strings.ToUpper(m[1])+" "+m[2]] = true
		}
		for _, op := range ops {
			if got := headings[op.OperationID]; got != op.Summary {
				t.Errorf("ReDoc shows no heading %q for %s (it shows %q)", op.Summary, op.OperationID, got)
			}
			if !endpoints[op.key()] {
				t.Errorf("ReDoc shows no endpoint %s", op.key())
			}
		}
		if strings.Contains(dom, "failed to render") {
			t.Errorf("ReDoc could not render the document: %s", between(dom, "failed to render", "</div>"))
		}
	})
}

// documentedOp is an operation of the OpenAPI document.
type documentedOp struct {
	Method, Path string
	OperationID  string `json:"operationId"`
	Summary      string `json:"summary"`
}

func (op documentedOp) key() string { return op.Method + " " + op.Path }

func documentedOperations(t *testing.T) []documentedOp {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(httpapi.OpenAPIDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	var ops []documentedOp
	for path, item := range doc.Paths {
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			op := documentedOp{Method: strings.ToUpper(method), Path: path}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			ops = append(ops, op)
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].key() < ops[j].key() })
	if len(ops) < 10 {
		t.Fatalf("the document has only %d operations", len(ops))
	}
	return ops
}

// findChromium returns the path of Chromium, and fails the test without it: the pages are part of
// the contract, so their check must not quietly drop out.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Fatal("chromium is not installed, and it checks the documentation pages: `make test` installs it " +
		"(internal/devstack/stack.sh deps), or run apt-get install -y chromium")
	return ""
}

// dumpDOM loads url in headless Chromium, lets its scripts run for up to ten seconds of virtual
// time, and returns the DOM as they left it. A script error on the page fails the test.
func dumpDOM(t *testing.T, chromium, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-breakpad", "--user-data-dir="+t.TempDir(),
		// The page's console goes to stderr, where a script error shows.
		"--enable-logging=stderr", "--v=0",
		"--virtual-time-budget=10000", "--dump-dom", url)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", url, err, stderr.String())
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, "CONSOLE") && strings.Contains(line, "Uncaught") {
			t.Errorf("a script failed on %s: %s", url, line)
		}
	}
	if stdout.Len() == 0 {
		t.Fatalf("chromium dumped no DOM for %s:\n%s", url, stderr.String())
	}
	return stdout.String()
}

// between returns the text of s from the first from up to the next to, for a failure message.
func between(s, from, to string) string {
	_, rest, _ := strings.Cut(s, from)
	text, _, _ := strings.Cut(rest, to)
	return text
}
