package dedup

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/ingest/autopipe"
)

//go:embed record.lua
var recordSource string

var recordScript = redis.NewScript(recordSource)

// ErrUnavailable wraps every failure to reach or use Redis. Callers answer
// it with UNAVAILABLE: retrying is safe, as an alert already recorded comes
// back as a repeat.
var ErrUnavailable = errors.New("signal store unavailable")

// Outcome is what Record did with one signal.
type Outcome struct {
	// Kind is OPENED for a new signal, REPEATED for a repeat inside the
	// window, RESOLVED for a resolved notification.
	Kind signalv1.EventKind
	// SignalID is the signal the alert was filed under: the new one, or the
	// first occurrence it repeats or resolves. It is empty for a resolved
	// notification whose claim had already expired.
	SignalID string
}

// Store records signals for the tenant in the context.
type Store struct {
	pipe   *autopipe.Pipeliner
	space  rediskey.Space
	window time.Duration
	script *redis.Script
}

// New returns a Store writing under space with claims lasting window
// (rounded down to whole milliseconds, at least one). It sends its commands
// through pipe, so the records of concurrent calls share pipelines.
func New(pipe *autopipe.Pipeliner, space rediskey.Space, window time.Duration) *Store {
	return &Store{pipe: pipe, space: space, window: window, script: recordScript}
}

// Charge is a payload count Record takes from the tenant's rate in the
// same script that records the signals, so that the check and the records
// cost one Redis command together, and a refused call records nothing.
// The rate is GCRA, as go-redis/redis_rate v10 computes it on the same key.
type Charge struct {
	// Key is the tenant's limiter key; it must be in the tenant's hash slot.
	Key string
	// Cost is the number of payloads to charge, at least 1.
	Cost int
	// Burst, Rate and Period are the limit (see redis_rate.Limit).
	Burst, Rate int
	Period      time.Duration
}

// OverRateError is RecordCharged's refusal: the charge did not fit the
// tenant's rate, and nothing was charged or recorded.
type OverRateError struct {
	// RetryAfter is when the charge will fit.
	RetryAfter time.Duration
}

func (e *OverRateError) Error() string {
	return fmt.Sprintf("over the rate, retry after %s", e.RetryAfter)
}

// Record claims and appends every signal, in order, for the tenant in ctx,
// and returns one outcome per signal. It sets each signal's tenant_id from
// ctx and its id to the signal it was filed under.
//
// All the signals of a call are recorded by one script, which is atomic:
// they are all recorded or none is. The script goes out in a pipeline
// shared with concurrent calls, after an SADD that adds the tenant to the
// stream registry (one SADD serves all of a tenant's calls in a pipeline).
// When Redis fails, Record returns an error wrapping ErrUnavailable and the
// script may or may not have run; retrying the call is then safe, because
// recorded signals come back as REPEATED (or as a second RESOLVED, which the
// orchestrator treats as a no-op).
//
// The registry is written on every call, not once per tenant and process:
// Redis may lose its data (a restart without persistence, a failover to a
// replica that lagged), and a tenant missing from the registry would have
// its new signals appended to a stream nobody consumes. SADD of a present
// member is cheap and changes nothing.
func (s *Store) Record(ctx context.Context, sigs []*signalv1.Signal) ([]Outcome, error) {
	return s.record(ctx, sigs, nil)
}

// RecordCharged is Record, but takes c from the tenant's rate first, in the
// same script. When c does not fit, it returns an *OverRateError and
// nothing is charged or recorded. With no signals it only charges.
func (s *Store) RecordCharged(ctx context.Context, sigs []*signalv1.Signal, c Charge) ([]Outcome, error) {
	return s.record(ctx, sigs, &c)
}

