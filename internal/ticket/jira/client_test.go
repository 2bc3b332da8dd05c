package jira_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/internal/ticket/jira"
	"github.com/alexus-platform/alexus/internal/ticket/jira/jiratest"
	"github.com/alexus-platform/alexus/internal/ticket/tickettest"
)

type bundle struct {
	srv    *jiratest.Server
	client *jira.Client
	cfg    jira.Config
}

func setup(t *testing.T, edit ...func(*jira.Config)) bundle {
	t.Helper()
	srv := jiratest.New(t)
	cfg := jira.Config{
		BaseURL:   srv.URL,
		Email:     jiratest.Email,
		APIToken:  jiratest.APIToken,
		Project:   jiratest.Project,
		IssueType: "Incident",
		AccountID: jiratest.AccountID,
		Options:   tickettest.Fast,
	}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := jira.New(cfg)
	require.NoError(t, err)
	return bundle{srv: srv, client: c, cfg: cfg}
}

func newIssue() jira.NewIssue {
	return jira.NewIssue{
		Hash:        "9f86d081884c7d65",
		Summary:     "checkout-api: error rate above 5% for 10m",
		Description: "Error rate 7.2% on checkout-api since 11:31 UTC.\nDeploy 4812 went out at 11:29.\n\nOpened by Alexus.",
		Labels:      []string{"payments"},
	}
}

func TestFindOrCreateOpensTheIssueOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	iss, created, err := b.client.FindOrCreate(ctx, newIssue())
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, "OPS-1", iss.Key)
	require.Equal(t, "alexus-9f86d081884c7d65", iss.Marker)

	stored, ok := b.srv.Issue(iss.Key)
	require.True(t, ok)
	require.Equal(t, "Incident", stored.IssueType)
	require.ElementsMatch(t, []string{"alexus", "alexus-9f86d081884c7d65", "payments"}, stored.Labels)
	require.Equal(t, "doc", stored.Description["type"], "the description is ADF")
	require.Len(t, stored.Description["content"], 2, "one paragraph per block")

	req := b.srv.Requests(jiratest.RouteCreateIssue)[0]
	require.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte(jiratest.Email+":"+jiratest.APIToken)), req.Authorization)
	search := b.srv.Requests(jiratest.RouteSearch)[0]
	require.Contains(t, string(search.Body), `labels = \"alexus-9f86d081884c7d65\"`)

	again, created, err := b.client.FindOrCreate(ctx, newIssue())
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, iss.Key, again.Key)
	require.Equal(t, ticket.Open, again.State)
	require.Len(t, b.srv.Issues(), 1)
	require.Len(t, b.srv.Requests(jiratest.RouteCreateIssue), 1)
}

func TestCreateAfterALostResponseOpensOneIssue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.srv.Fail(jiratest.RouteCreateIssue, jiratest.Fault{LoseResponse: true})

	iss, created, err := b.client.FindOrCreate(context.Background(), newIssue())
	require.NoError(t, err)
	require.True(t, created, "the issue did not exist before the call")
	require.Equal(t, "OPS-1", iss.Key)
	require.Len(t, b.srv.Issues(), 1, "exactly one issue")
	require.Len(t, b.srv.Requests(jiratest.RouteCreateIssue), 1, "the create was not sent again")
	require.Len(t, b.srv.Requests(jiratest.RouteSearch), 2, "searched before creating and before retrying")
}

func TestCreateRetriesAfterAFailureThatCreatedNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.srv.Fail(jiratest.RouteCreateIssue, jiratest.Fault{Status: http.StatusServiceUnavailable}, jiratest.Fault{Hang: true})

	_, created, err := b.client.FindOrCreate(context.Background(), newIssue())
	require.NoError(t, err)
	require.True(t, created)
	require.Len(t, b.srv.Issues(), 1)
	require.Len(t, b.srv.Requests(jiratest.RouteCreateIssue), 3)
	require.Len(t, b.srv.Requests(jiratest.RouteSearch), 3)
}

func TestFindPicksTheOldestOfDuplicates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.srv.AddIssue("copy one", "alexus-9f86d081884c7d65")
	b.srv.AddIssue("copy two", "alexus-9f86d081884c7d65")

	iss, ok, err := b.client.Find(context.Background(), "9f86d081884c7d65")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, first, iss.Key)
}

func TestRetryHonoursRetryAfterOn429(t *testing.T) {
	t.Parallel()
	var waits tickettest.Waits
	b := setup(t, func(c *jira.Config) { c.OnRetry = waits.Note })
	key := b.srv.AddIssue("x")
	// Retry-After: 1 is capped by MaxRetryAfter (50ms), far above the
	// 1-5ms backoff: the wait asked for is the server's.
	b.srv.Fail(jiratest.RouteGetIssue, jiratest.Fault{Status: http.StatusTooManyRequests, RetryAfter: time.Second})

	iss, err := b.client.Get(context.Background(), key)
	require.NoError(t, err)
	require.Equal(t, key, iss.Key)
	require.Equal(t, []time.Duration{50 * time.Millisecond}, waits.All())
	require.Len(t, b.srv.Requests(jiratest.RouteGetIssue), 2)
}

