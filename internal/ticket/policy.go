package ticket

import "time"

// Policy holds the timers that act on a ticket by themselves: the first-response SLA that escalates
// a ticket left open, and the auto-close of a ticket left answered or awaiting. A ticket keeps the
// policy it was created with, so that a changed setting never rewrites a running ticket's history.
// A zero duration or ceiling turns its timer off; the zero Policy runs no timer at all. Next (in
// timers.go) says what the timers do.
type Policy struct {
	// FirstResponseSLA is how long a ticket of each priority may stay open before it escalates,
	// and again after each further period.
	FirstResponseSLA map[Priority]time.Duration
	// MaxSLAEscalations is how many times the SLA escalates one ticket at the most.
	MaxSLAEscalations int
	// AutoCloseAfter is how long a ticket may stay answered or awaiting with no activity before
	// it closes with the reason "timeout".
	AutoCloseAfter time.Duration
}
