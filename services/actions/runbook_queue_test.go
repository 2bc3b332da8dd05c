package actions_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/services/actions/action"
	"github.com/alexus-platform/alexus/services/actions/sweep"
)

// A runbook action goes through the whole path: its parameters checked
// against the runbook's schema, recorded with its audit entry and job, the
// job worked on the runbook queue, the AWX job template launched, and the
// AWX job's ID readable through GetAction. Parameters that break the
// schema are refused with INVALID_ARGUMENT and nothing is stored. The
// sweep of dead actions is scheduled on start.
func TestRunbookActionRunsOnItsOwnQueue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme")
	var (
		mu   sync.Mutex
		body []byte
	)
	awx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		body, _ = io.ReadAll(r.Body)
		mu.Unlock()
		if r.URL.Path != "/api/v2/job_templates/7/launch/" || r.Header.Get("Authorization") != "Bearer awx-token" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"job": 42, "ignored_fields": {}, "id": 42, "type": "job", "url": "/api/v2/jobs/42/", "status": "pending"}`)
	}))
	t.Cleanup(awx.Close)
	require.NoError(t, provision.SetRunbook(as("acme"), b.db, b.keys, provision.Runbook{
		Name: "scale", Kind: provision.RunbookAWX, URL: awx.URL, Job: "7", Credential: []byte("awx-token"),
		Schema: json.RawMessage(`{"type": "object", "properties": {"service": {"type": "string"}, "replicas": {"type": "integer", "minimum": 1}}, "required": ["service", "replicas"], "additionalProperties": false}`),
	}))

	request := func(key string, params map[string]any) *actionsv1.ExecuteActionRequest {
		s, err := structpb.NewStruct(params)
		require.NoError(t, err)
		return &actionsv1.ExecuteActionRequest{
			IdempotencyKey: key,
			Kind:           actionsv1.ActionKind_ACTION_KIND_RUNBOOK,
			Reason:         "scale checkout out",
			Params:         &actionsv1.ExecuteActionRequest_Runbook{Runbook: &actionsv1.RunbookParams{Target: "scale", Params: s}},
		}
	}
	_, err := b.client.ExecuteAction(as("acme"), request("bad", map[string]any{"service": "checkout", "replicas": 0}))
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	require.Contains(t, status.Convert(err).Message(), `params of runbook "scale" break its schema: $.replicas: below minimum 1`)
	require.Zero(t, b.countActions(t, "acme"), "nothing stored")

	resp, err := b.client.ExecuteAction(as("acme"), request("good", map[string]any{"service": "checkout", "replicas": 3}))
	require.NoError(t, err)
	require.Equal(t, actionsv1.ActionKind_ACTION_KIND_RUNBOOK, resp.GetAction().GetKind())
	require.Equal(t, "scale", resp.GetAction().GetTarget())
	id := resp.GetAction().GetId()

	b.waitStatus(t, "acme", id, action.StatusSucceeded)
	got, err := b.client.GetAction(as("acme"), &actionsv1.GetActionRequest{Id: id})
	require.NoError(t, err)
	require.Equal(t, "HTTP 201; awx job 42", got.GetAction().GetResult())
	mu.Lock()
	require.JSONEq(t, `{"extra_vars": {"service": "checkout", "replicas": 3, "alexus_action_id": "`+id+`"}}`, string(body))
	mu.Unlock()
	require.Equal(t, []string{action.EventSucceeded, action.EventRequested}, eventNames(b.events(t, "acme", "action/"+id)))

	list, err := b.client.ListActions(as("acme"), &actionsv1.ListActionsRequest{Kind: actionsv1.ActionKind_ACTION_KIND_RUNBOOK})
	require.NoError(t, err)
	require.Len(t, list.GetActions(), 1)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var runbookJobs, sweeps int
		err := b.db.Pool().QueryRow(context.Background(), `
			SELECT count(*) FILTER (WHERE queue = 'runbook' AND state = 'completed'),
				count(*) FILTER (WHERE kind = $1 AND state = 'completed')
			FROM river_job`, sweep.Args{}.Kind()).Scan(&runbookJobs, &sweeps)
		assert.NoError(c, err)
		assert.Equal(c, 1, runbookJobs)
		assert.GreaterOrEqual(c, sweeps, 1, "the sweep ran on start")
	}, waitFor, tick)
}
