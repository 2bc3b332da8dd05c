// Command actions is Alexus's action plane throughput benchmark for
// webhook actions. It builds the alexus binary, provisions a throw-away
// database and a tenant whose "default" webhook target is a receiver
// inside the benchmark, and starts `alexus actions` as a process of its
// own. After a warm-up it submits -n ExecuteAction calls over gRPC from -c
// concurrent callers, each a webhook action with its own idempotency key,
// and waits until the receiver has had every delivery and Postgres holds
// every action as SUCCEEDED.
//
// It reports submissions per second, deliveries per second from the first
// call to the last delivery and to the last recorded SUCCEEDED (the
// figure the target of 1,000 webhook actions/s is checked
// against), p50/p90/p99 from call to delivery, the CPU per action of the
// plane, Postgres and the benchmark, peak memory, and whether every action
// took effect exactly once; a mismatch makes the exit status 1.
//
// See README.md beside this file for the flags and how to read the report.
package main
