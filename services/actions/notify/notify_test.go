package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/alexus-platform/alexus/internal/egress"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/actions/action"
	actionjob "github.com/alexus-platform/alexus/services/actions/job"
	"github.com/alexus-platform/alexus/services/actions/notify"
	"github.com/alexus-platform/alexus/services/actions/webhook"
)

// answer is what a stand-in chat service replies.
type answer struct {
	status int
	body   string
	header map[string]string
	// delay holds the answer back, to provoke the worker's timeout.
	delay time.Duration
}

// chat stands in for a Slack or Teams incoming webhook: it records every
// post and replies with the next answer (the last one repeats).
type chat struct {
	srv *httptest.Server

	mu      sync.Mutex
	answers []answer
	posts   [][]byte
	types   []string
}

func newChat(t *testing.T, answers ...answer) *chat {
	c := &chat{answers: answers}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.posts = append(c.posts, body)
		c.types = append(c.types, r.Header.Get("Content-Type"))
		a := c.answers[0]
		if len(c.answers) > 1 {
			c.answers = c.answers[1:]
		}
		c.mu.Unlock()
		if a.delay > 0 {
			select {
			case <-time.After(a.delay):
			case <-r.Context().Done():
				return
			}
		}
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *chat) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.posts)
}

func (c *chat) last(t *testing.T) map[string]any {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	require.NotEmpty(t, c.posts)
	require.Equal(t, "application/json", c.types[len(c.types)-1])
	var m map[string]any
	require.NoError(t, json.Unmarshal(c.posts[len(c.posts)-1], &m))
	return m
}

type bundle struct {
	ctx    context.Context
	db     *store.DB
	keys   *secretbox.Keyring
	store  *action.Store
	worker *notify.Worker
}

func setup(t *testing.T) *bundle {
	t.Helper()
	sb := storetest.New(t)
	ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "user:alice"})
	_, err := provision.EnsureTenant(ctx, sb.DB, provision.TenantOptions{})
	require.NoError(t, err)
	require.NoError(t, provision.AllowEgress(ctx, sb.DB, netip.MustParsePrefix("127.0.0.0/8"), false))
	key, err := secretbox.GenerateKey()
	require.NoError(t, err)
	keys, err := secretbox.ParseKeyring("t1:" + key)
	require.NoError(t, err)
	// The job queue is not under test here: the worker is called directly.
	st := action.NewStore(sb.DB, func(context.Context, pgx.Tx, action.Action) error { return nil })
	b := &bundle{ctx: ctx, db: sb.DB, keys: keys, store: st}
	b.worker = b.newWorker(t, time.Second)
	return b
}

func (b *bundle) newWorker(t *testing.T, timeout time.Duration) *notify.Worker {
	return notify.NewWorker(notify.WorkerConfig{
		Timeout: timeout,
		Egress:  &egress.Policy{TenantAllow: webhook.TenantNetworks(b.db)},
		Keys:    b.keys,
	}, zaptest.NewLogger(t), b.db, b.store)
}

// target registers c as the notify target name of format.
func (b *bundle) target(t *testing.T, name string, format provision.NotifyFormat, c *chat) {
	t.Helper()
	require.NoError(t, provision.SetNotifyTarget(b.ctx, b.db, b.keys, name, format, c.srv.URL+"/services/T0/B0/secret"))
}

func (b *bundle) execute(t *testing.T, key string, p action.NotifyParams) action.Action {
	t.Helper()
	a, _, err := b.store.Execute(b.ctx, action.Request{IdempotencyKey: key, Kind: action.KindNotify, Notify: &p})
	require.NoError(t, err)
	return a
}

func (b *bundle) get(t *testing.T, id string) action.Action {
	t.Helper()
	a, err := b.store.Get(b.ctx, id)
	require.NoError(t, err)
	return a
}

const maxAttempts = 5

func job(a action.Action, attempt int) *river.Job[notify.Args] {
	return &river.Job[notify.Args]{
		JobRow: &rivertype.JobRow{ID: 1, Attempt: attempt, MaxAttempts: maxAttempts},
		Args:   notify.Args{Ref: actionjob.Ref{Tenant: "acme", ActionID: a.ID, IdempotencyKey: a.IdempotencyKey}},
	}
}

