package httpapi

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// openAPIDocument is the API's contract, written by hand. Tests hold it to the router (every
// route is in it and nothing else) and to the responses of the end-to-end tests.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the OpenAPI 3.1 document that the server serves at /api/openapi.json.
func OpenAPIDocument() []byte {
	return bytes.Clone(openAPIDocument)
}

// docsFiles holds the documentation pages and their assets. docs/assets is filled by
// docs/fetch.sh from pinned npm packages and is not in git; its committed swagger-ui-init.js keeps
// the pattern valid, so the server builds before the fetch too.
//
//go:embed docs/*.html docs/assets
var docsFiles embed.FS

// The documentation pages, by the name of their template in docs/.
const (
	swaggerUIPage = "swagger-ui.html"
	redocPage     = "redoc.html"
)

// assetsPath is where the files of docs/assets are served.
const assetsPath = "/api/docs/assets/"

// docsPolicy lets the documentation pages load only what this server serves. That is what makes
// them work offline, and a script that reaches for a third party anyway (ReDoc's logo, Swagger
// UI's validator badge) is stopped in the browser instead of leaking the reader's visit. The
// inline styles are the ones both libraries set on their elements.
const docsPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Cache-Control values: a file linked with its content hash never changes; everything else is
// revalidated with its ETag, as it changes with each build of the server.
const (
	cacheForever    = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// staticFile is a file served from memory, with the hash of its content as its ETag.
type staticFile struct {
	body        []byte
	contentType string
	hash        string
}

func newStaticFile(body []byte, contentType string) staticFile {
	sum := sha256.Sum256(body)
	return staticFile{body: body, contentType: contentType, hash: hex.EncodeToString(sum[:8])}
}

// docsPage is a rendered documentation page, or the assets it lacks.
type docsPage struct {
	staticFile
	missing []string
}

// docsSite is everything the documentation routes serve, prepared once.
type docsSite struct {
	spec   staticFile
	assets map[string]staticFile // by file name
	pages  map[string]docsPage   // by template name
}

// docs returns the site built from the embedded files. It is built on first use, not at start,
// so that hashing a few megabytes of scripts costs only a process that serves the pages. Tests
// replace it with a site built from files of their own.
var docs = sync.OnceValues(func() (*docsSite, error) {
	return newDocsSite(docsFiles, openAPIDocument)
})

// assetTypes are the content types of the asset files by extension; anything else (the licence
// texts) is plain text.
var assetTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
}

// newDocsSite prepares the pages in files' docs/*.html and the assets in docs/assets. A page that
// links an asset that is not there is kept with the names of what it lacks, so that it can say
// so; any other failure is a bug in the templates.
func newDocsSite(files fs.FS, spec []byte) (*docsSite, error) {
	site := &docsSite{
		spec:   newStaticFile(spec, "application/json; charset=utf-8"),
		assets: map[string]staticFile{},
		pages:  map[string]docsPage{},
	}
	entries, err := fs.ReadDir(files, "docs/assets")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range entries {
		// Dot files are fetch.sh's stamp and git's: not for the browser.
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		body, err := fs.ReadFile(files, "docs/assets/"+e.Name())
		if err != nil {
			return nil, err
		}
		contentType, ok := assetTypes[path.Ext(e.Name())]
		if !ok {
			contentType = "text/plain; charset=utf-8"
		}
		site.assets[e.Name()] = newStaticFile(body, contentType)
	}

	names, err := fs.Glob(files, "docs/*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		page, err := site.render(files, name)
		if err != nil {
			return nil, fmt.Errorf("documentation page %s: %w", name, err)
		}
		site.pages[path.Base(name)] = page
	}
	return site, nil
}

// render executes the template of a page. Its `asset` function links an asset with its content
// hash, so that the browser may cache the asset for good and still gets the new one after an
// upgrade.
func (site *docsSite) render(files fs.FS, name string) (docsPage, error) {
	var page docsPage
	funcs := template.FuncMap{"asset": func(file string) string {
		f, ok := site.assets[file]
		if !ok {
			page.missing = append(page.missing, file)
			return assetsPath + file
		}
		return assetsPath + file + "?v=" + f.hash
	}}
	src, err := fs.ReadFile(files, name)
	if err != nil {
		return page, err
	}
	tmpl, err := template.New(path.Base(name)).Funcs(funcs).Parse(string(src))
	if err != nil {
		return page, err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, nil); err != nil {
		return page, err
	}
	page.staticFile = newStaticFile(buf.Bytes(), "text/html; charset=utf-8")
	return page, nil
}

// openAPI serves the OpenAPI document.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	site, err := docs()
	if err != nil {
		return err
	}
	serveStatic(w, r, site.spec, cacheRevalidate)
	return nil
}

// servePage serves a documentation page, or 503 when the server was built without its assets: a
// page without them would be blank, and a CDN is not an option offline.
func (s *Server) servePage(name string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		site, err := docs()
		if err != nil {
			return err
		}
		page, ok := site.pages[name]
		switch {
		case !ok:
			return fmt.Errorf("no documentation page %s", name) // a bug: routes name the templates
		case len(page.missing) > 0:
			return ticket.Errorf(ticket.EUNAVAILABLE,
				"the documentation assets were not built into this server (missing %s): run `make docs-assets` and build it again",
				strings.Join(page.missing, ", "))
		}
		w.Header().Set("Content-Security-Policy", docsPolicy)
		w.Header().Set("Referrer-Policy", "no-referrer")
		serveStatic(w, r, page.staticFile, cacheRevalidate)
		return nil
	}
}

// docsAsset serves a file of docs/assets. Only the files found there at build time are served,
// by their plain name, so no path reaches anything else.
func (s *Server) docsAsset(w http.ResponseWriter, r *http.Request) error {
	site, err := docs()
	if err != nil {
		return err
	}
	name := chi.URLParam(r, "file")
	f, ok := site.assets[name]
	if !ok {
		return ticket.Errorf(ticket.ENOTFOUND, "no documentation asset %q", name)
	}
	cache := cacheRevalidate
	if r.URL.Query().Get("v") == f.hash {
		cache = cacheForever
	}
	serveStatic(w, r, f, cache)
	return nil
}

// serveStatic writes f with its ETag and cache policy, or 304 when the client has it already.
func serveStatic(w http.ResponseWriter, r *http.Request, f staticFile, cacheControl string) {
	tag := `"` + f.hash + `"`
	h := w.Header()
	h.Set("ETag", tag)
	h.Set("Cache-Control", cacheControl)
	if noneMatch(r.Header.Get("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", f.contentType)
	h.Set("Content-Length", strconv.Itoa(len(f.body)))
	// Browsers must not second-guess a script or style sheet's type.
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(f.body); err != nil {
		logWriteFailure(err)
	}
}
