package e2e_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/structpb"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/services/actions/runbook"
)

// TestAWXLaunchCompletesOnceAcrossWorkerKill kills a real `alexus actions`
// process with SIGKILL after AWX launched the job template but before the
// launch's answer reached the worker, restarts it, and shows that AWX ran
// one job: the launch carried the action's ID as the extra variable
// alexus_action_id, and the rescued job lists the template's jobs before
// launching, finds that job by the marker and records it. 1,000 duplicate
// ExecuteAction calls before, during and after the kill name one action.
// killRig.runKill describes the kill and the rescue.
func TestAWXLaunchCompletesOnceAcrossWorkerKill(t *testing.T) {
	t.Parallel()
	rig := newKillRig(t, provision.TenantOptions{})

	// AWX, which launches the first job and then never answers the launch.
	awx := newStandInAWX(t, "7", "awx-token")
	require.NoError(t, provision.SetRunbook(rig.acme, rig.pg.DB, rig.keys, provision.Runbook{
		Name: "scale", Kind: provision.RunbookAWX, URL: awx.srv.URL, Job: "7", Credential: []byte("awx-token"),
		Schema: json.RawMessage(`{"type": "object", "properties": {"service": {"type": "string"}, "replicas": {"type": "integer", "minimum": 1}},
			"required": ["service", "replicas"], "additionalProperties": false}`),
	}))

	plane, cc := rig.startablePlane(t,
		// Long enough that the held launch cannot time out before the kill.
		"ALEXUS_ACTIONS_RUNBOOK_TIMEOUT=60s",
		"ALEXUS_ACTIONS_WORKERS=2",
		"ALEXUS_ACTIONS_RUNBOOK_WORKERS=2",
	)
	client := actionsv1.NewActionServiceClient(cc)
	params, err := structpb.NewStruct(map[string]any{"service": "checkout", "replicas": 3})
	require.NoError(t, err)
	incidentID := "3b9e4c1a-7f0d-4c55-8f3e-2a6d9b1c0e42"
	calls := &duplicateCalls{client: client, ctx: rig.acme, req: &actionsv1.ExecuteActionRequest{
		IdempotencyKey: "incident/" + incidentID + "/runbook/scale",
		IncidentId:     incidentID,
		Kind:           actionsv1.ActionKind_ACTION_KIND_RUNBOOK,
		Reason:         "scale checkout out",
		Params:         &actionsv1.ExecuteActionRequest_Runbook{Runbook: &actionsv1.RunbookParams{Target: "scale", Params: params}},
	}}
	runbookKind := runbook.Args{}.Kind()

	// First life: the job launches the template, and AWX holds the answer
	// until the plane is dead. Second life: the rescued job finds the
	// launched job by the marker.
	actionID, jobID := rig.runKill(t, killScenario{
		plane:  plane,
		health: healthpb.NewHealthClient(cc),
		calls:  calls,
		kind:   runbookKind,
		held:   awx.held,
		afterKill: func() {
			select {
			case <-awx.abandoned:
			case <-time.After(rescueWait):
				t.Fatal("the held launch's connection outlived the killed plane")
			}
		},
		firstLife: func() {
			launches, lists := awx.counts()
			require.Equal(t, 1, launches, "AWX launched the job")
			require.Zero(t, lists, "a first attempt does not look for an earlier launch")
		},
	})
	result := rig.requireCompletedOnce(t, calls, runbookKind, actionID, jobID)

	// AWX ran one job, the one the killed run launched, marked with the
	// action; the rescued run listed the template's jobs once instead of
	// launching.
	jobs := awx.launched()
	require.Len(t, jobs, 1, "one launch, though the action ran in two lives")
	var vars map[string]any
	require.NoError(t, json.Unmarshal([]byte(jobs[0].ExtraVars), &vars))
	require.Equal(t, map[string]any{"service": "checkout", "replicas": float64(3), "alexus_action_id": actionID}, vars)
	launches, lists := awx.counts()
	require.Equal(t, 1, launches)
	require.Equal(t, 1, lists, "the rescued run looked for the earlier launch once")

	want := fmt.Sprintf("awx job %d (launched by an earlier attempt, whose answer was lost)", jobs[0].ID)
	require.Equal(t, want, result)
	got, err := client.GetAction(rig.acme, &actionsv1.GetActionRequest{Id: actionID})
	require.NoError(t, err)
	require.Equal(t, actionsv1.ActionStatus_ACTION_STATUS_SUCCEEDED, got.GetAction().GetStatus())
	require.Equal(t, want, got.GetAction().GetResult())
}

// awxStandInJob is a job the stand-in AWX launched.
type awxStandInJob struct {
	ID        int
	Created   time.Time
	ExtraVars string // as AWX keeps it: a JSON text
}

