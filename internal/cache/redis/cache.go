// Package redis is the Redis Cluster cache of ticket documents that the API reads before it asks
// PostgreSQL.
//
// The workflow is the single writer of a ticket, but its activities are retried and the refreshes
// of two changes may reach the cache out of order. So every write is a compare-and-set on the
// ticket's Version, done in one Lua script: the cache only ever moves forward, and a stale or
// replayed write is refused instead of hiding a newer document.
//
// The cache is an accelerator, never the record: callers treat a miss and an error alike and fall
// back to PostgreSQL. That is why the client's timeouts are short.
//
// A document is the JSON of a ticketflow.Ticket (internal/wire maps it), the shape the workflow's
// payloads have too: both outlive the build that wrote them, so both change only compatibly.
//
// What the cache must never do is go back: once a write of version n has returned, no read may
// see an older document, or a client could read a change older than one it was told succeeded.
// Redis replicates asynchronously, so a master that dies right after a write can leave a replica
// without it, and the replica takes over. Put therefore returns only once the master's replica
// holds the write too (WAIT), unless the master has no replica in sync, in which case no replica
// can take over from it. And when a master is lost, the client learns the new slot map at the
// first failure rather than keep sending to the dead node until its periodic reload.
package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ticketflow/ticketflow"
	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/internal/wire"
)

// Timeouts and retries of the client made by New. They are short on purpose: a read that the
// cache cannot answer within them is cheaper to answer from PostgreSQL than to wait for, and a
// write that fails is repaired by the next one (or expires).
const (
	dialTimeout  = 500 * time.Millisecond
	readTimeout  = 500 * time.Millisecond
	writeTimeout = 500 * time.Millisecond
	// dialAttempts is how often one node is dialled per connection; the cluster client already
	// retries a failed command on the same node and then on another.
	dialAttempts = 1
	// maxRedirects bounds the cluster client's retries of one command: MOVED and ASK redirects
	// while slots fail over or migrate, and network errors. Two is enough to follow a MOVED and
	// then an ASK, and it caps a call to a master that hangs at three read timeouts (~1.5s).
	maxRedirects    = 2
	minRetryBackoff = 8 * time.Millisecond
	maxRetryBackoff = 64 * time.Millisecond
	// stateReloadInterval is how old the client's slot map may grow before it is read again
	// even without a failure; every failure reloads it at once (see refresh).
	stateReloadInterval = 10 * time.Second
	// replicaAckTimeout bounds Put's wait for the master's replica to confirm the write. A
	// replica on the same network answers in well under a millisecond; one that has not
	// answered by then is behind, and the write fails so that it is retried.
	replicaAckTimeout = 100 * time.Millisecond
)

// putScript stores a ticket document only if it is newer than the cached one. Reading the version
// and writing the document must be one atomic step, or two writers could both read v1 and the
// older of them write last; a Lua script runs atomically on the node that owns the key, without a
// WATCH/MULTI round trip. It returns 1 when it stored the document and 0 when it kept the cached
// one.
//
// Newer means a higher version or, at the same version, a later updated_at, the order in which
// PostgreSQL keeps a ticket's row too. Two documents of one version differ only when the workflow
// task that made the first was lost after it was written (a local activity writes before its task
// is recorded) and its retry made the change again, later: the retry's is the one the workflow
// and its callers hold from then on, so the cache must keep it and refuse a late copy of the
// first. A repeated write of the same document has the same stamp and is refused. A document
// cached without a stamp (from before it was kept) counts as stamped at 0.
//
// A refused write still writes the cached version back unchanged. That is a write Redis passes to
// the replica, so the WAIT that follows covers the document that refused it: a retried Put, whose
// first try stored the document but died before the replica confirmed it, must not return until
// the replica holds it.
//
// KEYS[1] is the document's key; ARGV[1] its version, ARGV[2] its JSON, ARGV[3] the time to live in
// milliseconds (0 for none), ARGV[4] its updated_at in microseconds since the epoch (exact in
// Lua's doubles until the year 2255).
var putScript = goredis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'version', 'updated')
local version, updated = tonumber(ARGV[1]), tonumber(ARGV[4])
if cur[1] then
	local curVersion, curUpdated = tonumber(cur[1]), tonumber(cur[2] or '0')
	if curVersion > version or (curVersion == version and curUpdated >= updated) then
		redis.call('HSET', KEYS[1], 'version', cur[1])
		return 0
	end