var params = action.NotifyParams{
	Title:       "Checkout is down",
	Text:        "5xx rate above 20% on checkout <!channel> & friends",
	Severity:    action.SeverityCritical,
	IncidentURL: "https://alexus.example/incidents/42",
	Fields:      map[string]string{"service": "checkout", "region": "eu-west-1"},
}

func TestSlackMessageIsBlockKit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	slack := newChat(t, answer{status: 200, body: "ok"})
	b.target(t, "default", provision.NotifySlack, slack)
	a := b.execute(t, "k1", params)

	require.NoError(t, b.worker.Work(context.Background(), job(a, 1)))
	got := b.get(t, a.ID)
	require.Equal(t, action.StatusSucceeded, got.Status)
	require.Equal(t, "HTTP 200 ok", got.Result)
	require.Equal(t, 1, got.Attempts)

	msg := slack.last(t)
	require.Equal(t, "[CRITICAL] Checkout is down: 5xx rate above 20% on checkout &lt;!channel&gt; &amp; friends", msg["text"])
	blocks := msg["blocks"].([]any)
	types := make([]string, len(blocks))
	for i, bl := range blocks {
		types[i] = bl.(map[string]any)["type"].(string)
	}
	require.Equal(t, []string{"header", "section", "section", "context"}, types)
	require.Equal(t, map[string]any{"type": "plain_text", "text": "Checkout is down", "emoji": true}, blocks[0].(map[string]any)["text"])
	require.Equal(t, map[string]any{"type": "mrkdwn", "text": "5xx rate above 20% on checkout &lt;!channel&gt; &amp; friends"},
		blocks[1].(map[string]any)["text"], "alert text cannot mention a channel")
	require.Equal(t, []any{
		map[string]any{"type": "mrkdwn", "text": "*region*\neu-west-1"},
		map[string]any{"type": "mrkdwn", "text": "*service*\ncheckout"},
	}, blocks[2].(map[string]any)["fields"])
	ctxEls := blocks[3].(map[string]any)["elements"].([]any)
	require.Len(t, ctxEls, 3)
	require.Contains(t, ctxEls[0].(map[string]any)["text"], "Severity: *critical*")
	require.Equal(t, "<https://alexus.example/incidents/42|Open incident>", ctxEls[1].(map[string]any)["text"])

	// A redelivery after success does not post again.
	require.NoError(t, b.worker.Work(context.Background(), job(a, 2)))
	require.Equal(t, 1, slack.count())
}

func TestTeamsMessageIsAnAdaptiveCard(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ans    answer
		result string
	}{
		{answer{status: 200, body: "1"}, "HTTP 200 1"}, // connector incoming webhook
		{answer{status: 202}, "HTTP 202"},              // Workflows webhook
	} {
		b := setup(t)
		teams := newChat(t, tc.ans)
		b.target(t, "ops", provision.NotifyTeams, teams)
		p := params
		p.Target = "ops"
		a := b.execute(t, "k1", p)

		require.NoError(t, b.worker.Work(context.Background(), job(a, 1)))
		got := b.get(t, a.ID)
		require.Equal(t, action.StatusSucceeded, got.Status)
		require.Equal(t, tc.result, got.Result)

		msg := teams.last(t)
		require.Equal(t, "message", msg["type"])
		att := msg["attachments"].([]any)
		require.Len(t, att, 1)
		require.Equal(t, "application/vnd.microsoft.card.adaptive", att[0].(map[string]any)["contentType"])
		card := att[0].(map[string]any)["content"].(map[string]any)
		require.Equal(t, "AdaptiveCard", card["type"])
		require.Equal(t, "1.4", card["version"])
		body := card["body"].([]any)
		require.Equal(t, "Checkout is down", body[0].(map[string]any)["text"])
		require.Equal(t, "CRITICAL", body[1].(map[string]any)["text"])
		require.Equal(t, "Attention", body[1].(map[string]any)["color"])
		require.Equal(t, "FactSet", body[3].(map[string]any)["type"])
		require.Equal(t, []any{map[string]any{"type": "Action.OpenUrl", "title": "Open incident", "url": "https://alexus.example/incidents/42"}}, card["actions"])
	}
}

