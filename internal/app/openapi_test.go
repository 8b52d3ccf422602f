package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ticketflow/ticketflow/internal/httpapi"
)

// The document at /api/openapi.json is the contract; every response of every end-to-end test
// goes through validateResponse (helpers_test.go, from (*system).raw), so a response that the
// document does not describe fails the test that got it. This file holds the checker.

// contractURL is where the compiler files the document; it is never fetched.
const contractURL = "https://ticketflow.invalid/api/openapi.json"

// apiHeaders are the response headers that the API defines. One of them on a response whose
// description does not name it is a failure: the document would not say when clients get it.
var apiHeaders = []string{"X-Request-Id", "ETag", "Location", "Retry-After", "Idempotent-Replayed"}

// contract is the OpenAPI document, ready to check responses against.
type contract struct {
	doc   map[string]any
	paths []pathTemplate // concrete paths first, as OpenAPI matches them

	mu       sync.Mutex // the compiler and the cache are shared by concurrent requests
	compiler *jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema // by JSON pointer
}

// pathTemplate is one path of the document and the pattern that concrete paths match.
type pathTemplate struct {
	template string
	re       *regexp.Regexp
	params   int
}

var loadContract = sync.OnceValues(func() (*contract, error) {
	return newContract(httpapi.OpenAPIDocument())
})

func newContract(document []byte) (*contract, error) {
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(document))
	if err != nil {
		return nil, err
	}
	doc, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the document is not an object")
	}
	c := &contract{doc: doc, compiler: jsonschema.NewCompiler(), schemas: map[string]*jsonschema.Schema{}}
	// OpenAPI 3.1 schemas are JSON Schema 2020-12; formats (uuid, date-time) are asserted, as
	// a client's parser would.
	c.compiler.DefaultDraft(jsonschema.Draft2020)
	c.compiler.AssertFormat()
	if err := c.compiler.AddResource(contractURL, raw); err != nil {
		return nil, err
	}
	paths, _ := doc["paths"].(map[string]any)
	for template := range paths {
		var re strings.Builder
		params := 0
		re.WriteString("^")
		for _, seg := range strings.Split(template, "/")[1:] {
			re.WriteString("/")
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				re.WriteString("[^/]+")
				params++
				continue
			}
			re.WriteString(regexp.QuoteMeta(seg))
		}
		re.WriteString("$")
		c.paths = append(c.paths, pathTemplate{template, regexp.MustCompile(re.String()), params})
	}
	sort.Slice(c.paths, func(i, j int) bool {
		if c.paths[i].params != c.paths[j].params {
			return c.paths[i].params < c.paths[j].params
		}
		return c.paths[i].template < c.paths[j].template
	})
	return c, nil
}

// check returns what is wrong with a response, nothing when the document describes it.
func (c *contract) check(method, target string, status int, header http.Header, body []byte) []string {
	u, err := url.Parse(target)
	if err != nil {
		return []string{fmt.Sprintf("unparsable path: %v", err)}
	}
	var template string
	for _, p := range c.paths {
		if p.re.MatchString(u.Path) {
			template = p.template
			break
		}
	}
	// The router answers paths and methods that it does not serve itself, the same for all.
	if template == "" {
		if status != http.StatusNotFound {
			return []string{"the path matches no path of the document, so the answer must be 404"}
		}
		return c.checkResponse("#/components/responses/NotFound", status, header, body)
	}
	op := "#/paths/" + escape(template) + "/" + strings.ToLower(method)
	if _, ok := c.lookup(op).(map[string]any); !ok {
		if status != http.StatusMethodNotAllowed {
			return []string{fmt.Sprintf("the document has no %s %s, so the answer must be 405", method, template)}
		}
		return c.checkResponse("#/components/responses/MethodNotAllowed", status, header, body)
	}
	responses, _ := c.lookup(op + "/responses").(map[string]any)
	code := strconv.Itoa(status)
	if _, ok := responses[code]; !ok {
		documented := make([]string, 0, len(responses))
		for k := range responses {
			documented = append(documented, k)
		}
		sort.Strings(documented)
		return []string{fmt.Sprintf("status %d is not documented for %s %s (documented: %s); body: %s",
			status, method, template, strings.Join(documented, ", "), abbreviate(body))}
	}
	return c.checkResponse(op+"/responses/"+code, status, header, body)
}

