// Package rediskey builds every Redis key Alexus uses, so that a tenant's
// keys can only be made from a tenant ID and always carry it in a hash tag:
// <namespace>:{<tenant>}:<parts...>. The hash tag keeps one tenant's keys in
// one Redis Cluster slot, which lets Lua scripts touch several of them.
package rediskey

import (
	"strings"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// DefaultNamespace prefixes every key unless configured otherwise. A
// different namespace lets several Alexus installations (or test runs) share
// one Redis without seeing each other's keys.
const DefaultNamespace = "alexus"

// Space is a key namespace.
type Space string

// Tenant returns the key <space>:{<t>}:<parts joined by ':'>.
func (s Space) Tenant(t tenant.ID, parts ...string) string {
	var b strings.Builder
	b.WriteString(string(s))
	b.WriteString(":{")
	b.WriteString(string(t))
	b.WriteString("}")
	for _, p := range parts {
		b.WriteByte(':')
		b.WriteString(p)
	}
	return b.String()
}

// Global returns a key that belongs to no tenant, such as the registry of
// tenants with streams. Such keys must never hold tenant data.
func (s Space) Global(parts ...string) string {
	return string(s) + ":" + strings.Join(parts, ":")
}

// TenantFromKey returns the tenant of a key built by Tenant in this space.
func (s Space) TenantFromKey(key string) (tenant.ID, bool) {
	rest, ok := strings.CutPrefix(key, string(s)+":{")
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, "}")
	if !ok {
		return "", false
	}
	t, err := tenant.Parse(id)
	return t, err == nil
}

// Names of the per-tenant keys, in one place so producers and consumers agree.
const (
	SignalStream = "signals"      // stream of signal events
	DeadLetters  = "signals:dead" // entries that failed too often
	Dedup        = "dedup"        // dedup claims: dedup:<fingerprint>
	Transitions  = "transitions"  // Pub/Sub channel of incident transitions
)

// SignalEventField is the field of a signal stream entry that holds the
// marshalled signalv1.SignalEvent.
const SignalEventField = "event"

// StreamRegistry is the global set of tenant IDs that have a signal stream.
const StreamRegistry = "streams"
