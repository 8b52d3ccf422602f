package devstack

import (
	"slices"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/ticketflow/ticketflow/workflows"
)

func TestSearchAttributesAreTheWorkflows(t *testing.T) {
	sas, err := SearchAttributes()
	if err != nil {
		t.Fatal(err)
	}
	if len(sas) != len(workflows.SearchAttributes) {
		t.Fatalf("%d search attributes %v, workflows.SearchAttributes has %d", len(sas), sas, len(workflows.SearchAttributes))
	}
	seen := map[string]bool{}
	for i, k := range workflows.SearchAttributes {
		if sas[i].Name != k.GetName() || sas[i].Type != cliTypes[k.GetValueType()] {
			t.Errorf("search attribute %d is %v, want %s of type %v", i, sas[i], k.GetName(), k.GetValueType())
		}
		if seen[k.GetName()] {
			t.Errorf("workflows.SearchAttributes has %s twice", k.GetName())
		}
		seen[k.GetName()] = true
	}
}

// TestCLITypes checks the name given to the key of each type that the SDK makes against the
// Temporal CLI's (`temporal operator search-attribute create --help`).
func TestCLITypes(t *testing.T) {
	keys := []temporal.SearchAttributeKey{
		temporal.NewSearchAttributeKeyString("a"),
		temporal.NewSearchAttributeKeyKeyword("b"),
		temporal.NewSearchAttributeKeyInt64("c"),
		temporal.NewSearchAttributeKeyFloat64("d"),
		temporal.NewSearchAttributeKeyBool("e"),
		temporal.NewSearchAttributeKeyTime("f"),
		temporal.NewSearchAttributeKeyKeywordList("g"),
	}
	got, err := forCLI(keys)
	if err != nil {
		t.Fatal(err)
	}
	want := []SearchAttribute{
		{"a", "Text"}, {"b", "Keyword"}, {"c", "Int"}, {"d", "Double"}, {"e", "Bool"}, {"f", "Datetime"}, {"g", "KeywordList"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got[2].String() != "c=Int" {
		t.Errorf("String() is %q, want start-dev's --search-attribute c=Int", got[2].String())
	}
}

// TestPortsDoNotCollide: the stacks run at the same time, so no port may serve two of them.
func TestPortsDoNotCollide(t *testing.T) {
	owner := map[int]string{}
	names := map[string]bool{}
	for _, p := range Profiles {
		if names[p.Name] {
			t.Errorf("profile %s is defined twice", p.Name)
		}
		names[p.Name] = true
		for _, port := range p.Ports() {
			if port < 1024 || port > 65535 {
				t.Errorf("%s: port %d is not a port for unprivileged services", p.Name, port)
			}
			if o, ok := owner[port]; ok {
				t.Errorf("port %d is both %s's and %s's", port, o, p.Name)
			}
			owner[port] = p.Name
		}
	}
}

func TestLookup(t *testing.T) {
	for _, want := range Profiles {
		if p, err := Lookup(want.Name); err != nil || p != want {
			t.Errorf("Lookup(%q) = %+v, %v", want.Name, p, err)
		}
	}
	// stack.sh prints this error as it is.
	if _, err := Lookup("nope"); err == nil || err.Error() != "unknown profile 'nope': want dev, test, bench or faults" {
		t.Errorf("Lookup(nope): %v", err)
	}
}

func TestAddresses(t *testing.T) {
	p := Profile{Postgres: 1, RedisFirst: 10, Temporal: 20}
	if got, want := p.DSN(), "postgres://ticketflow:ticketflow@127.0.0.1:1/ticketflow?sslmode=disable"; got != want {
		t.Errorf("DSN %q, want %q", got, want)
	}
	want := []string{"127.0.0.1:10", "127.0.0.1:11", "127.0.0.1:12", "127.0.0.1:13", "127.0.0.1:14", "127.0.0.1:15"}
	if got := p.RedisAddrs(); !slices.Equal(got, want) {
		t.Errorf("RedisAddrs %q, want %q", got, want)
	}
	if got := p.TemporalAddress(); got != "127.0.0.1:20" {
		t.Errorf("TemporalAddress %q", got)
	}
}
