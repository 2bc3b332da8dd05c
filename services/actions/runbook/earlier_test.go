package runbook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/services/actions/action"
	"github.com/alexus-platform/alexus/services/actions/runbook"
)

// reply replaces the answers the stand-in has still to give: a test that
// needs the action's ID in an answer sets them once the action exists.
func (s *server) reply(answers ...answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers = answers
}

// all returns what the stand-in received, in order.
func (s *server) all() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.requests...)
}

// posts counts the requests that could have launched something.
func (s *server) posts() int {
	n := 0
	for _, r := range s.all() {
		if r.method == http.MethodPost {
			n++
		}
	}
	return n
}

// earlierSuffix is how a result says the launch it names was found, not
// made.
const earlierSuffix = " (launched by an earlier attempt, whose answer was lost)"

// clockSkew is how far before the action's creation the AWX search
// reaches, for an AWX whose clock runs behind ours.
const clockSkew = 5 * time.Minute

// awxJob is one result of AWX's job list (GET
// /api/v2/job_templates/<id>/jobs/): AWX serializes a job's extra_vars as
// a JSON string, not an object.
func awxJob(id int, created time.Time, vars map[string]any) map[string]any {
	ev, err := json.Marshal(vars)
	if err != nil {
		panic(err)
	}
	return map[string]any{
		"id": id, "type": "job", "url": fmt.Sprintf("/api/v2/jobs/%d/", id),
		"related":        map[string]any{"job_template": "/api/v2/job_templates/7/"},
		"summary_fields": map[string]any{"job_template": map[string]any{"id": 7, "name": "scale-service"}},
		"created":        created.UTC().Format("2006-01-02T15:04:05.000000Z"),
		"name":           "scale-service", "description": "", "job_type": "run", "launch_type": "manual",
		"status": "successful", "failed": false, "job_template": 7, "playbook": "scale.yml",
		"extra_vars": string(ev),
	}
}

// awxPage is a page of AWX's job list; next is the next page's path, or
// "" on the last page (AWX says null).
func awxPage(count int, next string, results []map[string]any) answer {
	page := map[string]any{"count": count, "next": nil, "previous": nil, "results": results}
	if next != "" {
		page["next"] = next
	}
	body, err := json.Marshal(page)
	if err != nil {
		panic(err)
	}
	return answer{status: 200, body: string(body)}
}

// otherAWXJobs are n jobs of the template launched for other actions (and,
// every third, by hand, without a marker), IDs from first down.
func otherAWXJobs(n, first int, created time.Time) []map[string]any {
	jobs := make([]map[string]any, 0, n)
	for k := range n {
		vars := map[string]any{"service": "payments", "replicas": 2, "alexus_action_id": uuid.NewString()}
		if k%3 == 2 {
			vars = map[string]any{}
		}
		jobs = append(jobs, awxJob(first-k, created.Add(time.Duration(n-k)*time.Second), vars))
	}
	return jobs
}

// rundeckExecutions is Rundeck's execution list of a job (GET
// /api/<v>/job/<id>/executions, API v41 JSON), newest first; each
// execution's argstring is how Rundeck shows the options it ran with.
func rundeckExecutions(argstrings map[int]string, ids ...int) answer {
	execs := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		execs = append(execs, map[string]any{
			"id":           id,
			"href":         fmt.Sprintf("https://rundeck.example/api/41/execution/%d", id),
			"permalink":    fmt.Sprintf("https://rundeck.example/project/ops/execution/show/%d", id),
			"status":       "succeeded",
			"project":      "ops",
			"user":         "alexus",
			"date-started": map[string]any{"unixtime": 1796000000000, "date": "2026-11-29T10:00:00Z"},
			"job":          map[string]any{"id": "3f1c9a2e-job", "name": "restart-service", "group": "", "project": "ops"},
			"description":  "restart",
			"argstring":    argstrings[id],
		})
	}
	body, err := json.Marshal(map[string]any{
		"paging":     map[string]any{"count": len(execs), "total": len(execs), "offset": 0, "max": 200},
		"executions": execs,
	})
	if err != nil {
		panic(err)
	}
	return answer{status: 200, body: string(body)}
}

