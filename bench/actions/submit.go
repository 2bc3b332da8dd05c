package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
)

// submission is what one ExecuteAction call of the measured phase saw,
// its times since the benchmark's epoch.
type submission struct {
	sent, answered time.Duration
	id             string
	replayed       bool
}

// request is the ExecuteAction request of the action with key: a webhook
// to the tenant's "default" target.
func request(key string) *actionsv1.ExecuteActionRequest {
	return &actionsv1.ExecuteActionRequest{
		IdempotencyKey: key,
		Kind:           actionsv1.ActionKind_ACTION_KIND_WEBHOOK,
		Reason:         "bench: restart the payment service",
		Params: &actionsv1.ExecuteActionRequest_Webhook{Webhook: &actionsv1.WebhookParams{
			Details: map[string]string{"runbook": "restart-payments", "service": "payments"},
		}},
	}
}

// submit makes n ExecuteAction calls with the keys prefix+"0" to
// prefix+"<n-1>", from callers goroutines that each take the next key as
// soon as their previous call answered, and returns what each call saw,
// by key index. It stops at the first failed call.
func submit(ctx context.Context, client actionsv1.ActionServiceClient, epoch time.Time, prefix string, n, callers int) ([]submission, error) {
	out := make([]submission, n)
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range min(callers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				key := fmt.Sprintf("%s%d", prefix, i)
				s := submission{sent: time.Since(epoch)}
				resp, err := client.ExecuteAction(ctx, request(key))
				s.answered = time.Since(epoch)
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("ExecuteAction %s: %w", key, err) })
					cancel()
					return
				}
				s.id, s.replayed = resp.GetAction().GetId(), resp.GetReplayed()
				out[i] = s
			}
		})
	}
	wg.Wait()
	return out, firstErr
}

// submissionCheck is what the answers say: every call made a new action.
type submissionCheck struct {
	replayed, distinctIDs int
}

func checkSubmissions(subs []submission) submissionCheck {
	var c submissionCheck
	ids := make(map[string]struct{}, len(subs))
	for _, s := range subs {
		if s.replayed {
			c.replayed++
		}
		ids[s.id] = struct{}{}
	}
	c.distinctIDs = len(ids)
	return c
}
