// Command audit is the benchmark of `alexus audit verify`: it fills a
// throw-away database with one tenant's audit log of a million rows (by
// default), chained exactly as internal/audit's writer chains them, and
// times audit.Verify over it, the function behind the command. It then
// edits one row as the database owner and checks that Verify finds the
// edit at its seq, so the figure is for a verification that does its job.
//
// See README.md beside this file for the flags and the target.
package main
