package ticket

import "fmt"

// Status is where a ticket stands in its lifecycle.
type Status string

// The statuses of the lifecycle. A ticket starts open; closed is final.
const (
	StatusOpen     Status = "open"
	StatusAnswered Status = "answered"
	StatusAwaiting Status = "awaiting"
	StatusClosed   Status = "closed"
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{StatusOpen, StatusAnswered, StatusAwaiting, StatusClosed}

// transitions is the lifecycle: the statuses each status may move to. It is the only place the
// rule is written; the workflow's validators, the HTTP error mapping and the tests all read it.
var transitions = map[Status][]Status{
	StatusOpen:     {StatusAnswered, StatusClosed},
	StatusAnswered: {StatusAwaiting, StatusClosed},
	StatusAwaiting: {StatusAnswered, StatusClosed},
	StatusClosed:   {},
}

// ParseStatus returns the Status named by s.
func ParseStatus(s string) (Status, error) {
	st := Status(s)
	if _, ok := transitions[st]; !ok {
		return "", fmt.Errorf("unknown status %q (want one of open, answered, awaiting, closed)", s)
	}
	return st, nil
}

// CanMoveTo reports whether the lifecycle allows a ticket in status s to move to status to.
func (s Status) CanMoveTo(to Status) bool {
	for _, allowed := range transitions[s] {
		if allowed == to {
			return true
		}
	}
	return false
}

// IsFinal reports whether a ticket in status s takes no more changes.
func (s Status) IsFinal() bool {
	return s == StatusClosed
}

// String returns the status's name.
func (s Status) String() string { return string(s) }

// Priority is how urgent a ticket is.
type Priority string

// The priorities, from least to most urgent.
const (
	PriorityLow    Priority = "low"
	PriorityNormal Priority = "normal"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// Priorities lists every priority from least to most urgent.
var Priorities = []Priority{PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent}

// ParsePriority returns the Priority named by s.
func ParsePriority(s string) (Priority, error) {
	for _, p := range Priorities {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown priority %q (want one of low, normal, high, urgent)", s)
}

// String returns the priority's name.
func (p Priority) String() string { return string(p) }
