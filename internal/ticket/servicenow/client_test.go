package servicenow_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/internal/ticket/servicenow"
	"github.com/alexus-platform/alexus/internal/ticket/servicenow/sntest"
	"github.com/alexus-platform/alexus/internal/ticket/tickettest"
)

type bundle struct {
	srv    *sntest.Server
	client *servicenow.Client
}

func setup(t *testing.T, edit ...func(*servicenow.Config)) bundle {
	t.Helper()
	srv := sntest.New(t)
	cfg := servicenow.Config{BaseURL: srv.URL, Username: sntest.Username, Password: sntest.Password, Options: tickettest.Fast}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := servicenow.New(cfg)
	require.NoError(t, err)
	return bundle{srv: srv, client: c}
}

func newIncident() servicenow.NewIncident {
	return servicenow.NewIncident{
		Hash:             "9f86d081884c7d65",
		ShortDescription: "checkout-api: error rate above 5% for 10m",
		Description:      "Error rate 7.2% on checkout-api since 11:31 UTC. Deploy 4812 went out at 11:29.",
		Urgency:          1,
		Impact:           2,
	}
}

func TestFindOrCreateOpensTheRecordOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	inc, created, err := b.client.FindOrCreate(ctx, newIncident())
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, "INC0010001", inc.Number)
	require.Equal(t, "alexus-9f86d081884c7d65", inc.Marker)
	require.Equal(t, ticket.Open, inc.AlexusState)
	require.Equal(t, "New", inc.StateLabel)

	rec, ok := b.srv.Record(inc.SysID)
	require.True(t, ok)
	require.Equal(t, "1", rec.Fields["urgency"])
	require.Equal(t, "2", rec.Fields["impact"])
	require.Equal(t, "Alexus", rec.Fields["correlation_display"])
	require.Equal(t, sntest.Username, rec.Fields["sys_created_by"])

	q := b.srv.Requests(sntest.RouteQuery)[0]
	require.Contains(t, q.Query, "sysparm_query=correlation_id%3Dalexus-9f86d081884c7d65%5EORDERBYsys_created_on")
	require.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte(sntest.Username+":"+sntest.Password)), q.Authorization)

	again, created, err := b.client.FindOrCreate(ctx, newIncident())
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, inc.SysID, again.SysID)
	require.Len(t, b.srv.Records(), 1)
}

func TestCreateAfterALostResponseOpensOneRecord(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.srv.Fail(sntest.RouteCreate, sntest.Fault{LoseResponse: true})

	inc, created, err := b.client.FindOrCreate(context.Background(), newIncident())
	require.NoError(t, err)
	require.True(t, created)
	require.Len(t, b.srv.Records(), 1, "exactly one record")
	require.Equal(t, b.srv.Records()[0].SysID(), inc.SysID)
	require.Len(t, b.srv.Requests(sntest.RouteCreate), 1, "the create was not sent again")
	require.Len(t, b.srv.Requests(sntest.RouteQuery), 2)
}

func TestCreateRetriesOn429And5xxAndTimeouts(t *testing.T) {
	t.Parallel()
	var waits tickettest.Waits
	b := setup(t, func(c *servicenow.Config) { c.OnRetry = waits.Note })
	b.srv.Fail(sntest.RouteCreate,
		sntest.Fault{Status: http.StatusTooManyRequests, RetryAfter: time.Second},
		sntest.Fault{Status: http.StatusInternalServerError},
		sntest.Fault{Hang: true})

	_, created, err := b.client.FindOrCreate(context.Background(), newIncident())
	require.NoError(t, err)
	require.True(t, created)
	all := waits.All()
	require.Len(t, all, 3, "one wait before each retry")
	require.Equal(t, 50*time.Millisecond, all[0], "Retry-After, capped at MaxRetryAfter, was honoured")
	require.Len(t, b.srv.Records(), 1)
	require.Len(t, b.srv.Requests(sntest.RouteCreate), 4)
}

