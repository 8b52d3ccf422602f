package app_test

import (
	"bufio"
	"bytes"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ticketflow/ticketflow/internal/app"
	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/config"
	"github.com/ticketflow/ticketflow/internal/devstack"
	"github.com/ticketflow/ticketflow/internal/store/postgres"
	"github.com/ticketflow/ticketflow/internal/store/postgres/pgtest"
)

// No Docker engine runs where these tests run, so docker-compose.yml is checked by reading it:
// its dependency graph, healthchecks, pinned images and the settings that tie it to the code.

const composePath = "../../docker-compose.yml"

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Image         string            `yaml:"image"`
	Build         any               `yaml:"build"`
	Entrypoint    []string          `yaml:"entrypoint"`
	Command       []string          `yaml:"command"`
	ContainerName string            `yaml:"container_name"`
	Ports         []string          `yaml:"ports"`
	Environment   map[string]string `yaml:"environment"`
	EnvFile       string            `yaml:"env_file"`
	StopGrace     string            `yaml:"stop_grace_period"`
	DependsOn     map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile(composePath)
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", composePath, err)
	}
	if len(f.Services) == 0 {
		t.Fatalf("%s: no services", composePath)
	}
	return f
}

// oneShots are the services that others wait to complete: jobs that run once and exit.
func (f composeFile) oneShots() map[string]bool {
	jobs := map[string]bool{}
	for _, s := range f.Services {
		for dep, c := range s.DependsOn {
			if c.Condition == "service_completed_successfully" {
				jobs[dep] = true
			}
		}
	}
	return jobs
}

// TestComposeGraph checks the start order: every long-running service has a healthcheck, every
// dependency waits for health or for a job's success, and the worker and the API wait for the
// migrations, the Redis Cluster and Temporal's namespace and search attributes.
func TestComposeGraph(t *testing.T) {
	f := loadCompose(t)
	jobs := f.oneShots()
	for name, s := range f.Services {
		if !jobs[name] && (s.Healthcheck == nil || len(s.Healthcheck.Test) < 2) {
			t.Errorf("%s runs on but has no healthcheck", name)
		}
		for dep, c := range s.DependsOn {
			want := "service_healthy"
			if jobs[dep] {
				want = "service_completed_successfully"
			}
			if _, ok := f.Services[dep]; !ok {
				t.Errorf("%s depends on %s, which is not a service", name, dep)
			} else if c.Condition != want {
				t.Errorf("%s waits for %s with condition %q, want %q", name, dep, c.Condition, want)
			}
		}
		// A fixed container name breaks --scale and a second project on the same engine.
		if s.ContainerName != "" {
			t.Errorf("%s has container_name %q", name, s.ContainerName)
		}
	}
	if cycle := findCycle(f); cycle != nil {
		t.Errorf("depends_on has a cycle: %s", strings.Join(cycle, " → "))
	}
	for _, app := range []string{"api", "worker"} {
		for _, job := range []string{"migrate", "redis-cluster", "temporal-init"} {
			if f.Services[app].DependsOn[job].Condition != "service_completed_successfully" {
				t.Errorf("%s does not wait for %s to succeed", app, job)
			}
		}
	}
	if got := f.Services["migrate"].Command; !slices.Equal(got, []string{"apiserver", "migrate"}) {
		t.Errorf("migrate runs %q", got)
	}
	if f.Services["migrate"].DependsOn["postgres"].Condition != "service_healthy" {
		t.Error("migrate does not wait for postgres")
	}
	if f.Services["temporal"].DependsOn["temporal-schema"].Condition != "service_completed_successfully" {
		t.Error("temporal does not wait for its schema")
	}
}

