// Package apidocs writes docs/api.md, the HTTP API's contract as a page in the repository, from
// the OpenAPI document internal/httpapi/openapi.json. The page holds the document's own words
// (its description, each operation's summary and description, parameters, bodies, responses,
// headers, problem types and schemas) in the document's order, so the document stays the one
// place the contract is written. The same document always gives the same page, byte for byte;
// TestPageIsUpToDate fails when the committed page is not what the document gives now.
package apidocs

//go:generate go run ./cmd/apidocs -in ../httpapi/openapi.json -out ../../docs/api.md

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Source and Page are the document and the page, as paths from the repository's root.
const (
	Source = "internal/httpapi/openapi.json"
	Page   = "docs/api.md"
)

// Regenerate is the command that rewrites the page from the document.
const Regenerate = "go generate ./internal/apidocs/"

// methods are the operations a path item may hold, in the order OpenAPI lists them.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Generate returns the Markdown page of the OpenAPI document doc. It fails on a document that is
// not JSON or that refers to a component it does not hold.
func Generate(doc []byte) ([]byte, error) {
	root, err := parse(doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Source, err)
	}
	if root.kind != kindObject {
		return nil, fmt.Errorf("%s: not a JSON object", Source)
	}
	g := &generator{root: root, anchors: map[string]string{}, used: map[string]int{}}
	g.collect()
	if err := g.check(root); err != nil {
		return nil, err
	}
	g.outline()
	g.write()
	return []byte(g.out.String()), nil
}

// operation is one method of one path.
type operation struct {
	method, path string
	item, op     *value // the path item and the operation
	tag          string
}

// generator holds what the page is made of and the page as it is written.
type generator struct {
	root *value
	ops  []operation
	tags []string // in the document's order, then any that only operations name
	// problems are the component schemas that fix a problem's type (a const `type` property);
	// they are listed together under Problems rather than one by one under Schemas.
	problems map[string]bool
	// headerNames are the names under which each component header is sent.
	headerNames map[string][]string
	// anchors maps an outline entry ("op:POST /path", "schema:Ticket", …) to the anchor of its
	// heading; used counts the anchors handed out, to number repeats as GitHub does.
	anchors map[string]string
	used    map[string]int
	out     strings.Builder
}

// collect gathers the operations, tags, problem schemas and header names.
func (g *generator) collect() {
	for _, tag := range g.root.get("tags").items() {
		if name := tag.str("name"); name != "" && !slices.Contains(g.tags, name) {
			g.tags = append(g.tags, name)
		}
	}
	paths := g.root.get("paths")
	for _, path := range paths.members() {
		item := paths.get(path)
		for _, key := range item.members() {
			if !slices.Contains(methods, key) {
				continue
			}
			op := item.get(key)
			tag := ""
			if tags := op.get("tags").strings(); len(tags) > 0 {
				tag = tags[0]
			}
			if tag != "" && !slices.Contains(g.tags, tag) {
				g.tags = append(g.tags, tag)
			}
			g.ops = append(g.ops, operation{method: strings.ToUpper(key), path: path, item: item, op: op, tag: tag})
		}
	}
	g.problems = map[string]bool{}
	schemas := g.root.get("components").get("schemas")
	for _, name := range schemas.members() {
		if problemType(schemas.get(name)) != "" {
			g.problems[name] = true
		}
	}
	g.headerNames = map[string][]string{}
	addHeaders := func(response *value) {
		headers := response.get("headers")
		for _, name := range headers.members() {
			if ref := headers.get(name).str("$ref"); ref != "" {
				component := refName(ref)
				if !slices.Contains(g.headerNames[component], name) {
					g.headerNames[component] = append(g.headerNames[component], name)
				}
			}
		}
	}
	responses := g.root.get("components").get("responses")
	for _, name := range responses.members() {
		addHeaders(responses.get(name))
	}
	for _, o := range g.ops {
		for _, code := range o.op.get("responses").members() {
			addHeaders(o.op.get("responses").get(code))
		}
	}
}

// check fails when a $ref anywhere in v names nothing in the document.
func (g *generator) check(v *value) error {
	if v == nil {
		return nil
	}
	if ref := v.str("$ref"); ref != "" {
		if g.lookup(ref) == nil {
			return fmt.Errorf("%s: %s refers to nothing", Source, ref)
		}
	}
	for _, key := range v.members() {
		if err := g.check(v.get(key)); err != nil {
			return err
		}
	}
	for _, item := range v.items() {
		if err := g.check(item); err != nil {
			return err
		}
	}
	return nil
}