func TestFindPicksTheOldestOfDuplicates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.srv.AddRecord("jane.operator", map[string]string{"correlation_id": "alexus-9f86d081884c7d65"})
	b.srv.AddRecord("jane.operator", map[string]string{"correlation_id": "alexus-9f86d081884c7d65"})

	inc, ok, err := b.client.Find(context.Background(), "9f86d081884c7d65")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, first, inc.SysID)
}

func TestNoRetryOn401AndNoCredentialsInTheError(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *servicenow.Config) { c.Password = "wrong-Passw0rd" })

	_, _, err := b.client.FindOrCreate(context.Background(), newIncident())
	require.ErrorIs(t, err, ticket.ErrUnauthorized)
	require.Contains(t, err.Error(), "User Not Authenticated: Required to provide Auth information")
	require.NotContains(t, err.Error(), "wrong-Passw0rd")
	require.Len(t, b.srv.Requests(), 1)
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *servicenow.Config) { c.Password, c.BearerToken = "", "oauth-access-token" })
	b.srv.AcceptBearer("oauth-access-token")

	_, _, err := b.client.FindOrCreate(context.Background(), newIncident())
	require.NoError(t, err)
	require.Equal(t, "Bearer oauth-access-token", b.srv.Requests()[0].Authorization)
}

func TestRateLimitedAndTimeoutPastRetries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.srv.AddRecord("jane.operator", nil)

	r := sntest.Fault{Status: http.StatusTooManyRequests, RetryAfter: time.Second}
	b.srv.Fail(sntest.RouteGet, r, r, r, r)
	_, err := b.client.Get(context.Background(), id)
	require.ErrorIs(t, err, ticket.ErrRateLimited)
	require.Contains(t, err.Error(), "Rate limit exceeded")

	h := sntest.Fault{Hang: true}
	b.srv.Fail(sntest.RouteGet, h, h, h, h)
	_, err = b.client.Get(context.Background(), id)
	require.ErrorIs(t, err, ticket.ErrTimeout)
	require.Len(t, b.srv.Requests(sntest.RouteGet), 8)
}

func TestGetNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.client.Get(context.Background(), strings.Repeat("0", 32))
	require.ErrorIs(t, err, ticket.ErrNotFound)
	require.Contains(t, err.Error(), "No Record found")
	require.Len(t, b.srv.Requests(), 1)

	_, err = b.client.Get(context.Background(), "../sys_user")
	require.Error(t, err)
	require.Len(t, b.srv.Requests(), 1, "a bad sys_id is refused before any call")
}

func TestWorkNoteOncePerNote(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	inc, _, err := b.client.FindOrCreate(ctx, newIncident())
	require.NoError(t, err)

	added, err := b.client.WorkNote(ctx, inc.SysID, "diag-1", "Likely cause: deploy 4812.")
	require.NoError(t, err)
	require.True(t, added)
	added, err = b.client.WorkNote(ctx, inc.SysID, "diag-1", "Likely cause: deploy 4812.")
	require.NoError(t, err)
	require.False(t, added)

	b.srv.Fail(sntest.RouteUpdate, sntest.Fault{LoseResponse: true})
	added, err = b.client.WorkNote(ctx, inc.SysID, "diag-2", "Rolled back; error rate 0.1%.")
	require.NoError(t, err)
	require.True(t, added)

	rec, _ := b.srv.Record(inc.SysID)
	require.Len(t, rec.WorkNotes, 2, "the lost response did not duplicate the note")
	require.Equal(t, "Likely cause: deploy 4812.\n\n[alexus note diag-1]", rec.WorkNotes[0].Value)
	require.Len(t, b.srv.Requests(sntest.RouteUpdate), 2)
}

