package redis_test

import (
	"context"
	"fmt"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"

	"github.com/ticketflow/ticketflow/internal/cache/redis"
	"github.com/ticketflow/ticketflow/internal/cache/redis/redistest"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// newTicket returns a ticket at the given version, with times as the domain makes them (UTC,
// microseconds), so that a round trip through the cache can be compared with reflect.DeepEqual.
func newTicket(id string, version int64) ticket.Ticket {
	created := ticket.Timestamp(time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("X", 3600)))
	return ticket.Ticket{
		ID:          id,
		Title:       fmt.Sprintf("printer on fire, v%d", version),
		Description: "smoke from tray 2",
		Status:      ticket.StatusOpen,
		Priority:    ticket.PriorityHigh,
		Requester:   "ada@example.com",
		Version:     version,
		CreatedAt:   created,
		UpdatedAt:   created.Add(time.Duration(version) * time.Minute),
		Group:       ticket.DefaultGroup,
	}
}

// rawClient returns a plain cluster client on the test cluster, for what the Cache does not
// expose: TTLs, slots, and documents written behind its back.
func rawClient(t *testing.T) *goredis.ClusterClient {
	t.Helper()
	c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: redistest.Addrs(t)})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestKey(t *testing.T) {
	if got, want := redis.Key("42"), "ticket:{42}"; got != want {
		t.Errorf("Key(%q) = %q, want %q", "42", got, want)
	}
}

func TestGetMiss(t *testing.T) {
	t.Parallel()
	c := redistest.New(t)
	got, ok, err := c.Get(t.Context(), uuid.NewString())
	if err != nil || ok {
		t.Fatalf("Get of an uncached ticket = (%+v, %v, %v), want a miss: (zero, false, nil)", got, ok, err)
	}
	if !reflect.DeepEqual(got, ticket.Ticket{}) {
		t.Errorf("Get returned %+v on a miss, want the zero Ticket", got)
	}
}

func TestPutGetRoundTrip(t *testing.T) {
	t.Parallel()
	c := redistest.New(t)
	closed := func() ticket.Ticket {
		tk := newTicket(uuid.NewString(), 7)
		at := ticket.Timestamp(time.Now())
		reason := "resolved by replacing the fuser"
		tk.Status, tk.ClosedAt, tk.CloseReason = ticket.StatusClosed, &at, &reason
		tk.EscalationLevel, tk.CommentsCount = 2, 5
		tk.Group, tk.Assignee, tk.Tags, tk.InternalNotesCount = "billing", "bob@example.com", []string{"printer", "vip"}, 3
		tk.FirstRespondedAt = &tk.CreatedAt
		return tk
	}()
	unicode := newTicket(uuid.NewString(), 1)
	unicode.Title, unicode.Description = "Drucker brennt 🔥 — «urgent»", "line 1\nline 2\t\"quoted\" \\ \x00 end"

	tests := []struct {
		name string
		t    ticket.Ticket
	}{
		{"open", newTicket(uuid.NewString(), 1)},
		{"closed with reason", closed},
		{"unicode and control characters", unicode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stored, err := c.Put(t.Context(), tt.t)
			if err != nil || !stored {
				t.Fatalf("Put = (%v, %v), want (true, nil)", stored, err)
			}
			got, ok, err := c.Get(t.Context(), tt.t.ID)
			if err != nil || !ok {
				t.Fatalf("Get = (_, %v, %v), want a hit", ok, err)
			}
			if !reflect.DeepEqual(got, tt.t) {
				t.Errorf("Get returned\n%+v\nwant what was Put\n%+v", got, tt.t)
			}
		})
	}
}

