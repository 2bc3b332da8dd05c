// Package sources holds a tenant's own source configuration, which the
// ingest plane applies on top of its native normalisers: mapping rules (a
// CEL expression per signal field, for tools without a native normaliser)
// and fingerprint overrides (which fields of a source's signals identify an
// alert).
//
// Store reads and writes them in Postgres under the tenant of the context.
// Cache keeps each tenant's compiled configuration (a Snapshot) for a short
// TTL, so intake does not ask Postgres per alert. Preview tells what an
// override would do to stored signals before it is saved.
//
// Versions are part of the fingerprint contract: every saved change of a
// rule or an override increases its version, which is stored with every
// signal as the fingerprint recipe version, and a deleted rule or override
// keeps its version so a later one under the same name continues the count.
package sources