end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'updated', ARGV[4], 'doc', ARGV[2])
if tonumber(ARGV[3]) > 0 then
	redis.call('PEXPIRE', KEYS[1], ARGV[3])
else
	redis.call('PERSIST', KEYS[1])
end
return 1
`)

// Cache is a Redis Cluster cache of ticket documents, each kept with the version it was written
// at. It is safe for concurrent use.
type Cache struct {
	client goredis.UniversalClient
	ttl    time.Duration
}

// New returns a Cache on the Redis Cluster reached through the seed nodes addrs; the client
// discovers the other nodes itself. A document that is not written again within ttl expires, which
// bounds both the memory held by idle tickets and the life of any document the cache should have
// lost; ttl <= 0 keeps documents until they are replaced.
//
// The client's timeouts are short, so that a dead node makes callers fall back to PostgreSQL
// quickly instead of hanging; the caller's context deadline is honoured as well.
func New(addrs []string, ttl time.Duration) *Cache {
	client := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs:                 addrs,
		DialTimeout:           dialTimeout,
		ReadTimeout:           readTimeout,
		WriteTimeout:          writeTimeout,
		ContextTimeoutEnabled: true,
		DialerRetries:         dialAttempts,
		MaxRedirects:          maxRedirects,
		MinRetryBackoff:       minRetryBackoff,
		MaxRetryBackoff:       maxRetryBackoff,
		// Reads and writes go to masters only (no ReadOnly): a replica may lag behind a write
		// that was already acknowledged.
		ClusterStateReloadInterval: stateReloadInterval,
	})
	return NewWithClient(client, ttl)
}

// NewWithClient returns a Cache that uses client, which it then owns: Close closes it. It lets
// wiring and tests choose the client's options; any go-redis client works, though Ping checks
// every master only on a *ClusterClient.
func NewWithClient(client goredis.UniversalClient, ttl time.Duration) *Cache {
	return &Cache{client: client, ttl: ttl}
}

// Close closes the client and its connections.
func (c *Cache) Close() error {
	return c.client.Close()
}

// Ping reports whether every master of the cluster answers. A cluster with one master down cannot
// serve the slots of that master, so it is not ready, even though most keys still work.
func (c *Cache) Ping(ctx context.Context) error {
	ping := func(ctx context.Context, node *goredis.Client) error {
		if err := node.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("%s: %w", node.Options().Addr, err)
		}
		return nil
	}
	var err error
	if cluster, ok := c.client.(*goredis.ClusterClient); ok {
		err = cluster.ForEachMaster(ctx, ping)
	} else {
		err = c.client.Ping(ctx).Err()
	}
	if err != nil {
		return fmt.Errorf("redis: ping: %w", err)
	}
	return nil
}

// Get returns the cached document of ticket id. A miss is (zero, false, nil), not an error: the
// caller then reads PostgreSQL. A failure of Redis, or a document that does not decode, is
// (zero, false, err); callers fall back the same way but may want to log it.
func (c *Cache) Get(ctx context.Context, id string) (ticket.Ticket, bool, error) {
	doc, err := c.client.HGet(ctx, Key(id), "doc").Bytes()
	if errors.Is(err, goredis.Nil) {
		return ticket.Ticket{}, false, nil
	}
	if err != nil {
		c.refresh(ctx)
		return ticket.Ticket{}, false, fmt.Errorf("redis: get ticket %s: %w", id, err)
	}
	var t ticketflow.Ticket
	if err := json.Unmarshal(doc, &t); err != nil {
		return ticket.Ticket{}, false, fmt.Errorf("redis: get ticket %s: decode: %w", id, err)
	}
	return wire.DomainTicket(t), true, nil
}

// Put caches t unless the cache already holds version t.Version or a newer one, and reports
// whether it stored t. Refusing equal versions makes a retried write a no-op; refusing older ones
// means a write that arrives late never replaces a newer document. At an equal version, a document
// stamped later (UpdatedAt) replaces one stamped earlier (see putScript). Each write that stores
// restarts the document's time to live.
//
// It returns only once the document it stored, or the one that refused it, is also on the
// master's replica, so that a failover cannot bring back an older one; when the replica does not
// confirm that within replicaAckTimeout, Put fails and is to be retried.
func (c *Cache) Put(ctx context.Context, t ticket.Ticket) (bool, error) {
	if t.ID == "" {
		return false, errors.New("redis: put ticket: empty id")
	}
	doc, err := json.Marshal(wire.FromTicket(t))
	if err != nil {
		return false, fmt.Errorf("redis: put ticket %s: encode: %w", t.ID, err)
	}
	var ttl int64
	if c.ttl > 0 {
		// Round up: PEXPIRE 0 would delete the document just written.
		ttl = max(1, int64((c.ttl+time.Millisecond-1)/time.Millisecond))
	}
	stored, err := c.put(ctx, Key(t.ID), t.Version, doc, ttl, t.UpdatedAt.UnixMicro())
	if err != nil {
		c.refresh(ctx)
		return false, fmt.Errorf("redis: put ticket %s version %d: %w", t.ID, t.Version, err)
	}
	return stored, nil
}

// put runs putScript on the master of key and waits for its replica, on one connection: WAIT
// counts only the writes of the connection it is sent on.
func (c *Cache) put(ctx context.Context, key string, args ...any) (bool, error) {
	cluster, ok := c.client.(*goredis.ClusterClient)
	if !ok {
		// Not a cluster (a test's single node): no failover to guard against.
		n, err := putScript.Run(ctx, c.client, []string{key}, args...).Int()
		return n == 1, err
	}
	master, err := cluster.MasterForKey(ctx, key)
	if err != nil {
		return false, err
	}
	var script, wait *goredis.Cmd
	// One round trip. A MOVED (the slot has a new master that this client has not learnt yet)
	// fails the write; refresh then loads the new slot map for the retry.
	if _, err := master.Pipelined(ctx, func(p goredis.Pipeliner) error {
		script = putScript.Eval(ctx, p, []string{key}, args...)
		// Pipeliner has no Wait method; WAIT <replicas> <timeout in ms>.
		wait = p.Do(ctx, "wait", 1, replicaAckTimeout.Milliseconds())
		return nil
	}); err != nil {
		return false, err
	}
	stored, err := script.Int()
	if err != nil {
		return false, err
	}
	if acks, err := wait.Int(); err == nil && acks >= 1 {
		return stored == 1, nil
	}
	// No replica confirmed the write. That is safe only if the master has no replica in sync
	// (its replica died, or took over and left it alone): then no replica can take over with an
	// older document. A replica in sync that did not confirm in time may lack the write.
	online, err := onlineReplicas(ctx, master)
	if err != nil {
		return false, err
	}
	if online > 0 {
		return false, fmt.Errorf("%d replica(s) of %s did not confirm the write within %v", online, master.Options().Addr, replicaAckTimeout)
	}
	return stored == 1, nil
}

// onlineReplicas returns how many replicas of the master are in sync with it, as its INFO
// replication says (lines "slave0:ip=…,port=…,state=online,…").
func onlineReplicas(ctx context.Context, master *goredis.Client) (int, error) {
	info, err := master.Info(ctx, "replication").Result()
	if err != nil {
		return 0, err
	}
	n := 0
	for line := range strings.Lines(info) {
		if strings.HasPrefix(line, "slave") && strings.Contains(line, "state=online") {
			n++
		}
	}
	return n, nil
}

// refresh has the cluster client read the slot map again, in the background, after a failure.
// When a master dies, its replica takes over its slots, but nothing tells the client: without a
// reload it would keep sending those slots to the dead node until its periodic reload. go-redis
// runs one reload at a time and merges the requests that arrive meanwhile, so a burst of failures
// costs a few CLUSTER SLOTS calls, not one each.
func (c *Cache) refresh(ctx context.Context) {
	if cluster, ok := c.client.(*goredis.ClusterClient); ok && ctx.Err() == nil {
		cluster.ReloadState(ctx)
	}
}

// Key returns the key of ticket id's document. The id is wrapped in braces, a hash tag: Redis
// Cluster then places the key by the id alone, so every key ever kept for one ticket shares one
// slot and a script or transaction may touch them together, while different tickets spread over
// all the masters.
func Key(id string) string {
	return "ticket:{" + id + "}"
}
