package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/grpchealth"
	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/proto"

	ingestv1 "github.com/alexus-platform/alexus/gen/alexus/ingest/v1"
	"github.com/alexus-platform/alexus/gen/alexus/ingest/v1/ingestv1connect"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/redistest"
	"github.com/alexus-platform/alexus/internal/rpc"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/gateway/auth"
)

// The coalescing tests run the real `alexus ingest` and `alexus gateway`
// binaries rather than setup's in-process mesh: only a plane process reads
// the ALEXUS_GATEWAY_INGEST_* settings from its environment, and only a
// process of its own gives the ingest plane a log of its calls to read.

// coalesceMesh is a real gateway and ingest plane, each its own process,
// over a fresh database and Redis namespace. Its bundle holds what setup's
// does for the helpers that need it: the gateway URL, the dev JWT secret,
// Redis and its namespace, and the database.
type coalesceMesh struct {
	*bundle
	// ingestLog is the ingest process's JSON log, at debug level.
	ingestLog string
}

// startCoalesceMesh starts ingest and then the gateway, with the tenants
// created, and returns once both serve. gatewayEnv and ingestEnv add to
// (or override) each plane's environment.
func startCoalesceMesh(t *testing.T, tenants []tenant.ID, gatewayEnv, ingestEnv []string) *coalesceMesh {
	t.Helper()
	pg := storetest.New(t)
	rdb, ns := redistest.New(t)
	for _, tn := range tenants {
		_, err := provision.EnsureTenant(tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: tn, Subject: "system:e2e"}), pg.DB, provision.TenantOptions{})
		require.NoError(t, err)
	}
	b := &bundle{devSecret: randBytes(32), internalSecret: randBytes(32), rdb: rdb, ns: ns, db: pg.DB}
	bin := buildAlexusBinary(t)
	dir := t.TempDir()
	ingestAddr, gatewayAddr := freeAddr(t), freeAddr(t)
	b.gatewayURL = "http://" + gatewayAddr
	common := append(envWithoutAlexus(),
		"ALEXUS_POSTGRES_URL="+pg.AdminURL,
		"ALEXUS_POSTGRES_MAX_CONNS=10",
		"ALEXUS_REDIS_URL="+redistest.URL(),
		"ALEXUS_REDIS_NAMESPACE="+string(ns),
		"ALEXUS_INTERNAL_TOKEN_SECRET=base64:"+base64.StdEncoding.EncodeToString(b.internalSecret),
		"ALEXUS_GATEWAY_ADDR="+gatewayAddr,
		"ALEXUS_INGEST_ADDR="+ingestAddr,
		// Neither is started; nothing here calls them.
		"ALEXUS_ORCHESTRATOR_ADDR="+freeAddr(t),
		"ALEXUS_ACTIONS_ADDR="+freeAddr(t),
		"ALEXUS_LOG_FORMAT=json",
	)

	signer, err := tenant.NewSigner(b.internalSecret, 0)
	require.NoError(t, err)
	cc, err := rpc.Dial(ingestAddr, signer)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cc.Close() })
	ingestHealth := healthpb.NewHealthClient(cc)
	m := &coalesceMesh{bundle: b, ingestLog: filepath.Join(dir, "ingest.log")}
	startPlaneProcess(t, bin, "ingest", m.ingestLog,
		append(append(common[:len(common):len(common)], "ALEXUS_LOG_LEVEL=debug"), ingestEnv...),
		func(ctx context.Context) error {
			ctx = tenant.WithIdentity(ctx, tenant.Identity{Tenant: tenants[0], Subject: "system:e2e"})
			res, err := ingestHealth.Check(ctx, &healthpb.HealthCheckRequest{Service: ingestv1.IngestService_ServiceDesc.ServiceName})
			if err == nil && res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				err = fmt.Errorf("ingest is %s", res.GetStatus())
			}
			return err
		})

	gatewayHealth := grpchealth.NewClient(http.DefaultClient, b.gatewayURL)
	startPlaneProcess(t, bin, "gateway", filepath.Join(dir, "gateway.log"),
		append(append(common[:len(common):len(common)],
			"ALEXUS_LOG_LEVEL=info",
			"ALEXUS_DEV_JWT_SECRET=base64:"+base64.StdEncoding.EncodeToString(b.devSecret),
			"ALEXUS_JWT_ISSUER="+auth.DevIssuer,
			"ALEXUS_JWT_AUDIENCE="+auth.DevAudience,
		), gatewayEnv...),
		func(ctx context.Context) error {
			res, err := gatewayHealth.Check(ctx, &grpchealth.CheckRequest{Service: ingestv1connect.IngestServiceName})
			if err == nil && res.Status != grpchealth.StatusServing {
				err = fmt.Errorf("gateway is %v", res.Status)
			}
			return err
		})
	return m
}

