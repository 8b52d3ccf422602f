package auth_test

import (
	"strings"
	"testing"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/ticket"
)

// TestPermissions checks the role table against api.md, written out here again as the independent
// statement of the contract.
func TestPermissions(t *testing.T) {
	all := []auth.Operation{auth.OpCreate, auth.OpRead, auth.OpList, auth.OpComment, auth.OpAnswer,
		auth.OpAwait, auth.OpClose, auth.OpEscalate, auth.OpAssign, auth.OpTags, auth.OpManageKeys}
	want := map[auth.Role]string{
		auth.RoleAgent:      "create read list comment answer await close escalate assign tags",
		auth.RoleCustomer:   "create read list comment close",
		auth.RoleAutomation: "read list comment await close escalate assign tags",
		auth.RoleAdmin:      "create read list comment answer await close escalate assign tags manage_keys",
	}
	for _, role := range auth.Roles {
		p := auth.Principal{Role: role}
		var got []string
		for _, op := range all {
			if p.Can(op) {
				got = append(got, string(op))
			}
		}
		if strings.Join(got, " ") != want[role] {
			t.Errorf("%s may %v, want %s", role, got, want[role])
		}
	}
	if (auth.Principal{}).Can(auth.OpRead) {
		t.Error("a principal without a role may read")
	}
	for _, a := range ticket.Actions {
		if auth.ActionOperation(a) == "" || !(auth.Principal{Role: auth.RoleAdmin}).Can(auth.ActionOperation(a)) {
			t.Errorf("action %s has no operation an admin may do", a)
		}
	}
	if auth.ActionOperation(ticket.ActionAssign) != auth.OpAssign || auth.ActionOperation(ticket.ActionTags) != auth.OpTags {
		t.Error("assign and tags are not the operations of their actions")
	}
}

// TestIdentity checks who a key is on a ticket: a working key's subject, else its name; a
// customer key's name, whatever requester it acts for.
func TestIdentity(t *testing.T) {
	tests := []struct {
		p    auth.Principal
		want string
	}{
		{auth.Principal{Name: "agent-1", Role: auth.RoleAgent, Subject: "dana@example.com"}, "dana@example.com"},
		{auth.Principal{Name: "agent-1", Role: auth.RoleAgent}, "agent-1"},
		{auth.Principal{Name: "root", Role: auth.RoleAdmin, Subject: "ops@example.com"}, "ops@example.com"},
		{auth.Principal{Name: "bot", Role: auth.RoleAutomation}, "bot"},
		{auth.Principal{Name: "alice", Role: auth.RoleCustomer, Subject: "alice@example.com"}, "alice"},
	}
	for _, tc := range tests {
		if got := tc.p.Identity(); got != tc.want {
			t.Errorf("%+v is %q, want %q", tc.p, got, tc.want)
		}
	}
}

// TestReads checks that only a customer is kept from internal notes.
func TestReads(t *testing.T) {
	for _, r := range auth.Roles {
		want := ticket.VisibilityInternal
		if r == auth.RoleCustomer {
			want = ticket.VisibilityPublic
		}
		if got := (auth.Principal{Role: r}).Reads(); got != want {
			t.Errorf("%s reads up to %s, want %s", r, got, want)
		}
	}
}

func TestSees(t *testing.T) {
	mine := ticket.Ticket{Requester: "alice@example.com"}
	theirs := ticket.Ticket{Requester: "bob@example.com"}
	alice := auth.Principal{Role: auth.RoleCustomer, Subject: "alice@example.com"}
	if !alice.Sees(mine) || alice.Sees(theirs) || alice.Sees(ticket.Ticket{}) {
		t.Error("a customer sees exactly their own tickets")
	}
	for _, r := range []auth.Role{auth.RoleAgent, auth.RoleAutomation, auth.RoleAdmin} {
		if !(auth.Principal{Role: r}).Sees(theirs) {
			t.Errorf("%s does not see every ticket", r)
		}
	}
}