func TestRateLimitedPastRetries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	key := b.srv.AddIssue("x")
	f := jiratest.Fault{Status: http.StatusTooManyRequests, RetryAfter: time.Second}
	b.srv.Fail(jiratest.RouteGetIssue, f, f, f, f)

	_, err := b.client.Get(context.Background(), key)
	require.ErrorIs(t, err, ticket.ErrRateLimited)
	var apiErr *ticket.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
	require.Equal(t, "Rate limit exceeded.", apiErr.Message)
	require.Contains(t, err.Error(), "4 attempt(s)")
	require.Len(t, b.srv.Requests(jiratest.RouteGetIssue), 4)
}

func TestRetriesOn5xx(t *testing.T) {
	t.Parallel()
	b := setup(t)
	key := b.srv.AddIssue("x")
	b.srv.Fail(jiratest.RouteGetIssue, jiratest.Fault{Status: 500}, jiratest.Fault{Status: 502}, jiratest.Fault{Status: 503})

	_, err := b.client.Get(context.Background(), key)
	require.NoError(t, err)
	require.Len(t, b.srv.Requests(jiratest.RouteGetIssue), 4)
}

func TestNoRetryOn401AndNoCredentialsInTheError(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *jira.Config) { c.APIToken = "wrong-token-s3cret" })

	_, _, err := b.client.FindOrCreate(context.Background(), newIssue())
	require.ErrorIs(t, err, ticket.ErrUnauthorized)
	require.Contains(t, err.Error(), "Client must be authenticated")
	require.NotContains(t, err.Error(), "wrong-token-s3cret")
	require.NotContains(t, err.Error(), base64.StdEncoding.EncodeToString([]byte(jiratest.Email+":wrong-token-s3cret")))
	require.Len(t, b.srv.Requests(), 1, "a 401 is not retried")
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *jira.Config) { c.Email, c.APIToken, c.BearerToken = "", "", "oauth-access-token" })
	b.srv.AcceptBearer("oauth-access-token")

	_, _, err := b.client.FindOrCreate(context.Background(), newIssue())
	require.NoError(t, err)
	require.Equal(t, "Bearer oauth-access-token", b.srv.Requests()[0].Authorization)
}

func TestTimeouts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	key := b.srv.AddIssue("x")

	b.srv.Fail(jiratest.RouteGetIssue, jiratest.Fault{Hang: true})
	_, err := b.client.Get(context.Background(), key)
	require.NoError(t, err, "one timeout is retried")

	h := jiratest.Fault{Hang: true}
	b.srv.Fail(jiratest.RouteGetIssue, h, h, h, h)
	_, err = b.client.Get(context.Background(), key)
	require.ErrorIs(t, err, ticket.ErrTimeout)
	require.Len(t, b.srv.Requests(jiratest.RouteGetIssue), 6)
}

func TestCallerCancellationIsFinal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	key := b.srv.AddIssue("x")
	b.srv.Fail(jiratest.RouteGetIssue, jiratest.Fault{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()

	_, err := b.client.Get(ctx, key)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Len(t, b.srv.Requests(jiratest.RouteGetIssue), 1)
}

func TestErrorsCarryJirasMessage(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *jira.Config) { c.Project = "NOPE" })

	_, _, err := b.client.FindOrCreate(context.Background(), newIssue())
	var apiErr *ticket.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
	require.Equal(t, "project: Specify a valid project ID or key", apiErr.Message)
	require.Len(t, b.srv.Requests(jiratest.RouteCreateIssue), 1, "a 400 is not retried")

	_, err = b.client.Get(context.Background(), "OPS-999")
	require.ErrorIs(t, err, ticket.ErrNotFound)
	require.Contains(t, err.Error(), "Issue does not exist")
}

func TestCommentOncePerNote(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	iss, _, err := b.client.FindOrCreate(ctx, newIssue())
	require.NoError(t, err)

	added, err := b.client.Comment(ctx, iss.Key, "diag-1", "Likely cause: deploy 4812.\nRollback suggested.")
	require.NoError(t, err)
	require.True(t, added)
	added, err = b.client.Comment(ctx, iss.Key, "diag-1", "Likely cause: deploy 4812.\nRollback suggested.")
	require.NoError(t, err)
	require.False(t, added, "the same note is not commented twice")

	b.srv.Fail(jiratest.RouteAddComment, jiratest.Fault{LoseResponse: true})
	added, err = b.client.Comment(ctx, iss.Key, "diag-2", "Rollback done; error rate back to 0.1%.")
	require.NoError(t, err)
	require.True(t, added)

	stored, _ := b.srv.Issue(iss.Key)
	require.Len(t, stored.Comments, 2, "the lost response did not duplicate the comment")
	require.Equal(t, "Likely cause: deploy 4812.\nRollback suggested.", stored.Comments[0].Text)
	var prop struct{ Note string }
	require.NoError(t, json.Unmarshal(stored.Comments[1].Properties[jira.PropertyKey], &prop))
	require.Equal(t, "diag-2", prop.Note)
	require.Len(t, b.srv.Requests(jiratest.RouteAddComment), 2)
}

