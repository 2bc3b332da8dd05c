// Package procstat measures what the processes of a benchmark run cost (the
// plane benchmarks under bench/, and storetest for Postgres backends): the
// CPU time and resident memory of given processes, read from /proc at the
// start and end of a phase; the CPU time of a changing set of processes,
// such as the Postgres backends of one database; the machine's busy time
// and load average (WatchMachine takes those and the Postgres backends
// together, for a measured phase); and the Redis server's CPU time from
// INFO cpu.
//
// It reads Linux's /proc and needs no cgo. The plane benchmarks
// (bench/ingest, bench/orchestrator) print what it returns in their own
// tables.
package procstat