// checkResponse checks a response against the response object at pointer, which may be a $ref.
func (c *contract) checkResponse(pointer string, status int, header http.Header, body []byte) []string {
	pointer = c.resolve(pointer)
	resp, ok := c.lookup(pointer).(map[string]any)
	if !ok {
		return []string{"the document has no response at " + pointer}
	}
	var problems []string

	headers, _ := resp["headers"].(map[string]any)
	documented := map[string]bool{}
	for name := range headers {
		documented[http.CanonicalHeaderKey(name)] = true
		hp := c.resolve(pointer + "/headers/" + escape(name))
		h, _ := c.lookup(hp).(map[string]any)
		value := header.Get(name)
		if value == "" {
			if required, _ := h["required"].(bool); required {
				problems = append(problems, "no "+name+" header, which the document requires")
			}
			continue
		}
		if err := c.validate(hp+"/schema", headerValue(c.lookup(hp+"/schema"), value)); err != nil {
			problems = append(problems, fmt.Sprintf("header %s: %q: %v", name, value, err))
		}
	}
	for _, name := range apiHeaders {
		if header.Get(name) != "" && !documented[http.CanonicalHeaderKey(name)] {
			problems = append(problems, fmt.Sprintf("header %s: %q is not documented for this response", name, header.Get(name)))
		}
	}

	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		if len(body) > 0 {
			problems = append(problems, "a body, where the document describes none: "+abbreviate(body))
		}
		return problems
	}
	mediaType, _, err := mime.ParseMediaType(header.Get("Content-Type"))
	if _, ok := content[mediaType]; err != nil || !ok {
		return append(problems, fmt.Sprintf("Content-Type %q is not one of the documented %v", header.Get("Content-Type"), keys(content)))
	}
	schema := pointer + "/content/" + escape(mediaType) + "/schema"
	if c.lookup(schema) == nil {
		return problems
	}
	var inst any = string(body)
	if mediaType == "application/json" || strings.HasSuffix(mediaType, "+json") {
		if inst, err = jsonschema.UnmarshalJSON(bytes.NewReader(body)); err != nil {
			return append(problems, fmt.Sprintf("the body is not JSON: %v: %s", err, abbreviate(body)))
		}
	}
	if err := c.validate(schema, inst); err != nil {
		problems = append(problems, fmt.Sprintf("the body does not match %s: %v\nbody: %s", schema, err, abbreviate(body)))
	}
	return problems
}

// headerValue turns a header's text into the JSON value its schema is about.
func headerValue(schema any, value string) any {
	s, _ := schema.(map[string]any)
	if s["type"] == "integer" || s["type"] == "number" {
		if _, err := strconv.ParseFloat(value, 64); err == nil {
			return json.Number(value)
		}
	}
	return value
}

// validate validates inst against the schema at pointer, compiled once.
func (c *contract) validate(pointer string, inst any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.schemas[pointer]
	if !ok {
		var err error
		if s, err = c.compiler.Compile(contractURL + pointer); err != nil {
			return fmt.Errorf("the document's schema at %s does not compile: %w", pointer, err)
		}
		c.schemas[pointer] = s
	}
	return s.Validate(inst)
}

// resolve follows $refs from pointer to the object they end at.
func (c *contract) resolve(pointer string) string {
	for range 10 {
		node, _ := c.lookup(pointer).(map[string]any)
		ref, ok := node["$ref"].(string)
		if !ok {
			return pointer
		}
		pointer = ref
	}
	return pointer
}

// lookup returns the value at a JSON pointer ("#/a/b"), nil when there is none.
func (c *contract) lookup(pointer string) any {
	var v any = c.doc
	for _, token := range strings.Split(strings.TrimPrefix(pointer, "#/"), "/") {
		node, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = node[strings.NewReplacer("~1", "/", "~0", "~").Replace(token)]
	}
	return v
}