func TestPutComparesVersions(t *testing.T) {
	t.Parallel()
	c := redistest.New(t)
	type put struct {
		version int64
		stored  bool
	}
	tests := []struct {
		name string
		puts []put
		// want is the index in puts of the write whose document must be cached at the end.
		want int
	}{
		{"first write", []put{{5, true}}, 0},
		{"newer replaces", []put{{1, true}, {2, true}, {3, true}}, 2},
		{"out of order is refused", []put{{3, true}, {2, false}}, 0},
		{"equal version is not rewritten", []put{{2, true}, {2, false}}, 0},
		{"older after newer after older", []put{{1, true}, {4, true}, {2, false}, {3, false}, {5, true}}, 4},
		{"version gap", []put{{1, true}, {1000, true}, {999, false}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id := uuid.NewString()
			var docs []ticket.Ticket
			for i, p := range tt.puts {
				tk := newTicket(id, p.version)
				// A distinct title per write shows which write's document was kept, even
				// between two writes of the same version.
				tk.Title = fmt.Sprintf("write #%d at v%d", i, p.version)
				docs = append(docs, tk)
				stored, err := c.Put(t.Context(), tk)
				if err != nil {
					t.Fatalf("Put #%d (v%d): %v", i, p.version, err)
				}
				if stored != p.stored {
					t.Errorf("Put #%d (v%d) stored = %v, want %v", i, p.version, stored, p.stored)
				}
			}
			got, ok, err := c.Get(t.Context(), id)
			if err != nil || !ok {
				t.Fatalf("Get = (_, %v, %v), want a hit", ok, err)
			}
			if want := docs[tt.want]; !reflect.DeepEqual(got, want) {
				t.Errorf("cached %q (v%d), want %q (v%d)", got.Title, got.Version, want.Title, want.Version)
			}
		})
	}
}

// TestPutSameVersionStampedLater covers two documents of one version, which happen when a workflow
// task that wrote a change is lost and its retry makes the change again, later: the later one
// replaces the earlier, a late copy of the earlier never replaces the later, and a repeat of
// either changes nothing. PostgreSQL keeps the ticket row by the same order.
func TestPutSameVersionStampedLater(t *testing.T) {
	t.Parallel()
	c := redistest.New(t)
	first := newTicket(uuid.NewString(), 3)
	first.Title = "the lost task's"
	retried := first
	retried.Title = "the retried task's"
	retried.UpdatedAt = first.UpdatedAt.Add(10 * time.Second)
	for i, p := range []struct {
		t      ticket.Ticket
		stored bool
	}{{first, true}, {retried, true}, {first, false}, {retried, false}} {
		stored, err := c.Put(t.Context(), p.t)
		if err != nil || stored != p.stored {
			t.Fatalf("Put #%d (%q) = (%v, %v), want (%v, nil)", i, p.t.Title, stored, err, p.stored)
		}
	}
	got, ok, err := c.Get(t.Context(), first.ID)
	if err != nil || !ok || !reflect.DeepEqual(got, retried) {
		t.Errorf("cached %q (hit %v, error %v), want the retried task's", got.Title, ok, err)
	}
	// A newer version wins whatever its stamp.
	next := newTicket(first.ID, 4)
	next.UpdatedAt = first.UpdatedAt
	if stored, err := c.Put(t.Context(), next); err != nil || !stored {
		t.Errorf("Put of version 4 stamped earlier = (%v, %v), want it stored", stored, err)
	}
}