// requireAWXList checks that r lists template 7's jobs with the token.
func requireAWXList(t *testing.T, r request) {
	t.Helper()
	require.Equal(t, http.MethodGet, r.method)
	require.Equal(t, "/api/v2/job_templates/7/jobs/", r.path)
	require.Equal(t, "Bearer awx-token", r.header.Get("Authorization"))
	require.Equal(t, "application/json", r.header.Get("Accept"))
}

// requireAWXLaunch checks that r launches template 7 for a, carrying the
// marker.
func requireAWXLaunch(t *testing.T, r request, a action.Action) {
	t.Helper()
	require.Equal(t, http.MethodPost, r.method)
	require.Equal(t, "/api/v2/job_templates/7/launch/", r.path)
	require.Equal(t, "Bearer awx-token", r.header.Get("Authorization"))
	var body struct {
		ExtraVars map[string]any `json:"extra_vars"`
	}
	require.NoError(t, json.Unmarshal(r.body, &body))
	require.Equal(t, a.ID, body.ExtraVars["alexus_action_id"], "the launch carries the marker")
}

// A retried AWX launch whose earlier attempt's job is on AWX is recorded
// as done, naming that job, and nothing is launched: whether the job is on
// the first page of the template's jobs or on the second, reached through
// AWX's "next" link (a path).
func TestRetriedAWXLaunchFindsTheEarlierJob(t *testing.T) {
	t.Parallel()
	require.Equal(t, "alexus_action_id", runbook.MarkerVar, "the marker's name is the documented wire format")

	t.Run("first page", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		awx := newServer(t, answer{status: 500, body: "no answer set"})
		b.register(t, "scale", provision.RunbookAWX, awx)
		a := b.execute(t, "k1", "scale", `{"service": "checkout", "replicas": 3}`)
		jobs := append(otherAWXJobs(4, 45, a.CreatedAt.Add(time.Minute)),
			awxJob(41, a.CreatedAt.Add(time.Second), map[string]any{"service": "checkout", "replicas": 3, "alexus_action_id": a.ID}),
			awxJob(40, a.CreatedAt.Add(-time.Minute), map[string]any{"service": "checkout", "alexus_action_id": uuid.NewString()}))
		awx.reply(awxPage(len(jobs), "", jobs), answer{status: 201, body: awxLaunch})

		require.NoError(t, b.worker.Work(context.Background(), job(a, 2)))
		got := b.get(t, a.ID)
		require.Equal(t, action.StatusSucceeded, got.Status)
		require.Equal(t, "awx job 41"+earlierSuffix, got.Result)
		reqs := awx.all()
		require.Len(t, reqs, 1, "one page read, no launch")
		requireAWXList(t, reqs[0])
		require.Zero(t, awx.posts())
	})

	t.Run("second page through next", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		awx := newServer(t, answer{status: 500, body: "no answer set"})
		b.register(t, "scale", provision.RunbookAWX, awx)
		a := b.execute(t, "k1", "scale", `{"service": "checkout", "replicas": 3}`)

		// This AWX's MAX_PAGE_SIZE is 20 (the default is 200): it clamps
		// the page_size asked for and pages by 20. The earlier job (41)
		// was launched right after the action was made; 29 other launches
		// of the template followed, so AWX lists it on the second page,
		// newest first.
		since := a.CreatedAt.Add(-clockSkew).UTC().Format(time.RFC3339)
		next := "/api/v2/job_templates/7/jobs/?" + url.Values{
			"created__gte": {since}, "order_by": {"-id"}, "page": {"2"}, "page_size": {"200"},
		}.Encode()
		second := append(otherAWXJobs(9, 50, a.CreatedAt.Add(time.Second)),
			awxJob(41, a.CreatedAt.Add(time.Second), map[string]any{"service": "checkout", "replicas": 3, "alexus_action_id": a.ID}))
		awx.reply(
			awxPage(30, next, otherAWXJobs(20, 70, a.CreatedAt.Add(time.Minute))),
			awxPage(30, "", second),
			answer{status: 201, body: awxLaunch},
		)

		require.NoError(t, b.worker.Work(context.Background(), job(a, 2)))
		got := b.get(t, a.ID)
		require.Equal(t, action.StatusSucceeded, got.Status)
		require.Equal(t, "awx job 41"+earlierSuffix, got.Result)

		reqs := awx.all()
		require.Len(t, reqs, 2, "two pages read, no launch")
		for _, r := range reqs {
			requireAWXList(t, r)
		}
		first := reqs[0].query
		require.Equal(t, since, first.Get("created__gte"), "launches from a little before the action on")
		require.Equal(t, "-id", first.Get("order_by"))
		require.Equal(t, "200", first.Get("page_size"))
		require.Empty(t, first.Get("page"))
		wantNext, err := url.ParseQuery(next[len("/api/v2/job_templates/7/jobs/?"):])
		require.NoError(t, err)
		require.Equal(t, wantNext, reqs[1].query, "the second page is the one AWX's next link names")
		require.Zero(t, awx.posts())
	})
}

