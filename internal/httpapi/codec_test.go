package httpapi

import "testing"

func TestDuplicateKey(t *testing.T) {
	tests := []struct {
		body string
		key  string
	}{
		{`{"title":"a"}`, ""},
		{`{"title":"a","title":"b"}`, "title"},
		{`{"a":{"x":1,"y":2},"b":{"x":1}}`, ""},
		{`{"a":{"x":1,"x":2}}`, "x"},
		{`{"a":[{"x":1},{"x":2}],"b":"x"}`, ""},
		{`{"a":["k","k"],"k":1}`, ""},
		{`{"a":[{"k":1,"k":1}]}`, "k"},
		{`{"a":"b","b":"a"}`, ""},
		{`[{"a":1},{"a":1}]`, ""},
	}
	for _, tc := range tests {
		key, dup := duplicateKey([]byte(tc.body))
		if dup != (tc.key != "") || key != tc.key {
			t.Errorf("%s: %q %v, want %q", tc.body, key, dup, tc.key)
		}
	}
}
