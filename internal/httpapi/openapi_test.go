package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// The tests here hold openapi.json to the code: to the router, to the table of problems, to the
// domain's limits and enums, and to the request bodies the handlers accept. internal/app holds it
// to real responses.

// testServer returns a Server whose dependencies are never called by these tests: walking the
// routes and serving the documentation need none of them.
func testServer() *Server {
	return New(Options{Service: unusedService{}, Logger: slog.New(slog.DiscardHandler)})
}

type unusedService struct{ Service }

// spec is the OpenAPI document, decoded.
type spec map[string]any

func loadSpec(t *testing.T) spec {
	t.Helper()
	var doc spec
	dec := json.NewDecoder(bytes.NewReader(openAPIDocument))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return doc
}

// at returns the value at a JSON pointer ("#/components/schemas/Ticket"), following a $ref
// wherever it finds one on the way, and fails the test when there is nothing.
func (doc spec) at(t *testing.T, pointer string) any {
	t.Helper()
	var v any = map[string]any(doc)
	for _, token := range strings.Split(strings.TrimPrefix(pointer, "#/"), "/") {
		token = strings.NewReplacer("~1", "/", "~0", "~").Replace(token)
		// A $ref may have siblings (a default, a description): they come before what it names.
		if node, ok := v.(map[string]any); ok && node[token] != nil {
			v = node[token]
			continue
		}
		v = doc.deref(t, v)
		switch node := v.(type) {
		case map[string]any:
			next, ok := node[token]
			if !ok {
				t.Fatalf("openapi.json has nothing at %s (no %q)", pointer, token)
			}
			v = next
		case []any:
			i, err := strconv.Atoi(token)
			if err != nil || i < 0 || i >= len(node) {
				t.Fatalf("openapi.json has nothing at %s (no item %q)", pointer, token)
			}
			v = node[i]
		default:
			t.Fatalf("openapi.json has nothing at %s (%q is in a %T)", pointer, token, v)
		}
	}
	return doc.deref(t, v)
}

// deref follows v's $ref, if it has one, to what it names.
func (doc spec) deref(t *testing.T, v any) any {
	t.Helper()
	for range 10 {
		node, ok := v.(map[string]any)
		if !ok {
			return v
		}
		ref, ok := node["$ref"].(string)
		if !ok {
			return v
		}
		if !strings.HasPrefix(ref, "#/") {
			t.Fatalf("openapi.json: $ref %q is not a pointer into the document", ref)
		}
		v = doc.at(t, ref)
	}
	t.Fatal("openapi.json: $ref loop")
	return nil
}

func (doc spec) obj(t *testing.T, pointer string) map[string]any {
	t.Helper()
	m, ok := doc.at(t, pointer).(map[string]any)
	if !ok {
		t.Fatalf("openapi.json: %s is not an object", pointer)
	}
	return m
}

func (doc spec) number(t *testing.T, pointer string) int {
	t.Helper()
	n, ok := doc.at(t, pointer).(json.Number)
	if !ok {
		t.Fatalf("openapi.json: %s is not a number", pointer)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("openapi.json: %s: %v", pointer, err)
	}
	return int(i)
}

