package incident

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// Feed is the live feed of transitions: one Redis Pub/Sub channel per
// tenant, <ns>:{<tenant>}:transitions, carrying WatchIncidentsResponse
// messages in proto binary.
//
// Pub/Sub delivers to whoever is subscribed at the moment of publishing and
// keeps nothing, so the feed is a live view; the record is the database,
// read with GetIncident. A message may arrive twice (the pipeline
// republishes transitions when an entry is redelivered); watchers can drop
// repeats by incident ID and sequence.
type Feed struct {
	rdb   redis.UniversalClient
	space rediskey.Space
}

// NewFeed returns a Feed on rdb under space.
func NewFeed(rdb redis.UniversalClient, space rediskey.Space) *Feed {
	return &Feed{rdb: rdb, space: space}
}

// Publish sends rs, in order, to the watchers of the context's tenant, in
// one round trip.
func (f *Feed) Publish(ctx context.Context, rs ...Result) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		return nil
	}
	channel := f.space.Tenant(t, rediskey.Transitions)
	msgs := make([][]byte, len(rs))
	for i, r := range rs {
		if msgs[i], err = proto.Marshal(WatchResponse(r)); err != nil {
			return fmt.Errorf("marshal %s transition of incident %s: %w", r.Transition.Stage, r.Transition.IncidentID, err)
		}
	}
	if len(msgs) == 1 {
		err = f.rdb.Publish(ctx, channel, msgs[0]).Err()
	} else {
		_, err = f.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, m := range msgs {
				p.Publish(ctx, channel, m)
			}
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("publish %d transition(s) of incident %s: %w", len(rs), rs[0].Transition.IncidentID, err)
	}
	return nil
}

// Subscription is one watcher's subscription to its tenant's channel.
type Subscription struct {
	ps *redis.PubSub
	ch <-chan *redis.Message
}

// Subscribe subscribes to the context's tenant's channel and returns once
// Redis has confirmed the subscription, so nothing published after Subscribe
// returns is missed.
func (f *Feed) Subscribe(ctx context.Context) (*Subscription, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	ps := f.rdb.Subscribe(ctx, f.space.Tenant(t, rediskey.Transitions))
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return nil, fmt.Errorf("subscribe to transitions: %w", err)
	}
	return &Subscription{ps: ps, ch: ps.Channel()}, nil
}

// ErrClosed reports a subscription whose connection went away.
var ErrClosed = errors.New("transition subscription closed")

// Next returns the next transition, waiting until one arrives, ctx is done
// or the subscription closes. Messages that do not decode are skipped: only
// the orchestrator publishes on the channel.
func (s *Subscription) Next(ctx context.Context) (*orchestratorv1.WatchIncidentsResponse, error) {
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case m, ok := <-s.ch:
			if !ok {
				return nil, ErrClosed
			}
			var resp orchestratorv1.WatchIncidentsResponse
			if err := proto.Unmarshal([]byte(m.Payload), &resp); err != nil {
				continue
			}
			return &resp, nil
		}
	}
}

// Close unsubscribes and releases the connection.
func (s *Subscription) Close() error { return s.ps.Close() }

// Resume puts an ANSWERED event for the incident of signalID on the
// tenant's signal stream, so the pipeline (on whichever replica reads it)
// resumes that incident with the answer of triage item itemID. The stream
// gives the resumption the pipeline's retries and dead-lettering.
func (f *Feed) Resume(ctx context.Context, signalID, itemID string) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	b, err := proto.Marshal(&signalv1.SignalEvent{Kind: signalv1.EventKind_EVENT_KIND_ANSWERED, SignalId: signalID, TriageItemId: itemID})
	if err != nil {
		return fmt.Errorf("marshal answered event: %w", err)
	}
	err = f.rdb.XAdd(ctx, &redis.XAddArgs{Stream: f.space.Tenant(t, rediskey.SignalStream), Values: []any{rediskey.SignalEventField, b}}).Err()
	if err != nil {
		return fmt.Errorf("queue the answer of triage item %s: %w", itemID, err)
	}
	return nil
}
