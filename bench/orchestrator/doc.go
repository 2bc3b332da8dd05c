// Command orchestrator is Alexus's orchestrator throughput benchmark on the
// heuristic reasoning path. It builds the alexus binary, provisions a
// throw-away database and tenant whose "default" webhook target is a
// receiver inside the benchmark, and starts the action plane. It then
// writes a backlog of OPENED signal events to the tenant's Redis stream
// with ingest's own store (the same keys, field and encoding ingest
// writes), made from the labelled triage set so that the heuristic decides
// a mix of execute, clarify and escalate. Only then does it start the
// orchestrator, and it waits until the consumer group has acknowledged
// every entry and Postgres holds a decision for every signal.
//
// It reports signals per second from the first stored transition to the
// last stored decision, p50/p90/p99 of each stage step from the stored
// transitions, the CPU and peak memory of the planes, Redis and Postgres,
// and whether every signal produced exactly one incident with exactly one
// decision; a mismatch makes the exit status 1.
//
// See README.md beside this file for the flags and how to read the report.
package main
