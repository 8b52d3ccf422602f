package httpapi

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// vendorFiles stand in for what docs/fetch.sh copies from npm, so that these tests do not depend
// on whether it ran. TestDocsPagesRender (internal/app) loads the real ones in a browser.
var vendorFiles = map[string]string{
	"swagger-ui-bundle.js":   "window.SwaggerUIBundle = function () {};",
	"swagger-ui.css":         ".swagger-ui {}",
	"redoc.standalone.js":    "window.Redoc = {};",
	"redoc.LICENSE.txt":      "MIT",
	".fetched":               "swagger-ui-dist@0 redoc@0",
	"swagger-ui-bundle.js.x": "not linked by any page",
}

// docsTestFiles returns the real page templates and page script with the given vendor files in
// place of what fetch.sh copies.
func docsTestFiles(t *testing.T, vendor map[string]string) fstest.MapFS {
	t.Helper()
	files := fstest.MapFS{}
	err := fs.WalkDir(docsFiles, "docs", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasPrefix(name, "docs/assets/") && name != "docs/assets/swagger-ui-init.js" {
			return nil // fetched, or not, on this machine
		}
		body, err := fs.ReadFile(docsFiles, name)
		files[name] = &fstest.MapFile{Data: body}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range vendor {
		files["docs/assets/"+name] = &fstest.MapFile{Data: []byte(body)}
	}
	return files
}

// useDocsFiles makes the server's documentation routes serve a site built from docsTestFiles
// until the test ends.
func useDocsFiles(t *testing.T, vendor map[string]string) *docsSite {
	t.Helper()
	site, err := newDocsSite(docsTestFiles(t, vendor), openAPIDocument)
	if err != nil {
		t.Fatal(err)
	}
	saved := docs
	docs = func() (*docsSite, error) { return site, nil }
	t.Cleanup(func() { docs = saved })
	return site
}

func get(t *testing.T, s *Server, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// TestOpenAPIDocumentServed checks that the document is served as it is embedded, as JSON, and
// revalidated with its ETag.
func TestOpenAPIDocumentServed(t *testing.T) {
	s := testServer()
	w := get(t, s, "/api/openapi.json")
	if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), openAPIDocument) {
		t.Fatalf("status %d, body of %d bytes", w.Code, w.Body.Len())
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if !json.Valid(w.Body.Bytes()) {
		t.Error("the document is not JSON")
	}
	tag := w.Header().Get("ETag")
	if tag == "" || w.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("ETag %q, Cache-Control %q: want a tag and no-cache", tag, w.Header().Get("Cache-Control"))
	}
	w = get(t, s, "/api/openapi.json", "If-None-Match", tag)
	if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
		t.Errorf("If-None-Match of the current tag: %d with %d bytes, want 304 and none", w.Code, w.Body.Len())
	}
}

var linkRE = regexp.MustCompile(`(?:src|href)="([^"]*)"`)

// TestDocsPagesServeTheirAssets checks each page and every file it links: all on this server,
// linked with a content hash that makes them cacheable for good, of the right type.
func TestDocsPagesServeTheirAssets(t *testing.T) {
	site := useDocsFiles(t, vendorFiles)
	s := testServer()
	for _, page := range []string{"/api/openapi", "/api/redoc"} {
		t.Run(page, func(t *testing.T) {
			w := get(t, s, page)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			csp := w.Header().Get("Content-Security-Policy")
			if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self';") {
				t.Errorf("Content-Security-Policy %q does not keep the page to this server", csp)
			}
			if !strings.Contains(w.Body.String(), `"/api/openapi.json"`) {
				t.Errorf("the page does not load /api/openapi.json:\n%s", w.Body)
			}
			links := linkRE.FindAllStringSubmatch(w.Body.String(), -1)
			if len(links) == 0 {
				t.Fatalf("the page links no script:\n%s", w.Body)
			}
			for _, l := range links {
				link := l[1]
				name, hash, ok := strings.Cut(strings.TrimPrefix(link, assetsPath), "?v=")
				if !strings.HasPrefix(link, assetsPath) || !ok {
					t.Errorf("link %q is not an asset of this server with its hash", link)
					continue
				}
				if f, found := site.assets[name]; !found || f.hash != hash {
					t.Errorf("link %q: no asset of that name and hash", link)
				}
				a := get(t, s, link)
				if a.Code != http.StatusOK || a.Header().Get("Cache-Control") != cacheForever {
					t.Errorf("%s: status %d, Cache-Control %q; want 200 and cached for good", link, a.Code, a.Header().Get("Cache-Control"))
				}
				want := map[bool]string{true: "text/javascript; charset=utf-8", false: "text/css; charset=utf-8"}[strings.HasSuffix(name, ".js")]
				if ct := a.Header().Get("Content-Type"); ct != want {
					t.Errorf("%s: Content-Type %q, want %q", link, ct, want)
				}
			}
		})
	}
}