// findCycle returns a cycle of depends_on, or nil.
func findCycle(f composeFile) []string {
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(string) []string
	visit = func(n string) []string {
		switch state[n] {
		case onPath:
			return append(slices.Clone(path[slices.Index(path, n):]), n)
		case done:
			return nil
		}
		state[n] = onPath
		path = append(path, n)
		for dep := range f.Services[n].DependsOn {
			if c := visit(dep); c != nil {
				return c
			}
		}
		path = path[:len(path)-1]
		state[n] = done
		return nil
	}
	for n := range f.Services {
		if c := visit(n); c != nil {
			return c
		}
	}
	return nil
}

// pinned is an image reference with an explicit version tag such as postgres:17.6-alpine.
var pinned = regexp.MustCompile(`^[a-z0-9./_-]+:[A-Za-z0-9._-]*[0-9][A-Za-z0-9._-]*$`)

// TestComposeImages checks that every image is pinned to a version, and that the three
// application services run the one image built from the Dockerfile.
func TestComposeImages(t *testing.T) {
	f := loadCompose(t)
	var built []string
	for name, s := range f.Services {
		if s.Build != nil {
			built = append(built, name)
			continue
		}
		if !pinned.MatchString(s.Image) || strings.HasSuffix(s.Image, ":latest") {
			t.Errorf("%s: image %q is not pinned to a version", name, s.Image)
		}
	}
	slices.Sort(built)
	if want := []string{"api", "migrate", "worker"}; !slices.Equal(built, want) {
		t.Errorf("services built from the Dockerfile: %q, want %q", built, want)
	}
	for _, name := range built {
		if s := f.Services[name]; s.Image != f.Services["api"].Image {
			t.Errorf("%s is tagged %q, the API %q: one image for all three", name, s.Image, f.Services["api"].Image)
		}
	}
}

// TestComposeWiring checks what ties the file to the code: the ports, the addresses the
// application is given, the Redis Cluster's six nodes, the search attributes that the workflows
// set, and a stop grace period longer than the application's own shutdown timeout.
func TestComposeWiring(t *testing.T) {
	f := loadCompose(t)
	for name, port := range map[string]string{"api": "8000:8000", "temporal-ui": "8080:8080"} {
		if !slices.Contains(f.Services[name].Ports, port) {
			t.Errorf("%s does not publish %s (ports %q)", name, port, f.Services[name].Ports)
		}
	}
	if ports := f.Services["worker"].Ports; len(ports) > 0 {
		t.Errorf("worker publishes %q: a second replica could not bind them", ports)
	}

	var nodes []string
	for name, s := range f.Services {
		if slices.Contains(s.Command, "--cluster-enabled") {
			nodes = append(nodes, name)
			if f.Services["redis-cluster"].DependsOn[name].Condition != "service_healthy" {
				t.Errorf("redis-cluster does not wait for %s", name)
			}
		}
	}
	if len(nodes) != 6 {
		t.Errorf("Redis Cluster nodes %q, want 6", nodes)
	}

	settings := readEnvFile(t, "../../.env.example")
	grace := settings["SHUTDOWN_TIMEOUT"]
	for _, name := range []string{"api", "worker", "migrate"} {
		s := f.Services[name]
		if s.EnvFile != ".env.example" {
			t.Errorf("%s: env_file %q, want .env.example", name, s.EnvFile)
		}
		env := s.Environment
		// ticketflow's own database, not Temporal's.
		if u, err := url.Parse(env["DATABASE_DSN"]); err != nil || u.Hostname() != "postgres" || !isService(f, "postgres") {
			t.Errorf("%s: DATABASE_DSN %q, want the postgres service", name, env["DATABASE_DSN"])
		}
		if host, _, _ := strings.Cut(env["TEMPORAL_ADDRESS"], ":"); host != "temporal" {
			t.Errorf("%s: TEMPORAL_ADDRESS %q", name, env["TEMPORAL_ADDRESS"])
		}
		for seed := range strings.SplitSeq(env["REDIS_ADDRS"], ",") {
			if host, _, _ := strings.Cut(seed, ":"); !slices.Contains(nodes, host) {
				t.Errorf("%s: REDIS_ADDRS seed %q is not a cluster node", name, seed)
			}
		}
		if name == "migrate" {
			continue
		}
		stop, err1 := time.ParseDuration(s.StopGrace)
		shutdown, err2 := time.ParseDuration(grace)
		if err1 != nil || err2 != nil || stop <= shutdown {
			t.Errorf("%s: stop_grace_period %q is not longer than SHUTDOWN_TIMEOUT %q", name, s.StopGrace, grace)
		}
	}

	script := strings.Join(f.Services["temporal-init"].Command, "\n")
	sas, err := devstack.SearchAttributes()
	if err != nil {
		t.Fatal(err)
	}
	for _, sa := range sas {
		if !strings.Contains(script, sa.String()) {
			t.Errorf("temporal-init does not register %s (workflows.SearchAttributes has it)", sa)
		}
	}
}

