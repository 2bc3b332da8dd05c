package actions_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/services/actions/action"
	"github.com/alexus-platform/alexus/services/actions/chain"
	"github.com/alexus-platform/alexus/services/actions/sweep"
	"github.com/alexus-platform/alexus/services/actions/ticketsync"
)

// slack stands in for a Slack incoming webhook: it counts posts and answers
// 200 "ok", as Slack does.
type slack struct {
	srv   *httptest.Server
	posts atomic.Int32
	mu    sync.Mutex
	last  []byte
}

func newSlack(t *testing.T) *slack {
	s := &slack{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.last = body
		s.mu.Unlock()
		s.posts.Add(1)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func notifyRequest(key, target string) *actionsv1.ExecuteActionRequest {
	return &actionsv1.ExecuteActionRequest{
		IdempotencyKey: key,
		Kind:           actionsv1.ActionKind_ACTION_KIND_NOTIFY,
		Reason:         "tell the on-call channel",
		Params: &actionsv1.ExecuteActionRequest_Notify{Notify: &actionsv1.NotifyParams{
			Target:      target,
			Title:       "Checkout is down",
			Text:        "5xx rate above 20%",
			Severity:    actionsv1.NotifySeverity_NOTIFY_SEVERITY_CRITICAL,
			IncidentUrl: "https://alexus.example/incidents/42",
			Fields:      map[string]string{"service": "checkout"},
		}},
	}
}

// periodicQueues are the queues of the periodic jobs (the sweep, the
// audit chaining, the ticket reconcile), which the listings of action jobs
// leave out: how many of them ran depends on how long a test took.
var periodicQueues = []string{sweep.Queue, chain.Queue, ticketsync.Queue}

// jobs lists (queue, state) of every action job in the test database (the
// periodic jobs left out).
func (b *bundle) jobs(t require.TestingT) [][2]string {
	rows, err := b.db.Pool().Query(context.Background(), `SELECT queue, state::text FROM river_job WHERE queue <> ALL($1) ORDER BY id`, periodicQueues)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var q [2]string
		err := r.Scan(&q[0], &q[1])
		return q, err
	})
	require.NoError(t, err)
	return out
}

// A notify action goes through the whole path: recorded with its audit
// entry and job, the job worked on the notify queue, the Slack message
// posted, and the outcome readable through GetAction.
func TestNotifyActionRunsOnItsOwnQueue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme")
	s := newSlack(t)
	require.NoError(t, provision.SetNotifyTarget(as("acme"), b.db, b.keys, "oncall", provision.NotifySlack, s.srv.URL+"/services/T/B/x"))

	resp, err := b.client.ExecuteAction(as("acme"), notifyRequest("notify-1", "oncall"))
	require.NoError(t, err)
	require.Equal(t, actionsv1.ActionKind_ACTION_KIND_NOTIFY, resp.GetAction().GetKind())
	require.Equal(t, "oncall", resp.GetAction().GetTarget())
	id := resp.GetAction().GetId()

	b.waitStatus(t, "acme", id, action.StatusSucceeded)
	got, err := b.client.GetAction(as("acme"), &actionsv1.GetActionRequest{Id: id})
	require.NoError(t, err)
	require.Equal(t, actionsv1.ActionStatus_ACTION_STATUS_SUCCEEDED, got.GetAction().GetStatus())
	require.Equal(t, "HTTP 200 ok", got.GetAction().GetResult())
	require.Equal(t, "tell the on-call channel", got.GetAction().GetReason())
	require.EqualValues(t, 1, got.GetAction().GetAttempts())

	require.EqualValues(t, 1, s.posts.Load())
	var msg map[string]any
	s.mu.Lock()
	require.NoError(t, json.Unmarshal(s.last, &msg))
	s.mu.Unlock()
	require.Equal(t, "[CRITICAL] Checkout is down: 5xx rate above 20%", msg["text"])
	require.Zero(t, b.recv.count.Load(), "no webhook was sent")

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, [][2]string{{"notify", "completed"}}, b.jobs(c))
	}, waitFor, tick)
	require.Equal(t, []string{action.EventSucceeded, action.EventRequested}, eventNames(b.events(t, "acme", "action/"+id)))

	_, err = b.client.GetAction(as("globex"), &actionsv1.GetActionRequest{Id: id})
	require.Equal(t, codes.NotFound, status.Code(err), "another tenant does not see it")
}

