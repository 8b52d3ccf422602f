// Package bench is ticketflow's load generator (make bench). In one process it runs the real
// worker and the real HTTP API against a stack, and next to them the baselines they are judged by:
// a no-op Temporal workflow with a no-op update on the same server with the same worker settings,
// and a bare chi handler that reads the same cached document from the same Redis Cluster. Every
// pair is measured with the same concurrency, after a warm-up, in alternating rounds so that noise
// from other work on the machine falls on both sides alike; the figures come out as a table with
// each ratio and, when asked, as JSON.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/ticketflow/ticketflow/internal/app"
	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/config"
	"github.com/ticketflow/ticketflow/internal/httpapi"
)

// Settings are the bench's knobs, from BENCH_* environment variables. The stack it runs against
// is the one that ticketflow's own configuration names (DATABASE_DSN, REDIS_ADDRS,
// TEMPORAL_ADDRESS).
type Settings struct {
	// Out is where the figures are written as JSON; nowhere when empty.
	Out string `env:"BENCH_OUT"`
	// Rows is how many tickets the table holds when the listing is measured.
	Rows int `env:"BENCH_ROWS" envDefault:"100000"`
	// Concurrency is how many clients run at once in every phase but the listing.
	Concurrency int `env:"BENCH_CONCURRENCY" envDefault:"16"`
	// Tickets is how many tickets are opened, and stay open, before the worker's heap is measured
	// with them in its cache.
	Tickets int `env:"BENCH_TICKETS" envDefault:"10000"`
	// Starts is how many creates are measured, and as many raw workflow starts.
	Starts int `env:"BENCH_STARTS" envDefault:"3000"`
	// Transitions is how many transitions are measured, and as many raw updates.
	Transitions int `env:"BENCH_TRANSITIONS" envDefault:"6000"`
	// Gets is how many cached reads are measured, and as many raw reads.
	Gets int `env:"BENCH_GETS" envDefault:"60000"`
	// Lists is how many first pages of the listing are measured, with ListConcurrency clients.
	Lists           int `env:"BENCH_LISTS" envDefault:"3000"`
	ListConcurrency int `env:"BENCH_LIST_CONCURRENCY" envDefault:"4"`
	// StreamClients is how many event streams are open while EventTransitions transitions are
	// made, whose events' delivery to them and to a webhook is timed.
	StreamClients    int `env:"BENCH_STREAM_CLIENTS" envDefault:"500"`
	EventTransitions int `env:"BENCH_EVENT_TRANSITIONS" envDefault:"1500"`
	// Rounds is how many times the raw and the ticketflow side of a pair take turns.
	Rounds int `env:"BENCH_ROUNDS" envDefault:"3"`
	// ProfileDir, when set, receives a CPU profile of each phase and a heap profile of the worker
	// with its open tickets.
	ProfileDir string `env:"BENCH_PROFILE_DIR"`
	// TemporalMetrics is the Temporal server's Prometheus endpoint; when set, the report says how
	// many persistence requests and history tasks each operation cost the server.
	TemporalMetrics string `env:"BENCH_TEMPORAL_METRICS"`
	// Log is the file that the API's and the worker's logs go to. They log as in production, one
	// line per request, so the cost of logging is measured; a file keeps them off the table.
	Log string `env:"BENCH_LOG"`
}

// LoadSettings reads the settings from the environment.
func LoadSettings() (Settings, error) {
	s, err := env.ParseAs[Settings]()
	if err != nil {
		return Settings{}, fmt.Errorf("bench settings: %w", err)
	}
	if s.Concurrency < 1 || s.ListConcurrency < 1 || s.Rounds < 1 || s.Tickets < 1 || s.Starts < 1 || s.Transitions < 1 ||
		s.Gets < 1 || s.Lists < 1 || s.Rows < 0 || s.StreamClients < 1 || s.EventTransitions < 1 {
		return Settings{}, fmt.Errorf("bench settings: counts must be positive")
	}
	if s.Log == "" {
		s.Log = filepath.Join(os.TempDir(), "ticketflow-bench.log")
	}
	return s, nil
}

// rawTaskQueue is the baseline's task queue: its own, so that its workers never take a ticket's
// task, with the same worker options as ticketflow's.
const rawTaskQueue = "bench-raw"