func isService(f composeFile, name string) bool {
	_, ok := f.Services[name]
	return ok
}

// readEnvFile reads the NAME=value lines of an env file.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			env[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return env
}

// TestComposeScripts parses the shell scripts of the one-shot jobs with sh -n, after compose's
// own unescaping of $$, so that a syntax error shows here and not at `docker compose up`.
func TestComposeScripts(t *testing.T) {
	f := loadCompose(t)
	n := 0
	for name, s := range f.Services {
		if !slices.Equal(s.Entrypoint, []string{"/bin/sh", "-c"}) || len(s.Command) != 1 {
			continue
		}
		n++
		script := strings.ReplaceAll(s.Command[0], "$$", "$")
		if out, err := exec.Command("sh", "-n", "-c", script).CombinedOutput(); err != nil {
			t.Errorf("%s: sh -n: %v\n%s", name, err, out)
		}
	}
	if n < 4 {
		t.Errorf("found %d scripts, want those of temporal-schema, temporal, temporal-init and redis-cluster", n)
	}
}

// TestComposeConfig runs `docker-compose config -q`: the file must be valid for Compose itself,
// not only for these tests. Without a Docker engine Debian's docker-compose still validates.
func TestComposeConfig(t *testing.T) {
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		// CI must not pass by skipping it; a developer's machine may lack the package.
		if os.Getenv("CI") != "" {
			t.Fatal("docker-compose is not installed: CI installs it (apt-get install -y docker-compose)")
		}
		t.Skip("docker-compose is not installed (apt-get install -y docker-compose)")
	}
	cmd := exec.Command(bin, "-f", composePath, "config", "-q")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker-compose config -q: %v\n%s", err, out)
	}
}

// TestComposeListenAddresses checks that the containers listen on every interface, as they must to
// be reached from outside: the image sets it, and so does compose over .env.example's loopback
// addresses, which are the local defaults. The worker's healthcheck is its readiness.
func TestComposeListenAddresses(t *testing.T) {
	f := loadCompose(t)
	want := map[string]string{"HTTP_ADDR": ":8000", "WORKER_METRICS_ADDR": ":9464"}
	for _, name := range []string{"api", "worker"} {
		for k, v := range want {
			if got := f.Services[name].Environment[k]; got != v {
				t.Errorf("%s: %s %q, want %q", name, k, got, v)
			}
		}
	}
	if hc := f.Services["worker"].Healthcheck; hc == nil || !slices.Contains(hc.Test, "http://127.0.0.1:9464/readyz") {
		t.Errorf("worker healthcheck %+v, want its /readyz on 9464", hc)
	}

	dockerfile, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	env := regexp.MustCompile(`(?m)^ENV (.*)$`).FindAllSubmatch(dockerfile, -1)
	var set []string
	for _, m := range env {
		set = append(set, strings.Fields(string(m[1]))...)
	}
	for k, v := range want {
		if !slices.Contains(set, k+"="+v) {
			t.Errorf("the Dockerfile does not set ENV %s=%s (it sets %q)", k, v, set)
		}
	}

	settings := readEnvFile(t, "../../.env.example")
	for _, k := range []string{"HTTP_ADDR", "WORKER_METRICS_ADDR"} {
		if host, _, _ := strings.Cut(settings[k], ":"); host != "127.0.0.1" {
			t.Errorf(".env.example: %s=%s, want the loopback default", k, settings[k])
		}
	}
}