// startPlaneProcess runs `alexus <plane>` with env, its output in logPath,
// until the test ends (SIGINT, then SIGKILL if it does not stop), and
// returns once ready succeeds.
func startPlaneProcess(t *testing.T, bin, plane, logPath string, env []string, ready func(context.Context) error) {
	t.Helper()
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(bin, plane)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(deadline):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	tail := func() string {
		b, _ := os.ReadFile(logPath)
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		return strings.Join(lines[max(0, len(lines)-30):], "\n")
	}
	until := time.Now().Add(time.Minute)
	for {
		select {
		case <-exited:
			t.Fatalf("alexus %s exited while starting; its log:\n%s", plane, tail())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := ready(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(until) {
			t.Fatalf("alexus %s not ready after a minute (%v); its log:\n%s", plane, err, tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// webhookAnswer is the gateway's whole answer to one delivery.
type webhookAnswer struct {
	status     int
	retryAfter string
	body       []byte
}

// deliver posts an Alertmanager payload as postWebhook does, but returns
// errors instead of failing the test, so that many goroutines can call it,
// and keeps the whole answer.
func (b *bundle) deliver(client *http.Client, token string, payload []byte) (webhookAnswer, error) {
	req, err := http.NewRequest(http.MethodPost, b.gatewayURL+"/v1/webhooks/alertmanager", bytes.NewReader(payload))
	if err != nil {
		return webhookAnswer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return webhookAnswer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return webhookAnswer{}, err
	}
	return webhookAnswer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: body}, nil
}

// webhookError is the gateway's JSON error body.
type webhookError struct {
	Error  string `json:"error"`
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

// plannedAlert is one alert of a payload, as its result must name it.
type plannedAlert struct {
	fingerprint string // "am:" + Alertmanager's fingerprint
	title       string
}

// plannedPayload is a payload of one tenant, posted copies times at once.
type plannedPayload struct {
	tenant tenant.ID
	body   []byte
	// alerts is what a 202 must list, in order; nil for an odd payload,
	// whose every copy must be answered as the payload was alone.
	alerts []plannedAlert
	copies int
	// alone is the answer to the payload posted alone, for odd payloads.
	alone webhookAnswer
}

// alertPayload is an Alertmanager notification of one firing alert per
// fingerprint, each named name-<fingerprint>.
func alertPayload(name string, fingerprints ...string) ([]byte, []plannedAlert) {
	var (
		msg     map[string]any
		alerts  []any
		planned []plannedAlert
	)
	for _, fp := range fingerprints {
		alertname := name + "-" + fp
		var one map[string]any
		if err := json.Unmarshal(alertmanagerPayload("firing", fp, alertname), &one); err != nil {
			panic(err)
		}
		if msg == nil {
			msg = one
		}
		alerts = append(alerts, one["alerts"].([]any)...)
		planned = append(planned, plannedAlert{fingerprint: "am:" + fp, title: alertname + " is failing"})
	}
	msg["alerts"] = alerts
	body, err := json.Marshal(msg)
	if err != nil {
		panic(err)
	}
	return body, planned
}

// oddPayloads are bodies the gateway forwards but ingest refuses, or
// takes without any alert; each must be answered the same however it
// travels.
func oddPayloads() [][]byte {
	valid := alertmanagerPayload("firing", "c0a1e5ce0dd00001", "Truncated")
	return [][]byte{
		valid[:len(valid)/2],
		[]byte(`{"version":"4","alerts":"not a list"}`),
		[]byte(`[1,2,3]`),
		[]byte(`{"version":"3","status":"firing","alerts":[]}`),
		[]byte("{\"version\":\"4\",\"alerts\":[{\"labels\":{\"x\":\"bad \xff\xfe bytes\"}}]}"),
		[]byte(strings.Repeat("[", 100) + strings.Repeat("]", 100)),
		[]byte(`{"version":"4","status":"firing","alerts":[]}`),
	}
}

// plannedDelivery is one post of a planned payload and its answer.
type plannedDelivery struct {
	payload *plannedPayload
	token   string
	answer  webhookAnswer
	err     error
}

// storm posts every delivery from its own goroutine, all released at
// once, and returns when all are answered.
func (b *bundle) storm(t *testing.T, deliveries []*plannedDelivery) {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: len(deliveries)}
	client := &http.Client{Transport: tr, Timeout: 2 * deadline}
	t.Cleanup(tr.CloseIdleConnections)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, d := range deliveries {
		wg.Go(func() {
			<-start
			d.answer, d.err = b.deliver(client, d.token, d.payload.body)
		})
	}
	close(start)
	wg.Wait()
	for _, d := range deliveries {
		require.NoError(t, d.err)
	}
}

// streamEvents returns the events in tn's signal stream, oldest first.
func (b *bundle) streamEvents(t *testing.T, tn tenant.ID) []*signalv1.SignalEvent {
	t.Helper()
	msgs, err := b.rdb.XRange(context.Background(), b.ns.Tenant(tn, rediskey.SignalStream), "-", "+").Result()
	require.NoError(t, err)
	events := make([]*signalv1.SignalEvent, 0, len(msgs))
	for _, m := range msgs {
		raw, ok := m.Values["event"].(string)
		require.True(t, ok, "entry %s has an event field", m.ID)
		var ev signalv1.SignalEvent
		require.NoError(t, proto.Unmarshal([]byte(raw), &ev), "entry %s", m.ID)
		events = append(events, &ev)
	}
	return events
}

// ingestCalls counts, per tenant, the calls the ingest plane's log says
// it finished: Ingest calls and IngestBatch calls.
type ingestCalls struct{ ingest, batch int }

func (m *coalesceMesh) ingestCalls(t *testing.T) map[tenant.ID]ingestCalls {
	t.Helper()
	f, err := os.Open(m.ingestLog)
	require.NoError(t, err)
	defer f.Close()
	out := map[tenant.ID]ingestCalls{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		var line struct {
			Msg    string `json:"msg"`
			Method string `json:"grpc.method"`
			Tenant string `json:"tenant_id"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Msg != "finished call" {
			continue
		}
		c := out[tenant.ID(line.Tenant)]
		switch line.Method {
		case "Ingest":
			c.ingest++
		case "IngestBatch":
			c.batch++
		}
		out[tenant.ID(line.Tenant)] = c
	}
	require.NoError(t, sc.Err())
	return out
}

// TestCoalescedWebhooksAreAnsweredAsAlone posts about 200 Alertmanager
// deliveries of two tenants at once to a gateway allowed one ingest call
// in flight per tenant (ALEXUS_GATEWAY_INGEST_CALLS_PER_TENANT=1), so
// that most deliveries wait and go to ingest together in IngestBatch
// calls. Acme's are distinct alerts (some notifications of two alerts),
// byte-identical repeats of them, and payloads ingest refuses or finds no
// alert in, sent with a JWT or an integration token; globex's are
// distinct alerts and repeats. Every delivery must get the answer it
// would have got alone: each alert accepted once and duplicate with the
// same signal ID on every other copy, each odd payload the very answer it
// got when posted alone. Each tenant's stream must hold one OPENED event
// per alert and one REPEATED per duplicate answered, of its own alerts
// only; and the ingest plane's log must show that deliveries were
// coalesced (fewer calls than deliveries, IngestBatch among them).
func TestCoalescedWebhooksAreAnsweredAsAlone(t *testing.T) {
	t.Parallel()
	acme, globex := tenant.ID("acme"), tenant.ID("globex")
	m := startCoalesceMesh(t, []tenant.ID{acme, globex},
		[]string{"ALEXUS_GATEWAY_INGEST_CALLS_PER_TENANT=1"}, nil)
	b := m.bundle
	integ, err := provision.CreateIntegrationToken(tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: acme, Subject: "user:e2e"}), b.db, "alertmanager", "alertmanager")
	require.NoError(t, err)
	creds := map[tenant.ID][]string{acme: {b.token(t, acme), integ}, globex: {b.token(t, globex)}}

	// The plan: acme 60 single-alert notifications posted 1-3 times, 4 of
	// two alerts posted twice, 7 odd payloads posted 3 times; globex 30
	// single-alert notifications posted 1-2 times.
	seed := uint64(time.Now().UnixNano())
	t.Logf("shuffle seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	var payloads []*plannedPayload
	for k := range 60 {
		body, alerts := alertPayload("AcmeAlert", fmt.Sprintf("acbe%012x", k))
		payloads = append(payloads, &plannedPayload{tenant: acme, body: body, alerts: alerts, copies: 1 + k%3})
	}
	for k := range 4 {
		body, alerts := alertPayload("AcmePair", fmt.Sprintf("ac2a%012x", 2*k), fmt.Sprintf("ac2a%012x", 2*k+1))
		payloads = append(payloads, &plannedPayload{tenant: acme, body: body, alerts: alerts, copies: 2})
	}
	for k := range 30 {
		body, alerts := alertPayload("GlobexAlert", fmt.Sprintf("910be%011x", k))
		payloads = append(payloads, &plannedPayload{tenant: globex, body: body, alerts: alerts, copies: 1 + k%2})
	}
	// Odd payloads first alone, one call each, for the answers to expect.
	for _, body := range oddPayloads() {
		p := &plannedPayload{tenant: acme, body: body, copies: 3}
		p.alone, err = b.deliver(http.DefaultClient, creds[acme][0], body)
		require.NoError(t, err)
		payloads = append(payloads, p)
	}
	aloneCalls := len(oddPayloads())
	for _, p := range payloads[len(payloads)-aloneCalls:] {
		t.Logf("alone: %d %s", p.alone.status, bytes.TrimSpace(p.alone.body))
		if p.alone.status != http.StatusAccepted {
			require.Equal(t, http.StatusBadRequest, p.alone.status, "%s", p.alone.body)
			var e webhookError
			require.NoError(t, json.Unmarshal(p.alone.body, &e), "%s", p.alone.body)
			require.Equal(t, "invalid_argument", e.Code)
			require.NotEmpty(t, e.Error)
		}
	}
	require.Zero(t, b.streamLen(t, acme), "no odd payload stored anything")

	var deliveries []*plannedDelivery
	sent := map[tenant.ID]int{}
	for _, p := range payloads {
		for range p.copies {
			c := creds[p.tenant]
			deliveries = append(deliveries, &plannedDelivery{payload: p, token: c[rng.IntN(len(c))]})
			sent[p.tenant]++
		}
	}
	rng.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })
	t.Logf("posting %d deliveries at once: %v", len(deliveries), sent)
	b.storm(t, deliveries)

	// Every answer is the one the delivery would have got alone.
	type alertSeen struct {
		tenant    tenant.ID
		accepted  int
		duplicate int
		signalIDs map[string]int
	}
	seen := map[string]*alertSeen{} // by fingerprint
	for _, p := range payloads {
		for _, a := range p.alerts {
			seen[a.fingerprint] = &alertSeen{tenant: p.tenant, signalIDs: map[string]int{}}
		}
	}
	for _, d := range deliveries {
		p, ans := d.payload, d.answer
		if p.alerts == nil {
			require.Equal(t, p.alone.status, ans.status, "odd payload %q: %s", p.body, ans.body)
			require.Equal(t, string(p.alone.body), string(ans.body), "odd payload %q", p.body)
			require.Equal(t, p.alone.retryAfter, ans.retryAfter, "odd payload %q", p.body)
			continue
		}
		require.Equal(t, http.StatusAccepted, ans.status, "%s", ans.body)
		var res webhookResponse
		require.NoError(t, json.Unmarshal(ans.body, &res), "%s", ans.body)
		require.Len(t, res.Results, len(p.alerts), "%s", ans.body)
		verdicts := map[string]bool{}
		for k, r := range res.Results {
			want := p.alerts[k]
			require.Equal(t, want.fingerprint, r.Fingerprint, "result %d is of this delivery's alert: %s", k, ans.body)
			require.Equal(t, want.title, r.Title, "%s", ans.body)
			require.NotEmpty(t, r.SignalID)
			s := seen[want.fingerprint]
			switch r.Verdict {
			case "accepted":
				s.accepted++
			case "duplicate":
				s.duplicate++
			default:
				t.Fatalf("verdict %q for %s: %s", r.Verdict, want.fingerprint, ans.body)
			}
			s.signalIDs[r.SignalID]++
			verdicts[r.Verdict] = true
		}
		require.Len(t, verdicts, 1, "the alerts of one copy of a notification are all new or all repeats: %s", ans.body)
	}
	for fp, s := range seen {
		require.Equal(t, 1, s.accepted, "alert %s is accepted exactly once", fp)
		require.Len(t, s.signalIDs, 1, "every copy of alert %s names its one signal: %v", fp, s.signalIDs)
	}

	// Each tenant's stream holds one OPENED per alert, under the signal ID
	// the answers named, and one REPEATED per duplicate answered: its own
	// alerts only.
	for _, tn := range []tenant.ID{acme, globex} {
		opened, repeated := map[string]int{}, map[string]int{}
		events := b.streamEvents(t, tn)
		for _, ev := range events {
			fp := ev.GetSignal().GetFingerprint()
			s, ok := seen[fp]
			require.True(t, ok, "%s's stream holds only posted alerts, not %q", tn, fp)
			require.Equal(t, tn, s.tenant, "%s's stream holds alert %s of %s", tn, fp, s.tenant)
			require.Equal(t, string(tn), ev.GetSignal().GetTenantId())
			require.Contains(t, s.signalIDs, ev.GetSignalId(), "the event of %s names the signal its answers named", fp)
			switch ev.GetKind() {
			case signalv1.EventKind_EVENT_KIND_OPENED:
				opened[fp]++
			case signalv1.EventKind_EVENT_KIND_REPEATED:
				repeated[fp]++
			default:
				t.Fatalf("%s's stream holds a %s event of %s", tn, ev.GetKind(), fp)
			}
		}
		want := 0
		for fp, s := range seen {
			if s.tenant != tn {
				continue
			}
			require.Equal(t, 1, opened[fp], "%s: OPENED events of %s", tn, fp)
			require.Equal(t, s.duplicate, repeated[fp], "%s: REPEATED events of %s", tn, fp)
			want += 1 + s.duplicate
		}
		require.Len(t, events, want, "%s's stream", tn)
	}

	// The ingest plane's log shows the coalescing: acme's deliveries
	// reached it in fewer calls than deliveries, IngestBatch among them,
	// each batch carrying at least two and at most 64 (the gateway's
	// default ALEXUS_GATEWAY_INGEST_BATCH_ITEMS) deliveries; a batch of
	// one goes as an Ingest call.
	calls := m.ingestCalls(t)
	t.Logf("ingest calls by tenant: %+v", calls)
	for _, tn := range []tenant.ID{acme, globex} {
		reached := sent[tn]
		if tn == acme {
			reached += aloneCalls
		}
		c := calls[tn]
		batched := reached - c.ingest
		require.GreaterOrEqual(t, batched, 2*c.batch, "%s: %d deliveries in %d Ingest and %d IngestBatch calls", tn, reached, c.ingest, c.batch)
		require.LessOrEqual(t, batched, 64*c.batch, "%s: %d deliveries in %d Ingest and %d IngestBatch calls", tn, reached, c.ingest, c.batch)
	}
	require.Positive(t, calls[acme].batch, "acme's deliveries went in IngestBatch calls")
}

// TestCoalescedWebhooksOverRateKeepTheirRefusal posts 40 distinct alerts
// of one tenant at once while its ingest rate allows a burst of 10 and one
// a second, with one ingest call in flight per tenant, so that deliveries
// are coalesced and the rate refuses some of each batch, or whole batches.
// Every delivery is either accepted or refused as an Ingest call of it
// alone would be: 429 with Retry-After and the RATE_LIMITED reason. What
// was refused stored nothing, and what was accepted is in the stream.
func TestCoalescedWebhooksOverRateKeepTheirRefusal(t *testing.T) {
	t.Parallel()
	acme := tenant.ID("acme")
	const burst = 10
	m := startCoalesceMesh(t, []tenant.ID{acme},
		[]string{"ALEXUS_GATEWAY_INGEST_CALLS_PER_TENANT=1"},
		[]string{"ALEXUS_INGEST_RATE_PER_SECOND=1", "ALEXUS_INGEST_RATE_BURST=" + strconv.Itoa(burst)})
	b := m.bundle
	tok := b.token(t, acme)

	var deliveries []*plannedDelivery
	for k := range 40 {
		body, alerts := alertPayload("RateAlert", fmt.Sprintf("ra7e%012x", k))
		deliveries = append(deliveries, &plannedDelivery{payload: &plannedPayload{tenant: acme, body: body, alerts: alerts, copies: 1}, token: tok})
	}
	b.storm(t, deliveries)

	accepted := map[string]string{} // fingerprint → signal ID
	refused := 0
	refusal := fmt.Sprintf("RATE_LIMITED: tenant is over its rate of 1 payloads/s (burst %d); retry in ", burst)
	for _, d := range deliveries {
		ans, want := d.answer, d.payload.alerts[0]
		switch ans.status {
		case http.StatusAccepted:
			var res webhookResponse
			require.NoError(t, json.Unmarshal(ans.body, &res), "%s", ans.body)
			require.Len(t, res.Results, 1, "%s", ans.body)
			require.Equal(t, want.fingerprint, res.Results[0].Fingerprint, "%s", ans.body)
			require.Equal(t, "accepted", res.Results[0].Verdict, "%s", ans.body)
			accepted[want.fingerprint] = res.Results[0].SignalID
		case http.StatusTooManyRequests:
			refused++
			secs, err := strconv.Atoi(ans.retryAfter)
			require.NoError(t, err, "Retry-After %q", ans.retryAfter)
			require.GreaterOrEqual(t, secs, 1, "Retry-After")
			var e webhookError
			require.NoError(t, json.Unmarshal(ans.body, &e), "%s", ans.body)
			require.Equal(t, "resource_exhausted", e.Code, "%s", ans.body)
			require.Equal(t, "RATE_LIMITED", e.Reason, "%s", ans.body)
			require.True(t, strings.HasPrefix(e.Error, refusal), "%s", ans.body)
		default:
			t.Fatalf("delivery of %s answered %d: %s", want.fingerprint, ans.status, ans.body)
		}
	}
	t.Logf("%d accepted, %d refused; ingest calls: %+v", len(accepted), refused, m.ingestCalls(t)[acme])
	require.GreaterOrEqual(t, len(accepted), burst, "the burst is accepted")
	require.Positive(t, refused, "40 alerts at once exceed a burst of %d", burst)

	events := b.streamEvents(t, acme)
	require.Len(t, events, len(accepted), "the stream holds the accepted alerts only")
	for _, ev := range events {
		require.Equal(t, signalv1.EventKind_EVENT_KIND_OPENED, ev.GetKind())
		id, ok := accepted[ev.GetSignal().GetFingerprint()]
		require.True(t, ok, "%s was answered accepted", ev.GetSignal().GetFingerprint())
		require.Equal(t, id, ev.GetSignalId())
	}
}