// ticketsPerClient is how many tickets (and raw workflows) each client of the transition phase
// takes turns on. Spreading the updates keeps each run far below the continue-as-new limit, on
// both sides alike.
const ticketsPerClient = 4

// bench is one run: the system under test and its baselines, in this process.
type bench struct {
	set  Settings
	cfg  config.Config
	deps *app.Deps
	http *http.Client
	// streamHTTP is the event streams' client: each holds its connection open.
	streamHTTP *http.Client
	api        string // base URL of ticketflow's API
	raw        string // base URL of the raw reader
	pool       *pgxpool.Pool
	procs      procs
	cpu        map[string]map[string]time.Duration // phase → process group → CPU time
	server     serverCounters
	work       map[string]map[string]float64 // phase → Temporal server counter → count
	pgUse      map[string]poolUse            // phase → use of the store's connection pool
	rounds     map[string]int                // phase → how many times it ran, for profile names
	report     Report

	authorization string // the Authorization header of requests to the API

	tickets []string // the tickets of the create phase, open
	rawIDs  []string // the workflows of the raw start phase, running
}

// Run runs every phase against the stack that cfg names and returns the figures.
func Run(ctx context.Context, set Settings, cfg config.Config, out io.Writer) (*Report, error) {
	logFile, err := os.OpenFile(set.Log, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	log := slog.New(slog.NewJSONHandler(logFile, &slog.HandlerOptions{Level: cfg.LogLevel}))

	b := &bench{set: set, cfg: cfg, cpu: map[string]map[string]time.Duration{}, work: map[string]map[string]float64{},
		pgUse: map[string]poolUse{}, rounds: map[string]int{},
		server: serverCounters{url: set.TemporalMetrics, client: &http.Client{Timeout: 5 * time.Second}}}
	b.report.Machine = machine()
	b.report.Settings = set
	say := func(format string, args ...any) { fmt.Fprintf(out, "bench: "+format+"\n", args...) }

	say("connecting to %s, %s, %s (logs: %s)", redactDSN(cfg.DatabaseDSN), strings.Join(cfg.RedisAddrs, ","), cfg.TemporalAddress, set.Log)
	// The bench is one client with one key: a rate limit per key would measure the limiter, so
	// it is lifted (the limiter still runs, and its cost is measured). Its webhook's receiver
	// listens on the loopback interface.
	cfg.RateLimit, cfg.RateBurst = 1e9, 1e9
	cfg.WebhookAllowPrivate = true
	b.cfg = cfg
	if b.deps, err = app.Connect(ctx, cfg, log); err != nil {
		return nil, err
	}
	defer b.deps.Close()
	// An agent key of its own, as a real client has; the raw reader needs none.
	secret, hash := auth.NewSecret()
	if _, err := b.deps.Store.CreateKey(ctx, auth.NewKey{Name: fmt.Sprintf("bench-%d", time.Now().UnixNano()), Role: string(auth.RoleAgent)}, hash); err != nil {
		return nil, fmt.Errorf("create an API key: %w", err)
	}
	b.authorization = "Bearer " + secret
	if b.pool, err = pgxpool.New(ctx, cfg.DatabaseDSN); err != nil {
		return nil, err
	}
	defer b.pool.Close()
	b.procs = findProcs(ctx, b.pool, cfg)

	start := time.Now()
	say("seeding PostgreSQL to %d tickets (COPY)", set.Rows)
	if b.report.ListRows, err = seed(ctx, b.pool, set.Rows, time.Now()); err != nil {
		return nil, err
	}
	say("  %d rows in %s", b.report.ListRows, time.Since(start).Round(time.Second))

	// The system under test and its baselines, all in this process: the same Temporal client,
	// the same worker options, the same kind of listener and HTTP client for both readers.
	tw := b.deps.NewWorker()
	if err := tw.Start(); err != nil {
		return nil, err
	}
	defer tw.Stop()
	rw := worker.New(b.deps.Temporal, rawTaskQueue, app.WorkerOptions(cfg))
	rw.RegisterWorkflow(RawWorkflow)
	if err := rw.Start(); err != nil {
		return nil, err
	}
	defer rw.Stop()
	api := newServer(b.deps.Handler())
	defer api.Close()
	rawRedis := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: cfg.RedisAddrs})
	defer rawRedis.Close()
	rawSrv := newServer(rawReader(rawRedis))
	defer rawSrv.Close()
	b.api, b.raw = api.URL+"/api/v1", rawSrv.URL
	b.http = &http.Client{Transport: &http.Transport{
		// One idle connection per client at least: the default of two per host would make the
		// other clients dial a new connection per request.
		MaxIdleConns: 4 * set.Concurrency, MaxIdleConnsPerHost: 4 * set.Concurrency,
	}}
	defer b.http.CloseIdleConnections()
	// The streams hold a connection each for as long as they are open.
	b.streamHTTP = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: set.StreamClients, MaxConnsPerHost: 0}}
	defer b.streamHTTP.CloseIdleConnections()

	phases := []struct {
		what string
		run  func(context.Context) error
	}{
		{"warm-up", b.warmUp},
		{"open tickets and hold them (worker heap)", b.openTickets},
		{"create vs raw start", b.creates},
		{"transitions vs raw updates", b.transitions},
		{"cached GET vs raw GET", b.gets},
		{"listing", b.lists},
		{"events out: a webhook and event streams", b.eventsOut},
	}
	for _, p := range phases {
		t0 := time.Now()
		say("%s ...", p.what)
		if err := p.run(ctx); err != nil {
			return nil, err
		}
		say("  done in %s", time.Since(t0).Round(100*time.Millisecond))
	}
	b.report.CPU, b.report.ServerWork = b.perOp()
	b.report.Machine.LoadAfter = loadAverage()
	b.report.Figures = b.report.figures()
	return &b.report, nil
}