func TestSetStateAndResolve(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *servicenow.Config) { c.CloseCode = "Workaround provided" })
	ctx := context.Background()
	inc, _, err := b.client.FindOrCreate(ctx, newIncident())
	require.NoError(t, err)

	got, changed, err := b.client.SetState(ctx, inc.SysID, ticket.Acknowledged, "")
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, "2", got.State)
	require.Equal(t, int64(1), got.Version)
	require.Equal(t, sntest.Username, got.UpdatedBy)

	_, err = func() (servicenow.Incident, error) {
		i, _, err := b.client.Resolve(ctx, inc.SysID, "")
		return i, err
	}()
	require.Error(t, err, "ServiceNow needs close notes to resolve")

	got, changed, err = b.client.Resolve(ctx, inc.SysID, "Rolled back deploy 4812.")
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, ticket.Resolved, got.AlexusState)
	rec, _ := b.srv.Record(inc.SysID)
	require.Equal(t, "6", rec.Fields["state"])
	require.Equal(t, "Workaround provided", rec.Fields["close_code"])
	require.Equal(t, "Rolled back deploy 4812.", rec.Fields["close_notes"])

	_, changed, err = b.client.Resolve(ctx, inc.SysID, "again")
	require.NoError(t, err)
	require.False(t, changed)
	require.Len(t, b.srv.Requests(sntest.RouteUpdate), 2)

	read, err := b.client.Get(ctx, inc.SysID)
	require.NoError(t, err)
	require.Equal(t, got, read)
}

func TestSetStateRetriesALostResponse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.srv.AddRecord("jane.operator", nil)
	b.srv.Fail(sntest.RouteUpdate, sntest.Fault{LoseResponse: true})

	got, changed, err := b.client.SetState(context.Background(), id, ticket.Acknowledged, "")
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, "2", got.State)
}

func TestDataPolicyErrorIsReported(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Bypass the client's own check to see the instance's answer.
	srv := b.srv
	id := srv.AddRecord("jane.operator", nil)
	req, err := http.NewRequest(http.MethodPatch, srv.URL+"/api/now/table/incident/"+id, strings.NewReader(`{"state":"6"}`))
	require.NoError(t, err)
	req.SetBasicAuth(sntest.Username, sntest.Password)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	var body struct {
		Error  struct{ Message, Detail string }
		Status string
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.Equal(t, "failure", body.Status)
	require.Contains(t, body.Error.Detail, "Data Policy Exception")
}

func TestStateMapping(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]ticket.State{
		"1": ticket.Open, "2": ticket.Acknowledged, "3": ticket.Acknowledged,
		"6": ticket.Resolved, "7": ticket.Resolved, "8": ticket.Resolved, "4": "", "": "",
	} {
		require.Equal(t, want, servicenow.StateOf(code), code)
	}
	for _, s := range []ticket.State{ticket.Open, ticket.Acknowledged, ticket.Resolved} {
		require.Equal(t, s, servicenow.StateOf(servicenow.CodeOf(s)), "Alexus's writes read back as themselves")
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	good := servicenow.Config{BaseURL: "https://example.service-now.com", Username: "u", Password: "p"}
	require.NoError(t, good.Validate())
	for name, edit := range map[string]func(*servicenow.Config){
		"no base URL":        func(c *servicenow.Config) { c.BaseURL = "" },
		"credentials in URL": func(c *servicenow.Config) { c.BaseURL = "https://u:secret@example.service-now.com" },
		"ftp":                func(c *servicenow.Config) { c.BaseURL = "ftp://example.service-now.com" },
		"no password":        func(c *servicenow.Config) { c.Password = "" },
		"both auths":         func(c *servicenow.Config) { c.BearerToken = "t" },
		"bad group":          func(c *servicenow.Config) { c.AssignmentGroup = "Network" },
		"negative retries":   func(c *servicenow.Config) { c.MaxRetryAfter = -time.Second },
	} {
		c := good
		edit(&c)
		err := c.Validate()
		require.Error(t, err, name)
		require.NotContains(t, err.Error(), "secret", name)
	}
}
