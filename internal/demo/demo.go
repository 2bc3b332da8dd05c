// Package demo feeds sample Alertmanager alerts into a running Alexus through
// its public gateway, exactly as a vendor would, and prints each incident's
// stage transitions and decision as they arrive on WatchIncidents. It is what
// `alexus dev --demo` runs.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"

	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	"github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1/orchestratorv1connect"
)

// Options configure a demo run.
type Options struct {
	// GatewayURL is the gateway's base URL, e.g. http://127.0.0.1:8080.
	GatewayURL string
	// Token is a tenant JWT the gateway accepts.
	Token string
	// Out receives the human-readable feed.
	Out io.Writer
	// Interval is the pause between sample alerts.
	Interval time.Duration
	// Started is when the process started, for the time-to-first-decision line.
	Started time.Time
}

// Run watches the tenant's incidents, posts the sample alerts, and prints
// transitions until ctx ends.
func Run(ctx context.Context, opt Options) error {
	if opt.Interval <= 0 {
		opt.Interval = 2 * time.Second
	}
	client := orchestratorv1connect.NewOrchestratorServiceClient(http.DefaultClient, opt.GatewayURL)
	req := connect.NewRequest(&orchestratorv1.WatchIncidentsRequest{})
	req.Header().Set("Authorization", "Bearer "+opt.Token)
	stream, err := client.WatchIncidents(ctx, req)
	if err != nil {
		return fmt.Errorf("watch incidents: %w", err)
	}
	defer stream.Close()

	// Feed only once the watch is live, so no transition is missed.
	if !stream.Receive() {
		return fmt.Errorf("watch incidents: %w", stream.Err())
	}
	go feed(ctx, opt)

	first := true
	for stream.Receive() {
		msg := stream.Msg()
		if msg.GetTransition() == nil {
			continue
		}
		tr, inc := msg.GetTransition(), msg.GetIncident()
		fmt.Fprintf(opt.Out, "incident %s  %-10s %s\n", short(tr.GetIncidentId()), stageName(tr.GetStage()), tr.GetSummary())
		if isDecision(tr.GetStage()) {
			fmt.Fprintf(opt.Out, "  => decision %s for %q (severity %s, occurrences %d)\n",
				stageName(tr.GetStage()), inc.GetTitle(), strings.ToLower(strings.TrimPrefix(inc.GetSeverity().String(), "SEVERITY_")), inc.GetOccurrenceCount())
			if first && !opt.Started.IsZero() {
				fmt.Fprintf(opt.Out, "  (first decision %s after start)\n", time.Since(opt.Started).Round(time.Millisecond))
				first = false
			}
		}
	}
	if err := stream.Err(); err != nil && !errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("watch incidents stream: %w", err)
	}
	return nil
}

func isDecision(s orchestratorv1.Stage) bool {
	return s == orchestratorv1.Stage_STAGE_EXECUTE || s == orchestratorv1.Stage_STAGE_CLARIFY || s == orchestratorv1.Stage_STAGE_ESCALATE
}

func stageName(s orchestratorv1.Stage) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "STAGE_"))
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// feed posts the samples one after another, then repeats and resolves the
// first so every verdict shows up once.
func feed(ctx context.Context, opt Options) {
	for i, payload := range Samples(time.Now()) {
		if i > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(opt.Interval):
			}
		}
		if err := post(ctx, opt, payload); err != nil {
			if ctx.Err() == nil {
				fmt.Fprintf(opt.Out, "demo: post sample %d: %v\n", i+1, err)
			}
			return
		}
	}
}

func post(ctx context.Context, opt Options, payload []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, opt.GatewayURL+"/v1/webhooks/alertmanager", bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+opt.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("gateway answered %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	var out struct {
		Results []struct {
			Verdict string `json:"verdict"`
			Title   string `json:"title"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &out); err == nil {
		for _, r := range out.Results {
			fmt.Fprintf(opt.Out, "posted %q: %s\n", r.Title, r.Verdict)
		}
	}
	return nil
}
