// Package harness runs a throw-away Alexus for the plane benchmarks
// (bench/ingest, bench/orchestrator), so that each of them holds only what
// it measures.
//
// Start builds the alexus binary (or takes a prebuilt one), creates a fresh
// database and Redis namespace, gives every plane a free loopback port and
// an environment cleaned of the developer's ALEXUS_* settings, and migrates
// the database. The benchmark then starts the planes it needs as real
// processes (StartPlane, WaitHealthy) and runs administrative subcommands
// (Alexus). Close stops the planes and removes everything Start made.
//
// Main and Flags are the command around it: the flags both benchmarks
// share, the exit status (2 for bad flags, 1 for an error or a failed check,
// 130 when interrupted) and the Ctrl-C handling that lets Close run.
//
// CaptureProfile takes a plane's CPU profile through its pprof server, and
// PlaneSettings reports the settings a run used; RunFlags are the flags
// around them. CreateDatabase makes a bare migrated database for the
// benchmarks that drive the store in their own process (bench/audit,
// bench/retrieval) and start no planes.
//
// Measuring what the processes cost is the job of bench/internal/procstat.
package harness
