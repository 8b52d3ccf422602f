package apidocs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// kind is the JSON type of a value.
type kind int

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// value is a JSON value that keeps the order of an object's members. The page follows the
// document's order (its paths, tags, properties and examples), which encoding/json's maps lose.
type value struct {
	kind kind
	text string // a string's contents, a number's literal, "true" or "false"
	arr  []*value
	keys []string
	vals map[string]*value
}

// parse reads one JSON document. A duplicate key in an object is an error: the document would
// mean different things to different readers.
func parse(data []byte) (*value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("data after the JSON value")
	}
	return v, nil
}

func parseValue(dec *json.Decoder) (*value, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			v := &value{kind: kindObject, vals: map[string]*value{}}
			for dec.More() {
				tok, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key := tok.(string) // the decoder allows nothing else before a colon
				if _, dup := v.vals[key]; dup {
					return nil, fmt.Errorf("duplicate key %q", key)
				}
				member, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				v.keys = append(v.keys, key)
				v.vals[key] = member
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return v, nil
		case '[':
			v := &value{kind: kindArray}
			for dec.More() {
				item, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				v.arr = append(v.arr, item)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return v, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case string:
		return &value{kind: kindString, text: t}, nil
	case json.Number:
		return &value{kind: kindNumber, text: t.String()}, nil
	case bool:
		return &value{kind: kindBool, text: fmt.Sprint(t)}, nil
	case nil:
		return &value{kind: kindNull}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// get returns the member key of an object, or nil. Like every method of value, it may be called
// on nil, so that a path of lookups needs no checks in between.
func (v *value) get(key string) *value {
	if v == nil || v.kind != kindObject {
		return nil
	}
	return v.vals[key]
}

// str returns the member key when it is a string, else "".
func (v *value) str(key string) string {
	if m := v.get(key); m != nil && m.kind == kindString {
		return m.text
	}
	return ""
}

// has says whether the object v has the member key.
func (v *value) has(key string) bool { return v.get(key) != nil }

// isTrue says whether the member key is the JSON value true.
func (v *value) isTrue(key string) bool {
	m := v.get(key)
	return m != nil && m.kind == kindBool && m.text == "true"
}

// members returns the keys of an object in the document's order.
func (v *value) members() []string {
	if v == nil || v.kind != kindObject {
		return nil
	}
	return v.keys
}

// items returns the elements of an array.
func (v *value) items() []*value {
	if v == nil || v.kind != kindArray {
		return nil
	}
	return v.arr
}

// strings returns the string elements of an array, or the string itself.
func (v *value) strings() []string {
	if v == nil {
		return nil
	}
	if v.kind == kindString {
		return []string{v.text}
	}
	var out []string
	for _, item := range v.items() {
		if item.kind == kindString {
			out = append(out, item.text)
		}
	}
	return out
}

// compact is v as JSON on one line.
func (v *value) compact() string {
	var b strings.Builder
	v.encode(&b, false, 0)
	return b.String()
}

// indented is v as JSON with members and elements on lines of their own, indented by two
// spaces, as json.MarshalIndent writes it.
func (v *value) indented() string {
	var b strings.Builder
	v.encode(&b, true, 0)
	return b.String()
}

func (v *value) encode(b *strings.Builder, pretty bool, depth int) {
	// open writes what comes before the i-th element or member, close what ends the container.
	open := func(i int) {
		switch {
		case pretty && i > 0:
			b.WriteString(",\n" + strings.Repeat("  ", depth+1))
		case pretty:
			b.WriteString("\n" + strings.Repeat("  ", depth+1))
		case i > 0:
			b.WriteString(", ")
		}
	}
	end := func() {
		if pretty {
			b.WriteString("\n" + strings.Repeat("  ", depth))
		}
	}
	switch v.kind {
	case kindNull:
		b.WriteString("null")
	case kindBool, kindNumber:
		b.WriteString(v.text)
	case kindString:
		b.WriteString(quote(v.text))
	case kindArray, kindObject:
		brackets, n := "[]", len(v.arr)
		if v.kind == kindObject {
			brackets, n = "{}", len(v.keys)
		}
		b.WriteByte(brackets[0])
		for i := range n {
			open(i)
			if v.kind == kindObject {
				b.WriteString(quote(v.keys[i]) + ": ")
				v.vals[v.keys[i]].encode(b, pretty, depth+1)
			} else {
				v.arr[i].encode(b, pretty, depth+1)
			}
		}
		if n > 0 {
			end()
		}
		b.WriteByte(brackets[1])
	}
}

// quote is s as a JSON string, without the HTML escapes of json.Marshal.
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
