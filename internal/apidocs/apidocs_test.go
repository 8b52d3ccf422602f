package apidocs

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// generatePaths reads the -in and -out paths of the go:generate line in apidocs.go, so that this
// test checks the very files that `go generate` reads and writes.
func generatePaths(t *testing.T) (in, out string) {
	t.Helper()
	src, err := os.ReadFile("apidocs.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(src), "\n") {
		rest, ok := strings.CutPrefix(line, "//go:generate ")
		if !ok {
			continue
		}
		args := strings.Fields(rest)
		for i := 0; i+1 < len(args); i++ {
			switch args[i] {
			case "-in":
				in = args[i+1]
			case "-out":
				out = args[i+1]
			}
		}
	}
	if in == "" || out == "" {
		t.Fatal("apidocs.go has no go:generate line with -in and -out")
	}
	return filepath.FromSlash(in), filepath.FromSlash(out)
}

// TestPageIsUpToDate fails when docs/api.md is not what the OpenAPI document generates now: the
// document changed without `go generate ./internal/apidocs/`, or the page was edited by hand.
func TestPageIsUpToDate(t *testing.T) {
	in, out := generatePaths(t)
	doc, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Generate(doc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("%v: run `%s`", err, Regenerate)
	}
	if bytes.Equal(got, want) {
		return
	}
	gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < min(len(gotLines), len(wantLines)); i++ {
		if gotLines[i] != wantLines[i] {
			t.Fatalf("%s is not what %s generates: run `%s`.\nline %d is\n\t%s\nand should be\n\t%s",
				Page, Source, Regenerate, i+1, gotLines[i], wantLines[i])
		}
	}
	t.Fatalf("%s is not what %s generates (%d lines, not %d): run `%s`",
		Page, Source, len(gotLines), len(wantLines), Regenerate)
}

// TestPageHoldsTheDocumentsWords checks that every summary and description in the document, of
// the API, its tags, operations, parameters, responses, headers and schemas, is on the page, and
// so is every problem type: the page leaves out nothing the document says.
func TestPageHoldsTheDocumentsWords(t *testing.T) {
	in, _ := generatePaths(t)
	doc, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	page, err := Generate(doc)
	if err != nil {
		t.Fatal(err)
	}
	root, err := parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	var walk func(path string, v *value)
	walk = func(path string, v *value) {
		for _, key := range v.members() {
			m := v.get(key)
			if (key == "description" || key == "summary") && m.kind == kindString {
				if !bytes.Contains(page, []byte(m.text)) && !bytes.Contains(page, []byte(cell(m.text))) {
					t.Errorf("%s/%s is not on the page: %q", path, key, m.text)
				}
			}
			if key == "const" && m.kind == kindString && strings.HasPrefix(m.text, "/problems/") &&
				!bytes.Contains(page, []byte(code(m.text))) {
				t.Errorf("problem type %s is not on the page", m.text)
			}
			walk(path+"/"+key, m)
		}
		for _, item := range v.items() {
			walk(path+"/[]", item)
		}
	}
	walk("#", root)
}

const tiny = `{
  "openapi": "3.1.0",
  "info": {"title": "Tiny", "version": "2", "description": "A small API."},
  "security": [{"key": []}],
  "tags": [{"name": "Zebras", "description": "Striped."}, {"name": "Apes"}],
  "paths": {
    "/zebras": {
      "post": {
        "tags": ["Zebras"], "summary": "Thing", "operationId": "addZebra",
        "requestBody": {"required": true, "content": {"application/json": {
          "schema": {"$ref": "#/components/schemas/Thing"},
          "example": {"z": 1, "a": [true, null]}}}},
        "responses": {"201": {"description": "Made.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                      "409": {"$ref": "#/components/responses/Clash"}}
      }
    },
    "/apes": {"get": {"tags": ["Apes"], "summary": "Thing", "security": [], "responses": {"200": {"description": "Apes | more."}}}}
  },
  "components": {
    "responses": {"Clash": {"description": "Clashed.", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ClashProblem"}}}}},
    "schemas": {
      "Thing": {"description": "A thing.", "type": "object", "required": ["z"], "properties": {
        "z": {"type": "integer", "minimum": 1}, "a": {"type": "array", "items": {"type": "string"}, "maxItems": 3}}},
      "ClashProblem": {"properties": {"type": {"const": "/problems/clash"}, "status": {"const": 409}}}
    },
    "securitySchemes": {"key": {"type": "http", "scheme": "bearer", "description": "A key."}}
  }
}`

func TestGenerateKeepsTheDocumentsOrder(t *testing.T) {
	page, err := Generate([]byte(tiny))
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	inOrder := []string{
		"# Tiny", "A small API.", "## Contents", "## Authentication", "`key` (http, bearer). A key.",
		"Operations without authentication: `GET /apes`.",
		"| Zebras | `POST /zebras` | [Thing](#thing) |", "| Apes | `GET /apes` | [Thing](#thing-1) |",
		"## Zebras", "Striped.", "### Thing", "operation `addZebra`; authentication: [key](#authentication).",
		"Request body (`application/json`, required): [Thing](#thing-2).",
		"```json\n{\n  \"z\": 1,\n  \"a\": [\n    true,\n    null\n  ]\n}\n```",
		"| `409` | [Clash](#clash) | [problem](#problems) `/problems/clash` |",
		"## Apes", "### Thing", "; no authentication.", `| ` + "`200`" + ` | Apes \| more. |`,
		"## Responses", "### Clash", "Clashed.",
		"## Problems", "| `/problems/clash` | 409 | `ClashProblem` | Clashed. |",
		"## Schemas", "### Thing", "A thing.",
		"| `z` | integer, ≥ 1 | yes |", "| `a` | array of string, items ≤ 3 | no |",
	}
	at := 0
	for _, want := range inOrder {
		i := strings.Index(s[at:], want)
		if i < 0 {
			t.Fatalf("after byte %d the page has no %q; the page:\n%s", at, want, s)
		}
		at += i + len(want)
	}
	if strings.Contains(s, "### ClashProblem") {
		t.Error("a problem schema has a heading of its own; it belongs in the Problems table")
	}
	again, err := Generate([]byte(tiny))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(page, again) {
		t.Error("two runs on one document wrote different pages")
	}
}

func TestGenerateRefusesBrokenDocuments(t *testing.T) {
	for name, doc := range map[string]string{
		"not JSON":      `{"openapi": `,
		"not an object": `[]`,
		"duplicate key": `{"openapi": "3.1.0", "openapi": "3.1.1"}`,
		"trailing data": `{} {}`,
		"dangling $ref": `{"paths": {"/x": {"get": {"responses": {"200": {"$ref": "#/components/responses/Gone"}}}}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Generate([]byte(doc)); err == nil {
				t.Errorf("Generate accepted %s", doc)
			}
		})
	}
}

func TestSlugify(t *testing.T) {
	for text, want := range map[string]string{
		"Open a ticket":            "open-a-ticket",
		"List a ticket's comments": "list-a-tickets-comments",
		"A script, style sheet or licence of the documentation pages": "a-script-style-sheet-or-licence-of-the-documentation-pages",
		"ticketflow API":           "ticketflow-api",
		"GET /api/v1/tickets/{id}": "get-apiv1ticketsid",
		"snake_case and-hyphens":   "snake_case-and-hyphens",
	} {
		if got := slugify(text); got != want {
			t.Errorf("slugify(%q) = %q, want %q", text, got, want)
		}
	}
}
