package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/rpc"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// rescueWait bounds the wait for River to rescue the killed job once the
// plane is back: the dead process's leadership has to expire (River's
// leader TTL is 15s) before the new one runs the rescuer and the scheduler
// makes the job available again. It only bounds a wait; nothing is timed.
const rescueWait = 2 * time.Minute

// killRig is what the kill tests (TestActionCompletesOnceAcrossWorkerKill,
// TestJiraOpenCompletesOnceAcrossWorkerKill,
// TestAWXLaunchCompletesOnceAcrossWorkerKill) share: a test database, an
// admin pool on it to look at what the plane left behind, a secretbox key
// ring for the plane and the test's provisioning, and tenant acme.
type killRig struct {
	pg      *storetest.Bundle
	admin   *pgxpool.Pool
	keyring string // as ALEXUS_SECRET_KEYS takes it
	keys    *secretbox.Keyring
	// acme carries the identity of acme's orchestrator, the caller of
	// every ExecuteAction and health check.
	acme context.Context
}

// newKillRig makes the test's database (skipping the test without
// Postgres; the action plane needs no Redis), a key ring, and tenant acme
// with opts.
func newKillRig(t *testing.T, opts provision.TenantOptions) *killRig {
	t.Helper()
	r := &killRig{pg: storetest.New(t)}
	ctx := context.Background()
	poolCfg, err := pgxpool.ParseConfig(r.pg.AdminURL)
	require.NoError(t, err)
	poolCfg.MaxConns = 2
	r.admin, err = pgxpool.NewWithConfig(ctx, poolCfg)
	require.NoError(t, err)
	t.Cleanup(r.admin.Close)

	key, err := secretbox.GenerateKey()
	require.NoError(t, err)
	r.keyring = "e2e:" + key
	r.keys, err = secretbox.ParseKeyring(r.keyring)
	require.NoError(t, err)

	r.acme = tenant.WithIdentity(ctx, tenant.Identity{Tenant: "acme", Subject: "system:orchestrator"})
	_, err = provision.EnsureTenant(r.acme, r.pg.DB, opts)
	require.NoError(t, err)
	return r
}

// startablePlane returns the real `alexus actions` binary on the rig's
// database (not started yet), with fresh internal and webhook secrets and
// the rig's key ring, and a connection to it; env adds to (or overrides)
// those settings.
func (r *killRig) startablePlane(t *testing.T, env ...string) (*actionsProcess, *grpc.ClientConn) {
	t.Helper()
	return startableActionsPlane(t, r.pg.AdminURL, killRandBytes(t, 32), append([]string{
		"ALEXUS_ACTIONS_WEBHOOK_SECRET=base64:" + base64.StdEncoding.EncodeToString(killRandBytes(t, 32)),
		"ALEXUS_SECRET_KEYS=" + r.keyring,
	}, env...)...)
}

// killScenario is what runKill needs from a test.
type killScenario struct {
	plane  *actionsProcess
	health healthpb.HealthClient
	calls  *duplicateCalls
	// kind is the River job kind of the action's job.
	kind string
	// held is closed once the job's remote call has done its work and the
	// remote holds the answer back.
	held <-chan struct{}
	// afterKill, if set, runs right after the kill: it releases the held
	// answer, or waits until the remote has seen the caller go.
	afterKill func()
	// firstLife, if set, runs the test's checks while the first life's job
	// is held mid-call.
	firstLife func()
}

// runKill kills the plane with SIGKILL while the action's job is in the
// middle of its remote call, and restarts it:
//
//   - First life: the plane starts, 400 identical ExecuteAction calls from
//     40 callers make one action, and its job runs (attempt 1) until the
//     remote holds its answer.
//   - Kill: 200 more identical calls are under way, retrying through the
//     outage as a caller would, when the plane gets SIGKILL; the action is
//     left pending and its job running.
//   - Second life: the plane starts again, the calls under way finish, 400
//     more are made, and River rescues the stuck job and runs it again
//     until the action has succeeded and the job completed.
//
// River rescues a job left running by a dead process only once it has been
// running for RescueStuckJobsAfter: ALEXUS_ACTIONS_RESCUE_AFTER, by default
// the longest a job of any queue may run plus a minute (about 17 minutes,
// set by the Jira and ServiceNow call budgets), and never less than that.
// runKill therefore moves the killed job's attempted_at two hours back,
// which is what that wait would look like to River, and lets the restarted
// process's own rescuer find it.
//
// It returns the action's ID and its job's.
func (r *killRig) runKill(t *testing.T, s killScenario) (actionID string, jobID int64) {
	t.Helper()
	ctx := context.Background()

	s.plane.start(t, r.acme, s.health)
	s.calls.run(t, 400, 40)
	select {
	case <-s.held:
	case <-time.After(rescueWait):
		t.Fatalf("no call of the %s job reached its remote; the plane's log:\n%s", s.kind, s.plane.logTail())
	}
	actionID = s.calls.onlyID(t)
	if s.firstLife != nil {
		s.firstLife()
	}
	jobID, state, attempt := riverJobOf(t, r.admin, s.kind)
	require.Equal(t, "running", state, "the job is mid-call")
	require.Equal(t, 1, attempt)

	during := s.calls.runAsync(t, 200, 20)
	s.plane.kill(t)
	if s.afterKill != nil {
		s.afterKill()
	}
	require.Equal(t, "pending", actionStatus(t, r.admin, actionID), "the kill left the outcome unrecorded")
	_, state, _ = riverJobOf(t, r.admin, s.kind)
	require.Equal(t, "running", state, "nobody marked the killed job")
	tag, err := r.admin.Exec(ctx, `UPDATE river_job SET attempted_at = now() - interval '2 hours' WHERE id = $1 AND state = 'running'`, jobID)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected(), "nobody marked the killed job")

	s.plane.start(t, r.acme, s.health)
	during()
	s.calls.run(t, 400, 40)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, "succeeded", actionStatus(c, r.admin, actionID))
		_, state, _ := riverJobOf(c, r.admin, s.kind)
		assert.Equal(c, "completed", state)
	}, rescueWait, 100*time.Millisecond, "the plane's log:\n%s", s.plane.logTailLazy())
	return actionID, jobID
}