// escape turns a key into a JSON pointer token.
func escape(key string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(key)
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// abbreviate keeps a failure message readable when the body is the 1 MiB of a too-large test.
func abbreviate(body []byte) string {
	if len(body) > 2000 {
		return string(body[:2000]) + "…"
	}
	return string(body)
}

// TestValidateResponseRefuses checks the checker itself on responses that break the document in
// each way it looks for, next to ones that keep it; it needs no running system.
func TestValidateResponseRefuses(t *testing.T) {
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	const id = "0193a0f4-7b1c-7c3e-9a2b-6f1d2e3c4b5a"
	ticketJSON := `{"id":"` + id + `","title":"t","description":"","status":"open","priority":"normal","requester":"",` +
		`"escalation_level":0,"comments_count":0,"version":1,"created_at":"2026-11-26T10:00:00.123456Z",` +
		`"updated_at":"2026-11-26T10:00:00.123456Z","closed_at":null,"close_reason":null,"group":"support",` +
		`"assignee":null,"tags":[],"internal_notes_count":0,"first_responded_at":null,"first_response_due_at":null,` +
		`"auto_close_at":null}`
	jsonHeader := func(kv ...string) http.Header {
		h := http.Header{"Content-Type": {"application/json; charset=utf-8"}, "X-Request-Id": {"r1"}}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	problemHeader := func(kv ...string) http.Header {
		h := jsonHeader(kv...)
		h.Set("Content-Type", "application/problem+json")
		return h
	}
	problemJSON := func(typ string, status int) string {
		return fmt.Sprintf(`{"type":%q,"title":"x","status":%d,"detail":"d","instance":"/x"}`, typ, status)
	}
	tests := []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		want               string // part of the complaint; "" for none
	}{
		{"a ticket", "GET", "/api/v1/tickets/" + id, 200, jsonHeader("ETag", `"1"`), ticketJSON, ""},
		{"a query string", "GET", "/api/v1/tickets?limit=1", 200, jsonHeader(), `{"items":[` + ticketJSON + `],"next_cursor":"abc"}`, ""},
		{"a created ticket", "POST", "/api/v1/tickets", 201, jsonHeader("ETag", `"1"`, "Location", "/api/v1/tickets/"+id), ticketJSON, ""},
		{"a retry's answer", "POST", "/api/v1/tickets/" + id + "/close", 409, problemHeader("Idempotent-Replayed", "true"), problemJSON("/problems/ticket-closed", 409), ""},
		{"a timeout", "POST", "/api/v1/tickets/" + id + "/answer", 504, problemHeader("Retry-After", "1"), problemJSON("/problems/timeout", 504), ""},
		{"no route", "GET", "/nothing/here", 404, problemHeader(), problemJSON("/problems/not-found", 404), ""},
		{"no such method", "DELETE", "/api/v1/tickets/" + id, 405, problemHeader(), problemJSON("/problems/method-not-allowed", 405), ""},
		{"a not-modified", "GET", "/api/v1/tickets/" + id, 304, http.Header{"X-Request-Id": {"r1"}, "Etag": {`"1"`}}, "", ""},

		{"an undocumented status", "GET", "/api/v1/tickets/" + id, 409, problemHeader(), problemJSON("/problems/conflict", 409), "status 409 is not documented"},
		{"a field too many", "GET", "/api/v1/tickets/" + id, 200, jsonHeader("ETag", `"1"`), strings.Replace(ticketJSON, `"title"`, `"secret":1,"title"`, 1), "does not match"},
		{"a time not in UTC", "GET", "/api/v1/tickets/" + id, 200, jsonHeader("ETag", `"1"`), strings.Replace(ticketJSON, `.123456Z","updated`, `.123456+02:00","updated`, 1), "does not match"},
		{"a time with its trailing zeros dropped", "GET", "/api/v1/tickets/" + id, 200, jsonHeader("ETag", `"1"`), strings.Replace(ticketJSON, `.123456Z","updated`, `.1234Z","updated`, 1), "does not match"},
		{"a closing time without microseconds", "GET", "/api/v1/tickets/" + id, 200, jsonHeader("ETag", `"1"`), strings.Replace(ticketJSON, `"closed_at":null`, `"closed_at":"2026-11-26T10:00:00Z"`, 1), "does not match"},
		{"a wrong problem type", "GET", "/api/v1/tickets/" + id, 404, problemHeader(), problemJSON("/problems/gone", 404), "does not match"},
		{"a problem as plain JSON", "GET", "/api/v1/tickets/" + id, 404, jsonHeader(), problemJSON("/problems/not-found", 404), "Content-Type"},
		{"no request ID", "GET", "/healthz", 200, http.Header{"Content-Type": {"application/json"}}, `{"status":"ok"}`, "no X-Request-Id"},
		{"no ETag", "GET", "/api/v1/tickets/" + id, 200, jsonHeader(), ticketJSON, "no ETag"},
		{"a malformed ETag", "GET", "/api/v1/tickets/" + id, 200, jsonHeader("ETag", "W/1"), ticketJSON, "header ETag"},
		{"an undocumented header", "GET", "/api/v1/tickets?limit=1", 200, jsonHeader("ETag", `"1"`), `{"items":[],"next_cursor":null}`, "not documented for this response"},
		{"a Retry-After that is not a number", "POST", "/api/v1/tickets", 503, problemHeader("Retry-After", "soon"), problemJSON("/problems/unavailable", 503), "header Retry-After"},
		{"a body on a 304", "GET", "/api/v1/tickets/" + id, 304, http.Header{"X-Request-Id": {"r1"}, "Etag": {`"1"`}}, ticketJSON, "describes none"},
		{"a validation problem", "POST", "/api/v1/tickets", 422, problemHeader(), strings.Replace(problemJSON("/problems/validation", 422), `}`, `,"errors":[{"field":"title","message":"must not be empty"}]}`, 1), ""},
		{"a validation problem without errors", "POST", "/api/v1/tickets", 422, problemHeader(), problemJSON("/problems/validation", 422), "does not match"},
		{"errors on another problem", "GET", "/api/v1/tickets/" + id, 404, problemHeader(), strings.Replace(problemJSON("/problems/not-found", 404), `}`, `,"errors":[{"field":"id","message":"x"}]}`, 1), "does not match"},
		{"a problem with a field too many", "GET", "/api/v1/tickets/" + id, 404, problemHeader(), strings.Replace(problemJSON("/problems/not-found", 404), `}`, `,"trace":"x"}`, 1), "does not match"},
		{"a problem the union does not name", "POST", "/api/v1/tickets/" + id + "/close", 409, problemHeader(), problemJSON("/problems/not-found", 409), "does not match"},
		{"a route the document lacks", "GET", "/api/v2/tickets", 200, jsonHeader(), `{}`, "must be 404"},
		{"a method the document lacks", "PUT", "/api/v1/tickets/" + id, 200, jsonHeader(), ticketJSON, "must be 405"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(c.check(tc.method, tc.path, tc.status, tc.header, []byte(tc.body)), "\n")
			switch {
			case tc.want == "" && got != "":
				t.Errorf("refused: %s", got)
			case tc.want != "" && !strings.Contains(got, tc.want):
				t.Errorf("complaint %q, want one about %q", got, tc.want)
			}
		})
	}
}