// A thousand deliveries of the same decision make one action, one job and
// one Slack message.
func TestThousandDuplicateExecutionsNotifyOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme")
	s := newSlack(t)
	require.NoError(t, provision.SetNotifyTarget(as("acme"), b.db, b.keys, "default", provision.NotifySlack, s.srv.URL))

	const (
		calls   = 1000
		callers = 50
	)
	var (
		wg       sync.WaitGroup
		start    = make(chan struct{})
		ids      sync.Map
		replayed atomic.Int32
		failures atomic.Int32
	)
	for c := range callers {
		wg.Go(func() {
			<-start
			for range calls / callers {
				resp, err := b.client.ExecuteAction(as("acme"), notifyRequest("incident/42/notify", ""))
				if err != nil {
					failures.Add(1)
					t.Errorf("caller %d: %v", c, err)
					return
				}
				ids.Store(resp.GetAction().GetId(), true)
				if resp.GetReplayed() {
					replayed.Add(1)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	require.Zero(t, failures.Load())
	var only string
	n := 0
	ids.Range(func(k, _ any) bool { only, n = k.(string), n+1; return true })
	require.Equal(t, 1, n, "every call names the one action")
	require.EqualValues(t, calls-1, replayed.Load())

	b.waitStatus(t, "acme", only, action.StatusSucceeded)
	require.Equal(t, 1, b.countActions(t, "acme"))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, [][2]string{{"notify", "completed"}}, b.jobs(c))
	}, waitFor, tick)
	require.EqualValues(t, 1, s.posts.Load())
	require.Equal(t, []string{action.EventSucceeded, action.EventRequested}, eventNames(b.events(t, "acme", "action/"+only)))
}

// An action whose job used up its attempts is dead: River discards the
// job, the action is FAILED with the last result, ListActions finds it by
// status, and asking again with the same key neither revives it nor makes a
// second job.
func TestDeadActionIsVisibleAndStaysDead(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *options) {
		o.cfg.MaxAttempts = 2
		o.respond = func(_ int32, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }
	})
	b.addTenant(t, "acme")

	resp, err := b.client.ExecuteAction(as("acme"), webhookRequest("dead-1", ""))
	require.NoError(t, err)
	id := resp.GetAction().GetId()
	b.waitStatus(t, "acme", id, action.StatusFailed)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, [][2]string{{"webhook", "discarded"}}, b.jobs(c))
	}, waitFor, tick)

	got, err := b.client.GetAction(as("acme"), &actionsv1.GetActionRequest{Id: id})
	require.NoError(t, err)
	require.Equal(t, actionsv1.ActionStatus_ACTION_STATUS_FAILED, got.GetAction().GetStatus())
	require.Equal(t, "HTTP 502", got.GetAction().GetResult())
	require.EqualValues(t, 2, got.GetAction().GetAttempts())

	dead, err := b.client.ListActions(as("acme"), &actionsv1.ListActionsRequest{
		Statuses: []actionsv1.ActionStatus{actionsv1.ActionStatus_ACTION_STATUS_FAILED},
	})
	require.NoError(t, err)
	require.Len(t, dead.GetActions(), 1)
	require.Equal(t, id, dead.GetActions()[0].GetId())
	pending, err := b.client.ListActions(as("acme"), &actionsv1.ListActionsRequest{
		Statuses: []actionsv1.ActionStatus{actionsv1.ActionStatus_ACTION_STATUS_PENDING, actionsv1.ActionStatus_ACTION_STATUS_SUCCEEDED},
	})
	require.NoError(t, err)
	require.Empty(t, pending.GetActions())

	again, err := b.client.ExecuteAction(as("acme"), webhookRequest("dead-1", ""))
	require.NoError(t, err)
	require.True(t, again.GetReplayed())
	require.Equal(t, actionsv1.ActionStatus_ACTION_STATUS_FAILED, again.GetAction().GetStatus())
	require.Equal(t, [][2]string{{"webhook", "discarded"}}, b.jobs(t), "no second job")
	require.EqualValues(t, 2, b.recv.count.Load())
}

func TestListActionsPagesAndFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme")
	b.addTenant(t, "globex")
	const incident = "0b7f3c52-3c1e-4a7e-9b43-6a0d1c2e5f10"

	var want []string // newest first
	for i, key := range []string{"a", "b", "c", "d", "e"} {
		req := webhookRequest(key, "")
		if i%2 == 0 {
			req = notifyRequest(key, "missing")
		}
		if i < 2 {
			req.IncidentId = incident
		}
		resp, err := b.client.ExecuteAction(as("acme"), req)
		require.NoError(t, err)
		want = append([]string{resp.GetAction().GetId()}, want...)
	}
	_, err := b.client.ExecuteAction(as("globex"), webhookRequest("g", ""))
	require.NoError(t, err)

	list := func(req *actionsv1.ListActionsRequest) []string {
		t.Helper()
		var ids []string
		for {
			resp, err := b.client.ListActions(as("acme"), req)
			require.NoError(t, err)
			for _, a := range resp.GetActions() {
				ids = append(ids, a.GetId())
			}
			if resp.GetNextPageToken() == "" {
				return ids
			}
			req.PageToken = resp.GetNextPageToken()
		}
	}
	require.Equal(t, want, list(&actionsv1.ListActionsRequest{PageSize: 2}), "newest first, over pages, only the tenant's")
	require.Equal(t, []string{want[1], want[3]}, list(&actionsv1.ListActionsRequest{Kind: actionsv1.ActionKind_ACTION_KIND_WEBHOOK, PageSize: 1}))
	require.Equal(t, []string{want[3], want[4]}, list(&actionsv1.ListActionsRequest{IncidentId: incident}))

	// The notify actions name a target that does not exist: they die at
	// once and are listed as FAILED.
	for _, id := range []string{want[0], want[2], want[4]} {
		b.waitStatus(t, "acme", id, action.StatusFailed)
	}
	require.Equal(t, []string{want[0], want[2], want[4]}, list(&actionsv1.ListActionsRequest{
		Statuses: []actionsv1.ActionStatus{actionsv1.ActionStatus_ACTION_STATUS_FAILED}, PageSize: 2,
	}))

	first, err := b.client.ListActions(as("acme"), &actionsv1.ListActionsRequest{PageSize: 2})
	require.NoError(t, err)
	_, err = b.client.ListActions(as("acme"), &actionsv1.ListActionsRequest{PageSize: 2, PageToken: first.GetNextPageToken(), Kind: actionsv1.ActionKind_ACTION_KIND_NOTIFY})
	require.Equal(t, codes.InvalidArgument, status.Code(err), "a token is bound to its filters")
	_, err = b.client.ListActions(as("acme"), &actionsv1.ListActionsRequest{PageToken: "garbage"})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = b.client.GetAction(as("acme"), &actionsv1.GetActionRequest{Id: "not-a-uuid"})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = b.client.GetAction(as("acme"), &actionsv1.GetActionRequest{Id: "00000000-0000-4000-8000-000000000000"})
	require.Equal(t, codes.NotFound, status.Code(err))
}

// Notify requests are validated like the others, and nothing is stored
// when they are refused.
func TestBadNotifyRequestsAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme")
	for name, mutate := range map[string]func(*actionsv1.NotifyParams){
		"no text":    func(p *actionsv1.NotifyParams) { p.Text = "" },
		"long title": func(p *actionsv1.NotifyParams) { p.Title = string(make([]byte, 151)) },
		"bad target": func(p *actionsv1.NotifyParams) { p.Target = "Not Valid" },
		"bad link":   func(p *actionsv1.NotifyParams) { p.IncidentUrl = "javascript:alert(1)" },
		"too many facts": func(p *actionsv1.NotifyParams) {
			for i := range 11 {
				p.Fields[string(rune('a'+i))] = "x"
			}
		},
	} {
		req := notifyRequest("bad-"+name, "")
		mutate(req.GetNotify())
		_, err := b.client.ExecuteAction(as("acme"), req)
		require.Equal(t, codes.InvalidArgument, status.Code(err), name)
	}
	req := notifyRequest("no-params", "")
	req.Params = nil
	_, err := b.client.ExecuteAction(as("acme"), req)
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	require.Zero(t, b.countActions(t, "acme"))
}
