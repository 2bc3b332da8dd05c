// Command ingest is Alexus's intake benchmark. It builds the alexus binary,
// provisions a throw-away database, tenant and integration tokens, runs the
// gateway and the ingestion plane as two real processes, and drives
// POST /v1/webhooks/{source} with a mix of vendor payloads and a share of
// duplicates. In the same run it measures the machine's ceiling for the same
// work without Alexus (a bare net/http handler doing a pipelined XADD of the
// same bytes) and, when a binary is available, Prometheus Alertmanager's
// v2 API with the same alerts. It then counts the tenant's stream to prove
// that no signal was lost or duplicated, and prints one comparison table.
//
// See README.md beside this file for the flags and how to read the table.
package main
