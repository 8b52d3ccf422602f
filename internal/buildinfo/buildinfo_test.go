package buildinfo_test

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestDockerfileBuild runs the go build of the Dockerfile's build stage, as written there, on
// this machine (which has no Docker engine), and checks what each of its flags promises: static
// binaries, no symbol tables, no paths of the machine that built them, and the version and
// commit from the build arguments behind --version.
func TestDockerfileBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both binaries")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	build := dockerfileBuild(t, filepath.Join(root, "Dockerfile"))
	// The build writes to /out/ in the image, a directory that go build creates; here to a
	// temporary one, likewise not there yet.
	out := filepath.Join(t.TempDir(), "out")
	if strings.Count(build, " -o /out/ ") != 1 {
		t.Fatalf("the Dockerfile's build no longer writes to /out/: %s", build)
	}
	build = strings.Replace(build, " -o /out/ ", " -o "+out+"/ ", 1)

	cmd := exec.Command("sh", "-c", build)
	cmd.Dir = root
	// ARG VERSION and ARG COMMIT reach the RUN instruction as environment variables.
	cmd.Env = append(os.Environ(), "VERSION=v9.8.7-test", "COMMIT=c0ffee1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, b)
	}

	for _, name := range []string{"worker", "apiserver"} {
		bin := filepath.Join(out, name)
		got, err := exec.Command(bin, "--version").Output()
		if err != nil {
			t.Fatalf("%s --version: %v", name, err)
		}
		if want := name + " v9.8.7-test (commit c0ffee1, " + runtime.Version() + ")\n"; string(got) != want {
			t.Errorf("%s --version = %q, want %q", name, got, want)
		}
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked (it names an interpreter)", name)
			}
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			t.Errorf("%s needs shared libraries %q", name, libs)
		}
		if f.Section(".symtab") != nil || f.Section(".debug_info") != nil {
			t.Errorf("%s has a symbol table or DWARF: -s -w did not apply", name)
		}
		f.Close()
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(root+"/")) {
			t.Errorf("%s holds the path %s: -trimpath did not apply", name, root)
		}
	}
}

// dockerfileBuild returns the shell command of the Dockerfile's RUN instruction that runs go
// build, its continuation lines joined and its --mount options dropped.
func dockerfileBuild(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.ReplaceAll(string(b), "\\\n", " ")
	var found []string
	for line := range strings.SplitSeq(joined, "\n") {
		if run, ok := strings.CutPrefix(strings.TrimSpace(line), "RUN "); ok && strings.Contains(run, "go build") {
			found = append(found, regexp.MustCompile(`--mount=\S+\s+`).ReplaceAllString(run, ""))
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: %d RUN instructions with go build, want 1", path, len(found))
	}
	cmd := strings.Join(strings.Fields(found[0]), " ")
	for _, flag := range []string{"CGO_ENABLED=0 ", "-trimpath", "-s -w", "buildinfo.Version=${VERSION}", "buildinfo.Commit=${COMMIT}"} {
		if !strings.Contains(cmd, flag) {
			t.Errorf("the Dockerfile's build lacks %q: %s", flag, cmd)
		}
	}
	return cmd
}
