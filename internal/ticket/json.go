package ticket

import (
	"encoding/json"
	"time"
)

// Times are written with exactly six fractional digits, as the API promises: the standard
// encoding drops trailing zeros (….4118Z), and a client that parses fixed-width timestamps, or
// compares them as strings, would then read them wrong. Every time the domain makes is already
// cut to microseconds (Timestamp), so nothing is lost. Reading accepts any RFC 3339 time.

// Micros is a time that encodes with microseconds. Other packages' wire types use it for their
// times too, so that the API has one encoding of times.
type Micros time.Time

// timeLayout is RFC 3339 in UTC with microseconds; the Z is a literal.
const timeLayout = `"2006-01-02T15:04:05.000000Z"`

// MarshalJSON writes the time in UTC with six fractional digits.
func (m Micros) MarshalJSON() ([]byte, error) {
	return time.Time(m).UTC().AppendFormat(make([]byte, 0, len(timeLayout)), timeLayout), nil
}

// The plain types have the fields and none of the methods, so that the MarshalJSON methods below
// can encode them without calling themselves. A field of the outer struct hides the embedded one
// of the same name.
type (
	plainTicket  Ticket
	plainComment Comment
	plainEvent   Event
)

// MarshalJSON encodes the ticket with its times in microseconds.
func (t Ticket) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		plainTicket
		CreatedAt Micros  `json:"created_at"`
		UpdatedAt Micros  `json:"updated_at"`
		ClosedAt  *Micros `json:"closed_at"`
	}{plainTicket(t), Micros(t.CreatedAt), Micros(t.UpdatedAt), (*Micros)(t.ClosedAt)})
}

// MarshalJSON encodes the comment with its time in microseconds.
func (c Comment) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		plainComment
		CreatedAt Micros `json:"created_at"`
	}{plainComment(c), Micros(c.CreatedAt)})
}

// MarshalJSON encodes the event with its time in microseconds.
func (e Event) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		plainEvent
		At Micros `json:"at"`
	}{plainEvent(e), Micros(e.At)})
}
