// Package auth holds API keys, the roles they carry, and the one table of what each role may do.
//
// A key is a long random secret shown once, when it is created; only its SHA-256 hash is stored.
// A slow password hash would add nothing: the secret has 256 bits of entropy, so no dictionary
// attack applies, and every request must check its key quickly.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/ticketflow/ticketflow/internal/ticket"
)

// Role is what a key may do.
type Role string

// The roles of api.md.
const (
	RoleAgent      Role = "agent"      // every ticket operation on every ticket
	RoleCustomer   Role = "customer"   // their own tickets: create, read, list, comment, close
	RoleAutomation Role = "automation" // read everything; comment, escalate, await, close, assign, tag; never answer
	RoleAdmin      Role = "admin"      // everything, and managing keys
)

// Roles lists every role.
var Roles = []Role{RoleAgent, RoleCustomer, RoleAutomation, RoleAdmin}

// ParseRole returns the Role named by s.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown role %q (want one of agent, customer, automation, admin)", s)
}

// Operation is something a request asks to do.
type Operation string

// The operations of the API.
const (
	OpCreate     Operation = "create"
	OpRead       Operation = "read" // a ticket, its comments and its events
	OpList       Operation = "list"
	OpComment    Operation = "comment"
	OpAnswer     Operation = "answer"
	OpAwait      Operation = "await"
	OpClose      Operation = "close"
	OpEscalate   Operation = "escalate"
	OpAssign     Operation = "assign" // set a ticket's assignee and group
	OpTags       Operation = "tags"   // add and remove a ticket's tags
	OpManageKeys Operation = "manage_keys"
	// OpManageWebhooks creates, changes and reads webhooks and their delivery logs.
	OpManageWebhooks Operation = "manage_webhooks"
)

// permissions is the one table of who may do what. A customer's operations are further limited
// to their own tickets (Principal.Sees).
var permissions = map[Role][]Operation{
	RoleAgent:      {OpCreate, OpRead, OpList, OpComment, OpAnswer, OpAwait, OpClose, OpEscalate, OpAssign, OpTags},
	RoleCustomer:   {OpCreate, OpRead, OpList, OpComment, OpClose},
	RoleAutomation: {OpRead, OpList, OpComment, OpAwait, OpClose, OpEscalate, OpAssign, OpTags},
	RoleAdmin:      {OpCreate, OpRead, OpList, OpComment, OpAnswer, OpAwait, OpClose, OpEscalate, OpAssign, OpTags, OpManageKeys, OpManageWebhooks},
}

// ActionOperation returns the operation of a ticket action.
func ActionOperation(a ticket.Action) Operation {
	return Operation(a)
}

// Key is an API key as stored: everything but the secret.
type Key struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      Role       `json:"role"`
	Subject   string     `json:"subject"` // the requester a customer key acts for; who another key's holder is
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// MaxKeyNameLen bounds a key's name, in characters.
const MaxKeyNameLen = 100

// NewKey is what an admin gives to create a key.
type NewKey struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	Subject string `json:"subject,omitempty"`
}

// Validate checks a NewKey and returns a ticket.EINVALID error listing every broken rule. The name
// and the subject follow the rule of a ticket's one-line text (no control characters at all),
// because they are printed where a terminal or a log would obey an escape sequence or a newline.
func (n NewKey) Validate() error {
	var fields []ticket.FieldError
	switch f := ticket.CheckText("name", n.Name, 1, MaxKeyNameLen, false); {
	case f != nil:
		fields = append(fields, *f)
	case strings.TrimSpace(n.Name) != n.Name:
		fields = append(fields, ticket.FieldError{Field: "name", Message: "must not have surrounding spaces"})
	}
	role, err := ParseRole(n.Role)
	if err != nil {
		fields = append(fields, ticket.FieldError{Field: "role", Message: "must be one of agent, customer, automation, admin"})
	}
	switch f := ticket.CheckText("subject", n.Subject, 0, ticket.MaxPersonLen, false); {
	case f != nil:
		fields = append(fields, *f)
	case strings.TrimSpace(n.Subject) != n.Subject:
		// Requesters are trimmed when a ticket is opened: a subject with spaces around it would
		// never match its own tickets.
		fields = append(fields, ticket.FieldError{Field: "subject", Message: "must not have surrounding spaces"})
	case role == RoleCustomer && strings.TrimSpace(n.Subject) == "":
		fields = append(fields, ticket.FieldError{Field: "subject", Message: "a customer key needs the requester it acts for"})
	}
	if len(fields) == 0 {
		return nil
	}
	// The message names every broken rule too: it is all that the command line prints.
	broken := make([]string, len(fields))
	for i, f := range fields {
		broken[i] = f.Field + " " + f.Message
	}
	return &ticket.Error{Code: ticket.EINVALID, Message: "invalid key: " + strings.Join(broken, "; "), Fields: fields}
}

// secretPrefix marks ticketflow keys, so that a leaked one is recognisable in a secret scanner.
const secretPrefix = "tfk_"

// NewSecret returns a new random key secret and its hash.
func NewSecret() (secret string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b) // crypto/rand never fails: it crashes the program instead
	secret = secretPrefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, Hash(secret)
}

// Hash returns what is stored for a secret.
func Hash(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// Principal is who a request acts as: the key it presented.
type Principal struct {
	KeyID   string
	Name    string
	Role    Role
	Subject string
}

// Identity is who the principal is on a ticket: the actor of its changes, and the assignee that
// `assignee=me` names. A key that works tickets (agent, automation, admin) is its subject, the
// person who holds it, when it has one, and else its name. A customer key's subject is the
// requester it acts for, whose words its comments carry; its changes stay the key's own, by name.
func (p Principal) Identity() string {
	if p.Role != RoleCustomer && p.Subject != "" {
		return p.Subject
	}
	return p.Name
}

// PrincipalOf returns the principal of a stored key.
func PrincipalOf(k Key) Principal {
	return Principal{KeyID: k.ID, Name: k.Name, Role: k.Role, Subject: k.Subject}
}

// Can reports whether the principal's role allows the operation.
func (p Principal) Can(op Operation) bool {
	for _, allowed := range permissions[p.Role] {
		if allowed == op {
			return true
		}
	}
	return false
}

// Reads returns the most that the principal may read of a ticket's conversation: a customer never
// sees an internal note, nor the event that records one.
func (p Principal) Reads() ticket.Visibility {
	if p.Role == RoleCustomer {
		return ticket.VisibilityPublic
	}
	return ticket.VisibilityInternal
}

// Sees reports whether the principal may see the ticket at all. A customer sees only the tickets
// they requested; to them another's ticket does not exist.
func (p Principal) Sees(t ticket.Ticket) bool {
	return p.Role != RoleCustomer || t.Requester == p.Subject
}
