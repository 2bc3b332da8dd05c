package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/alexus-platform/alexus/bench/internal/harness"
)

// limitSettings looks in the binary's help for the limits that would cap a
// one-tenant benchmark at a configured number instead of the machine's:
//
//   - every numeric rate or burst setting is raised to a million;
//   - a per-tenant in-flight bound below -c is raised to -c, since every
//     connection of the benchmark belongs to the one bench tenant.
//
// The other bounds (the replica's in-flight bound, body sizes) are part of
// what is measured and keep their defaults. It returns the settings and,
// for the report, a note on each limit found and what was done to it.
func limitSettings(ctx context.Context, s *harness.Stack, concurrency int) (env, notes []string, err error) {
	help, err := s.Alexus(ctx, "ingest", "--help")
	if err != nil {
		return nil, nil, err
	}
	env, notes = limitEnv(help, concurrency)
	return env, notes, nil
}

// limitEnv returns the settings limitSettings makes for a help text, and a
// note on every limit found.
func limitEnv(help string, concurrency int) (env, notes []string) {
	set := func(name, variable, value, why string) {
		env = append(env, variable+"="+value)
		notes = append(notes, fmt.Sprintf("--%s set to %s (%s)%s", name, value, variable, why))
	}
	for _, f := range harness.ParseHelp(help) {
		name, typ, variable, def := f.Flag, f.Type, f.Env, f.Default
		if def == "" {
			// pflag prints no default for a zero value.
			def = "its zero default"
		}
		if !strings.HasPrefix(name, "ingest-") && !strings.HasPrefix(name, "gateway-") {
			continue
		}
		numeric := strings.HasPrefix(typ, "int") || strings.HasPrefix(typ, "float")
		inFlight := strings.Contains(name, "flight") || strings.Contains(name, "dispatch") || strings.Contains(name, "concurren")
		switch {
		case numeric && (strings.Contains(name, "rate") || strings.Contains(name, "burst")):
			set(name, variable, "1000000", "")
		case inFlight && strings.Contains(name, "tenant") && strings.HasPrefix(typ, "int"):
			if n, err := strconv.Atoi(def); err == nil && n < concurrency {
				set(name, variable, strconv.Itoa(concurrency), fmt.Sprintf(", up from %d, so the bench tenant's %d connections are not refused as one busy tenant", n, concurrency))
			} else {
				notes = append(notes, fmt.Sprintf("--%s left at %s", name, def))
			}
		case inFlight:
			notes = append(notes, fmt.Sprintf("--%s left at %s (part of what is measured; change it with -plane-env %s=...)", name, def, variable))
		}
	}
	if len(notes) == 0 {
		notes = append(notes, "alexus ingest --help lists no rate limit or in-flight bound")
	}
	return env, notes
}