// The search asks for pages of 200 (AWX's page_size=200, at its default
// MAX_PAGE_SIZE; Rundeck's max=200, which lists the job's whole recent
// history, not only launches since the action), and must read such a page
// whole: a busy template or job answers well over 64 KiB. Here the earlier
// launch is in the page, so the retry must record it, not launch again.
func TestEarlierLaunchIsFoundInAFullPage(t *testing.T) {
	t.Parallel()

	t.Run("awx", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		awx := newServer(t, answer{status: 500, body: "no answer set"})
		b.register(t, "scale", provision.RunbookAWX, awx)
		a := b.execute(t, "k1", "scale", `{"service": "checkout", "replicas": 3}`)
		jobs := otherAWXJobs(200, 400, a.CreatedAt.Add(time.Minute))
		jobs[99] = awxJob(301, a.CreatedAt.Add(time.Second), map[string]any{"service": "checkout", "replicas": 3, "alexus_action_id": a.ID})
		page := awxPage(230, "", jobs)
		awx.reply(page, answer{status: 201, body: awxLaunch})
		t.Logf("the page is %d bytes", len(page.body))

		require.NoError(t, b.worker.Work(context.Background(), job(a, 2)))
		require.Zero(t, awx.posts(), "the earlier job is in the page; nothing may be launched again")
		require.Equal(t, "awx job 301"+earlierSuffix, b.get(t, a.ID).Result)
	})

	t.Run("rundeck", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rd := newServer(t, answer{status: 500, body: "no answer set"})
		b.register(t, "restart", provision.RunbookRundeck, rd)
		a := b.execute(t, "k1", "restart", `{"service": "checkout"}`)
		args, ids := map[int]string{}, []int{}
		for k := range 200 {
			id := 2000 - k
			ids = append(ids, id)
			args[id] = "-alexus_action_id " + uuid.NewString() + " -service payments"
		}
		args[1950] = "-alexus_action_id " + a.ID + " -service checkout"
		list := rundeckExecutions(args, ids...)
		rd.reply(list, answer{status: 200, body: rundeckRun})
		t.Logf("the list is %d bytes", len(list.body))

		require.NoError(t, b.worker.Work(context.Background(), job(a, 2)))
		require.Zero(t, rd.posts(), "the earlier execution is in the list; the job may not be run again")
		require.Equal(t, "rundeck execution 1950 https://rundeck.example/project/ops/execution/show/1950"+earlierSuffix, b.get(t, a.ID).Result)
	})
}