func TestSetStateTransitions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	iss, _, err := b.client.FindOrCreate(ctx, newIssue())
	require.NoError(t, err)

	moved, err := b.client.SetState(ctx, iss.Key, ticket.Acknowledged)
	require.NoError(t, err)
	require.True(t, moved)
	stored, _ := b.srv.Issue(iss.Key)
	require.Equal(t, "In Progress", stored.Status.Name)

	moved, err = b.client.Resolve(ctx, iss.Key)
	require.NoError(t, err)
	require.True(t, moved)
	stored, _ = b.srv.Issue(iss.Key)
	require.Equal(t, "Done", stored.Status.Name)
	posts := b.srv.Requests(jiratest.RouteDoTransition)
	require.JSONEq(t, `{"transition":{"id":"31"}}`, string(posts[len(posts)-1].Body))

	moved, err = b.client.Resolve(ctx, iss.Key)
	require.NoError(t, err)
	require.False(t, moved, "already resolved")
	require.Len(t, b.srv.Requests(jiratest.RouteDoTransition), 2)

	got, err := b.client.Get(ctx, iss.Key)
	require.NoError(t, err)
	require.Equal(t, ticket.Resolved, got.State)
	require.Equal(t, "done", got.StatusCategory)
}

func TestSetStateAfterALostResponseTransitionsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	key := b.srv.AddIssue("x")
	b.srv.Fail(jiratest.RouteDoTransition, jiratest.Fault{LoseResponse: true})

	moved, err := b.client.Resolve(context.Background(), key)
	require.NoError(t, err)
	require.True(t, moved)
	require.Len(t, b.srv.Requests(jiratest.RouteDoTransition), 1)
	stored, _ := b.srv.Issue(key)
	require.Equal(t, "Done", stored.Status.Name)
}

func TestSetStateByConfiguredStatusName(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *jira.Config) {
		c.Statuses = map[ticket.State]string{ticket.Resolved: "Closed"}
	})
	key := b.srv.AddIssue("x")

	_, err := b.client.Resolve(context.Background(), key)
	require.ErrorIs(t, err, jira.ErrNoTransition)
	require.Empty(t, b.srv.Requests(jiratest.RouteDoTransition))
}

func TestStateOf(t *testing.T) {
	t.Parallel()
	overrides := map[string]ticket.State{"waiting for vendor": ticket.Open}
	for _, tc := range []struct {
		status, category string
		want             ticket.State
	}{
		{"To Do", "new", ticket.Open},
		{"In Progress", "indeterminate", ticket.Acknowledged},
		{"Done", "done", ticket.Resolved},
		{"Won't Do", "done", ticket.Resolved},
		{"Waiting for Vendor", "indeterminate", ticket.Open},
		{"Limbo", "undefined", ""},
		{"Unknown", "", ""},
	} {
		require.Equal(t, tc.want, jira.StateOf(tc.status, tc.category, overrides), tc.status)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	good := jira.Config{BaseURL: "https://example.atlassian.net", Email: "a@example.com", APIToken: "tok", Project: "OPS"}
	require.NoError(t, good.Validate())
	for name, edit := range map[string]func(*jira.Config){
		"no base URL":         func(c *jira.Config) { c.BaseURL = "" },
		"credentials in URL":  func(c *jira.Config) { c.BaseURL = "https://a:secret@example.atlassian.net" },
		"no token":            func(c *jira.Config) { c.APIToken = "" },
		"both auths":          func(c *jira.Config) { c.BearerToken = "x" },
		"lower-case project":  func(c *jira.Config) { c.Project = "ops" },
		"label with space":    func(c *jira.Config) { c.Labels = []string{"a b"} },
		"bad state override":  func(c *jira.Config) { c.States = map[string]ticket.State{"Done": "closed"} },
		"bad backoff":         func(c *jira.Config) { c.InitialBackoff = time.Minute; c.MaxBackoff = time.Second },
		"negative timeout":    func(c *jira.Config) { c.Timeout = -1 },
		"bad status override": func(c *jira.Config) { c.Statuses = map[ticket.State]string{"x": "Done"} },
	} {
		c := good
		edit(&c)
		err := c.Validate()
		require.Error(t, err, name)
		require.False(t, strings.Contains(err.Error(), "secret"), name)
	}
	_, err := jira.New(jira.Config{})
	require.Error(t, err)
	require.False(t, errors.Is(err, ticket.ErrUnauthorized))
}
