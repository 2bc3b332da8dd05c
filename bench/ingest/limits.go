package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// limitFlag matches a flag line of `alexus ingest --help`: name, type, the
// variable named at the end of its usage, and its default.
var limitFlag = regexp.MustCompile(`--([a-z0-9-]+) (int|int64|float|float64|duration|string)\s.*\((ALEXUS_[A-Z0-9_]+)\)(?: \(default ([^)]*)\))?`)

// limitSettings looks in the binary's help for the limits that would cap a
// one-tenant benchmark at a configured number instead of the machine's:
//
//   - every numeric rate or burst setting is raised to a million;
//   - a per-tenant in-flight bound below -c is raised to -c, since every
//     connection of the benchmark belongs to the one bench tenant.
//
// The other bounds (the replica's in-flight bound, body sizes) are part of
// what is measured and keep their defaults. Each limit found is listed in
// the report with what was done to it.
func (s *stack) limitSettings(ctx context.Context) ([]string, error) {
	help, err := s.alexus(ctx, "ingest", "--help")
	if err != nil {
		return nil, err
	}
	env, notes := limitEnv(help, s.cfg.concurrency)
	s.limitNotes = notes
	return env, nil
}

// limitEnv returns the settings limitSettings makes for a help text, and a
// note on every limit found.
func limitEnv(help string, concurrency int) (env, notes []string) {
	set := func(name, variable, value, why string) {
		env = append(env, variable+"="+value)
		notes = append(notes, fmt.Sprintf("--%s set to %s (%s)%s", name, value, variable, why))
	}
	for _, line := range strings.Split(help, "\n") {
		m := limitFlag.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		name, typ, variable, def := m[1], m[2], m[3], m[4]
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