// The receivers' documented refusals fail the action at once, with their
// text, and without River retrying: a retry would be refused again.
func TestRefusalsFailForGood(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		format provision.NotifyFormat
		answer answer
		result string
	}{
		{"slack invalid_payload", provision.NotifySlack, answer{status: 400, body: "invalid_payload"}, "HTTP 400 invalid_payload"},
		{"slack no_text", provision.NotifySlack, answer{status: 400, body: "no_text"}, "HTTP 400 no_text"},
		{"slack no_service", provision.NotifySlack, answer{status: 404, body: "no_service"}, "HTTP 404 no_service"},
		{"slack channel_is_archived", provision.NotifySlack, answer{status: 410, body: "channel_is_archived"}, "HTTP 410 channel_is_archived"},
		{"slack action_prohibited", provision.NotifySlack, answer{status: 403, body: "action_prohibited"}, "HTTP 403 action_prohibited"},
		{"teams bad card", provision.NotifyTeams, answer{status: 400, body: "Bad payload received by generic incoming webhook."}, "HTTP 400 Bad payload received by generic incoming webhook."},
		{"redirect", provision.NotifySlack, answer{status: 302, header: map[string]string{"Location": "http://127.0.0.1:1/"}}, "HTTP 302"},
		{"long answer clipped", provision.NotifySlack, answer{status: 400, body: strings.Repeat("x", 500) + "\n\x00tail"}, "HTTP 400 " + strings.Repeat("x", 200) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			c := newChat(t, tc.answer)
			b.target(t, "default", tc.format, c)
			a := b.execute(t, "k1", params)
			err := b.worker.Work(context.Background(), job(a, 1))
			var cancel *rivertype.JobCancelError
			require.ErrorAs(t, err, &cancel)
			got := b.get(t, a.ID)
			require.Equal(t, action.StatusFailed, got.Status)
			require.Equal(t, tc.result, got.Result)
			require.Equal(t, 1, c.count())
		})
	}
}

// 5xx, 408, timeouts and Teams' "200 with an error inside" are retried with
// River's backoff; on the last attempt the action fails.
func TestTransientFailuresAreRetried(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		format provision.NotifyFormat
		answer answer
		result string
	}{
		{"slack 500 rollup_error", provision.NotifySlack, answer{status: 500, body: "rollup_error"}, "HTTP 500 rollup_error"},
		{"teams 503", provision.NotifyTeams, answer{status: 503}, "HTTP 503"},
		{"408", provision.NotifySlack, answer{status: 408}, "HTTP 408"},
		{"teams 200 with an error inside", provision.NotifyTeams,
			answer{status: 200, body: "Microsoft Teams endpoint returned HTTP error 500 with ContextId tcid=0"},
			"HTTP 200 Microsoft Teams endpoint returned HTTP error 500 with ContextId tcid=0"},
		{"timeout", provision.NotifySlack, answer{status: 200, body: "ok", delay: 3 * time.Second}, "timeout: no response within 1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			c := newChat(t, tc.answer)
			b.target(t, "default", tc.format, c)
			a := b.execute(t, "k1", params)

			err := b.worker.Work(context.Background(), job(a, 1))
			require.Error(t, err)
			var cancel *rivertype.JobCancelError
			require.NotErrorAs(t, err, &cancel, "River retries it")
			got := b.get(t, a.ID)
			require.Equal(t, action.StatusPending, got.Status)
			require.Equal(t, tc.result, got.Result)

			require.Error(t, b.worker.Work(context.Background(), job(a, maxAttempts)))
			got = b.get(t, a.ID)
			require.Equal(t, action.StatusFailed, got.Status)
			require.Equal(t, tc.result, got.Result)
			require.Equal(t, 2, got.Attempts)
		})
	}
}