// standInAWX speaks AWX's API v2 for one job template: the launch (POST
// /api/v2/job_templates/<id>/launch/ with {"extra_vars": {...}}, answered
// 201 with the job) and the template's job list (GET
// /api/v2/job_templates/<id>/jobs/, filtered by created__gte, ordered by
// -id, paged by page and page_size with a "next" path), both with an
// OAuth2 Bearer token. Like AWX it launches every launch it gets, without
// deduplicating. It records the first launch's job and then never answers
// that launch: it holds the request until the client goes away.
type standInAWX struct {
	srv       *httptest.Server
	template  string
	token     string
	held      chan struct{} // closed once the first launch is recorded and held
	abandoned chan struct{} // closed once the held launch's client went away
	stop      chan struct{} // closed when the test ends

	mu       sync.Mutex
	jobs     []awxStandInJob
	launches int
	lists    int
}

func newStandInAWX(t *testing.T, template, token string) *standInAWX {
	t.Helper()
	a := &standInAWX{template: template, token: token,
		held: make(chan struct{}), abandoned: make(chan struct{}), stop: make(chan struct{})}
	a.srv = httptest.NewServer(a)
	// Cleanups run last first: the held launch ends before Close waits
	// for it.
	t.Cleanup(a.srv.Close)
	t.Cleanup(func() { close(a.stop) })
	return a
}

// AWX's page sizes: the default, and the largest page_size it honours.
const (
	awxDefaultPageSize = 25
	awxMaxPageSize     = 200
)

func (a *standInAWX) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer "+a.token {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"detail": "Authentication credentials were not provided. To establish a login session, visit /api/login/."}`)
		return
	}
	base := "/api/v2/job_templates/" + a.template + "/"
	switch {
	case r.Method == http.MethodPost && r.URL.Path == base+"launch/":
		a.launch(w, r)
	case r.Method == http.MethodGet && r.URL.Path == base+"jobs/":
		a.list(w, r)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"detail": "Not found."}`)
	}
}

func (a *standInAWX) launch(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ExtraVars map[string]any `json:"extra_vars"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `{"detail": %q}`, "JSON parse error - "+err.Error())
		return
	}
	if body.ExtraVars == nil {
		body.ExtraVars = map[string]any{}
	}
	vars, _ := json.Marshal(body.ExtraVars)
	a.mu.Lock()
	job := awxStandInJob{ID: 42 + len(a.jobs), Created: time.Now().UTC(), ExtraVars: string(vars)}
	a.jobs = append(a.jobs, job)
	a.launches++
	first := a.launches == 1
	a.mu.Unlock()
	if first {
		// AWX launched the job; its answer never leaves.
		close(a.held)
		select {
		case <-r.Context().Done():
			close(a.abandoned)
		case <-a.stop:
		}
		return
	}
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"job": job.ID, "ignored_fields": map[string]any{}, "id": job.ID, "type": "job",
		"url": fmt.Sprintf("/api/v2/jobs/%d/", job.ID), "status": "pending", "extra_vars": job.ExtraVars,
	})
}

func (a *standInAWX) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	bad := func(field, msg string) {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{field: []string{msg}})
	}
	var since time.Time
	if s := q.Get("created__gte"); s != "" {
		var err error
		if since, err = time.Parse(time.RFC3339Nano, s); err != nil {
			bad("created__gte", "Enter a valid date/time.")
			return
		}
	}
	if o := q.Get("order_by"); o != "" && o != "-id" && o != "id" {
		bad("detail", "order_by "+o+" is not supported by the stand-in")
		return
	}
	size := awxDefaultPageSize
	if s := q.Get("page_size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			bad("detail", "Invalid page size.")
			return
		}
		size = min(n, awxMaxPageSize)
	}
	page := 1
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"detail": "Invalid page."}`)
			return
		}
		page = n
	}

	a.mu.Lock()
	a.lists++
	var matched []awxStandInJob
	for _, j := range a.jobs {
		if !j.Created.Before(since) {
			matched = append(matched, j)
		}
	}
	a.mu.Unlock()
	slices.SortFunc(matched, func(x, y awxStandInJob) int { return x.ID - y.ID })
	if q.Get("order_by") == "-id" {
		slices.Reverse(matched)
	}
	from := min((page-1)*size, len(matched))
	to := min(from+size, len(matched))
	if page > 1 && from >= len(matched) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"detail": "Invalid page."}`)
		return
	}
	link := func(p int) any {
		if p < 1 || (p-1)*size >= len(matched) {
			return nil
		}
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("page", strconv.Itoa(p))
		return r.URL.Path + "?" + v.Encode()
	}
	results := make([]map[string]any, 0, to-from)
	for _, j := range matched[from:to] {
		results = append(results, map[string]any{
			"id": j.ID, "type": "job", "url": fmt.Sprintf("/api/v2/jobs/%d/", j.ID),
			"created": j.Created.Format("2006-01-02T15:04:05.000000Z"), "name": "scale-service",
			"job_type": "run", "launch_type": "manual", "status": "running", "failed": false,
			"job_template": json.Number(a.template), "extra_vars": j.ExtraVars,
		})
	}
	var prev any
	if page > 1 {
		prev = link(page - 1)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"count": len(matched), "next": link(page + 1), "previous": prev, "results": results,
	})
}

// counts returns how many launches and job lists the stand-in answered.
func (a *standInAWX) counts() (launches, lists int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.launches, a.lists
}

// launched returns the jobs the stand-in launched.
func (a *standInAWX) launched() []awxStandInJob {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.jobs)
}
