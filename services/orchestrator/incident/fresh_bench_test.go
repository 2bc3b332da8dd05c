package incident_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
)

// BenchmarkOpenFresh stores escalated new signals, as the pipeline does,
// in batches of 1 to 64 from one goroutine, and reports the CPU the
// database's Postgres backends spent per signal (pg-µs/signal, read from
// /proc; absent when Postgres runs elsewhere) beside the Go side's ns/op.
// It says what a bigger batch saves: every statement and transaction costs
// Postgres a round trip of its own, whatever the rows it carries.
//
//	go test ./services/orchestrator/incident -run XXX -bench OpenFresh -benchtime 2000x
func BenchmarkOpenFresh(b *testing.B) {
	bundle := storetest.New(b)
	db := bundle.DB
	ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "bench"})
	if _, err := provision.EnsureTenant(ctx, db, provision.TenantOptions{}); err != nil {
		b.Fatal(err)
	}
	s := incident.NewStore(db)
	for _, size := range []int{1, 4, 16, 64} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			watch := bundle.WatchBackends(b)
			stored := 0
			for b.Loop() {
				fs := make([]incident.Fresh, size)
				for i := range fs {
					fs[i] = freshEscalated(i)
				}
				if _, err := s.OpenFresh(ctx, fs); err != nil {
					b.Fatal(err)
				}
				stored += size
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(stored)/1e3, "wall-µs/signal")
			if cpu, ok := watch.Stop(b); ok {
				b.ReportMetric(float64(cpu.Microseconds())/float64(stored), "pg-µs/signal")
			}
		})
	}
}

// freshEscalated is a new signal with the stages of an escalated incident,
// details the size the pipeline stores (each stage's response in JSON).
func freshEscalated(i int) incident.Fresh {
	now := time.Now()
	sig := &signalv1.Signal{
		Id: uuid.NewString(), Source: "alertmanager", Fingerprint: "fp/" + uuid.NewString(), Title: "KubePodCrashLooping checkout-" + strconv.Itoa(i),
		Description: strings.Repeat("Pod is restarting frequently. ", 8), Resource: "checkout-" + strconv.Itoa(i%50),
		Status: signalv1.Status_STATUS_FIRING, Severity: signalv1.Severity_SEVERITY_WARNING,
		Labels:      map[string]string{"alertname": "KubePodCrashLooping", "namespace": "shop", "severity": "warning", "pod": "checkout-7d9f"},
		Annotations: map[string]string{"summary": "Pod is crash looping", "runbook_url": "https://runbooks.example/crash"},
		ReceivedAt:  timestamppb.New(now), StartsAt: timestamppb.New(now.Add(-time.Minute)), RawPayload: []byte(strings.Repeat("x", 600)),
	}
	id := incident.IDFor("acme", sig.GetId())
	intent, sev, esc := reasoningv1.Intent_INTENT_INCIDENT, signalv1.Severity_SEVERITY_ERROR, reasoningv1.Decision_DECISION_ESCALATE
	resp := strings.Repeat(`{"k":"some response text"},`, 16)
	return incident.Fresh{Signal: sig, Stages: []incident.StageUpdate{
		{Stage: incident.StageClassify, Summary: "classified as incident, error, confidence 0.62", Intent: &intent, Severity: &sev,
			Details: map[string]string{"intent": "incident", "severity": "error", "confidence": "0.62", "path": "heuristic", "response": resp, "latency_ms": "0"}},
		{Stage: incident.StageBranch, Summary: "diagnosed as an incident: pod crash looping",
			Details: map[string]string{"branch": "incident", "confidence": "0.55", "path": "heuristic", "probable_cause": "crash loop", "response": resp + resp, "latency_ms": "1"}},
		{Stage: incident.StageConfidence, Summary: "decided to escalate at confidence 0.55", Decision: &esc,
			Details: map[string]string{"decision": "escalate", "confidence": "0.55", "execute_at": "0.80", "clarify_at": "0.50", "reason": "below", "response": resp, "latency_ms": "0"}},
		{Stage: incident.StageEscalate, Summary: "escalated to ops: no runbook",
			Details: map[string]string{"reason": "no runbook", "route": "ops", "response": resp, "latency_ms": "0"},
			Triage: &incident.NewTriageItem{IncidentID: id, Kind: incident.TriageEscalate, Question: "no runbook", Route: "ops",
				Diagnosis: &reasoningv1.Diagnosis{ProbableCause: "crash loop"}}},
	}}
}