// A retried AWX launch that finds no job carrying its marker (other
// actions' jobs, a job launched by hand, the action's ID under another
// variable) launches once, with the marker.
func TestRetriedAWXLaunchWithoutAnEarlierJobLaunchesOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	awx := newServer(t, answer{status: 500, body: "no answer set"})
	b.register(t, "scale", provision.RunbookAWX, awx)
	a := b.execute(t, "k1", "scale", `{"service": "checkout", "replicas": 3}`)

	jobs := append(otherAWXJobs(5, 40, a.CreatedAt),
		awxJob(35, a.CreatedAt, map[string]any{"service": "checkout", "ticket": a.ID}),
		awxJob(34, a.CreatedAt, map[string]any{"service": "checkout", "alexus_action_id": a.ID + "-other"}))
	awx.reply(awxPage(len(jobs), "", jobs), answer{status: 201, body: awxLaunch})

	require.NoError(t, b.worker.Work(context.Background(), job(a, 2)))
	got := b.get(t, a.ID)
	require.Equal(t, action.StatusSucceeded, got.Status)
	require.Equal(t, "HTTP 201; awx job 42", got.Result)

	reqs := awx.all()
	require.Len(t, reqs, 2, "one list, one launch")
	requireAWXList(t, reqs[0])
	requireAWXLaunch(t, reqs[1], a)
	require.Equal(t, 1, awx.posts())
}

// A retried Rundeck run finds the earlier attempt's execution by the
// marker option in its argstring and records it; with none there, it runs
// the job once.
func TestRetriedRundeckRunFindsTheEarlierExecution(t *testing.T) {
	t.Parallel()

	t.Run("found", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rd := newServer(t, answer{status: 500, body: "no answer set"})
		b.register(t, "restart", provision.RunbookRundeck, rd)
		a := b.execute(t, "k1", "restart", `{"service": "checkout", "replicas": 3}`)
		rd.reply(rundeckExecutions(map[int]string{
			1240: "-alexus_action_id " + uuid.NewString() + " -service payments",
			1239: "-service checkout",
			1234: "-alexus_action_id " + a.ID + " -replicas 3 -service checkout",
			1230: "-alexus_action_id " + uuid.NewString() + " -service checkout",
		}, 1240, 1239, 1234, 1230), answer{status: 200, body: rundeckRun})

		require.NoError(t, b.worker.Work(context.Background(), job(a, 2)))
		got := b.get(t, a.ID)
		require.Equal(t, action.StatusSucceeded, got.Status)
		require.Equal(t, "rundeck execution 1234 https://rundeck.example/project/ops/execution/show/1234"+earlierSuffix, got.Result)

		reqs := rd.all()
		require.Len(t, reqs, 1, "one list, no run")
		r := reqs[0]
		require.Equal(t, http.MethodGet, r.method)
		require.Equal(t, "/api/41/job/3f1c9a2e-job/executions", r.path)
		require.Equal(t, "200", r.query.Get("max"))
		require.Equal(t, "rd-token", r.header.Get("X-Rundeck-Auth-Token"))
		require.Equal(t, "application/json", r.header.Get("Accept"))
	})

	t.Run("none", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rd := newServer(t, answer{status: 500, body: "no answer set"})
		b.register(t, "restart", provision.RunbookRundeck, rd)
		a := b.execute(t, "k1", "restart", `{"service": "checkout"}`)
		rd.reply(rundeckExecutions(map[int]string{
			1240: "-alexus_action_id " + uuid.NewString() + " -service checkout",
			1239: "-service checkout -note " + a.ID,
		}, 1240, 1239), answer{status: 200, body: rundeckRun})

		require.NoError(t, b.worker.Work(context.Background(), job(a, 2)))
		require.Equal(t, "HTTP 200; rundeck execution 1234 https://rundeck.example/project/ops/execution/show/1234", b.get(t, a.ID).Result)
		reqs := rd.all()
		require.Len(t, reqs, 2, "one list, one run")
		require.Equal(t, http.MethodGet, reqs[0].method)
		require.Equal(t, http.MethodPost, reqs[1].method)
		require.Equal(t, "/api/41/job/3f1c9a2e-job/run", reqs[1].path)
		require.JSONEq(t, `{"options": {"service": "checkout", "alexus_action_id": "`+a.ID+`"}}`, string(reqs[1].body))
	})
}