// lookup returns what a local reference (#/components/schemas/Ticket) points to, or nil.
func (g *generator) lookup(ref string) *value {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	v := g.root
	for _, part := range strings.Split(rest, "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		v = v.get(part)
	}
	return v
}

// resolve follows v's $ref, if it has one.
func (g *generator) resolve(v *value) *value {
	for i := 0; i < 10 && v.str("$ref") != ""; i++ {
		v = g.lookup(v.str("$ref"))
	}
	return v
}

// refName is the last part of a reference: the component's name.
func refName(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

// refSection is the components section a reference points into: schemas, responses, …
func refSection(ref string) string {
	parts := strings.Split(ref, "/")
	if len(parts) == 4 && parts[1] == "components" {
		return parts[2]
	}
	return ""
}

// problemType is the constant `type` of a problem schema, or "".
func problemType(schema *value) string {
	t := schema.get("properties").get("type").get("const")
	if t != nil && t.kind == kindString {
		return t.text
	}
	return ""
}

// opKey names an operation in the outline.
func opKey(o operation) string { return "op:" + o.method + " " + o.path }

// opTitle is an operation's heading: its summary, else its method and path.
func opTitle(o operation) string {
	if s := o.op.str("summary"); s != "" {
		return s
	}
	return o.method + " " + o.path
}

// outline hands out the anchors of every heading in the order the headings appear, so that
// links may point forward and repeated headings are numbered as GitHub numbers them.
func (g *generator) outline() {
	g.anchor("title", g.title())
	g.anchor("contents", "Contents")
	g.anchor("authentication", "Authentication")
	g.anchor("endpoints", "Endpoints")
	for _, tag := range g.groups() {
		g.anchor("tag:"+tag, tagTitle(tag))
		for _, o := range g.ops {
			if o.tag == tag {
				g.anchor(opKey(o), opTitle(o))
			}
		}
	}
	g.anchor("responses", "Responses")
	for _, name := range g.root.get("components").get("responses").members() {
		g.anchor("response:"+name, name)
	}
	g.anchor("headers", "Headers")
	g.anchor("problems", "Problems")
	g.anchor("schemas", "Schemas")
	for _, name := range g.root.get("components").get("schemas").members() {
		if !g.problems[name] {
			g.anchor("schema:"+name, name)
		}
	}
}

// groups are the tags that operations have, in order, and "" for operations without one.
func (g *generator) groups() []string {
	var out []string
	for _, tag := range g.tags {
		if slices.ContainsFunc(g.ops, func(o operation) bool { return o.tag == tag }) {
			out = append(out, tag)
		}
	}
	if slices.ContainsFunc(g.ops, func(o operation) bool { return o.tag == "" }) {
		out = append(out, "")
	}
	return out
}

func tagTitle(tag string) string {
	if tag == "" {
		return "Other operations"
	}
	return tag
}

// anchor records the anchor of the heading text under key.
func (g *generator) anchor(key, text string) {
	slug := slugify(text)
	if n := g.used[slug]; n > 0 {
		g.used[slug] = n + 1
		slug = fmt.Sprintf("%s-%d", slug, n)
	} else {
		g.used[slug] = 1
	}
	g.anchors[key] = slug
}

// slugify makes a heading's anchor as GitHub does: lower case, spaces to hyphens, and no
// punctuation but hyphens and underscores.
func slugify(text string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.M, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// link is a Markdown link to the heading recorded under key.
func (g *generator) link(text, key string) string {
	return "[" + text + "](#" + g.anchors[key] + ")"
}

func (g *generator) title() string {
	if t := g.root.get("info").str("title"); t != "" {
		return t
	}
	return "API"
}

// printf writes to the page.
func (g *generator) printf(format string, args ...any) { fmt.Fprintf(&g.out, format, args...) }

// para writes a paragraph, if there is one.
func (g *generator) para(text string) {
	if text = strings.TrimSpace(text); text != "" {
		g.printf("%s\n\n", text)
	}
}

// write writes the page.
func (g *generator) write() {
	info := g.root.get("info")
	g.printf("# %s\n\n", g.title())
	g.printf("<!-- Generated from %s by %s; do not edit. Change the document and run `%s`. -->\n\n",
		Source, "internal/apidocs", Regenerate)
	g.printf("This page is generated from [the OpenAPI document](../%s) (OpenAPI %s), which the server also serves.\n\n",
		Source, g.root.str("openapi"))
	line := "Version " + code(info.str("version")) + "."
	if s := info.str("summary"); s != "" {
		line += " " + s
	}
	g.para(line)
	g.para(info.str("description"))
	g.servers()

	g.contents()
	g.authentication()
	g.endpoints()
	for _, tag := range g.groups() {
		g.tagSection(tag)
	}
	g.responses()
	g.headers()
	g.problemsSection()
	g.schemas()
}

func (g *generator) servers() {
	servers := g.root.get("servers").items()
	if len(servers) == 0 {
		return
	}
	var parts []string
	for _, s := range servers {
		part := code(s.str("url"))
		if d := s.str("description"); d != "" {
			part += " (" + d + ")"
		}
		parts = append(parts, part)
	}
	g.para("Servers: " + strings.Join(parts, ", ") + ".")
}

func (g *generator) contents() {
	g.printf("## Contents\n\n")
	g.printf("- %s\n", g.link("Authentication", "authentication"))
	g.printf("- %s\n", g.link("Endpoints", "endpoints"))
	for _, tag := range g.groups() {
		g.printf("- %s\n", g.link(tagTitle(tag), "tag:"+tag))
	}
	g.printf("- %s\n", g.link("Responses", "responses"))
	g.printf("- %s\n", g.link("Headers", "headers"))
	g.printf("- %s\n", g.link("Problems", "problems"))
	g.printf("- %s\n\n", g.link("Schemas", "schemas"))
}

func (g *generator) authentication() {
	g.printf("## Authentication\n\n")
	schemes := g.root.get("components").get("securitySchemes")
	if len(schemes.members()) == 0 {
		g.para("None.")
		return
	}
	for _, name := range schemes.members() {
		s := schemes.get(name)
		kind := s.str("type")
		if scheme := s.str("scheme"); scheme != "" {
			kind += ", " + scheme
		}
		if in, header := s.str("in"), s.str("name"); in != "" {
			kind += ", " + in + " " + code(header)
		}
		g.para(code(name) + " (" + kind + "). " + s.str("description"))
	}
	g.para("Operations without authentication: " + g.openOperations() + ".")
}

// openOperations lists the operations that need no credentials.
func (g *generator) openOperations() string {
	var open []string
	for _, o := range g.ops {
		if len(g.security(o)) == 0 {
			open = append(open, code(o.method+" "+o.path))
		}
	}
	if len(open) == 0 {
		return "none"
	}
	return strings.Join(open, ", ")
}

// security returns the names of the schemes an operation takes, any one of which will do.
func (g *generator) security(o operation) []string {
	reqs := g.root.get("security")
	if o.op.has("security") {
		reqs = o.op.get("security")
	}
	var names []string
	for _, req := range reqs.items() {
		if len(req.members()) == 0 {
			return nil // an empty requirement: no credentials needed
		}
		names = append(names, strings.Join(req.members(), " and "))
	}
	return names
}

func (g *generator) endpoints() {
	g.printf("## Endpoints\n\n")
	g.printf("| group | method and path | summary |\n|---|---|---|\n")
	for _, tag := range g.groups() {
		for _, o := range g.ops {
			if o.tag == tag {
				summary := g.link(opTitle(o), opKey(o))
				if o.op.isTrue("deprecated") {
					summary += " (deprecated)"
				}
				g.row(tagTitle(tag), code(o.method+" "+o.path), summary)
			}
		}
	}
	g.printf("\n")
}

// row writes one row of a table.
func (g *generator) row(cells ...string) {
	for i, c := range cells {
		cells[i] = cell(c)
	}
	g.printf("| %s |\n", strings.Join(cells, " | "))
}

// cell makes text fit in a table cell: on one line, its pipes escaped.
func cell(text string) string {
	text = strings.Join(strings.Fields(strings.ReplaceAll(text, "\n", " ")), " ")
	return strings.ReplaceAll(text, "|", `\|`)
}

// code is text as a Markdown code span.
func code(text string) string {
	if !strings.Contains(text, "`") {
		return "`" + text + "`"
	}
	return "`` " + text + " ``"
}

func (g *generator) tagSection(tag string) {
	g.printf("## %s\n\n", tagTitle(tag))
	for _, t := range g.root.get("tags").items() {
		if t.str("name") == tag {
			g.para(t.str("description"))
		}
	}
	for _, o := range g.ops {
		if o.tag == tag {
			g.operation(o)
		}
	}
}

func (g *generator) operation(o operation) {
	g.printf("### %s\n\n", opTitle(o))
	line := code(o.method+" "+o.path) + ", operation " + code(o.op.str("operationId"))
	if o.op.str("operationId") == "" {
		line = code(o.method + " " + o.path)
	}
	if names := g.security(o); len(names) > 0 {
		var links []string
		for _, n := range names {
			links = append(links, g.link(n, "authentication"))
		}
		line += "; authentication: " + strings.Join(links, " or ")
	} else {
		line += "; no authentication"
	}
	if o.op.isTrue("deprecated") {
		line += "; deprecated"
	}
	g.para(line + ".")
	g.para(o.item.str("description"))
	g.para(o.op.str("description"))
	g.parameters(o)
	g.requestBody(o.op.get("requestBody"))
	g.operationResponses(o.op.get("responses"))
}

// parameters writes an operation's parameters: the path item's, then the operation's, which
// replace a path item's parameter of the same name and place.
func (g *generator) parameters(o operation) {
	var params []*value
	add := func(p *value) {
		r := g.resolve(p)
		for i, q := range params {
			if q.str("name") == r.str("name") && q.str("in") == r.str("in") {
				params[i] = r
				return
			}
		}
		params = append(params, r)
	}
	for _, p := range o.item.get("parameters").items() {
		add(p)
	}
	for _, p := range o.op.get("parameters").items() {
		add(p)
	}
	if len(params) == 0 {
		return
	}
	g.printf("Parameters:\n\n| name | in | required | type | description |\n|---|---|---|---|---|\n")
	for _, p := range params {
		required := "no"
		if p.isTrue("required") {
			required = "yes"
		}
		schema := p.get("schema")
		t := g.typeOf(schema)
		if ex := p.get("example"); ex != nil && !schema.has("example") {
			t += ", e.g. " + code(ex.compact())
		}
		g.row(code(p.str("name")), p.str("in"), required, t, p.str("description"))
	}
	g.printf("\n")
}

func (g *generator) requestBody(body *value) {
	body = g.resolve(body)
	if body == nil {
		return
	}
	content := body.get("content")
	required := "optional"
	if body.isTrue("required") {
		required = "required"
	}
	for _, mt := range content.members() {
		media := content.get(mt)
		g.para("Request body (" + code(mt) + ", " + required + "): " + g.bodyOf(media.get("schema")) + ".")
		g.para(body.str("description"))
		if ex := media.get("example"); ex != nil {
			g.printf("```json\n%s\n```\n\n", ex.indented())
		}
		examples := media.get("examples")
		for _, name := range examples.members() {
			ex := g.resolve(examples.get(name))
			if v := ex.get("value"); v != nil {
				g.para(code(name) + ": " + ex.str("summary"))
				g.printf("```json\n%s\n```\n\n", v.indented())
			}
		}
	}
}

func (g *generator) operationResponses(responses *value) {
	if len(responses.members()) == 0 {
		return
	}
	g.printf("Responses:\n\n| status | response | body | headers |\n|---|---|---|---|\n")
	for _, status := range responses.members() {
		r := responses.get(status)
		what := r.str("description")
		if ref := r.str("$ref"); ref != "" {
			what = g.link(refName(ref), "response:"+refName(ref))
			r = g.resolve(r)
		}
		g.row(code(status), what, g.contentOf(r.get("content")), g.headerList(r.get("headers")))
	}
	g.printf("\n")
}

// contentOf describes a response's bodies, one per media type.
func (g *generator) contentOf(content *value) string {
	var parts []string
	for _, mt := range content.members() {
		body := g.bodyOf(content.get(mt).get("schema"))
		if mt != "application/json" && mt != "application/problem+json" {
			body = code(mt) + ": " + body
		}
		parts = append(parts, body)
	}
	return strings.Join(parts, "; ")
}

// bodyOf describes a body's schema: a problem by its types, anything else by its type.
func (g *generator) bodyOf(schema *value) string {
	if types := g.problemTypes(schema); len(types) > 0 {
		for i, t := range types {
			types[i] = code(t)
		}
		return g.link("problem", "problems") + " " + strings.Join(types, ", ")
	}
	return g.typeOf(schema)
}

// problemTypes returns the problem types a schema stands for: one, or those of a union.
func (g *generator) problemTypes(schema *value) []string {
	if ref := schema.str("$ref"); ref != "" && refSection(ref) == "schemas" && g.problems[refName(ref)] {
		return []string{problemType(g.resolve(schema))}
	}
	var types []string
	for _, key := range []string{"oneOf", "anyOf"} {
		for _, alt := range schema.get(key).items() {
			t := g.problemTypes(alt)
			if len(t) == 0 {
				return nil
			}
			types = append(types, t...)
		}
	}
	return types
}

// headerList names a response's headers; a header written in place carries its description.
func (g *generator) headerList(headers *value) string {
	var parts []string
	for _, name := range headers.members() {
		h := headers.get(name)
		if h.has("$ref") {
			parts = append(parts, g.link(code(name), "headers"))
			continue
		}
		part := code(name)
		if d := h.str("description"); d != "" {
			part += ": " + d
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", ")
}

func (g *generator) responses() {
	g.printf("## Responses\n\n")
	g.para("The responses that operations share, by name.")
	responses := g.root.get("components").get("responses")
	for _, name := range responses.members() {
		r := responses.get(name)
		g.printf("### %s\n\n", name)
		g.para(r.str("description"))
		if body := g.contentOf(r.get("content")); body != "" {
			g.para("Body: " + body + ".")
		}
		if headers := g.headerList(r.get("headers")); headers != "" {
			g.para("Headers: " + headers + ".")
		}
	}
}

func (g *generator) headers() {
	g.printf("## Headers\n\n")
	headers := g.root.get("components").get("headers")
	if len(headers.members()) == 0 {
		g.para("None.")
		return
	}
	g.printf("| header | component | type | description |\n|---|---|---|---|\n")
	for _, name := range headers.members() {
		h := g.resolve(headers.get(name))
		sent := g.headerNames[name]
		if len(sent) == 0 {
			sent = []string{name}
		}
		var names []string
		for _, n := range sent {
			names = append(names, code(n))
		}
		g.row(strings.Join(names, ", "), name, g.typeOf(h.get("schema")), h.str("description"))
	}
	g.printf("\n")
}

func (g *generator) problemsSection() {
	g.printf("## Problems\n\n")
	schemas := g.root.get("components").get("schemas")
	if base := schemas.get("Problem"); base != nil {
		g.para(base.str("description") + " See " + g.link("Problem", "schema:Problem") + ".")
	}
	g.printf("| type | status | schema | description |\n|---|---|---|---|\n")
	for _, name := range schemas.members() {
		if !g.problems[name] {
			continue
		}
		s := schemas.get(name)
		status := ""
		if c := s.get("properties").get("status").get("const"); c != nil {
			status = c.compact()
		}
		desc := s.str("description")
		if desc == "" {
			desc = g.responsesOfProblem(name)
		}
		props := s.get("properties")
		for _, field := range props.members() {
			if field == "type" || field == "status" {
				continue
			}
			desc += " Adds " + code(field) + " (" + g.typeOf(props.get(field)) + ")"
			if d := props.get(field).str("description"); d != "" {
				desc += ": " + d
			} else {
				desc += "."
			}
		}
		g.row(code(problemType(s)), status, code(name), desc)
	}
	g.printf("\n")
}

// responsesOfProblem quotes the shared responses whose body is the problem schema name alone.
func (g *generator) responsesOfProblem(name string) string {
	responses := g.root.get("components").get("responses")
	var uses []string
	for _, rn := range responses.members() {
		content := responses.get(rn).get("content")
		for _, mt := range content.members() {
			if ref := content.get(mt).get("schema").str("$ref"); ref != "" && refName(ref) == name {
				uses = append(uses, rn)
				break
			}
		}
	}
	if len(uses) == 1 {
		return responses.get(uses[0]).str("description")
	}
	var parts []string
	for _, rn := range uses {
		parts = append(parts, g.link(rn, "response:"+rn)+": "+responses.get(rn).str("description"))
	}
	return strings.Join(parts, " ")
}

func (g *generator) schemas() {
	g.printf("## Schemas\n\n")
	schemas := g.root.get("components").get("schemas")
	for _, name := range schemas.members() {
		if g.problems[name] {
			continue
		}
		s := schemas.get(name)
		g.printf("### %s\n\n", name)
		g.para(s.str("description"))
		if len(s.get("properties").members()) > 0 {
			g.fields(s)
			continue
		}
		g.para("Type: " + g.typeOf(s) + ".")
	}
}

// fields writes the table of an object's properties; an object or array of objects written in
// place adds rows for its own fields, named by their path (checks.postgres, items[].id).
func (g *generator) fields(s *value) {
	g.printf("| field | type | required | description |\n|---|---|---|---|\n")
	var walk func(prefix string, s *value)
	walk = func(prefix string, s *value) {
		required := s.get("required").strings()
		props := s.get("properties")
		for _, name := range props.members() {
			p := props.get(name)
			req := "no"
			if slices.Contains(required, name) {
				req = "yes"
			}
			g.row(code(prefix+name), g.typeOf(p), req, p.str("description"))
			switch {
			case len(p.get("properties").members()) > 0:
				walk(prefix+name+".", p)
			case len(p.get("items").get("properties").members()) > 0:
				walk(prefix+name+"[].", p.get("items"))
			}
		}
	}
	walk("", s)
	g.printf("\n")
	if len(s.get("allOf").items())+len(s.get("oneOf").items())+len(s.get("anyOf").items()) > 0 {
		g.para("Also: " + g.typeOf(s) + ".")
	}
}

// typeOf describes a schema in a few words: its type or reference, then its constraints.
func (g *generator) typeOf(s *value) string {
	if s == nil {
		return ""
	}
	var base string
	switch {
	case s.str("$ref") != "":
		ref := s.str("$ref")
		name := refName(ref)
		switch {
		case refSection(ref) == "schemas" && g.problems[name]:
			base = g.link("problem", "problems") + " " + code(problemType(g.resolve(s)))
		case refSection(ref) == "schemas":
			base = g.link(name, "schema:"+name)
		default:
			base = code(name)
		}
	case s.has("const"):
		base = code(s.get("const").compact())
	case s.has("enum"):
		var values []string
		for _, e := range s.get("enum").items() {
			if e.kind == kindString {
				values = append(values, code(e.text))
			} else {
				values = append(values, code(e.compact()))
			}
		}
		base = "one of " + strings.Join(values, ", ")
	case s.has("oneOf") || s.has("anyOf"):
		var alts []string
		for _, alt := range append(s.get("oneOf").items(), s.get("anyOf").items()...) {
			alts = append(alts, g.typeOf(alt))
		}
		base = strings.Join(alts, " or ")
	case s.has("allOf"):
		var all []string
		for _, part := range s.get("allOf").items() {
			all = append(all, g.typeOf(part))
		}
		base = strings.Join(all, " and ")
	default:
		types := s.get("type").strings()
		for i, t := range types {
			switch {
			case t == "array" && s.has("items"):
				types[i] = "array of " + g.typeOf(s.get("items"))
			case t != "null" && s.str("format") != "":
				types[i] = t + " (" + s.str("format") + ")"
			}
		}
		base = strings.Join(types, " or ")
		if base == "" {
			base = "any"
		}
	}
	return strings.Join(append([]string{base}, constraints(s)...), ", ")
}

// constraints lists the rules a schema adds to its type.
func constraints(s *value) []string {
	var out []string
	num := func(key string) string {
		if v := s.get(key); v != nil && v.kind == kindNumber {
			return v.text
		}
		return ""
	}
	between := func(lo, hi, unit string) {
		switch l, h := num(lo), num(hi); {
		case l != "" && h != "":
			out = append(out, unit+l+".."+h)
		case l != "":
			out = append(out, unit+"≥ "+l)
		case h != "":
			out = append(out, unit+"≤ "+h)
		}
	}
	between("minLength", "maxLength", "length ")
	between("minimum", "maximum", "")
	between("minItems", "maxItems", "items ")
	if p := s.str("pattern"); p != "" {
		out = append(out, "pattern "+code(p))
	}
	if d := s.get("default"); d != nil {
		out = append(out, "default "+code(d.compact()))
	}
	if e := s.get("example"); e != nil {
		out = append(out, "e.g. "+code(e.compact()))
	}
	if ex := s.get("examples").items(); len(ex) > 0 {
		out = append(out, "e.g. "+code(ex[0].compact()))
	}
	if s.isTrue("readOnly") {
		out = append(out, "read-only")
	}
	if s.isTrue("deprecated") {
		out = append(out, "deprecated")
	}
	return out
}
