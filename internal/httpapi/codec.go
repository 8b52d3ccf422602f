package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// maxBody is the largest request body accepted.
const maxBody = 1 << 20

// bodyReadTimeout bounds the wait for a change's body once its headers have arrived. A change
// takes a slot of its ticket only after its body is in (changeRoute), so a slow sender holds
// nothing but its own connection, and that for this long at most.
const bodyReadTimeout = 5 * time.Second

// readBody reads the whole body before h runs, within bodyReadTimeout and maxBody, and gives h a
// body that is already in memory.
func readBody(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rc := http.NewResponseController(w)
		// A writer that cannot set deadlines (a test's recorder) has no connection to wait on.
		_ = rc.SetReadDeadline(time.Now().Add(bodyReadTimeout))
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return requestError(codeTooLarge, "the request body is larger than %d bytes", maxBody)
		case errors.Is(err, os.ErrDeadlineExceeded):
			return requestError(codeBadRequest, "the request body did not arrive within %s of its headers", bodyReadTimeout)
		case err != nil:
			return requestError(codeBadRequest, "the request body could not be read")
		}
		// The body is in: the rest of the request is the server's own time.
		_ = rc.SetReadDeadline(time.Time{})
		r.Body = io.NopCloser(bytes.NewReader(body))
		return h(w, r)
	}
}

// decode reads the JSON body of r into v, strictly: the right content type, at most maxBody bytes,
// no unknown fields, nothing after the value. An empty body leaves v as it is when optional is set,
// so that `POST …/answer` needs no body at all.
func decode(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return requestError(codeTooLarge, "the request body is larger than %d bytes", maxBody)
		}
		return requestError(codeBadRequest, "the request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 && optional {
		return nil
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return requestError(codeUnsupportedType, "the request body must be application/json")
	}
	// encoding/json would quietly turn invalid bytes into U+FFFD; the client's text must arrive
	// as it was sent, or not at all.
	if !utf8.Valid(body) {
		return requestError(codeBadRequest, "invalid JSON body: it is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return requestError(codeBadRequest, "invalid JSON body: %s", describeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return requestError(codeBadRequest, "invalid JSON body: unexpected data after the JSON value")
	}
	if key, dup := duplicateKey(body); dup {
		return requestError(codeBadRequest, "invalid JSON body: the key %q appears twice in one object", key)
	}
	return nil
}

// duplicateKey finds a key that appears twice in one object of a well-formed JSON document.
// encoding/json keeps the last of the two silently; a client that sends both means one of them,
// and which is not for the server to guess.
func duplicateKey(body []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	// Each open container: the keys seen so far for an object, nil for an array.
	var stack []map[string]bool
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false // the body was decoded already; only duplicates are looked for here
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, map[string]bool{})
				expectKey = true
				continue
			case '[':
				stack = append(stack, nil)
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if expectKey {
				top := stack[len(stack)-1]
				if top[t] {
					return t, true
				}
				top[t] = true
				expectKey = false
				continue
			}
		}
		// After a value inside an object, a key comes next.
		expectKey = len(stack) > 0 && stack[len(stack)-1] != nil
	}
}

// describeJSONError says what is wrong with a body in words that name no Go type.
func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return "malformed JSON at byte " + strconv.FormatInt(syntax.Offset, 10)
	case errors.As(err, &typ) && typ.Field != "":
		return "field " + strconv.Quote(typ.Field) + " must be a " + jsonKind(typ.Type.Kind().String())
	case errors.As(err, &typ):
		return "the body must be a JSON object"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ends early"
	}
	// encoding/json reports an unknown field as `json: unknown field "x"`.
	if msg := err.Error(); len(msg) > 6 && msg[:6] == "json: " {
		return msg[6:]
	}
	return "malformed JSON"
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "int", "int64", "float64":
		return "number"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	}
	return "object"
}

// writeJSON writes v as the JSON body of a response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	writeBody(w, status, v)
}

func writeBody(w http.ResponseWriter, status int, v any) {
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		logWriteFailure(err)
	}
}

// etag is a ticket's entity tag: its version, which grows with every change.
func etag(t ticket.Ticket) string {
	return `"` + strconv.FormatInt(t.Version, 10) + `"`
}