// requireCompletedOnce checks what every kill test ends with, after
// runKill: the 1,000 calls named one action and only the first made it;
// there is one action row, succeeded with one recorded run (the killed run
// recorded nothing); one job of kind, rescued once and completed on its
// second attempt; and the action's audit entries are its request and its
// success. It returns the result the action recorded.
func (r *killRig) requireCompletedOnce(t *testing.T, calls *duplicateCalls, kind, actionID string, jobID int64) (result string) {
	t.Helper()
	ctx := context.Background()

	require.EqualValues(t, 1000, calls.done.Load())
	require.Equal(t, actionID, calls.onlyID(t))
	require.EqualValues(t, 1, calls.created.Load(), "one call created the action, 999 were replays")

	var (
		rows        int
		actionState string
		attempts    int
	)
	require.NoError(t, r.admin.QueryRow(ctx, `SELECT count(*) FROM actions`).Scan(&rows))
	require.Equal(t, 1, rows, "no second action row")
	require.NoError(t, r.admin.QueryRow(ctx, `SELECT status, result, attempts FROM actions WHERE id = $1`, actionID).Scan(&actionState, &result, &attempts))
	require.Equal(t, "succeeded", actionState)
	require.Equal(t, 1, attempts, "the killed run recorded nothing")

	var (
		jobs      int
		jobErrors []string
	)
	require.NoError(t, r.admin.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1`, kind).Scan(&jobs))
	require.Equal(t, 1, jobs, "no second %s job", kind)
	_, state, attempt := riverJobOf(t, r.admin, kind)
	require.Equal(t, "completed", state)
	require.Equal(t, 2, attempt, "the killed attempt and the rescued one")
	require.NoError(t, r.admin.QueryRow(ctx, `SELECT coalesce(array_agg(e->>'error'), '{}') FROM river_job, unnest(errors) e WHERE id = $1`, jobID).Scan(&jobErrors))
	require.Equal(t, []string{"Stuck job rescued by JobRescuer"}, jobErrors)

	require.Equal(t, []string{"action.requested", "action.succeeded"}, auditEvents(t, r.admin, "action/"+actionID))
	return result
}

// duplicateCalls makes identical ExecuteAction calls, each retried while
// the plane is unreachable, and collects what they answered.
type duplicateCalls struct {
	client actionsv1.ActionServiceClient
	ctx    context.Context
	// req is the request every call makes.
	req     *actionsv1.ExecuteActionRequest
	done    atomic.Int32
	created atomic.Int32
	ids     sync.Map
}

// run makes n calls from callers goroutines and returns when all have
// answered.
func (d *duplicateCalls) run(t *testing.T, n, callers int) { d.runAsync(t, n, callers)() }

// runAsync starts n calls from callers goroutines and returns a function
// that waits for them.
func (d *duplicateCalls) runAsync(t *testing.T, n, callers int) (wait func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, rescueWait)
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for range n / callers {
				if err := d.call(ctx); err != nil {
					t.Errorf("ExecuteAction: %v", err)
					return
				}
			}
		})
	}
	return func() {
		wg.Wait()
		cancel()
		if t.Failed() {
			t.FailNow()
		}
	}
}

func (d *duplicateCalls) call(ctx context.Context) error {
	for {
		resp, err := d.client.ExecuteAction(ctx, d.req)
		if status.Code(err) == codes.Unavailable && ctx.Err() == nil {
			// The plane is down or restarting; the caller tries again.
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if err != nil {
			return err
		}
		d.ids.Store(resp.GetAction().GetId(), true)
		if !resp.GetReplayed() {
			d.created.Add(1)
		}
		d.done.Add(1)
		return nil
	}
}

// onlyID returns the one action ID every call answered with.
func (d *duplicateCalls) onlyID(t *testing.T) string {
	t.Helper()
	var ids []string
	d.ids.Range(func(k, _ any) bool { ids = append(ids, k.(string)); return true })
	require.Len(t, ids, 1, "every call names the same action")
	return ids[0]
}

// startableActionsPlane returns the real `alexus actions` binary, set up to
// run against the database at adminURL on a free port (not started yet),
// and a connection to it that signs identities with internalSecret. env
// adds to (or overrides) the settings every kill test shares.
func startableActionsPlane(t *testing.T, adminURL string, internalSecret []byte, env ...string) (*actionsProcess, *grpc.ClientConn) {
	t.Helper()
	plane := &actionsProcess{bin: buildAlexusBinary(t), dir: t.TempDir(), addr: freeAddr(t)}
	plane.env = append(envWithoutAlexus(),
		"ALEXUS_POSTGRES_URL="+adminURL,
		"ALEXUS_INTERNAL_TOKEN_SECRET=base64:"+base64.StdEncoding.EncodeToString(internalSecret),
		"ALEXUS_ACTIONS_ADDR="+plane.addr,
		"ALEXUS_ACTIONS_EGRESS_ALLOW=127.0.0.0/8",
		"ALEXUS_ACTIONS_POLL_INTERVAL=100ms",
		// A small pool: the tests have one job each, and the Postgres
		// server is shared with every other test.
		"ALEXUS_POSTGRES_MAX_CONNS=10",
		"ALEXUS_LOG_LEVEL=info",
	)
	plane.env = append(plane.env, env...)
	signer, err := tenant.NewSigner(internalSecret, 0)
	require.NoError(t, err)
	cc, err := rpc.Dial(plane.addr, signer)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cc.Close() })
	return plane, cc
}

// actionsProcess is the real `alexus actions` binary, started and killed
// by the test.
type actionsProcess struct {
	bin, dir, addr string
	env            []string

	cmd    *exec.Cmd
	exited chan struct{}
	lives  int
	log    string
}

// start runs the plane, its output in a new log file, and waits until it
// serves ActionService; ctx carries the identity the health check is made
// with.
func (p *actionsProcess) start(t *testing.T, ctx context.Context, health healthpb.HealthClient) {
	t.Helper()
	p.lives++
	p.log = filepath.Join(p.dir, fmt.Sprintf("actions-%d.log", p.lives))
	logFile, err := os.Create(p.log)
	require.NoError(t, err)
	cmd := exec.Command(p.bin, "actions")
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	p.cmd, p.exited = cmd, exited
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case <-exited:
			t.Fatalf("alexus actions exited while starting; its log:\n%s", p.logTail())
		default:
		}
		// The plane's interceptors want an identity on every call, the
		// health check's included.
		callCtx, cancel := context.WithTimeout(ctx, time.Second)
		resp, err := health.Check(callCtx, &healthpb.HealthCheckRequest{Service: actionsv1.ActionService_ServiceDesc.ServiceName})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("alexus actions not healthy at %s after a minute (%v); its log:\n%s", p.addr, err, p.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL, so nothing runs on the way out: no graceful stop of
// River, no recorded outcome, no released leadership.
func (p *actionsProcess) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Kill())
	<-p.exited
}

func (p *actionsProcess) logTail() string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}

// logTailLazy formats as the log's tail when a failure message is printed,
// not when the assertion is set up.
func (p *actionsProcess) logTailLazy() lazyString { return lazyString(p.logTail) }

type lazyString func() string

func (l lazyString) String() string { return l() }

// buildAlexusBinary builds cmd/alexus into a temporary folder.
func buildAlexusBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "alexus")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/alexus-platform/alexus/cmd/alexus").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// envWithoutAlexus is this process's environment without ALEXUS_*
// settings, so a developer's shell cannot point the plane elsewhere.
func envWithoutAlexus() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ALEXUS_") {
			out = append(out, kv)
		}
	}
	return out
}

func killRandBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

// riverJobOf returns the ID, state and attempt of the test database's only
// job of kind.
func riverJobOf(t require.TestingT, db *pgxpool.Pool, kind string) (id int64, state string, attempt int) {
	err := db.QueryRow(context.Background(), `SELECT id, state::text, attempt FROM river_job WHERE kind = $1`, kind).Scan(&id, &state, &attempt)
	require.NoError(t, err)
	return id, state, attempt
}

func actionStatus(t require.TestingT, db *pgxpool.Pool, id string) string {
	var s string
	require.NoError(t, db.QueryRow(context.Background(), `SELECT status FROM actions WHERE id = $1`, id).Scan(&s))
	return s
}

// auditEvents returns the events of subject's audit entries, oldest first.
func auditEvents(t *testing.T, db *pgxpool.Pool, subject string) []string {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT event FROM audit_log WHERE subject = $1 ORDER BY id`, subject)
	require.NoError(t, err)
	events, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return events
}
