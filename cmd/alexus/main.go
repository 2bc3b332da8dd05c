// Command alexus is the one Alexus binary: a subcommand per plane (gateway,
// ingest, orchestrator, actions), migrate, the administrative commands, and
// dev, which runs every plane in one process for a laptop.
package main

import (
	"os"

	"github.com/alexus-platform/alexus/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
