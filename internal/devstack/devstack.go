// Package devstack defines the local stacks that internal/devstack/stack.sh runs: each profile's
// ports, and the search attributes that its Temporal server registers. This is their one
// definition: stack.sh reads them from cmd/devstack, Go code (the fault suite, the tests) from here.
package devstack

import (
	"fmt"
	"strconv"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/ticketflow/ticketflow/workflows"
)

// RedisNodes is the size of each profile's Redis Cluster, 3 masters and 3 replicas, on
// consecutive ports from Profile.RedisFirst.
const RedisNodes = 6

// redisBusOffset: a Redis Cluster node also listens on its port + 10000, for the cluster bus.
const redisBusOffset = 10000

// Profile is one stack: the ports of its services on 127.0.0.1.
type Profile struct {
	Name       string
	Postgres   int
	RedisFirst int // the first of the RedisNodes consecutive ports
	Temporal   int // the frontend (gRPC)
	TemporalUI int // 0: the server runs headless
	// start-dev picks random ports for these unless told; fixed ones keep the stacks apart.
	TemporalHTTP    int
	TemporalMetrics int
}

// Profiles are the stacks. Each has ports of its own, so that they can run at the same time.
var Profiles = []Profile{
	// `make run`.
	{Name: "dev", Postgres: 55432, RedisFirst: 7001, Temporal: 7233, TemporalUI: 8233, TemporalHTTP: 7243, TemporalMetrics: 7244},
	// `make test`; test helpers read its addresses from TEST_ prefixed variables (stack.sh env test).
	{Name: "test", Postgres: 56432, RedisFirst: 7101, Temporal: 7333, TemporalHTTP: 7343, TemporalMetrics: 7344},
	// `make bench` (internal/bench): a stack of its own, headless, so that load never disturbs
	// the dev or test stacks and their numbers never disturb the load.
	{Name: "bench", Postgres: 58532, RedisFirst: 7301, Temporal: 7533, TemporalHTTP: 7543, TemporalMetrics: 7544},
	// `make test-faults` (internal/faults) stops and kills these services, so they are its own
	// and nobody else's; headless.
	{Name: "faults", Postgres: 57532, RedisFirst: 7201, Temporal: 7433, TemporalHTTP: 7443, TemporalMetrics: 7444},
}

// Lookup returns the profile called name.
func Lookup(name string) (Profile, error) {
	var names []string
	for _, p := range Profiles {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	last := len(names) - 1
	return Profile{}, fmt.Errorf("unknown profile '%s': want %s or %s", name, strings.Join(names[:last], ", "), names[last])
}

// RedisPorts are the ports of the Redis Cluster's nodes.
func (p Profile) RedisPorts() []int {
	ports := make([]int, RedisNodes)
	for i := range ports {
		ports[i] = p.RedisFirst + i
	}
	return ports
}

// RedisAddrs are the addresses of the Redis Cluster's nodes, the seeds of a client.
func (p Profile) RedisAddrs() []string {
	var addrs []string
	for _, port := range p.RedisPorts() {
		addrs = append(addrs, addr(port))
	}
	return addrs
}

// DSN is the address of ticketflow's database (stack.sh creates the role and the database).
func (p Profile) DSN() string {
	return "postgres://ticketflow:ticketflow@" + addr(p.Postgres) + "/ticketflow?sslmode=disable"
}

// TemporalAddress is the address of the Temporal frontend.
func (p Profile) TemporalAddress() string { return addr(p.Temporal) }

// Ports are every port the profile's services listen on, the Redis Cluster's bus ports too.
func (p Profile) Ports() []int {
	ports := []int{p.Postgres, p.Temporal, p.TemporalHTTP, p.TemporalMetrics}
	if p.TemporalUI != 0 {
		ports = append(ports, p.TemporalUI)
	}
	for _, port := range p.RedisPorts() {
		ports = append(ports, port, port+redisBusOffset)
	}
	return ports
}

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// SearchAttribute is a search attribute as the Temporal CLI takes it: --search-attribute
// Name=Type (server start-dev), --name and --type (operator search-attribute create).
type SearchAttribute struct {
	Name string
	Type string
}

func (a SearchAttribute) String() string { return a.Name + "=" + a.Type }

// cliTypes are the Temporal CLI's names of the value types.
var cliTypes = map[enumspb.IndexedValueType]string{
	enumspb.INDEXED_VALUE_TYPE_TEXT:         "Text",
	enumspb.INDEXED_VALUE_TYPE_KEYWORD:      "Keyword",
	enumspb.INDEXED_VALUE_TYPE_INT:          "Int",
	enumspb.INDEXED_VALUE_TYPE_DOUBLE:       "Double",
	enumspb.INDEXED_VALUE_TYPE_BOOL:         "Bool",
	enumspb.INDEXED_VALUE_TYPE_DATETIME:     "Datetime",
	enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST: "KeywordList",
}

// SearchAttributes are workflows.SearchAttributes, in their order, as the Temporal CLI takes them.
func SearchAttributes() ([]SearchAttribute, error) { return forCLI(workflows.SearchAttributes) }

func forCLI(keys []temporal.SearchAttributeKey) ([]SearchAttribute, error) {
	var sas []SearchAttribute
	for _, k := range keys {
		typ, ok := cliTypes[k.GetValueType()]
		if !ok {
			return nil, fmt.Errorf("search attribute %s: the Temporal CLI has no name for type %v", k.GetName(), k.GetValueType())
		}
		sas = append(sas, SearchAttribute{Name: k.GetName(), Type: typ})
	}
	return sas, nil
}
