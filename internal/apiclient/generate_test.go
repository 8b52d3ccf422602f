package apiclient_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedCodeIsUpToDate runs the go:generate line of doc.go with the output sent to a
// temporary file, and fails when the committed client.gen.go differs from it: the document or the
// configuration changed without `go generate ./internal/apiclient/`. It also fails when the
// pinned generator cannot read the document at all. The go command fetches the generator from
// the module proxy once, and builds it from its cache after that.
func TestGeneratedCodeIsUpToDate(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, line := range strings.Split(string(src), "\n") {
		if rest, ok := strings.CutPrefix(line, "//go:generate "); ok {
			args = strings.Fields(rest)
		}
	}
	out := filepath.Join(t.TempDir(), "client.gen.go")
	replaced := false
	for i := range args {
		if args[i] == "-o" && i+1 < len(args) && args[i+1] == "client.gen.go" {
			args[i+1], replaced = out, true
		}
	}
	if len(args) < 3 || args[0] != "go" || !replaced {
		t.Fatalf("doc.go has no go:generate line of the form `go run … -o client.gen.go …`: %q", args)
	}
	cmd := exec.Command(args[0], args[1:]...)
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, output)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("client.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < min(len(gotLines), len(wantLines)); i++ {
			if gotLines[i] != wantLines[i] {
				t.Fatalf("client.gen.go is not what the document generates: run `go generate ./internal/apiclient/`.\n"+
					"line %d is\n\t%s\nand should be\n\t%s", i+1, gotLines[i], wantLines[i])
			}
		}
		t.Fatalf("client.gen.go is not what the document generates (%d lines, not %d): run `go generate ./internal/apiclient/`",
			len(gotLines), len(wantLines))
	}
}
