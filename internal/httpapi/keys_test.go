package httpapi

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ticketflow/ticketflow/internal/auth"
)

// TestKeyJSON checks how the API writes a key: its times in UTC with exactly six fractional
// digits, trailing zeros and all, as every time in the API; null for a key never revoked; and the
// secret only in the answer to creating it.
func TestKeyJSON(t *testing.T) {
	created := time.Date(2026, 11, 26, 10, 0, 0, 411800000, time.FixedZone("CET", 3600))
	revoked := time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC)
	withSecret := viewKey(auth.Key{ID: "k3", Name: "bot", Role: auth.RoleAutomation, CreatedAt: created})
	withSecret.Secret = "tfk_secret"
	tests := []struct {
		key  keyView
		want string
	}{
		{viewKey(auth.Key{ID: "k1", Name: "agent-1", Role: auth.RoleAgent, CreatedAt: created}),
			`{"id":"k1","name":"agent-1","role":"agent","subject":"","created_at":"2026-11-26T09:00:00.411800Z","revoked_at":null}`},
		{viewKey(auth.Key{ID: "k2", Name: "alice", Role: auth.RoleCustomer, Subject: "alice@example.com", CreatedAt: created, RevokedAt: &revoked}),
			`{"id":"k2","name":"alice","role":"customer","subject":"alice@example.com","created_at":"2026-11-26T09:00:00.411800Z","revoked_at":"2026-11-27T08:30:00.000000Z"}`},
		{withSecret,
			`{"id":"k3","name":"bot","role":"automation","subject":"","created_at":"2026-11-26T09:00:00.411800Z","revoked_at":null,"secret":"tfk_secret"}`},
	}
	for _, tc := range tests {
		b, err := json.Marshal(tc.key)
		if err != nil || string(b) != tc.want {
			t.Errorf("json of %+v:\n got %s (%v)\nwant %s", tc.key, b, err, tc.want)
		}
	}
}