func (doc spec) strings(t *testing.T, pointer string) []string {
	t.Helper()
	list, ok := doc.at(t, pointer).([]any)
	if !ok {
		t.Fatalf("openapi.json: %s is not a list", pointer)
	}
	var out []string
	for _, v := range list {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

// pointer escapes a path as a JSON pointer token.
func pointer(path string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(path)
}

// methods are the keys of a path item that name operations.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// operation is one operation of the document.
type operation struct {
	method, path string
	op           map[string]any
}

func (doc spec) operations(t *testing.T) []operation {
	t.Helper()
	var ops []operation
	for path, item := range doc.obj(t, "#/paths") {
		for _, m := range methods {
			if op, ok := item.(map[string]any)[m].(map[string]any); ok {
				ops = append(ops, operation{strings.ToUpper(m), path, op})
			}
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].path+ops[i].method < ops[j].path+ops[j].method })
	return ops
}

// servedOutsideRouter are the documented operations that internal/app serves in front of the
// router; the end-to-end tests check them against the document.
var servedOutsideRouter = map[string]bool{"GET /metrics": true}

// TestOpenAPIDescribesEveryRoute keeps the document and the router from drifting apart: every
// route is documented, and every documented operation is a route.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	doc := loadSpec(t)
	documented := map[string]bool{}
	for _, op := range doc.operations(t) {
		documented[op.method+" "+op.path] = true
	}
	routed := map[string]bool{}
	err := chi.Walk(testServer().router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		// chi names the root of a sub-router with a trailing slash (/tickets/{id}/); the path a
		// client sends has none.
		if len(route) > 1 {
			route = strings.TrimSuffix(route, "/")
		}
		routed[method+" "+route] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(routed) < 10 {
		t.Fatalf("walked only %d routes: %v", len(routed), routed)
	}
	for r := range routed {
		if !documented[r] {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for d := range documented {
		if !routed[d] && !servedOutsideRouter[d] {
			t.Errorf("openapi.json documents %s, which the router does not serve", d)
		}
	}
}

// TestOpenAPIOperationsAreComplete checks what every client and both documentation pages rely
// on: a unique operationId, a summary, declared tags, every path parameter described, a response
// for the server's own failure, and errors that are problems of their status.
func TestOpenAPIOperationsAreComplete(t *testing.T) {
	doc := loadSpec(t)
	tags := map[string]bool{}
	for _, tag := range doc.at(t, "#/tags").([]any) {
		tags[tag.(map[string]any)["name"].(string)] = true
	}
	ids := map[string]string{}
	for _, o := range doc.operations(t) {
		name := o.method + " " + o.path
		id, _ := o.op["operationId"].(string)
		if id == "" || ids[id] != "" {
			t.Errorf("%s: operationId %q is empty or also used by %s", name, id, ids[id])
		}
		ids[id] = name
		if s, _ := o.op["summary"].(string); s == "" {
			t.Errorf("%s: no summary", name)
		}
		for _, tag := range o.op["tags"].([]any) {
			if !tags[tag.(string)] {
				t.Errorf("%s: tag %q is not declared", name, tag)
			}
		}
		params := map[string]bool{}
		for _, list := range []any{o.op["parameters"], doc.obj(t, "#/paths/"+pointer(o.path))["parameters"]} {
			list, _ := list.([]any)
			for _, p := range list {
				p := doc.deref(t, p).(map[string]any)
				if p["in"] == "path" {
					params[p["name"].(string)] = true
				}
			}
		}
		for _, seg := range strings.Split(o.path, "/") {
			if strings.HasPrefix(seg, "{") && !params[strings.Trim(seg, "{}")] {
				t.Errorf("%s: path parameter %s is not described", name, seg)
			}
		}
		responses := doc.obj(t, "#/paths/"+pointer(o.path)+"/"+strings.ToLower(o.method)+"/responses")
		if _, ok := responses["500"]; !ok {
			t.Errorf("%s: no 500 response", name)
		}
		for code := range responses {
			status, err := strconv.Atoi(code)
			if err != nil {
				t.Errorf("%s: response %q is not a status code", name, code)
				continue
			}
			if status < 400 {
				continue
			}
			content := doc.obj(t, "#/paths/"+pointer(o.path)+"/"+strings.ToLower(o.method)+"/responses/"+code+"/content")
			if _, ok := content["application/problem+json"]; !ok {
				// The probes and the metrics answer in the formats of their own consumers.
				if strings.HasPrefix(o.path, "/api/") {
					t.Errorf("%s: response %s is not application/problem+json", name, code)
				}
				continue
			}
			for _, typ := range problemTypes(t, doc, content["application/problem+json"].(map[string]any)["schema"]) {
				if typ.status != status {
					t.Errorf("%s: response %s may be a problem of type %s, whose status is %d", name, code, typ.typ, typ.status)
				}
			}
		}
	}
}

// problemType is a problem that the document describes: its type and status.
type problemType struct {
	typ    string
	status int
}

// problemTypes returns the problems a problem+json schema allows: one for a schema with a
// constant type, one for each branch of a oneOf.
func problemTypes(t *testing.T, doc spec, schema any) []problemType {
	t.Helper()
	s := doc.deref(t, schema).(map[string]any)
	if branches, ok := s["oneOf"].([]any); ok {
		var all []problemType
		for _, b := range branches {
			all = append(all, problemTypes(t, doc, b)...)
		}
		return all
	}
	props, _ := s["properties"].(map[string]any)
	typ, _ := props["type"].(map[string]any)
	status, _ := props["status"].(map[string]any)
	if typ == nil || status == nil || typ["const"] == nil || status["const"] == nil {
		t.Fatalf("openapi.json: a problem schema without a constant type and status: %v", s)
	}
	n, _ := status["const"].(json.Number).Int64()
	return []problemType{{typ["const"].(string), int(n)}}
}

// TestOpenAPIDescribesEveryProblem checks that every problem type in the one table from error
// code to status (errors.go) is documented with its status, and that the document names no
// problem that the table cannot produce.
func TestOpenAPIDescribesEveryProblem(t *testing.T) {
	doc := loadSpec(t)
	documented := map[string]int{}
	for name, schema := range doc.obj(t, "#/components/schemas") {
		// Problem itself is the shape that all of them share.
		if !strings.HasSuffix(name, "Problem") || name == "Problem" {
			continue
		}
		for _, p := range problemTypes(t, doc, schema) {
			documented[p.typ] = p.status
		}
	}
	inTable := map[string]bool{}
	for code, kind := range problems {
		inTable[kind.typ] = true
		status, ok := documented[kind.typ]
		switch {
		case !ok:
			t.Errorf("problem %s (code %s) is not in openapi.json", kind.typ, code)
		case status != kind.status:
			t.Errorf("problem %s: openapi.json says status %d, errors.go %d", kind.typ, status, kind.status)
		}
	}
	for typ := range documented {
		if !inTable[typ] {
			t.Errorf("openapi.json documents problem %s, which errors.go does not produce", typ)
		}
	}
}

// TestOpenAPIProblemUnionsAreDiscriminated checks what lets a generated client tell apart the
// problems that one response may be (oapi-codegen and ogen both need it): every oneOf of problems
// has a discriminator on type whose mapping names each branch, by $ref, under its constant type.
func TestOpenAPIProblemUnionsAreDiscriminated(t *testing.T) {
	doc := loadSpec(t)
	var pointers []string
	for name := range doc.obj(t, "#/components/responses") {
		pointers = append(pointers, "#/components/responses/"+pointer(name))
	}
	for _, o := range doc.operations(t) {
		for code := range doc.obj(t, "#/paths/"+pointer(o.path)+"/"+strings.ToLower(o.method)+"/responses") {
			pointers = append(pointers, "#/paths/"+pointer(o.path)+"/"+strings.ToLower(o.method)+"/responses/"+code)
		}
	}
	unions := 0
	for _, p := range pointers {
		content, _ := doc.obj(t, p)["content"].(map[string]any)
		media, ok := content["application/problem+json"].(map[string]any)
		if !ok {
			continue
		}
		s := doc.deref(t, media["schema"]).(map[string]any)
		branches, ok := s["oneOf"].([]any)
		if !ok {
			continue
		}
		unions++
		disc, _ := s["discriminator"].(map[string]any)
		mapping, _ := disc["mapping"].(map[string]any)
		if disc["propertyName"] != "type" || len(mapping) != len(branches) {
			t.Errorf("%s: discriminator %v, want one on type that maps each of the %d branches", p, disc, len(branches))
			continue
		}
		for _, b := range branches {
			ref, _ := b.(map[string]any)["$ref"].(string)
			typ := problemTypes(t, doc, b)[0].typ
			if ref == "" || mapping[typ] != ref {
				t.Errorf("%s: the discriminator maps %s to %v, the branch is %q", p, typ, mapping[typ], ref)
			}
		}
	}
	// The shared Conflict and Unprocessable responses, at least, are unions.
	if unions < 2 {
		t.Fatalf("found %d unions of problems", unions)
	}
}

// TestOpenAPIBooleanSchemasOnlyWhereGeneratorsTakeThem keeps out what made oapi-codegen refuse the
// document: kin-openapi, its parser, takes true and false as a schema only as additionalProperties,
// unevaluatedProperties and unevaluatedItems, and refuses `"errors": false` in properties.
func TestOpenAPIBooleanSchemasOnlyWhereGeneratorsTakeThem(t *testing.T) {
	// Keywords whose value is a boolean that is not a schema, and the three slots that take one.
	booleans := map[string]bool{"required": true, "deprecated": true, "explode": true, "allowReserved": true,
		"allowEmptyValue": true, "readOnly": true, "writeOnly": true, "uniqueItems": true,
		"additionalProperties": true, "unevaluatedProperties": true, "unevaluatedItems": true}
	// Keywords whose value maps names to schemas: there any boolean is a schema.
	schemaMaps := map[string]bool{"properties": true, "patternProperties": true, "$defs": true, "dependentSchemas": true}
	var walk func(at string, v any, inSchemaMap bool)
	walk = func(at string, v any, inSchemaMap bool) {
		switch v := v.(type) {
		case map[string]any:
			for k, sub := range v {
				if b, ok := sub.(bool); ok && (inSchemaMap || !booleans[k]) {
					t.Errorf("%s/%s: %v as a schema", at, pointer(k), b)
				}
				walk(at+"/"+pointer(k), sub, !inSchemaMap && schemaMaps[k])
			}
		case []any:
			for i, sub := range v {
				if b, ok := sub.(bool); ok {
					t.Errorf("%s/%d: %v as a schema", at, i, b)
				}
				walk(at+"/"+strconv.Itoa(i), sub, false)
			}
		}
	}
	walk("#", map[string]any(loadSpec(t)), false)
}

// TestOpenAPIMatchesTheDomain checks the limits, defaults and enums of the document against the
// constants that the code enforces, so that changing one without the other fails here.
func TestOpenAPIMatchesTheDomain(t *testing.T) {
	doc := loadSpec(t)
	lengths := []struct {
		pointer string
		want    int
	}{
		{"#/components/schemas/NewTicket/properties/title/maxLength", ticket.MaxTitleLen},
		{"#/components/schemas/NewTicket/properties/title/minLength", 1},
		{"#/components/schemas/NewTicket/properties/description/maxLength", ticket.MaxDescriptionLen},
		{"#/components/schemas/NewTicket/properties/requester/maxLength", ticket.MaxPersonLen},
		{"#/components/schemas/NewComment/properties/body/maxLength", ticket.MaxBodyLen},
		{"#/components/schemas/NewComment/properties/body/minLength", 1},
		{"#/components/schemas/NewComment/properties/author/maxLength", ticket.MaxPersonLen},
		{"#/components/schemas/OptionalComment/maxLength", ticket.MaxBodyLen},
		{"#/components/schemas/Reason/maxLength", ticket.MaxReasonLen},
		{"#/components/schemas/Ticket/properties/title/maxLength", ticket.MaxTitleLen},
		{"#/components/schemas/Ticket/properties/description/maxLength", ticket.MaxDescriptionLen},
		{"#/components/schemas/Ticket/properties/requester/maxLength", ticket.MaxPersonLen},
		{"#/components/schemas/Ticket/properties/close_reason/maxLength", ticket.MaxReasonLen},
		{"#/components/schemas/Comment/properties/body/maxLength", ticket.MaxBodyLen},
		{"#/components/schemas/Comment/properties/author/maxLength", ticket.MaxPersonLen},
		{"#/components/parameters/Limit/schema/minimum", 1},
		{"#/components/parameters/Limit/schema/maximum", ticket.MaxPageSize},
		{"#/components/parameters/Limit/schema/default", ticket.DefaultPageSize},
		{"#/components/schemas/TicketPage/properties/items/maxItems", ticket.MaxPageSize},
		{"#/components/schemas/CommentPage/properties/items/maxItems", ticket.MaxPageSize},
		{"#/components/schemas/EventPage/properties/items/maxItems", ticket.MaxPageSize},
		{"#/components/parameters/IdempotencyKey/schema/maxLength", 255},
		{"#/components/schemas/Group/maxLength", ticket.MaxGroupLen},
		{"#/components/schemas/Tag/maxLength", ticket.MaxTagLen},
		{"#/components/schemas/Ticket/properties/tags/maxItems", ticket.MaxTags},
		{"#/components/schemas/Ticket/properties/assignee/maxLength", ticket.MaxPersonLen},
		{"#/components/schemas/NewTicket/properties/assignee/maxLength", ticket.MaxPersonLen},
		{"#/components/schemas/AssignRequest/properties/assignee/maxLength", ticket.MaxPersonLen},
		{"#/components/schemas/AssignRequest/properties/group/maxLength", ticket.MaxGroupLen},
		{"#/components/parameters/AssigneeFilter/schema/maxLength", ticket.MaxPersonLen},
		{"#/components/parameters/RequesterFilter/schema/maxLength", ticket.MaxPersonLen},
		{"#/components/parameters/TagFilter/schema/maxItems", ticket.MaxTags},
		{"#/components/parameters/TagFilter/schema/items/maxLength", ticket.MaxTagLen},
	}
	for _, l := range lengths {
		if got := doc.number(t, l.pointer); got != l.want {
			t.Errorf("%s = %d, the code says %d", l.pointer, got, l.want)
		}
	}

	enums := []struct {
		pointer string
		want    []string
	}{
		{"#/components/schemas/Status/enum", stringsOf(ticket.Statuses)},
		{"#/components/schemas/Priority/enum", stringsOf(ticket.Priorities)},
		{"#/components/schemas/EventType/enum", stringsOf([]ticket.EventType{ticket.EventCreated, ticket.EventCommented,
			ticket.EventStatusChanged, ticket.EventEscalated, ticket.EventTransitionRejected, ticket.EventAssigned,
			ticket.EventTagsChanged})},
		{"#/components/schemas/Visibility/enum", stringsOf([]ticket.Visibility{ticket.VisibilityPublic, ticket.VisibilityInternal})},
		{"#/components/parameters/Sort/schema/enum", stringsOf([]ticket.Sort{ticket.SortNewest, ticket.SortOldest,
			ticket.SortRecentUpdates, ticket.SortOldUpdates})},
	}
	for _, e := range enums {
		if got := doc.strings(t, e.pointer); !slices.Equal(got, e.want) {
			t.Errorf("%s = %v, the code says %v", e.pointer, got, e.want)
		}
	}
	if got := fmt.Sprint(doc.at(t, "#/components/schemas/NewTicket/properties/priority/default")); got != string(ticket.PriorityNormal) {
		t.Errorf("the default priority is %s, the code says %s", got, ticket.PriorityNormal)
	}
	if got := fmt.Sprint(doc.at(t, "#/components/schemas/NewTicket/properties/group/default")); got != ticket.DefaultGroup {
		t.Errorf("the default group is %s, the code says %s", got, ticket.DefaultGroup)
	}
	if got := fmt.Sprint(doc.at(t, "#/components/schemas/NewComment/properties/visibility/default")); got != string(ticket.VisibilityPublic) {
		t.Errorf("the default visibility is %s, the code says %s", got, ticket.VisibilityPublic)
	}
	if def, _ := ticket.ParseSort(""); fmt.Sprint(doc.at(t, "#/components/parameters/Sort/schema/default")) != string(def) {
		t.Errorf("the default sort is %v, the code says %s", doc.at(t, "#/components/parameters/Sort/schema/default"), def)
	}
	for _, sort := range doc.strings(t, "#/components/parameters/Sort/schema/enum") {
		if _, ok := ticket.ParseSort(sort); !ok {
			t.Errorf("the sort %s is not one of the code's", sort)
		}
	}
	// What the view leaves out for a customer cannot be required.
	for _, name := range doc.strings(t, "#/components/schemas/Ticket/required") {
		if name == "internal_notes_count" {
			t.Error("internal_notes_count is required, but a customer's view leaves it out")
		}
	}
}

func stringsOf[S ~string](list []S) []string {
	var out []string
	for _, s := range list {
		out = append(out, string(s))
	}
	return out
}

// TestOpenAPIRequestBodies checks that every request body is a closed object, as the strict
// decoder refuses unknown fields, and that each transition documents exactly the fields its
// handler takes.
func TestOpenAPIRequestBodies(t *testing.T) {
	doc := loadSpec(t)
	for _, o := range doc.operations(t) {
		if o.op["requestBody"] == nil {
			continue
		}
		base := "#/paths/" + pointer(o.path) + "/" + strings.ToLower(o.method) + "/requestBody/content/application~1json/schema"
		if ap, ok := doc.at(t, base+"/additionalProperties").(bool); !ok || ap {
			t.Errorf("%s %s: the request body allows unknown fields", o.method, o.path)
		}
	}
	for action, allowed := range transitionFields {
		props := doc.obj(t, "#/paths/"+pointer("/api/v1/tickets/{id}/"+string(action))+"/post/requestBody/content/application~1json/schema/properties")
		_, comment := props["comment"]
		_, reason := props["reason"]
		if comment != allowed.comment || reason != allowed.reason || len(props) != btoi(comment)+btoi(reason) {
			t.Errorf("%s documents the fields %v, the handler takes comment=%v reason=%v", action, keys(props), allowed.comment, allowed.reason)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestOpenAPISchemasCompile compiles every schema of the document as JSON Schema 2020-12, which
// checks it against the meta-schema and resolves every $ref in it.
func TestOpenAPISchemasCompile(t *testing.T) {
	doc := loadSpec(t)
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(openAPIDocument))
	if err != nil {
		t.Fatal(err)
	}
	const url = "https://ticketflow.invalid/api/openapi.json"
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(url, raw); err != nil {
		t.Fatal(err)
	}
	var pointers []string
	for name := range doc.obj(t, "#/components/schemas") {
		pointers = append(pointers, "/components/schemas/"+pointer(name))
	}
	for name := range doc.obj(t, "#/components/parameters") {
		pointers = append(pointers, "/components/parameters/"+pointer(name)+"/schema")
	}
	for name := range doc.obj(t, "#/components/headers") {
		pointers = append(pointers, "/components/headers/"+pointer(name)+"/schema")
	}
	if len(pointers) < 30 {
		t.Fatalf("only %d schemas found", len(pointers))
	}
	for _, p := range pointers {
		if _, err := c.Compile(url + "#" + p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}

	// The compiled schemas say what they should: a sample of what the API sends and refuses.
	ticketSchema, err := c.Compile(url + "#/components/schemas/Ticket")
	if err != nil {
		t.Fatal(err)
	}
	good := `{"id":"0193a0f4-7b1c-7c3e-9a2b-6f1d2e3c4b5a","title":"t","description":"","status":"open","priority":"normal",
		"requester":"","escalation_level":0,"comments_count":0,"version":1,"created_at":"2026-11-26T10:00:00.123456Z",
		"updated_at":"2026-11-26T10:00:00.123456Z","closed_at":null,"close_reason":null,"group":"support","assignee":null,
		"tags":[],"internal_notes_count":0,"first_responded_at":null,"first_response_due_at":"2026-11-27T10:00:00.123456Z",
		"auto_close_at":null}`
	for _, tc := range []struct {
		name, body string
		valid      bool
	}{
		{"a ticket", good, true},
		{"a customer's view of a ticket", strings.Replace(good, `,"internal_notes_count":0`, ``, 1), true},
		{"a ticket with an assignee and tags", strings.Replace(good, `"assignee":null,"tags":[]`, `"assignee":"dana","tags":["floor:2","vip"]`, 1), true},
		{"a tag not as it is kept", strings.Replace(good, `"tags":[]`, `"tags":["VIP"]`, 1), false},
		{"a tag twice", strings.Replace(good, `"tags":[]`, `"tags":["vip","vip"]`, 1), false},
		{"an empty assignee", strings.Replace(good, `"assignee":null`, `"assignee":""`, 1), false},
		{"tags missing", strings.Replace(good, `"tags":[],`, ``, 1), false},
		{"an unknown status", strings.Replace(good, `"open"`, `"pending"`, 1), false},
		{"an id that is no UUID", strings.Replace(good, `0193a0f4-7b1c`, `xyz`, 1), false},
		{"a time that is not UTC", strings.Replace(good, `.123456Z"`, `.123456+01:00"`, 1), false},
		{"a field too many", strings.Replace(good, `"title"`, `"secret":1,"title"`, 1), false},
		{"a field missing", strings.Replace(good, `"closed_at":null,`, ``, 1), false},
		{"a ticket with no timer", strings.Replace(good, `"2026-11-27T10:00:00.123456Z"`, `null`, 1), true},
		{"an auto-close time", strings.Replace(good, `"auto_close_at":null`, `"auto_close_at":"2026-12-03T10:00:00.000000Z"`, 1), true},
		{"a due time without microseconds", strings.Replace(good, `"2026-11-27T10:00:00.123456Z"`, `"2026-11-27T10:00:00Z"`, 1), false},
		{"no due time at all", strings.Replace(good, `,"first_response_due_at":"2026-11-27T10:00:00.123456Z"`, ``, 1), false},
		{"when the SLA breached", strings.Replace(good, `"auto_close_at":null`, `"auto_close_at":null,"sla_breached_at":null`, 1), false},
	} {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(tc.body))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if err := ticketSchema.Validate(inst); (err == nil) != tc.valid {
			t.Errorf("%s: valid=%v, want %v (%v)", tc.name, err == nil, tc.valid, err)
		}
	}

	// Each kind of problem admits the fields of Problem and no other, errors only on validation:
	// what unevaluatedProperties must keep now that Problem itself is open.
	const problem = `{"type":"/problems/ticket-closed","title":"Ticket closed","status":409,"detail":"d","instance":"/api/v1/tickets/x"}`
	const validation = `{"type":"/problems/validation","title":"Validation failed","status":422,"detail":"d","instance":"/x",` +
		`"errors":[{"field":"title","message":"must not be empty"}]}`
	conflict := "/components/responses/Conflict/content/application~1problem+json/schema"
	unprocessable := "/components/responses/Unprocessable/content/application~1problem+json/schema"
	for _, tc := range []struct {
		name, schema, body string
		valid              bool
	}{
		{"a problem", "/components/schemas/TicketClosedProblem", problem, true},
		{"a problem with errors", "/components/schemas/TicketClosedProblem", strings.Replace(problem, `}`, `,"errors":[{"field":"a","message":"b"}]}`, 1), false},
		{"a problem with a field too many", "/components/schemas/TicketClosedProblem", strings.Replace(problem, `}`, `,"secret":1}`, 1), false},
		{"a problem without its instance", "/components/schemas/TicketClosedProblem", strings.Replace(problem, `,"instance":"/api/v1/tickets/x"`, ``, 1), false},
		{"a problem of another type", "/components/schemas/TicketClosedProblem", strings.Replace(problem, `ticket-closed`, `conflict`, 1), false},
		{"a problem of another status", "/components/schemas/TicketClosedProblem", strings.Replace(problem, `409`, `400`, 1), false},
		{"a validation problem", "/components/schemas/ValidationProblem", validation, true},
		{"a validation problem without errors", "/components/schemas/ValidationProblem", strings.Replace(validation, `,"errors":[{"field":"title","message":"must not be empty"}]`, ``, 1), false},
		{"a validation problem with a field too many", "/components/schemas/ValidationProblem", strings.Replace(validation, `}]}`, `}],"secret":1}`, 1), false},
		{"a conflict that is a closed ticket", conflict, problem, true},
		{"a conflict that is a validation problem", conflict, validation, false},
		{"a 422 that is a validation problem", unprocessable, validation, true},
		{"a 422 that is a closed ticket", unprocessable, problem, false},
	} {
		sch, err := c.Compile(url + "#" + tc.schema)
		if err != nil {
			t.Fatalf("%s: %v", tc.schema, err)
		}
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(tc.body))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if err := sch.Validate(inst); (err == nil) != tc.valid {
			t.Errorf("%s: valid=%v, want %v (%v)", tc.name, err == nil, tc.valid, err)
		}
	}
}
