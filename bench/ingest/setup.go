package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/alexus-platform/alexus/bench/internal/harness"
)

// benchTenant is the tenant every Alexus delivery is made for.
const benchTenant = "bench"

// stack is a running Alexus for the intake benchmark: the harness's stack
// with the bench tenant, an integration token per source, and the gateway
// and ingestion planes. Close undoes all of it.
type stack struct {
	*harness.Stack
	tokens map[string]string // source → integration token
	// limitNotes says which limit settings the binary has and what was done
	// with each.
	limitNotes      []string
	gateway, ingest *harness.Plane
}

// startStack prepares everything and returns once both planes serve. On
// error, whatever was made is undone. concurrency is the benchmark's -c,
// the bench tenant's connections.
func startStack(ctx context.Context, cfg harness.Config, sources []string, concurrency int) (_ *stack, err error) {
	s := &stack{tokens: map[string]string{}}
	cfg.Settings = func(ctx context.Context, hs *harness.Stack) ([]string, error) {
		limits, notes, err := limitSettings(ctx, hs, concurrency)
		if err != nil {
			return nil, err
		}
		s.limitNotes = notes
		return append([]string{
			"ALEXUS_JWT_ISSUER=alexus-bench",
			"ALEXUS_JWT_AUDIENCE=alexus",
			"ALEXUS_DEV_JWT_SECRET=" + harness.RandSecret(),
		}, limits...), nil
	}
	if s.Stack, err = harness.Start(ctx, cfg); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()

	if _, err := s.Alexus(ctx, "tenant", "create", benchTenant); err != nil {
		return nil, err
	}
	for _, src := range sources {
		out, err := s.Alexus(ctx, "integration", "create", "--tenant", benchTenant, "--source", src, "--name", "bench-"+src)
		if err != nil {
			return nil, err
		}
		tok := lastLineWithPrefix(out, "alx_")
		if tok == "" {
			return nil, fmt.Errorf("integration create --source %s printed no alx_ token:\n%s", src, out)
		}
		s.tokens[src] = tok
	}

	// Ingest first: the gateway calls it.
	if s.ingest, err = s.StartPlane("ingest"); err != nil {
		return nil, err
	}
	if err := s.WaitHealthy(ctx, s.ingest); err != nil {
		return nil, err
	}
	if s.gateway, err = s.StartPlane("gateway"); err != nil {
		return nil, err
	}
	if err := s.WaitHealthy(ctx, s.gateway); err != nil {
		return nil, err
	}
	if err := s.checkTokens(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func lastLineWithPrefix(out, prefix string) string {
	var last string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, prefix) {
			last = line
		}
	}
	return last
}

// checkTokens posts an empty body with each source's token. The gateway
// authenticates before it reads the body, so 400 ("body is empty") proves
// the token is good for its source without storing anything.
func (s *stack) checkTokens(ctx context.Context) error {
	for src, tok := range s.tokens {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+s.gateway.Addr+"/v1/webhooks/"+src, http.NoBody)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("gateway at %s: %w", s.gateway.Addr, err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return fmt.Errorf("gateway refuses the integration token for %s: %d %s", src, resp.StatusCode, body)
		}
	}
	return nil
}

// pids returns the planes' names and process IDs, gateway first.
func (s *stack) pids() ([]string, []int) {
	return []string{"gateway", "ingest"}, []int{s.gateway.PID(), s.ingest.PID()}
}

// alive reports a plane that has exited, or nil.
func (s *stack) alive() error {
	for _, p := range []*harness.Plane{s.gateway, s.ingest} {
		if err := p.Gone(); err != nil {
			return fmt.Errorf("during the run: %w", err)
		}
	}
	return nil
}