// TestOpenAPIServed reads the document from a running system: it is the embedded one,
// revalidated with its ETag, and answers 405 to anything but GET.
func TestOpenAPIServed(t *testing.T) {
	s := startSystem(t)
	r := s.do(t, "GET", "/api/openapi.json", nil)
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	r.expect(t, http.StatusOK, &doc)
	if !bytes.Equal(r.body, httpapi.OpenAPIDocument()) {
		t.Error("the served document is not the embedded one")
	}
	if doc.OpenAPI != "3.1.0" || doc.Paths["/api/v1/tickets/{id}/answer"]["post"] == nil {
		t.Errorf("openapi %q, paths %v", doc.OpenAPI, keys(anyMap(doc.Paths)))
	}
	s.raw(t, "GET", "/api/openapi.json", nil, "If-None-Match", r.header.Get("ETag")).expect(t, http.StatusNotModified, nil)
	s.do(t, "POST", "/api/openapi.json", map[string]string{}).expectProblem(t, http.StatusMethodNotAllowed, "/problems/method-not-allowed")
}

func anyMap[V any](m map[string]V) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestDocsServed fetches both documentation pages from a running system, and every file they
// link, as a browser would; validateResponse checks each answer against the document.
// TestDocsPagesRender checks that the pages render in a browser.
func TestDocsServed(t *testing.T) {
	s := startSystem(t)
	requireDocsAssets(t, s)
	for _, page := range []string{"/api/openapi", "/api/redoc"} {
		r := s.raw(t, "GET", page, nil)
		r.expect(t, http.StatusOK, nil)
		links := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(string(r.body), -1)
		if len(links) == 0 {
			t.Fatalf("%s links nothing: %s", page, r.body)
		}
		for _, l := range links {
			if !strings.HasPrefix(l[1], "/api/docs/assets/") {
				t.Errorf("%s links %s, which is not on this server", page, l[1])
				continue
			}
			a := s.raw(t, "GET", l[1], nil)
			a.expect(t, http.StatusOK, nil)
			if len(a.body) < 100 {
				t.Errorf("%s: %d bytes", l[1], len(a.body))
			}
			s.raw(t, "GET", l[1], nil, "If-None-Match", a.header.Get("ETag")).expect(t, http.StatusNotModified, nil)
		}
		s.raw(t, "GET", page, nil, "If-None-Match", r.header.Get("ETag")).expect(t, http.StatusNotModified, nil)
	}
	s.raw(t, "GET", "/api/docs/assets/nothing.js", nil).expectProblem(t, http.StatusNotFound, "/problems/not-found")
	s.raw(t, "GET", "/api/docs/assets/redoc.LICENSE.txt", nil).expect(t, http.StatusOK, nil)
}
