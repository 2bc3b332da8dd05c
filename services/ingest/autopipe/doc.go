// Package autopipe coalesces the Redis commands of concurrent callers into
// shared pipelines. Under load the ingestion plane serves many calls at
// once, each needing one or two small Redis commands; sent one by one, every
// command costs a write and a read system call on each side and a round
// trip. Sent together, one write and one read carry them all, which is most
// of the plane's (and Redis's) CPU per alert.
//
// Nothing is delayed to make a batch: a caller that finds no pipeline in
// flight sends its commands at once, and the commands that arrive while a
// pipeline is in flight go out together in the next one. Each caller still
// gets its own commands' results and errors, exactly as if it had sent
// them alone.
package autopipe