// What the search's answer means: a 5xx is retried and nothing is
// launched; a 401 fails the action for good, nothing launched; a 429 waits
// for Retry-After, nothing launched; a 403 or 404 (a token that may launch
// but not list, a listing that is not there) launches once and says that
// it could not check.
// rundeckExec is one execution of a rundeckPage.
type rundeckExec struct {
	id      int
	args    string
	started time.Time
}

// rundeckPage is a page of Rundeck's execution list at offset of total
// (newest first, as Rundeck lists them).
func rundeckPage(offset, total int, execs ...rundeckExec) answer {
	list := make([]map[string]any, 0, len(execs))
	for _, x := range execs {
		list = append(list, map[string]any{
			"id": x.id, "permalink": fmt.Sprintf("https://rundeck.example/project/ops/execution/show/%d", x.id),
			"status": "succeeded", "argstring": x.args,
			"date-started": map[string]any{"unixtime": x.started.UnixMilli(), "date": x.started.UTC().Format(time.RFC3339)},
		})
	}
	body, err := json.Marshal(map[string]any{
		"paging":     map[string]any{"count": len(list), "total": total, "offset": offset, "max": 200},
		"executions": list,
	})
	if err != nil {
		panic(err)
	}
	return answer{status: 200, body: string(body)}
}

// A busy Rundeck job pages its executions: the search follows the offset
// back to the action's creation, finds the earlier run on a later page,
// and stops paging once the executions are older than the action.
func TestRundeckSearchPagesBackToTheAction(t *testing.T) {
	t.Parallel()

	t.Run("found on the second page", func(t *testing.T) {
		t.Parallel()
		b, s, a := retried(t, provision.RunbookRundeck)
		now := time.Now()
		s.reply(
			rundeckPage(0, 3, rundeckExec{1300, "-service other", now}, rundeckExec{1299, "-service other", now}),
			rundeckPage(2, 3, rundeckExec{1234, "-alexus_action_id " + a.ID + " -service checkout", now}),
			answer{status: 200, body: rundeckRun})

		require.NoError(t, b.worker.Work(context.Background(), job(a, 2)))
		require.Equal(t, "rundeck execution 1234 https://rundeck.example/project/ops/execution/show/1234"+earlierSuffix, b.get(t, a.ID).Result)
		reqs := s.all()
		require.Len(t, reqs, 2, "two pages, no run")
		require.Empty(t, reqs[0].query.Get("offset"))
		require.Equal(t, "2", reqs[1].query.Get("offset"))
		require.Zero(t, s.posts())
	})

	t.Run("stops at the action's creation", func(t *testing.T) {
		t.Parallel()
		b, s, a := retried(t, provision.RunbookRundeck)
		old := a.CreatedAt.Add(-time.Hour)
		s.reply(
			rundeckPage(0, 500, rundeckExec{1300, "-service other", time.Now()}, rundeckExec{1299, "-service other", old}),
			answer{status: 200, body: rundeckRun})

		require.NoError(t, b.worker.Work(context.Background(), job(a, 2)))
		require.Equal(t, "HTTP 200; rundeck execution 1234 https://rundeck.example/project/ops/execution/show/1234", b.get(t, a.ID).Result)
		require.Len(t, s.all(), 2, "one page (it reached back before the action), one run")
		require.Equal(t, 1, s.posts())
	})

	t.Run("does not launch when the pages run out first", func(t *testing.T) {
		t.Parallel()
		b, s, a := retried(t, provision.RunbookRundeck)
		var pages []answer
		for p := range 5 {
			pages = append(pages, rundeckPage(p*2, 100000, rundeckExec{2000 - 2*p, "-service other", time.Now()}, rundeckExec{1999 - 2*p, "-service other", time.Now()}))
		}
		s.reply(append(pages, answer{status: 200, body: rundeckRun})...)

		err := b.worker.Work(context.Background(), job(a, 2))
		require.Error(t, err, "retried later")
		got := b.get(t, a.ID)
		require.Equal(t, action.StatusPending, got.Status)
		require.Contains(t, got.Result, "not launching again without having seen them all")
		require.Zero(t, s.posts(), "nothing launched")
	})
}