// TestPutReachesTheReplica checks the promise that keeps a failover from taking the cache back:
// once Put returns, the replica of the key's master holds the document too. On one machine the
// replica is so quick that this would rarely fail even without Put's WAIT (a replica that lags
// cannot be staged on the shared test cluster); the fault suite (internal/faults) is what kills
// masters under load.
func TestPutReachesTheReplica(t *testing.T) {
	t.Parallel()
	c := redistest.New(t)
	raw := rawClient(t)
	ctx := t.Context()
	// Enough tickets that every master, and so every replica, holds some.
	for i := range 30 {
		tk := newTicket(uuid.NewString(), int64(i+1))
		master, err := raw.MasterForKey(ctx, redis.Key(tk.ID))
		if err != nil {
			t.Fatal(err)
		}
		// Put waits only for a replica in sync; right after the stack starts, one may still be
		// loading its first copy.
		waitReplicaInSync(t, master)
		if stored, err := c.Put(ctx, tk); err != nil || !stored {
			t.Fatalf("Put = (%v, %v), want it stored", stored, err)
		}
		replica, err := raw.SlaveForKey(ctx, redis.Key(tk.ID))
		if err != nil {
			t.Fatal(err)
		}
		if replica.Options().Addr == master.Options().Addr {
			t.Fatalf("the master %s of ticket %s has no replica: the test cluster is not 3 masters and 3 replicas", master.Options().Addr, tk.ID)
		}
		// A replica answers reads of its slots only on a connection that said READONLY.
		conn := replica.Conn()
		if err := conn.ReadOnly(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		v, err := conn.HGet(ctx, redis.Key(tk.ID), "version").Int64()
		conn.Close()
		if err != nil || v != tk.Version {
			t.Errorf("the replica %s holds version %d of ticket %s (error %v) right after Put returned, want %d",
				replica.Options().Addr, v, tk.ID, err, tk.Version)
		}
	}
}

// waitReplicaInSync waits until master reports a replica in sync ("state=online" in INFO
// replication), and fails the test after 30 s.
func waitReplicaInSync(t *testing.T, master *goredis.Client) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := master.Info(t.Context(), "replication").Result()
		if err == nil && strings.Contains(info, "state=online") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the master %s has no replica in sync after 30 s (error %v)", master.Options().Addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestPutSetsTTL(t *testing.T) {
	t.Parallel()
	const ttl = time.Minute
	c := redis.New(redistest.Addrs(t), ttl)
	t.Cleanup(func() { c.Close() })
	raw := rawClient(t)
	ctx := t.Context()
	id := uuid.NewString()
	key := redis.Key(id)

	pttl := func() time.Duration {
		t.Helper()
		d, err := raw.PTTL(ctx, key).Result()
		if err != nil {
			t.Fatalf("PTTL %s: %v", key, err)
		}
		return d
	}
	put := func(version int64, wantStored bool) {
		t.Helper()
		stored, err := c.Put(ctx, newTicket(id, version))
		if err != nil || stored != wantStored {
			t.Fatalf("Put v%d = (%v, %v), want (%v, nil)", version, stored, err, wantStored)
		}
	}
	shorten := func() {
		t.Helper()
		if err := raw.PExpire(ctx, key, 5*time.Second).Err(); err != nil {
			t.Fatalf("PEXPIRE %s: %v", key, err)
		}
	}

	put(1, true)
	if d := pttl(); d <= 0 || d > ttl {
		t.Errorf("after the first Put, PTTL = %v, want in (0, %v]", d, ttl)
	}

	// A refused write must not extend the life of the document it did not write.
	shorten()
	put(1, false)
	if d := pttl(); d <= 0 || d > 5*time.Second {
		t.Errorf("after a refused Put, PTTL = %v, want it left at most 5s", d)
	}

	// A stored write starts the time to live again.
	put(2, true)
	if d := pttl(); d <= 5*time.Second || d > ttl {
		t.Errorf("after a newer Put, PTTL = %v, want it refreshed to (5s, %v]", d, ttl)
	}
}

func TestKeysSpreadOverSlotsAndMasters(t *testing.T) {
	t.Parallel()
	raw := rawClient(t)
	ctx := t.Context()

	var mu sync.Mutex
	masters := map[string]bool{}
	err := raw.ForEachMaster(ctx, func(ctx context.Context, m *goredis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		masters[m.Options().Addr] = true
		return nil
	})
	if err != nil {
		t.Fatalf("list masters: %v", err)
	}

	const n = 200
	slots := map[int64]bool{}
	used := map[string]bool{}
	for range n {
		id := uuid.NewString()
		key := redis.Key(id)
		slot, err := raw.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			t.Fatalf("CLUSTER KEYSLOT %s: %v", key, err)
		}
		// The hash tag places the key by the id alone, as the server computes it.
		idSlot, err := raw.ClusterKeySlot(ctx, id).Result()
		if err != nil {
			t.Fatalf("CLUSTER KEYSLOT %s: %v", id, err)
		}
		if slot != idSlot {
			t.Errorf("slot of %s = %d, want the slot of its id, %d", key, slot, idSlot)
		}
		// Any other key of the same ticket would share the slot.
		other := key + ":comments"
		if s, err := raw.ClusterKeySlot(ctx, other).Result(); err != nil || s != slot {
			t.Errorf("slot of %s = (%d, %v), want %d like %s", other, s, err, slot, key)
		}
		slots[slot] = true
		m, err := raw.MasterForKey(ctx, key)
		if err != nil {
			t.Fatalf("master of %s: %v", key, err)
		}
		used[m.Options().Addr] = true
	}
	// 200 random ids over 16384 slots: collisions are rare, and every master gets some.
	if len(slots) < n*3/4 {
		t.Errorf("%d ids fell into only %d slots, want them spread", n, len(slots))
	}
	if len(used) != len(masters) {
		t.Errorf("%d ids used %d of the %d masters (%v), want all of them", n, len(used), len(masters), used)
	}
	if len(masters) < 2 {
		t.Errorf("the test cluster has %d master(s), want several so that spreading is tested", len(masters))
	}
}