// TestMakeRun checks the run target of the Makefile: it leaves the API and the worker on their
// loopback defaults, and has the agent key written by `keys create --out`, readable by its owner
// only, rather than redirected into a file that the umask leaves readable by all.
func TestMakeRun(t *testing.T) {
	b, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?ms)^run:.*?\n((?:\t.*\n)+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("Makefile: no run target")
	}
	recipe := string(m[1])
	for line := range strings.SplitSeq(recipe, "\n") {
		if code, _, _ := strings.Cut(strings.TrimSpace(line), "#"); strings.Contains(code, "HTTP_ADDR") || strings.Contains(code, "WORKER_METRICS_ADDR") {
			t.Errorf("make run sets a listen address: %s", line)
		}
		if strings.Contains(line, "keys create") && (!strings.Contains(line, "--out") || strings.Contains(line, ">")) {
			t.Errorf("make run writes the key file other than with keys create --out: %s", line)
		}
	}
	if !strings.Contains(recipe, "keys create") {
		t.Error("make run makes no agent key")
	}
}

// TestKeysCreateOut runs `apiserver keys create --out FILE`: the secret goes to the file only,
// with mode 0600, replacing a file that was readable by all and a symbolic link without writing
// through it; a file that cannot be written leaves no key behind.
func TestKeysCreateOut(t *testing.T) {
	cfg := config.Config{DatabaseDSN: pgtest.DSN(t)}
	dir := t.TempDir()
	path := filepath.Join(dir, "agent.key")
	create := func(name, out string) (string, error) {
		var buf bytes.Buffer
		err := app.RunKeys(t.Context(), cfg, []string{"create", "--name", name, "--role", "agent", "--out", out}, &buf)
		return buf.String(), err
	}
	// checkFile fails the test unless path holds the secret of the key name, for its owner only.
	checkFile := func(name, printed string) {
		t.Helper()
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %s, want a regular file with mode 0600", path, fi.Mode())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		secret := strings.TrimSpace(string(b))
		db, err := postgres.Open(t.Context(), cfg.DatabaseDSN)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if k, err := db.KeyByHash(t.Context(), auth.Hash(secret)); err != nil || k.Name != name || k.Role != auth.RoleAgent {
			t.Errorf("the file's secret is of key %+v (%v), want agent key %s", k, err, name)
		}
		if strings.Contains(printed, secret) {
			t.Errorf("the secret was printed too: %s", printed)
		}
	}

	// A key file that an older make run left readable by all.
	if err := os.WriteFile(path, []byte("old secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	printed, err := create("first", path)
	if err != nil {
		t.Fatal(err)
	}
	checkFile("first", printed)

	// A symbolic link at the path is replaced, not written through.
	target := filepath.Join(dir, "elsewhere")
	if err := os.WriteFile(target, []byte("untouched\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if printed, err = create("second", path); err != nil {
		t.Fatal(err)
	}
	checkFile("second", printed)
	if b, _ := os.ReadFile(target); string(b) != "untouched\n" {
		t.Errorf("the link's target was written: %q", b)
	}

	// Nowhere to write: no key is made, and nothing is left in the directory.
	if _, err := create("third", filepath.Join(dir, "missing", "agent.key")); err == nil {
		t.Error("keys create --out into a missing directory succeeded")
	}
	var list bytes.Buffer
	if err := app.RunKeys(t.Context(), cfg, []string{"list"}, &list); err != nil || strings.Contains(list.String(), "third") {
		t.Errorf("keys list after the failed create (%v):\n%s", err, list.String())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"agent.key", "elsewhere"}) {
		t.Errorf("the directory holds %q, want agent.key and elsewhere only", names)
	}
}
