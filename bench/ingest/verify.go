package main

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	"github.com/alexus-platform/alexus/bench/internal/harness"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// xrangeChunk is how many entries one XRANGE reads.
const xrangeChunk = 5000

// streamCount is what the tenant's signal stream holds.
type streamCount struct {
	entries, opened, repeated, resolved, other int
	// problems lists entries that break the stream's own rules: an event
	// that does not decode, an OPENED fingerprint seen twice, a REPEATED
	// naming a signal that was never opened.
	problems []string
}

// signalStream is the key ingest appends the bench tenant's events to.
func signalStream(namespace rediskey.Space) string {
	return namespace.Tenant(tenant.ID(benchTenant), rediskey.SignalStream)
}

// countStream reads the whole stream in chunks and counts its events.
func countStream(ctx context.Context, rdb *redis.Client, key string) (streamCount, error) {
	var c streamCount
	openedFP := map[string]struct{}{}
	openedID := map[string]struct{}{}
	var repeatedOf []string
	problem := func(format string, args ...any) {
		if len(c.problems) < 10 {
			c.problems = append(c.problems, fmt.Sprintf(format, args...))
		}
	}
	start := "-"
	for {
		msgs, err := rdb.XRangeN(ctx, key, start, "+", xrangeChunk).Result()
		if err != nil {
			return c, fmt.Errorf("XRANGE %s: %w", key, err)
		}
		for _, m := range msgs {
			c.entries++
			raw, ok := m.Values["event"].(string)
			if !ok {
				problem("entry %s has no event field", m.ID)
				continue
			}
			var ev signalv1.SignalEvent
			if err := proto.Unmarshal([]byte(raw), &ev); err != nil {
				problem("entry %s: event does not decode: %v", m.ID, err)
				continue
			}
			switch ev.GetKind() {
			case signalv1.EventKind_EVENT_KIND_OPENED:
				c.opened++
				fp := ev.GetSignal().GetFingerprint()
				if _, dup := openedFP[fp]; dup {
					problem("entry %s opens fingerprint %q a second time", m.ID, fp)
				}
				openedFP[fp] = struct{}{}
				openedID[ev.GetSignalId()] = struct{}{}
			case signalv1.EventKind_EVENT_KIND_REPEATED:
				c.repeated++
				repeatedOf = append(repeatedOf, ev.GetSignalId())
			case signalv1.EventKind_EVENT_KIND_RESOLVED:
				c.resolved++
			default:
				c.other++
			}
		}
		if len(msgs) < xrangeChunk {
			break
		}
		// An exclusive start ("(" prefix, Redis 6.2+) resumes after the
		// last entry read.
		start = "(" + msgs[len(msgs)-1].ID
	}
	// Repeats are checked after the whole stream is read: every repeat
	// follows its opening, but checking at the end needs no such order.
	for _, id := range repeatedOf {
		if _, ok := openedID[id]; !ok {
			problem("a REPEATED event names signal %q, which no OPENED event in the stream opened", id)
		}
	}
	return c, nil
}

// verdict compares the stream with what the generator saw accepted: every
// distinct alert accepted on its first delivery opened exactly one signal,
// and every accepted delivery appended exactly one event. It returns the
// lines to print and harness.ErrMismatch when they disagree.
func verdict(c streamCount, r *loadResult) ([]string, error) {
	lines := []string{
		fmt.Sprintf("stream: %d entries: %d OPENED, %d REPEATED, %d RESOLVED, %d other", c.entries, c.opened, c.repeated, c.resolved, c.other),
		fmt.Sprintf("sent:   %d distinct alerts first accepted, %d accepted repeats, %d accepted in all", r.firstAccepted, r.dupAccepted, r.accepted),
	}
	var bad []string
	if c.opened != r.firstAccepted {
		bad = append(bad, fmt.Sprintf("OPENED %d != distinct alerts accepted %d (%+d)", c.opened, r.firstAccepted, c.opened-r.firstAccepted))
	}
	if c.opened+c.repeated != r.accepted {
		bad = append(bad, fmt.Sprintf("OPENED+REPEATED %d != 202 answers %d (%+d)", c.opened+c.repeated, r.accepted, c.opened+c.repeated-r.accepted))
	}
	if c.resolved+c.other != 0 {
		bad = append(bad, fmt.Sprintf("%d RESOLVED or unknown events, but only firing alerts were sent", c.resolved+c.other))
	}
	bad = append(bad, c.problems...)
	if len(bad) == 0 {
		return append(lines, "no signal lost or duplicated"), nil
	}
	for _, b := range bad {
		lines = append(lines, "MISMATCH: "+b)
	}
	return lines, harness.ErrMismatch
}