// newServer serves h on a real loopback listener: the bench's clients reach ticketflow's API and
// the raw reader the same way, through the kernel, as a real client would.
func newServer(h http.Handler) *httptest.Server {
	return httptest.NewServer(h)
}

// warmUp exercises every path once over, so that connection pools, the sticky cache, the
// server's task queues and PostgreSQL's plans are warm before anything is measured. Its tickets
// end closed and its raw workflows stopped, so that they hold nothing in the worker's cache when
// the heap is measured.
func (b *bench) warmUp(ctx context.Context) error {
	const n = 200
	ids := make([]string, n)
	c := b.set.Concurrency
	if _, _, err := run(ctx, c, n, func(ctx context.Context, w, i int) error {
		t, err := b.create(ctx, i)
		if err != nil {
			return err
		}
		ids[i] = t.ID
		if err := b.post(ctx, "/tickets/"+t.ID+"/answer", http.StatusOK); err != nil {
			return err
		}
		if err := b.get(ctx, b.api+"/tickets/"+t.ID); err != nil {
			return err
		}
		if err := b.get(ctx, b.raw+"/raw/tickets/"+t.ID); err != nil {
			return err
		}
		if err := b.get(ctx, b.api+"/tickets?status=open"); err != nil {
			return err
		}
		return b.post(ctx, "/tickets/"+t.ID+"/close", http.StatusOK)
	}); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	stopped := rawStops.Load()
	_, _, err := run(ctx, c, n, func(ctx context.Context, w, i int) error {
		id := fmt.Sprintf("warm-%d-%d", time.Now().UnixNano(), i)
		if err := b.rawStart(ctx, id); err != nil {
			return err
		}
		if err := b.rawUpdate(ctx, id); err != nil {
			return err
		}
		return b.deps.Temporal.SignalWorkflow(ctx, id, "", rawStop, nil)
	})
	if err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	for deadline := time.Now().Add(time.Minute); rawStops.Load()-stopped < n; {
		if time.Now().After(deadline) {
			return fmt.Errorf("warm-up: only %d of %d raw workflows ended", rawStops.Load()-stopped, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// openTickets opens Tickets tickets through the API, which stay open, and measures what they cost
// the worker that holds them all in its cache: heap and goroutines per open ticket. It is the
// first phase after the warm-up, so the cache holds nothing else.
func (b *bench) openTickets(ctx context.Context) error {
	before := memSnapshot()
	b.tickets = make([]string, b.set.Tickets)
	var err error
	b.report.Fill, err = measure(ctx, "open tickets", b.set.Concurrency, 0, b.set.Tickets, func(ctx context.Context, w, i int) error {
		t, err := b.create(ctx, i)
		b.tickets[i] = t.ID
		return err
	})
	if err != nil {
		return err
	}
	after := memSnapshot()
	b.report.Heap = perTicket(before, after, b.set.Tickets)
	if b.set.ProfileDir != "" {
		return writeHeapProfile(filepath.Join(b.set.ProfileDir, "heap-open-tickets.pprof"))
	}
	return nil
}

// creates measures creating a ticket through the API against starting a raw workflow, Starts of
// each. A raw start's latency is that of the start call, but its side of the round runs until the
// worker has run the first task of every workflow it started: that work is part of a start as
// much as of a create, which answers only after it, and left undone it would land in the next
// measurement.
func (b *bench) creates(ctx context.Context) error {
	prefix := fmt.Sprintf("raw-%d-", time.Now().UnixNano())
	n := b.set.Starts
	b.rawIDs = make([]string, n)
	var next atomic.Int64
	raw := func(ctx context.Context, _, _ int) error {
		i := next.Add(1) - 1
		id := prefix + fmt.Sprint(i)
		b.rawIDs[i] = id
		return b.rawStart(ctx, id)
	}
	var ran int64
	rawRound := func(ctx context.Context, s *series, ops int) error {
		ran = rawRuns.Load()
		return s.add(ctx, ops, raw)
	}
	drain := func(ctx context.Context, s *series, ops int) error {
		t0 := time.Now()
		for rawRuns.Load()-ran < int64(ops) {
			if time.Since(t0) > 5*time.Minute {
				return fmt.Errorf("raw start: only %d of %d workflows ran", rawRuns.Load()-ran, ops)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(2 * time.Millisecond):
			}
		}
		s.elapsed += time.Since(t0)
		b.report.RawStartDrain += time.Since(t0)
		return nil
	}
	tf := func(ctx context.Context, _, i int) error {
		_, err := b.create(ctx, b.set.Tickets+i)
		return err
	}
	var err error
	b.report.RawStart, b.report.Create, err = b.pairWith(ctx, "raw-start", "create", b.set.Concurrency, n,
		func(ctx context.Context, s *series, ops int) error {
			if err := rawRound(ctx, s, ops); err != nil {
				return err
			}
			return drain(ctx, s, ops)
		},
		func(ctx context.Context, s *series, ops int) error { return s.add(ctx, ops, tf) },
		0)
	return err
}

// transitions measures ticket transitions through the API against no-op updates of raw
// workflows: each client takes turns on ticketsPerClient tickets of its own (answer, await,
// answer, ...), and on as many raw workflows. It does so with Concurrency clients, where the
// machine is busy and a round trip's latency is mostly its wait behind the others, and then
// with one client, where it is the round trip alone.
func (b *bench) transitions(ctx context.Context) error {
	c := b.set.Concurrency
	n := c * ticketsPerClient
	if n > len(b.tickets) {
		return fmt.Errorf("transitions: %d clients need %d tickets, have %d", c, n, len(b.tickets))
	}
	tickets, raws := b.tickets[:n], b.rawIDs[:n]
	answered := make([]bool, n) // each ticket's status: open/awaiting (false) or answered (true)
	// clients returns both sides for c clients; client w has the tickets and raw workflows
	// w*ticketsPerClient onwards.
	clients := func(c int) (raw, tf op) {
		turn, rawTurn := make([]int, c), make([]int, c)
		tf = func(ctx context.Context, w, _ int) error {
			j := w*ticketsPerClient + turn[w]%ticketsPerClient
			turn[w]++
			action := "answer"
			if answered[j] {
				action = "await"
			}
			if err := b.post(ctx, "/tickets/"+tickets[j]+"/"+action, http.StatusOK); err != nil {
				return err
			}
			answered[j] = !answered[j]
			return nil
		}
		raw = func(ctx context.Context, w, _ int) error {
			j := w*ticketsPerClient + rawTurn[w]%ticketsPerClient
			rawTurn[w]++
			return b.rawUpdate(ctx, raws[j])
		}
		return raw, tf
	}
	raw, tf := clients(c)
	var err error
	b.report.RawUpdate, b.report.Transition, err = b.pair(ctx, "raw-update", "transition", c, b.set.Transitions, raw, tf)
	if err != nil {
		return err
	}
	raw, tf = clients(1)
	b.report.RawUpdateAlone, b.report.TransitionAlone, err = b.pair(ctx, "raw-update-alone", "transition-alone", 1,
		max(b.set.Transitions/20, 10), raw, tf)
	return err
}

// gets measures cached reads of tickets through the API against raw reads of the same documents.
func (b *bench) gets(ctx context.Context) error {
	// In production the API serves reads in a process of its own, which holds no workflows. Here
	// the worker's cached tickets share its heap, and every collection would mark them: a cost
	// that grows with what each read allocates, so ticketflow's side would pay more of it than
	// the raw one, and that only in the bench. The worker reloads a ticket it needs next.
	worker.PurgeStickyWorkflowCache()
	runtime.GC()
	ids := b.tickets[:b.set.Concurrency*ticketsPerClient]
	tf := func(ctx context.Context, _, i int) error { return b.get(ctx, b.api+"/tickets/"+ids[i%len(ids)]) }
	raw := func(ctx context.Context, _, i int) error { return b.get(ctx, b.raw+"/raw/tickets/"+ids[i%len(ids)]) }
	var err error
	b.report.RawGet, b.report.Get, err = b.pair(ctx, "raw-get", "get", b.set.Concurrency, b.set.Gets, raw, tf)
	return err
}

// lists measures the first page of open tickets, of one agent's queue, and of a two-word search,
// as the API serves them, on the seeded table.
func (b *bench) lists(ctx context.Context) error {
	list := func(name, query string, into *Result) error {
		return b.phase(name, func() (err error) {
			*into, err = measure(ctx, name, b.set.ListConcurrency, b.set.Lists/10, b.set.Lists,
				func(ctx context.Context, _, _ int) error { return b.get(ctx, b.api+"/tickets?"+query) })
			return err
		})
	}
	if err := list("list", "status=open", &b.report.List); err != nil {
		return err
	}
	if err := list("list-assignee", "assignee="+url.QueryEscape(benchAgent), &b.report.ListAssignee); err != nil {
		return err
	}
	return list("search", "q="+url.QueryEscape(searchQuery), &b.report.Search)
}

// pair measures two sides with the same concurrency and the same number of operations: a
// warm-up of each, then Rounds rounds in which they take turns, the raw side first. The samples
// of every round are pooled per side.
func (b *bench) pair(ctx context.Context, rawName, tfName string, c, ops int, raw, tf op) (Result, Result, error) {
	round := func(fn op) func(context.Context, *series, int) error {
		return func(ctx context.Context, s *series, n int) error { return s.add(ctx, n, fn) }
	}
	warm := max(ops/10, c)
	if _, _, err := run(ctx, c, warm, raw); err != nil {
		return Result{}, Result{}, fmt.Errorf("%s: warm-up: %w", rawName, err)
	}
	if _, _, err := run(ctx, c, warm, tf); err != nil {
		return Result{}, Result{}, fmt.Errorf("%s: warm-up: %w", tfName, err)
	}
	return b.pairWith(ctx, rawName, tfName, c, ops, round(raw), round(tf), 0)
}

// pairWith runs Rounds rounds in which the raw side and the ticketflow side take turns, each round
// of each side adding ops/Rounds operations to its series; warm is how many operations of each
// side run first, unmeasured.
func (b *bench) pairWith(ctx context.Context, rawName, tfName string, c, ops int,
	raw, tf func(context.Context, *series, int) error, warm int) (Result, Result, error) {
	rs, ts := &series{name: rawName, concurrency: c}, &series{name: tfName, concurrency: c}
	if warm > 0 {
		if err := raw(ctx, &series{name: rawName, concurrency: c}, warm); err != nil {
			return Result{}, Result{}, err
		}
		if err := tf(ctx, &series{name: tfName, concurrency: c}, warm); err != nil {
			return Result{}, Result{}, err
		}
	}
	per := max(ops/b.set.Rounds, 1)
	for range b.set.Rounds {
		if err := b.phase(rawName, func() error { return raw(ctx, rs, per) }); err != nil {
			return Result{}, Result{}, err
		}
		if err := b.phase(tfName, func() error { return tf(ctx, ts, per) }); err != nil {
			return Result{}, Result{}, err
		}
	}
	return rs.result(), ts.result(), nil
}

// phase runs fn, adds the CPU time that each process of the stack spent meanwhile to the phase's
// account, and writes a CPU profile of this process when asked to: one file per round, named
// cpu-<phase>-<round>.pprof, which `go tool pprof` merges when given them all.
func (b *bench) phase(name string, fn func() error) error {
	if b.set.ProfileDir != "" {
		b.rounds[name]++
		f, err := os.Create(filepath.Join(b.set.ProfileDir, fmt.Sprintf("cpu-%s-%d.pprof", name, b.rounds[name])))
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background() // a few reads of /metrics, bounded by the client's timeout
	counted := b.server.read(ctx)
	before := b.procs.cpuTimes()
	pool := b.deps.Store.PoolStat()
	err := fn()
	after := b.procs.cpuTimes()
	poolAfter := b.deps.Store.PoolStat()
	// The store's pool (worker and API): acquires that found no idle connection, and the time
	// spent acquiring, which says whether the pool is too small for the phase.
	b.pgUse[name] = poolUse{
		waits: b.pgUse[name].waits + poolAfter.EmptyAcquireCount() - pool.EmptyAcquireCount(),
		wait:  b.pgUse[name].wait + poolAfter.AcquireDuration() - pool.AcquireDuration(),
	}
	acc := b.cpu[name]
	if acc == nil {
		acc = map[string]time.Duration{}
		b.cpu[name] = acc
	}
	for group, t := range after {
		acc[group] += t - before[group]
	}
	if counted != nil {
		work := b.work[name]
		if work == nil {
			work = map[string]float64{}
			b.work[name] = work
		}
		for k, v := range b.server.read(ctx) {
			work[k] += v - counted[k]
		}
	}
	return err
}

// create opens a ticket through the API.
func (b *bench) create(ctx context.Context, i int) (httpapi.Ticket, error) {
	body := fmt.Sprintf(`{"title":"Bench ticket %d","description":"Opened by make bench.","priority":"normal","requester":"bench@example.com"}`, i)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.api+"/tickets", strings.NewReader(body))
	if err != nil {
		return httpapi.Ticket{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", b.authorization)
	res, err := b.http.Do(req)
	if err != nil {
		return httpapi.Ticket{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return httpapi.Ticket{}, err
	}
	if res.StatusCode != http.StatusCreated {
		return httpapi.Ticket{}, fmt.Errorf("POST /tickets: %s: %s", res.Status, bytes.TrimSpace(data))
	}
	var t httpapi.Ticket
	if err := json.Unmarshal(data, &t); err != nil {
		return httpapi.Ticket{}, fmt.Errorf("POST /tickets: %w", err)
	}
	return t, nil
}

// post sends a POST without a body to the API and wants status back.
func (b *bench) post(ctx context.Context, path string, status int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.api+path, nil)
	if err != nil {
		return err
	}
	return b.do(req, status)
}

// get reads url and wants 200.
func (b *bench) get(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	return b.do(req, http.StatusOK)
}

func (b *bench) do(req *http.Request, status int) error {
	if strings.HasPrefix(req.URL.String(), b.api) {
		req.Header.Set("Authorization", b.authorization)
	}
	res, err := b.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != status {
		data, _ := io.ReadAll(res.Body)
		return fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, res.Status, bytes.TrimSpace(data))
	}
	// Read to the end, so that the connection goes back to the pool.
	_, err = io.Copy(io.Discard, res.Body)
	return err
}

// rawStart starts a raw workflow.
func (b *bench) rawStart(ctx context.Context, id string) error {
	_, err := b.deps.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: rawTaskQueue}, RawWorkflow)
	return err
}

// rawUpdate sends a raw workflow its no-op update and waits for the outcome, as ticketflow's
// client waits for a change.
func (b *bench) rawUpdate(ctx context.Context, id string) error {
	h, err := b.deps.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: rawUpdate, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	return h.Get(ctx, nil)
}

// series pools the samples of one side of a pair over its rounds.
type series struct {
	name        string
	concurrency int
	samples     []time.Duration
	elapsed     time.Duration
}

func (s *series) add(ctx context.Context, n int, fn op) error {
	samples, elapsed, err := run(ctx, s.concurrency, n, fn)
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	s.samples = append(s.samples, samples...)
	s.elapsed += elapsed
	return nil
}

func (s *series) result() Result {
	sorted := append([]time.Duration(nil), s.samples...)
	slices.Sort(sorted)
	return Result{Name: s.name, Concurrency: s.concurrency, Ops: len(sorted), Elapsed: s.elapsed,
		P50: percentile(sorted, 0.50), P99: percentile(sorted, 0.99)}
}

// mem is what the process holds at one moment, after a full collection.
type mem struct {
	heap, stack uint64
	goroutines  int
}

// memSnapshot collects garbage twice (the second sweeps what finalizers of the first freed) and
// reads the live heap, the goroutine stacks and the goroutine count.
func memSnapshot() mem {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return mem{heap: m.HeapAlloc, stack: m.StackInuse, goroutines: runtime.NumGoroutine()}
}

// Heap is what one open ticket costs the worker that holds it in its cache.
type Heap struct {
	HeapKiB    float64 `json:"heap_kib"`
	StackKiB   float64 `json:"stack_kib"`
	Goroutines float64 `json:"goroutines"`
}

func perTicket(before, after mem, n int) Heap {
	return Heap{
		HeapKiB:    (float64(after.heap) - float64(before.heap)) / 1024 / float64(n),
		StackKiB:   (float64(after.stack) - float64(before.stack)) / 1024 / float64(n),
		Goroutines: float64(after.goroutines-before.goroutines) / float64(n),
	}
}

func writeHeapProfile(file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("heap").WriteTo(f, 0)
}

// findProcs identifies the stack's processes (see procs). PostgreSQL's postmaster is the parent
// of the backend that serves this connection.
func findProcs(ctx context.Context, pool *pgxpool.Pool, cfg config.Config) procs {
	p := procs{redisPorts: map[string]bool{}}
	if _, port, err := net.SplitHostPort(cfg.TemporalAddress); err == nil {
		p.temporalPort = port
	}
	for _, a := range cfg.RedisAddrs {
		if _, port, err := net.SplitHostPort(a); err == nil {
			p.redisPorts[port] = true
		}
	}
	var backend int
	if err := pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&backend); err == nil {
		if st, ok := readStat(backend); ok {
			p.postmaster = st.ppid
		}
	}
	return p
}

// poolUse is how a phase used the store's connection pool.
type poolUse struct {
	waits int64         // acquires that found no idle connection
	wait  time.Duration // time spent acquiring connections
}

// perOp divides each phase's CPU time, and the Temporal server's work, by its operations.
func (b *bench) perOp() (cpu, work map[string]map[string]float64) {
	ops := map[string]int{
		"create": b.report.Create.Ops, "raw-start": b.report.RawStart.Ops,
		"raw-update": b.report.RawUpdate.Ops, "transition": b.report.Transition.Ops,
		"raw-update-alone": b.report.RawUpdateAlone.Ops, "transition-alone": b.report.TransitionAlone.Ops,
		"raw-get": b.report.RawGet.Ops, "get": b.report.Get.Ops, "list": b.report.List.Ops,
		"list-assignee": b.report.ListAssignee.Ops, "search": b.report.Search.Ops,
		"event-transition": b.report.EventTransition.Ops,
	}
	cpu, work = map[string]map[string]float64{}, map[string]map[string]float64{}
	for phase, groups := range b.cpu {
		n := ops[phase]
		if n == 0 {
			continue
		}
		cpu[phase] = map[string]float64{}
		for g, t := range groups {
			cpu[phase][g] = round(float64(t.Microseconds())/1000/float64(n), 3)
		}
		if p, ok := b.pgUse[phase]; ok {
			cpu[phase]["pg_pool_waits"] = round(float64(p.waits)/float64(n), 3)
			cpu[phase]["pg_pool_wait_ms"] = round(float64(p.wait.Microseconds())/1000/float64(n), 3)
		}
		for k, v := range b.work[phase] {
			if v/float64(n) >= 0.005 { // leave out the background noise
				if work[phase] == nil {
					work[phase] = map[string]float64{}
				}
				work[phase][k] = round(v/float64(n), 2)
			}
		}
	}
	return cpu, work
}

// redactDSN hides the password of a connection string.
func redactDSN(dsn string) string {
	if i, j := strings.Index(dsn, "://"), strings.LastIndex(dsn, "@"); i >= 0 && j > i {
		if k := strings.Index(dsn[i+3:j], ":"); k >= 0 {
			return dsn[:i+3+k+1] + "***" + dsn[j:]
		}
	}
	return dsn
}
