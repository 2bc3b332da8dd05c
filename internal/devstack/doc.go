// Package devstack runs private Postgres and Redis servers for `alexus dev`
// from the binaries installed on the machine, keeping their data in a folder
// of the developer's choosing (default .alexus, or ALEXUS_DATA_DIR).
//
// It exists so that a laptop needs no system services and no Docker: Start
// initialises a cluster once, starts both servers on free loopback ports as
// child processes, waits until they answer, and returns their URLs. The
// children are tied to the calling process: Stop (or cancelling Start's
// context) shuts them down, and on Linux the kernel kills them if the caller
// dies without stopping them.
//
// PostgreSQL refuses to run as root, so when the caller is root the cluster
// is owned by, and the server runs as, the `postgres` OS user that the
// distribution's packages create.
package devstack