// TestDocsAssets checks the asset route: revalidation, cache policy, and that it serves nothing
// but the asset files.
func TestDocsAssets(t *testing.T) {
	site := useDocsFiles(t, vendorFiles)
	s := testServer()
	bundle := site.assets["swagger-ui-bundle.js"]

	w := get(t, s, assetsPath+"swagger-ui-bundle.js")
	if w.Code != http.StatusOK || w.Body.String() != vendorFiles["swagger-ui-bundle.js"] {
		t.Fatalf("status %d, body %q", w.Code, w.Body)
	}
	if cc := w.Header().Get("Cache-Control"); cc != cacheRevalidate {
		t.Errorf("without ?v= Cache-Control is %q, want %q: the file may change with the next build", cc, cacheRevalidate)
	}
	if got := get(t, s, assetsPath+"swagger-ui-bundle.js?v=0000").Header().Get("Cache-Control"); got != cacheRevalidate {
		t.Errorf("with a stale ?v= Cache-Control is %q, want %q", got, cacheRevalidate)
	}
	if w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no X-Content-Type-Options: nosniff")
	}
	w = get(t, s, assetsPath+"swagger-ui-bundle.js?v="+bundle.hash, "If-None-Match", `"`+bundle.hash+`"`)
	if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
		t.Errorf("If-None-Match of the current tag: %d, want 304", w.Code)
	}
	if ct := get(t, s, assetsPath+"redoc.LICENSE.txt").Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("a licence is served as %q", ct)
	}

	for _, path := range []string{
		assetsPath + "nothing.js",
		assetsPath + ".fetched",          // fetch.sh's stamp
		assetsPath + "..%2Fredoc.html",   // a template, not an asset
		assetsPath + "..%2F..%2Fdocs.go", // anything else
		"/api/docs/redoc.html",
	} {
		w := get(t, s, path)
		if w.Code != http.StatusNotFound || w.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: status %d (%s), want a 404 problem", path, w.Code, w.Header().Get("Content-Type"))
		}
	}
}

// TestDocsPagesWithoutAssets checks what a server built without running fetch.sh answers: a 503
// problem that says how to build the assets, never a page that would fetch them from a CDN.
func TestDocsPagesWithoutAssets(t *testing.T) {
	useDocsFiles(t, nil)
	s := testServer()
	for page, missing := range map[string]string{"/api/openapi": "swagger-ui-bundle.js", "/api/redoc": "redoc.standalone.js"} {
		w := get(t, s, page)
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%s: status %d (%s), want a 503 problem", page, w.Code, w.Header().Get("Content-Type"))
		}
		var p Problem
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if p.Type != "/problems/unavailable" || !strings.Contains(p.Detail, "make docs-assets") || !strings.Contains(p.Detail, missing) {
			t.Errorf("%s: problem %+v does not say what is missing and how to build it", page, p)
		}
	}
	// The document needs no assets.
	if w := get(t, s, "/api/openapi.json"); w.Code != http.StatusOK {
		t.Errorf("/api/openapi.json: status %d", w.Code)
	}
}

// fetchedRE matches an entry of fetch.sh's FILES list and captures the name it gets in assets/.
var fetchedRE = regexp.MustCompile(`(?m)^\s*"\$[A-Z_]+:[^:"]+:([^:"/]+)"$`)

// TestPagesLinkWhatFetchProvides checks the templates against fetch.sh: every file a page links
// is committed or copied by the script, so that no build has a page that links a missing file.
func TestPagesLinkWhatFetchProvides(t *testing.T) {
	script, err := os.ReadFile("docs/fetch.sh")
	if err != nil {
		t.Fatal(err)
	}
	provided := map[string]string{}
	for _, m := range fetchedRE.FindAllStringSubmatch(string(script), -1) {
		provided[m[1]] = "fetched"
	}
	if len(provided) < 3 {
		t.Fatalf("found only %v in fetch.sh's FILES", provided)
	}
	site, err := newDocsSite(docsTestFiles(t, provided), openAPIDocument)
	if err != nil {
		t.Fatal(err)
	}
	if len(site.pages) != 2 {
		t.Errorf("pages %v, want swagger-ui.html and redoc.html", site.pages)
	}
	for name, page := range site.pages {
		if len(page.missing) > 0 {
			t.Errorf("page %s links %v, which neither git nor fetch.sh provides", name, page.missing)
		}
	}
	if _, err := fs.Stat(docsFiles, "docs/fetch.sh"); err == nil {
		t.Error("fetch.sh is built into the server; only the pages and assets should be")
	}
}