func TestConcurrentPutsKeepNewest(t *testing.T) {
	t.Parallel()
	c := redistest.New(t)
	ctx := t.Context()
	id := uuid.NewString()
	const versions = 50

	var (
		start  = make(chan struct{})
		wg     sync.WaitGroup
		mu     sync.Mutex
		stored []int64
	)
	// Each version is written by two goroutines, as a retried activity would write it.
	for v := int64(1); v <= versions; v++ {
		for range 2 {
			wg.Go(func() {
				<-start
				ok, err := c.Put(ctx, newTicket(id, v))
				if err != nil {
					t.Errorf("Put v%d: %v", v, err)
					return
				}
				if ok {
					mu.Lock()
					stored = append(stored, v)
					mu.Unlock()
				}
			})
		}
	}
	close(start)
	wg.Wait()

	got, ok, err := c.Get(ctx, id)
	if err != nil || !ok {
		t.Fatalf("Get = (_, %v, %v), want a hit", ok, err)
	}
	if want := newTicket(id, versions); !reflect.DeepEqual(got, want) {
		t.Errorf("cached v%d %q, want v%d %q", got.Version, got.Title, want.Version, want.Title)
	}
	// Every stored write was newer than all stored before it, so no version was stored twice.
	seen := map[int64]bool{}
	for _, v := range stored {
		if seen[v] {
			t.Errorf("version %d was stored twice", v)
		}
		seen[v] = true
	}
	if !seen[versions] {
		t.Errorf("version %d was never reported stored; stored: %v", versions, stored)
	}
}

func TestGetUndecodableDocument(t *testing.T) {
	t.Parallel()
	c := redistest.New(t)
	raw := rawClient(t)
	id := uuid.NewString()
	if err := raw.HSet(t.Context(), redis.Key(id), "version", 1, "doc", "{not json").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Del(context.Background(), redis.Key(id)) })
	_, ok, err := c.Get(t.Context(), id)
	if err == nil || ok {
		t.Fatalf("Get of a corrupt document = (_, %v, %v), want an error", ok, err)
	}
	if !strings.Contains(err.Error(), id) {
		t.Errorf("error %q does not name the ticket %s", err, id)
	}
}

func TestPutEmptyID(t *testing.T) {
	t.Parallel()
	c := redistest.New(t)
	if stored, err := c.Put(t.Context(), newTicket("", 1)); err == nil || stored {
		t.Errorf("Put of a ticket without id = (%v, %v), want an error", stored, err)
	}
}

func TestPing(t *testing.T) {
	t.Parallel()
	c := redistest.New(t)
	if err := c.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// silentListener returns the address of a TCP server that accepts connections and never answers,
// like a node that hangs; a refused connection is the easy case, this one needs the timeouts.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

func TestUnreachableClusterFailsFast(t *testing.T) {
	t.Parallel()
	const limit = 2 * time.Second
	clusters := []struct {
		name string
		addr func(*testing.T) string
	}{
		{"connection refused", func(*testing.T) string { return "127.0.0.1:1" }},
		{"node never answers", silentListener},
	}
	ops := []struct {
		name string
		do   func(context.Context, *redis.Cache) error
	}{
		{"Get", func(ctx context.Context, c *redis.Cache) error {
			_, ok, err := c.Get(ctx, uuid.NewString())
			if ok {
				return fmt.Errorf("Get reported a hit")
			}
			return err
		}},
		{"Put", func(ctx context.Context, c *redis.Cache) error {
			stored, err := c.Put(ctx, newTicket(uuid.NewString(), 1))
			if stored {
				return fmt.Errorf("Put reported stored")
			}
			return err
		}},
		{"Ping", func(ctx context.Context, c *redis.Cache) error { return c.Ping(ctx) }},
	}
	for _, cl := range clusters {
		for _, op := range ops {
			t.Run(cl.name+"/"+op.name, func(t *testing.T) {
				t.Parallel()
				c := redis.New([]string{cl.addr(t)}, time.Minute)
				t.Cleanup(func() { c.Close() })
				// The context is only a guard that turns a hang into a failure; the client's
				// own timeouts must end the call well before it.
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				defer cancel()
				start := time.Now()
				err := op.do(ctx, c)
				elapsed := time.Since(start)
				if err == nil {
					t.Errorf("%s on an unreachable cluster succeeded, want an error", op.name)
				}
				if elapsed >= limit {
					t.Errorf("%s took %v to fail, want under %v", op.name, elapsed, limit)
				}
				t.Logf("%s failed after %v: %v", op.name, elapsed.Round(time.Millisecond), err)
			})
		}
	}
}