// A 429 waits for the receiver's Retry-After (River's snooze, which does
// not use up an attempt), then delivers; a receiver that never stops rate
// limiting fails the action after a bounded number of runs.
func TestRateLimitWaitsForRetryAfter(t *testing.T) {
	t.Parallel()
	b := setup(t)
	slack := newChat(t,
		answer{status: 429, body: "rate_limited", header: map[string]string{"Retry-After": "7"}},
		answer{status: 429, body: "Microsoft Teams endpoint returned HTTP error 429 with ContextId x"},
		answer{status: 200, body: "ok"})
	b.target(t, "default", provision.NotifySlack, slack)
	a := b.execute(t, "k1", params)

	err := b.worker.Work(context.Background(), job(a, 1))
	var snooze *river.JobSnoozeError
	require.ErrorAs(t, err, &snooze)
	require.Equal(t, 7*time.Second, snooze.Duration)
	got := b.get(t, a.ID)
	require.Equal(t, action.StatusPending, got.Status)
	require.Equal(t, "HTTP 429 rate_limited; retrying in 7s", got.Result)

	err = b.worker.Work(context.Background(), job(a, 1))
	require.ErrorAs(t, err, &snooze)
	require.Equal(t, 30*time.Second, snooze.Duration, "without Retry-After the default wait")

	require.NoError(t, b.worker.Work(context.Background(), job(a, 1)))
	got = b.get(t, a.ID)
	require.Equal(t, action.StatusSucceeded, got.Status)
	require.Equal(t, 3, got.Attempts)

	// Teams' connector has answered 200 with the rate limit inside.
	teams := newChat(t, answer{status: 200, body: "Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=1"})
	b.target(t, "teams", provision.NotifyTeams, teams)
	p := params
	p.Target = "teams"
	a = b.execute(t, "k2", p)
	for range maxAttempts + 9 {
		require.ErrorAs(t, b.worker.Work(context.Background(), job(a, 1)), &snooze)
	}
	err = b.worker.Work(context.Background(), job(a, 1))
	var cancel *rivertype.JobCancelError
	require.ErrorAs(t, err, &cancel, "the rate limit is not waited out for ever")
	got = b.get(t, a.ID)
	require.Equal(t, action.StatusFailed, got.Status)
	require.Contains(t, got.Result, "HTTP 200 Microsoft Teams endpoint returned HTTP error 429")
	require.Contains(t, got.Result, "gave up after 15 runs")
}

func TestUnknownTargetAndEgressRefusalFailForGood(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.execute(t, "k1", params)
	var cancel *rivertype.JobCancelError
	require.ErrorAs(t, b.worker.Work(context.Background(), job(a, 1)), &cancel)
	got := b.get(t, a.ID)
	require.Equal(t, action.StatusFailed, got.Status)
	require.Equal(t, `unknown notify target "default"`, got.Result)

	// Loopback is no longer allowed for the tenant: the chat service is
	// never reached.
	c := newChat(t, answer{status: 200, body: "ok"})
	b.target(t, "default", provision.NotifySlack, c)
	require.NoError(t, provision.AllowEgress(b.ctx, b.db, netip.MustParsePrefix("127.0.0.0/8"), true))
	b.worker = b.newWorker(t, time.Second)
	a = b.execute(t, "k2", params)
	require.ErrorAs(t, b.worker.Work(context.Background(), job(a, 1)), &cancel)
	got = b.get(t, a.ID)
	require.Equal(t, action.StatusFailed, got.Status)
	require.Equal(t, "refused: 127.0.0.1 is a loopback address this tenant may not reach", got.Result)
	require.Zero(t, c.count())
}

// A sealed URL that does not open (wrong key ring, or a blob copied from
// another record) is never posted to; the last attempt records the failure.
func TestSealedURLThatDoesNotOpenIsNotUsed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := newChat(t, answer{status: 200, body: "ok"})
	b.target(t, "default", provision.NotifySlack, c)
	key, err := secretbox.GenerateKey()
	require.NoError(t, err)
	other, err := secretbox.ParseKeyring("t1:" + key)
	require.NoError(t, err)
	b.keys = other
	b.worker = b.newWorker(t, time.Second)
	a := b.execute(t, "k1", params)
	require.Error(t, b.worker.Work(context.Background(), job(a, 1)))
	require.Equal(t, action.StatusPending, b.get(t, a.ID).Status)
	require.Error(t, b.worker.Work(context.Background(), job(a, maxAttempts)))
	got := b.get(t, a.ID)
	require.Equal(t, action.StatusFailed, got.Status)
	require.Equal(t, "gave up on the last attempt: the notify target could not be read", got.Result)
	require.Zero(t, c.count())
}