func TestSecrets(t *testing.T) {
	a, ha := auth.NewSecret()
	b, _ := auth.NewSecret()
	if a == b || !strings.HasPrefix(a, "tfk_") || len(a) < 40 {
		t.Fatalf("secrets %q %q", a, b)
	}
	if string(auth.Hash(a)) != string(ha) || string(auth.Hash(b)) == string(ha) {
		t.Fatal("the hash is not the secret's")
	}
}

func TestNewKeyValidate(t *testing.T) {
	tests := []struct {
		key    auth.NewKey
		fields string
	}{
		{auth.NewKey{Name: "agent-1", Role: "agent"}, ""},
		{auth.NewKey{Name: "agent-2", Role: "agent", Subject: "dana@example.com"}, ""}, // who the agent is
		{auth.NewKey{Name: "agent-3", Role: "agent", Subject: " dana@example.com"}, "subject"},
		{auth.NewKey{Name: "alice", Role: "customer", Subject: "alice@example.com"}, ""},
		{auth.NewKey{Name: "alice", Role: "customer"}, "subject"},
		{auth.NewKey{Name: "", Role: "admin"}, "name"},
		{auth.NewKey{Name: " padded ", Role: "admin"}, "name"},
		{auth.NewKey{Name: "x", Role: "root"}, "role"},
		// Requesters are trimmed, so a padded subject would never see its own tickets.
		{auth.NewKey{Name: "alice", Role: "customer", Subject: " alice@example.com"}, "subject"},
		{auth.NewKey{Name: "x", Role: "agent", Subject: strings.Repeat("s", 321)}, "subject"},
		{auth.NewKey{Name: strings.Repeat("é", 100), Role: "agent"}, ""}, // characters, not bytes
		{auth.NewKey{Name: strings.Repeat("n", 101), Role: "agent"}, "name"},
		// Names and subjects are printed by `keys list` and in logs: no terminal escape, no
		// newline that forges a second line, no other control character.
		{auth.NewKey{Name: "evil\x1b[2J", Role: "agent"}, "name"},
		{auth.NewKey{Name: "evil\nkey2 admin", Role: "agent"}, "name"},
		{auth.NewKey{Name: "tab\there", Role: "agent"}, "name"},
		{auth.NewKey{Name: "nul\x00", Role: "agent"}, "name"},
		{auth.NewKey{Name: "c1\u009b31m", Role: "agent"}, "name"},
		{auth.NewKey{Name: "bad\xff", Role: "agent"}, "name"},
		{auth.NewKey{Name: "mallory", Role: "customer", Subject: "mallory@example.com\x1b[0m"}, "subject"},
		{auth.NewKey{Name: "mallory", Role: "customer", Subject: "mallory@example.com\r\nbob@example.com"}, "subject"},
		{auth.NewKey{Name: "two\n", Role: "customer", Subject: "\n"}, "name subject"},
		{auth.NewKey{Name: "Zoë Ødegård 王", Role: "customer", Subject: "zoë@exämple.com"}, ""},
	}
	for _, tc := range tests {
		err := tc.key.Validate()
		var got []string
		for _, f := range ticket.ErrorFields(err) {
			got = append(got, f.Field)
		}
		if strings.Join(got, " ") != tc.fields || (tc.fields != "" && ticket.ErrorCode(err) != ticket.EINVALID) {
			t.Errorf("name %q role %q subject %q: %v (fields %v), want fields %q", tc.key.Name, tc.key.Role, tc.key.Subject, err, got, tc.fields)
		}
	}
}

// TestNewKeyValidateMessage checks that the error names the broken rules, since the command line
// prints only its message.
func TestNewKeyValidateMessage(t *testing.T) {
	err := auth.NewKey{Name: "evil\x1b[2J", Role: "agent"}.Validate()
	if got, want := err.Error(), "invalid key: name must not contain control characters"; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
}
