// Package faults proves that ticketflow keeps its promises while its dependencies fail.
//
// The suite (faults_test.go, build tag faults, run by `make test-faults`) starts a stack of its
// own with internal/devstack/stack.sh (profile faults, on ports of its own that package
// internal/devstack defines), builds the worker and the API server and runs them as real
// processes, so that SIGKILL and SIGTERM are the real thing. For each scenario a load generator
// drives tickets through the HTTP API (creates, comments and every transition, each with an
// Idempotency-Key) at a steady rate while one fault is injected: the worker killed, PostgreSQL
// stopped, a Redis master killed, the Temporal server restarted, the API restarted, the webhook
// receiver refusing deliveries. In every scenario a webhook is subscribed to a receiver of the
// suite's own, which verifies each delivery's signature.
//
// The load generator records every request and what it was told. Once the system has settled,
// the checker resolves every request whose outcome the client never learnt (by retrying it with
// its Idempotency-Key, as a client should) and compares the record with the truth, read
// independently from the ticket's workflow (its query), from PostgreSQL and from the cache:
//
//   - lost: a change acknowledged with a 2xx that one of the three does not hold;
//   - duplicated: a change applied more than once;
//   - stale: a read that showed an older version than one already acknowledged to a client;
//   - diverged: a ticket whose sources disagree at the same version, with each other or with
//     what a client was told (a change applied twice with different contents);
//   - and no 5xx but 503 and 504, each with Retry-After, and every request's outcome reachable
//     by retrying it;
//   - webhook missing: an event that PostgreSQL holds (so every acknowledged change's) that never
//     reached the receiver; webhook broken: a delivery that came before an earlier event of its
//     ticket, or that does not verify. Repeats of a webhook-id are allowed (at least once).
//
// Each scenario prints one line of figures; lost, duplicated, stale, diverged and the webhook's
// missing and broken must be 0.
package faults