func (s *Store) record(ctx context.Context, sigs []*signalv1.Signal, charge *Charge) ([]Outcome, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	if len(sigs) == 0 && charge == nil {
		return nil, nil
	}
	window := max(s.window.Milliseconds(), 1)

	keys := make([]string, 0, len(sigs)+2)
	keys = append(keys, s.space.Tenant(t, rediskey.SignalStream))
	args := make([]any, 0, 5+3*len(sigs))
	if charge != nil {
		args = append(args, charge.Cost, charge.Burst, charge.Rate, charge.Period.Seconds(), window)
	} else {
		args = append(args, 0, 0, 0, 0, window)
	}
	for _, sig := range sigs {
		sig.TenantId = string(t)
		// The script fills in kind, signal_id and signal.id; see record.lua.
		sig.Id = ""
		event, err := marshalEvent(sig)
		if err != nil {
			return nil, fmt.Errorf("marshal signal event for fingerprint %q: %w", sig.GetFingerprint(), err)
		}
		mode := "firing"
		if sig.GetStatus() == signalv1.Status_STATUS_RESOLVED {
			mode = "resolved"
		}
		keys = append(keys, s.space.Tenant(t, rediskey.Dedup, sig.GetFingerprint()))
		args = append(args, mode, uuid.NewString(), event)
	}
	if charge != nil {
		keys = append(keys, charge.Key)
	}

	cmd := autopipe.NewEvalSha(ctx, s.script.Hash(), keys, args...)
	var register *redis.IntCmd
	if len(sigs) == 0 {
		s.pipe.Do(ctx, nil, cmd)
	} else {
		// The registry is a global key, outside the tenant's hash slot, so
		// it cannot be part of the script, and a cluster client sends it to
		// its own node. Its order relative to the appends does not matter:
		// the orchestrator reads a newly registered stream from its start.
		registry := s.space.Global(rediskey.StreamRegistry)
		register = redis.NewIntCmd(ctx, "sadd", registry, string(t))
		s.pipe.Do(ctx, &autopipe.Shared{Key: registry + "\x00" + string(t), Cmd: register}, cmd)
		if err := register.Err(); err != nil {
			// The script may have run; a retry records nothing twice and
			// registers the tenant.
			if ctx.Err() != nil {
				return nil, fmt.Errorf("register stream of tenant %s: %w", t, ctx.Err())
			}
			return nil, fmt.Errorf("%w: register stream of tenant %s: %w", ErrUnavailable, t, err)
		}
	}

	// A script Redis has not cached (first use, or after a restart or
	// SCRIPT FLUSH) fails with NOSCRIPT without running, so running it
	// again with the source is safe and cannot record anything twice.
	var c *redis.Cmd = cmd
	if err := c.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		c = s.script.Run(ctx, s.pipe.Client(), keys, args...)
	}
	out, err := outcomes(c, len(sigs))
	if err != nil {
		var over *OverRateError
		if errors.As(err, &over) {
			return nil, over
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("record %d signals: %w", len(sigs), ctx.Err())
		}
		return nil, fmt.Errorf("%w: record %d signals: %w", ErrUnavailable, len(sigs), err)
	}
	for i := range sigs {
		sigs[i].Id = out[i].SignalID
	}
	return out, nil
}

// outcomes reads the script's answer for n signals: an *OverRateError, or
// one outcome per signal.
func outcomes(c *redis.Cmd, n int) ([]Outcome, error) {
	vals, err := c.Slice()
	if err != nil {
		return nil, err
	}
	if len(vals) == 2 {
		if kind, ok := vals[0].(int64); ok && kind == -1 {
			s, _ := vals[1].(string)
			secs, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("record script returned retry_after %q: %w", s, err)
			}
			return nil, &OverRateError{RetryAfter: time.Duration(secs * float64(time.Second))}
		}
	}
	if len(vals) != 2*n {
		return nil, fmt.Errorf("record script returned %d values, want %d", len(vals), 2*n)
	}
	out := make([]Outcome, n)
	for i := range out {
		kind, ok1 := vals[2*i].(int64)
		id, ok2 := vals[2*i+1].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("record script returned %T, %T, want integer, string", vals[2*i], vals[2*i+1])
		}
		out[i] = Outcome{Kind: signalv1.EventKind(kind), SignalID: id}
	}
	return out, nil
}