// retried registers a runbook of kind on a stand-in with no answers set
// yet and makes an action for it, to be run as a retry (attempt 2).
func retried(t *testing.T, kind provision.RunbookKind) (*bundle, *server, action.Action) {
	t.Helper()
	b := setup(t)
	s := newServer(t, answer{status: 500, body: "no answer set"})
	b.register(t, "rb", kind, s)
	return b, s, b.execute(t, "k1", "rb", `{"service": "checkout"}`)
}

func TestEarlierLaunchSearchAnswers(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		name   string
		kind   provision.RunbookKind
		answer answer
		want   string
	}{
		{"awx 503", provision.RunbookAWX, answer{status: 503, body: "upstream unavailable"}, "looking for an earlier launch: HTTP 503"},
		{"rundeck 500", provision.RunbookRundeck, answer{status: 500, body: `{"error": true, "message": "boom"}`}, "looking for an earlier launch: HTTP 500"},
		// A 200 that is not the listing (a proxy's login page) proves
		// nothing about earlier launches.
		{"awx html page", provision.RunbookAWX, answer{status: 200, body: "<html><body>Sign in</body></html>"}, "looking for an earlier launch: AWX's answer is not a list of jobs"},
		{"rundeck html page", provision.RunbookRundeck, answer{status: 200, body: "<html><body>Sign in</body></html>"}, "looking for an earlier launch: Rundeck's answer is not a list of executions"},
		// The token is never sent to a host other than the registered one.
		{"awx next page elsewhere", provision.RunbookAWX, awxPage(250, "https://elsewhere.example/api/v2/job_templates/7/jobs/?page=2", []map[string]any{}),
			`looking for an earlier launch: AWX's next page "https://elsewhere.example/api/v2/job_templates/7/jobs/?page=2" is not on `},
	} {
		t.Run(tc.name+" is retried", func(t *testing.T) {
			t.Parallel()
			b, s, a := retried(t, tc.kind)
			s.reply(tc.answer, answer{status: 201, body: awxLaunch})

			err := b.worker.Work(context.Background(), job(a, 2))
			require.Error(t, err)
			var cancel *rivertype.JobCancelError
			require.NotErrorAs(t, err, &cancel, "River retries it")
			got := b.get(t, a.ID)
			require.Equal(t, action.StatusPending, got.Status)
			require.True(t, strings.HasPrefix(got.Result, tc.want), "result %q, want it to start %q", got.Result, tc.want)
			require.Equal(t, 1, s.count(), "the search only")
			require.Zero(t, s.posts(), "nothing launched")
		})
	}

	for _, tc := range []struct {
		name   string
		kind   provision.RunbookKind
		answer answer
		want   string
	}{
		{"awx 401", provision.RunbookAWX, answer{status: 401, body: awxUnauthorized}, "looking for an earlier launch: HTTP 401 " + awxUnauthorized},
		{"rundeck 401", provision.RunbookRundeck, answer{status: 401, body: `{"error": true, "apiversion": 41, "errorCode": "api.error.item.unauthorized", "message": "Unauthorized"}`},
			`looking for an earlier launch: HTTP 401 {"error": true, "apiversion": 41, "errorCode": "api.error.item.unauthorized", "message": "Unauthorized"}`},
	} {
		t.Run(tc.name+" fails for good", func(t *testing.T) {
			t.Parallel()
			b, s, a := retried(t, tc.kind)
			s.reply(tc.answer, answer{status: 201, body: awxLaunch})

			var cancel *rivertype.JobCancelError
			require.ErrorAs(t, b.worker.Work(context.Background(), job(a, 2)), &cancel)
			got := b.get(t, a.ID)
			require.Equal(t, action.StatusFailed, got.Status)
			require.Equal(t, tc.want, got.Result)
			require.Equal(t, 1, s.count(), "the search only")
			require.Zero(t, s.posts(), "nothing launched")
		})
	}

	t.Run("awx 429 waits", func(t *testing.T) {
		t.Parallel()
		b, s, a := retried(t, provision.RunbookAWX)
		s.reply(answer{status: 429, body: `{"detail": "Request was throttled."}`, header: map[string]string{"Retry-After": "7"}},
			answer{status: 201, body: awxLaunch})

		var snooze *river.JobSnoozeError
		require.ErrorAs(t, b.worker.Work(context.Background(), job(a, 2)), &snooze)
		require.Equal(t, 7*time.Second, snooze.Duration)
		got := b.get(t, a.ID)
		require.Equal(t, action.StatusPending, got.Status)
		require.Equal(t, "looking for an earlier launch: HTTP 429; retrying in 7s", got.Result)
		require.Zero(t, s.posts(), "nothing launched")
	})

	t.Run("awx 403 launches once", func(t *testing.T) {
		t.Parallel()
		b, s, a := retried(t, provision.RunbookAWX)
		s.reply(answer{status: 403, body: `{"detail": "You do not have permission to perform this action."}`},
			answer{status: 201, body: awxLaunch})

		require.NoError(t, b.worker.Work(context.Background(), job(a, 2)))
		got := b.get(t, a.ID)
		require.Equal(t, action.StatusSucceeded, got.Status)
		require.Equal(t, "HTTP 201; awx job 42; could not check for an earlier launch (HTTP 403)", got.Result)
		reqs := s.all()
		require.Len(t, reqs, 2, "the refused search, one launch")
		requireAWXList(t, reqs[0])
		requireAWXLaunch(t, reqs[1], a)
	})

	t.Run("rundeck 404 launches once", func(t *testing.T) {
		t.Parallel()
		b, s, a := retried(t, provision.RunbookRundeck)
		s.reply(answer{status: 404, body: `{"error": true, "apiversion": 41, "errorCode": "api.error.item.doesnotexist", "message": "not found"}`},
			answer{status: 200, body: rundeckRun})

		require.NoError(t, b.worker.Work(context.Background(), job(a, 2)))
		require.Equal(t, "HTTP 200; rundeck execution 1234 https://rundeck.example/project/ops/execution/show/1234; could not check for an earlier launch (HTTP 404)",
			b.get(t, a.ID).Result)
		require.Equal(t, 2, s.count())
		require.Equal(t, 1, s.posts())
	})
}

// A first attempt cannot have been preceded by a launch: it launches at
// once, without listing.
func TestFirstAttemptNeverLists(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind   provision.RunbookKind
		answer answer
		path   string
	}{
		{provision.RunbookAWX, answer{status: 201, body: awxLaunch}, "/api/v2/job_templates/7/launch/"},
		{provision.RunbookRundeck, answer{status: 200, body: rundeckRun}, "/api/41/job/3f1c9a2e-job/run"},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			s := newServer(t, tc.answer)
			b.register(t, "rb", tc.kind, s)
			a := b.execute(t, "k1", "rb", `{"service": "checkout"}`)

			require.NoError(t, b.worker.Work(context.Background(), job(a, 1)))
			require.Equal(t, action.StatusSucceeded, b.get(t, a.ID).Status)
			reqs := s.all()
			require.Len(t, reqs, 1, "the launch only")
			require.Equal(t, http.MethodPost, reqs[0].method)
			require.Equal(t, tc.path, reqs[0].path)
		})
	}
}
