// Package cli holds the subcommands of the alexus binary. Each subcommand
// turns flags and ALEXUS_* environment variables into a plane's Config, opens
// the stores it needs, and runs it; the planes themselves live under
// services/ and know nothing of flags.
package cli
