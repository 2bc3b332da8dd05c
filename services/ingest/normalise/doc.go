// Package normalise turns raw vendor payloads into Alexus signals.
//
// Each source (Prometheus Alertmanager, and later Grafana, Datadog, ...) has
// one Normaliser in a file of its own, registered under its source name in
// builtin (registry.go). A normaliser is pure: it reads bytes and returns
// signals, touching no store, so it can be tested and fuzzed on its own. It
// never sets a signal's ID or tenant: the ingest plane assigns IDs when it
// claims the fingerprint, and the tenant comes only from the verified caller.
package normalise
