package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/alexus-platform/alexus/internal/egress"
	"github.com/alexus-platform/alexus/internal/mesh"
	"github.com/alexus-platform/alexus/services/actions"
	"github.com/alexus-platform/alexus/services/gateway"
	"github.com/alexus-platform/alexus/services/ingest"
	"github.com/alexus-platform/alexus/services/orchestrator"
)

// meshFlags are every plane's settings; each plane subcommand and `alexus
// dev` register the same flags, so one name means one thing everywhere.
type meshFlags struct {
	stores storeFlags
	addrs  mesh.Addrs
	listen string

	gateway       gateway.Config
	jwtAlgorithms []string
	corsOrigins   []string
	devJWTSecret  string

	ingest        ingest.Config
	orchestrator  orchestrator.Config
	actions       actions.Config
	webhookSecret string
	egressAllow   string
}

func (f *meshFlags) register(fs *pflag.FlagSet) {
	f.stores.register(fs)
	stringFlag(fs, &f.addrs.Gateway, "gateway-addr", "ALEXUS_GATEWAY_ADDR", "127.0.0.1:8080", "gateway HTTP address (Connect, gRPC, gRPC-Web, webhooks)")
	stringFlag(fs, &f.addrs.Ingest, "ingest-addr", "ALEXUS_INGEST_ADDR", "127.0.0.1:9001", "ingest plane gRPC address")
	stringFlag(fs, &f.addrs.Orchestrator, "orchestrator-addr", "ALEXUS_ORCHESTRATOR_ADDR", "127.0.0.1:9002", "orchestrator plane gRPC address")
	stringFlag(fs, &f.addrs.Actions, "actions-addr", "ALEXUS_ACTIONS_ADDR", "127.0.0.1:9003", "action plane gRPC address")
	stringFlag(fs, &f.addrs.Reasoning, "reasoning-addr", "ALEXUS_REASONING_ADDR", "", "ReasoningService address the pipeline calls; empty means the orchestrator's own")
	stringFlag(fs, &f.listen, "listen", "ALEXUS_LISTEN_ADDR", "", "address this plane listens on, when it differs from the address others dial (e.g. 0.0.0.0:9001 in a container)")

	// Gateway.
	g := gateway.DefaultConfig()
	f.gateway = g
	stringFlag(fs, &f.gateway.Auth.JWKSURL, "jwt-jwks-url", "ALEXUS_JWT_JWKS_URL", "", "identity provider's JWKS URL (RS256/ES256 keys)")
	stringFlag(fs, &f.gateway.Auth.Issuer, "jwt-issuer", "ALEXUS_JWT_ISSUER", "", "required JWT issuer (iss)")
	stringFlag(fs, &f.gateway.Auth.Audience, "jwt-audience", "ALEXUS_JWT_AUDIENCE", "", "required JWT audience (aud)")
	fs.StringSliceVar(&f.jwtAlgorithms, "jwt-algorithms", orDefault(envList("ALEXUS_JWT_ALGORITHMS"), g.Auth.Algorithms), "allowed JWT algorithms (ALEXUS_JWT_ALGORITHMS)")
	stringFlag(fs, &f.gateway.Auth.TenantClaim, "jwt-tenant-claim", "ALEXUS_JWT_TENANT_CLAIM", g.Auth.TenantClaim, "JWT claim holding the tenant ID")
	fs.DurationVar(&f.gateway.Auth.Leeway, "jwt-leeway", envDuration("ALEXUS_JWT_LEEWAY", g.Auth.Leeway), "clock skew allowed on exp/nbf (ALEXUS_JWT_LEEWAY)")
	fs.DurationVar(&f.gateway.Auth.JWKSRefreshInterval, "jwt-jwks-refresh", envDuration("ALEXUS_JWT_JWKS_REFRESH", g.Auth.JWKSRefreshInterval), "JWKS background refresh interval (ALEXUS_JWT_JWKS_REFRESH)")
	stringFlag(fs, &f.devJWTSecret, "dev-jwt-secret", "ALEXUS_DEV_JWT_SECRET", "", "HS256 secret for development tokens; enables HS256 (never in production)")
	fs.StringSliceVar(&f.corsOrigins, "cors-origins", envList("ALEXUS_GATEWAY_CORS_ORIGINS"), "browser origins allowed to call the Connect API (ALEXUS_GATEWAY_CORS_ORIGINS)")
	fs.Int64Var(&f.gateway.MaxBodyBytes, "gateway-max-body-bytes", int64(envInt("ALEXUS_GATEWAY_MAX_BODY_BYTES", int(g.MaxBodyBytes))), "largest request body (ALEXUS_GATEWAY_MAX_BODY_BYTES)")
	fs.DurationVar(&f.gateway.TenantCacheTTL, "gateway-tenant-cache-ttl", envDuration("ALEXUS_GATEWAY_TENANT_CACHE_TTL", g.TenantCacheTTL), "how long 'tenant exists' is cached (ALEXUS_GATEWAY_TENANT_CACHE_TTL)")
	fs.DurationVar(&f.gateway.IntegrationTokenCacheTTL, "gateway-token-cache-ttl", envDuration("ALEXUS_GATEWAY_TOKEN_CACHE_TTL", g.IntegrationTokenCacheTTL), "how long a resolved integration token is trusted; revocation takes effect within it (ALEXUS_GATEWAY_TOKEN_CACHE_TTL)")
	fs.DurationVar(&f.gateway.ReadHeaderTimeout, "gateway-read-header-timeout", envDuration("ALEXUS_GATEWAY_READ_HEADER_TIMEOUT", g.ReadHeaderTimeout), "how long a client may take to send request headers (ALEXUS_GATEWAY_READ_HEADER_TIMEOUT)")
	fs.DurationVar(&f.gateway.ShutdownTimeout, "gateway-shutdown-timeout", envDuration("ALEXUS_GATEWAY_SHUTDOWN_TIMEOUT", g.ShutdownTimeout), "how long shutdown waits for calls in flight (ALEXUS_GATEWAY_SHUTDOWN_TIMEOUT)")
	fs.IntVar(&f.gateway.IngestCoalesce.MaxItems, "gateway-ingest-batch-items", envInt("ALEXUS_GATEWAY_INGEST_BATCH_ITEMS", g.IngestCoalesce.MaxItems), "most webhook deliveries of a tenant sent to ingest in one call, at most ingest's --ingest-max-batch-items; 1 sends each alone (ALEXUS_GATEWAY_INGEST_BATCH_ITEMS)")
	fs.IntVar(&f.gateway.IngestCoalesce.MaxInFlight, "gateway-ingest-calls-per-tenant", envInt("ALEXUS_GATEWAY_INGEST_CALLS_PER_TENANT", g.IngestCoalesce.MaxInFlight), "calls to ingest one tenant's webhooks may have in flight before deliveries wait to go together (ALEXUS_GATEWAY_INGEST_CALLS_PER_TENANT)")
	fs.DurationVar(&f.gateway.IngestCoalesce.Timeout, "gateway-ingest-batch-timeout", envDuration("ALEXUS_GATEWAY_INGEST_BATCH_TIMEOUT", g.IngestCoalesce.Timeout), "timeout of one call carrying several webhook deliveries to ingest (ALEXUS_GATEWAY_INGEST_BATCH_TIMEOUT)")

	// Ingest.
	i := ingest.DefaultConfig()
	f.ingest = i
	fs.DurationVar(&f.ingest.DedupWindow, "ingest-dedup-window", envDuration("ALEXUS_INGEST_DEDUP_WINDOW", i.DedupWindow), "how long repeats of a firing alert count as duplicates (ALEXUS_INGEST_DEDUP_WINDOW)")
	fs.IntVar(&f.ingest.RawPayloadCap, "ingest-raw-payload-cap", envInt("ALEXUS_INGEST_RAW_PAYLOAD_CAP", i.RawPayloadCap), "bytes of raw payload kept per signal (ALEXUS_INGEST_RAW_PAYLOAD_CAP)")
	fs.IntVar(&f.ingest.MaxPayloadBytes, "ingest-max-payload-bytes", envInt("ALEXUS_INGEST_MAX_PAYLOAD_BYTES", i.MaxPayloadBytes), "largest payload, at most 1 MiB (ALEXUS_INGEST_MAX_PAYLOAD_BYTES)")
	fs.IntVar(&f.ingest.MaxBatchItems, "ingest-max-batch-items", envInt("ALEXUS_INGEST_MAX_BATCH_ITEMS", i.MaxBatchItems), "most items per IngestBatch (ALEXUS_INGEST_MAX_BATCH_ITEMS)")
	fs.IntVar(&f.ingest.MaxJSONDepth, "ingest-max-json-depth", envInt("ALEXUS_INGEST_MAX_JSON_DEPTH", i.MaxJSONDepth), "deepest nesting of arrays and objects in a payload (ALEXUS_INGEST_MAX_JSON_DEPTH)")
	fs.IntVar(&f.ingest.RatePerSecond, "ingest-rate-per-second", envInt("ALEXUS_INGEST_RATE_PER_SECOND", i.RatePerSecond), "payloads per second per tenant across replicas; 0 disables (ALEXUS_INGEST_RATE_PER_SECOND)")
	fs.IntVar(&f.ingest.RateBurst, "ingest-rate-burst", envInt("ALEXUS_INGEST_RATE_BURST", i.RateBurst), "payloads a tenant may send at once (ALEXUS_INGEST_RATE_BURST)")
	fs.IntVar(&f.ingest.MaxInFlight, "ingest-max-in-flight", envInt("ALEXUS_INGEST_MAX_IN_FLIGHT", i.MaxInFlight), "calls one ingest replica works on at once (ALEXUS_INGEST_MAX_IN_FLIGHT)")
	fs.IntVar(&f.ingest.MaxInFlightPerTenant, "ingest-max-in-flight-per-tenant", envInt("ALEXUS_INGEST_MAX_IN_FLIGHT_PER_TENANT", i.MaxInFlightPerTenant), "calls of one tenant one ingest replica works on at once (ALEXUS_INGEST_MAX_IN_FLIGHT_PER_TENANT)")
	fs.DurationVar(&f.ingest.InFlightWait, "ingest-in-flight-wait", envDuration("ALEXUS_INGEST_IN_FLIGHT_WAIT", i.InFlightWait), "how long a call waits for a free slot before it is refused, at most 1s (ALEXUS_INGEST_IN_FLIGHT_WAIT)")
	fs.DurationVar(&f.ingest.SourceCacheTTL, "ingest-source-cache-ttl", envDuration("ALEXUS_INGEST_SOURCE_CACHE_TTL", i.SourceCacheTTL), "how long a replica keeps a tenant's mapping rules and fingerprint overrides before reading them again, at most 5m (ALEXUS_INGEST_SOURCE_CACHE_TTL)")

	// Orchestrator.
	o := orchestrator.DefaultConfig()
	f.orchestrator = o
	stringFlag(fs, &f.orchestrator.Group, "orchestrator-group", "ALEXUS_ORCHESTRATOR_GROUP", o.Group, "consumer group of the orchestrator replicas")
	stringFlag(fs, &f.orchestrator.Consumer, "orchestrator-consumer", "ALEXUS_ORCHESTRATOR_CONSUMER", o.Consumer, "this replica's unique consumer name")
	fs.IntVar(&f.orchestrator.Concurrency, "orchestrator-concurrency", envInt("ALEXUS_ORCHESTRATOR_CONCURRENCY", o.Concurrency), "entries processed at once (ALEXUS_ORCHESTRATOR_CONCURRENCY)")
	fs.Int64Var(&f.orchestrator.ReadCount, "orchestrator-read-count", int64(envInt("ALEXUS_ORCHESTRATOR_READ_COUNT", int(o.ReadCount))), "entries read per tenant stream per read (ALEXUS_ORCHESTRATOR_READ_COUNT)")
	fs.DurationVar(&f.orchestrator.Block, "orchestrator-block", envDuration("ALEXUS_ORCHESTRATOR_BLOCK", o.Block), "XREADGROUP block time (ALEXUS_ORCHESTRATOR_BLOCK)")
	fs.DurationVar(&f.orchestrator.ClaimMinIdle, "orchestrator-claim-min-idle", envDuration("ALEXUS_ORCHESTRATOR_CLAIM_MIN_IDLE", o.ClaimMinIdle), "idle time before a pending entry is reclaimed (ALEXUS_ORCHESTRATOR_CLAIM_MIN_IDLE)")
	fs.DurationVar(&f.orchestrator.ClaimInterval, "orchestrator-claim-interval", envDuration("ALEXUS_ORCHESTRATOR_CLAIM_INTERVAL", o.ClaimInterval), "how often idle entries are looked for (ALEXUS_ORCHESTRATOR_CLAIM_INTERVAL)")
	fs.Int64Var(&f.orchestrator.MaxDeliveries, "orchestrator-max-deliveries", int64(envInt("ALEXUS_ORCHESTRATOR_MAX_DELIVERIES", int(o.MaxDeliveries))), "deliveries before dead-lettering (ALEXUS_ORCHESTRATOR_MAX_DELIVERIES)")
	fs.DurationVar(&f.orchestrator.DiscoverInterval, "orchestrator-discover-interval", envDuration("ALEXUS_ORCHESTRATOR_DISCOVER_INTERVAL", o.DiscoverInterval), "how often new tenant streams are looked for (ALEXUS_ORCHESTRATOR_DISCOVER_INTERVAL)")
	fs.DurationVar(&f.orchestrator.EntryTimeout, "orchestrator-entry-timeout", envDuration("ALEXUS_ORCHESTRATOR_ENTRY_TIMEOUT", o.EntryTimeout), "time allowed for one entry, all stages (ALEXUS_ORCHESTRATOR_ENTRY_TIMEOUT)")
	fs.Int64Var(&f.orchestrator.DeadLetterMaxLen, "orchestrator-dead-letter-max-len", int64(envInt("ALEXUS_ORCHESTRATOR_DEAD_LETTER_MAX_LEN", int(o.DeadLetterMaxLen))), "approximate cap of each dead-letter stream (ALEXUS_ORCHESTRATOR_DEAD_LETTER_MAX_LEN)")
	fs.IntVar(&f.orchestrator.MaxWatchersPerTenant, "orchestrator-max-watchers-per-tenant", envInt("ALEXUS_ORCHESTRATOR_MAX_WATCHERS_PER_TENANT", o.MaxWatchersPerTenant), "WatchIncidents streams one tenant may hold open per replica (ALEXUS_ORCHESTRATOR_MAX_WATCHERS_PER_TENANT)")
	fs.DurationVar(&f.orchestrator.ResumeSweepInterval, "orchestrator-resume-sweep-interval", envDuration("ALEXUS_ORCHESTRATOR_RESUME_SWEEP_INTERVAL", o.ResumeSweepInterval), "how often answered clarify questions whose incident never resumed are queued again; 0 turns it off (ALEXUS_ORCHESTRATOR_RESUME_SWEEP_INTERVAL)")
	fs.Float64Var(&f.orchestrator.ExecuteAt, "orchestrator-execute-at", envFloat("ALEXUS_ORCHESTRATOR_EXECUTE_AT", o.ExecuteAt), "confidence at or above which actions execute (ALEXUS_ORCHESTRATOR_EXECUTE_AT)")
	fs.Float64Var(&f.orchestrator.ClarifyAt, "orchestrator-clarify-at", envFloat("ALEXUS_ORCHESTRATOR_CLARIFY_AT", o.ClarifyAt), "confidence at or above which a human is asked; below it, escalate (ALEXUS_ORCHESTRATOR_CLARIFY_AT)")
	fs.IntVar(&f.orchestrator.Knowledge.Dimension, "graph-dimension", envInt("ALEXUS_GRAPH_DIMENSION", o.Knowledge.Dimension), "embedding dimension of the knowledge graph; the embedder must produce it (ALEXUS_GRAPH_DIMENSION)")
	fs.IntVar(&f.orchestrator.Knowledge.MaxCachedVectors, "graph-max-cached-vectors", envInt("ALEXUS_GRAPH_MAX_CACHED_VECTORS", o.Knowledge.MaxCachedVectors), "vectors a replica keeps in memory for exact vector search, across tenants (ALEXUS_GRAPH_MAX_CACHED_VECTORS)")
	stringFlag(fs, &f.orchestrator.Knowledge.EmbedBaseURL, "embed-base-url", "ALEXUS_EMBED_BASE_URL", "", "OpenAI-compatible embeddings API (OpenAI, LiteLLM, vLLM, Ollama); empty uses the built-in local embedder")
	stringFlag(fs, &f.orchestrator.Knowledge.EmbedModel, "embed-model", "ALEXUS_EMBED_MODEL", "", "embedding model asked for at ALEXUS_EMBED_BASE_URL")
	stringFlag(fs, &f.orchestrator.Knowledge.EmbedAPIKey, "embed-api-key", "ALEXUS_EMBED_API_KEY", "", "bearer token for ALEXUS_EMBED_BASE_URL")
	stringFlag(fs, &f.orchestrator.LLM.BaseURL, "llm-base-url", "ALEXUS_LLM_BASE_URL", "", "OpenAI-compatible chat completions API (OpenAI, LiteLLM, vLLM, Ollama) for the reasoning stages; empty: heuristics only")
	stringFlag(fs, &f.orchestrator.LLM.Model, "llm-model", "ALEXUS_LLM_MODEL", "", "chat model asked for at ALEXUS_LLM_BASE_URL")
	stringFlag(fs, &f.orchestrator.LLM.APIKey, "llm-api-key", "ALEXUS_LLM_API_KEY", "", "bearer token for ALEXUS_LLM_BASE_URL")
	fs.DurationVar(&f.orchestrator.LLM.Timeout, "llm-timeout", envDuration("ALEXUS_LLM_TIMEOUT", o.LLM.Timeout), "time allowed for one model request (ALEXUS_LLM_TIMEOUT)")
	fs.DurationVar(&f.orchestrator.LLM.StageBudget, "llm-stage-budget", envDuration("ALEXUS_LLM_STAGE_BUDGET", o.LLM.StageBudget), "a stage's whole model time, retries included, before it falls back to the heuristic (ALEXUS_LLM_STAGE_BUDGET)")
	fs.IntVar(&f.orchestrator.LLM.MaxConcurrentPerTenant, "llm-max-concurrent-per-tenant", envInt("ALEXUS_LLM_MAX_CONCURRENT_PER_TENANT", o.LLM.MaxConcurrentPerTenant), "one tenant's model calls in flight per replica (ALEXUS_LLM_MAX_CONCURRENT_PER_TENANT)")
	fs.IntVar(&f.orchestrator.LLM.MaxTokens, "llm-max-tokens", envInt("ALEXUS_LLM_MAX_TOKENS", o.LLM.MaxTokens), "completion tokens one model call may use (ALEXUS_LLM_MAX_TOKENS)")
	fs.BoolVar(&f.orchestrator.LLM.JSONMode, "llm-json-mode", envBool("ALEXUS_LLM_JSON_MODE", false), "ask the model for json_object instead of json_schema output (ALEXUS_LLM_JSON_MODE)")
	fs.DurationVar(&f.orchestrator.QualityGate.Delay, "quality-gate-delay", envDuration("ALEXUS_QUALITY_GATE_DELAY", o.QualityGate.Delay), "how long after a resolution the quality gate checks whether the alert came back (ALEXUS_QUALITY_GATE_DELAY)")
	fs.IntVar(&f.orchestrator.QualityGate.Workers, "quality-gate-workers", envInt("ALEXUS_QUALITY_GATE_WORKERS", o.QualityGate.Workers), "quality gates checked at once per orchestrator replica (ALEXUS_QUALITY_GATE_WORKERS)")

	// Actions.
	a := actions.DefaultConfig()
	f.actions = a
	stringFlag(fs, &f.webhookSecret, "actions-webhook-secret", "ALEXUS_ACTIONS_WEBHOOK_SECRET", "", "HMAC-SHA256 key webhook bodies are signed with (>= 32 bytes; 'base64:' prefix allowed)")
	fs.DurationVar(&f.actions.WebhookTimeout, "actions-webhook-timeout", envDuration("ALEXUS_ACTIONS_WEBHOOK_TIMEOUT", a.WebhookTimeout), "time allowed per webhook delivery (ALEXUS_ACTIONS_WEBHOOK_TIMEOUT)")
	fs.IntVar(&f.actions.MaxAttempts, "actions-max-attempts", envInt("ALEXUS_ACTIONS_MAX_ATTEMPTS", a.MaxAttempts), "attempts before an action fails (ALEXUS_ACTIONS_MAX_ATTEMPTS)")
	fs.IntVar(&f.actions.Workers, "actions-workers", envInt("ALEXUS_ACTIONS_WORKERS", a.Workers), "webhook jobs run at once, the \"webhook\" queue's workers (ALEXUS_ACTIONS_WORKERS)")
	fs.IntVar(&f.actions.NotifyWorkers, "actions-notify-workers", envInt("ALEXUS_ACTIONS_NOTIFY_WORKERS", a.NotifyWorkers), "notify jobs (Slack, Teams) run at once, the \"notify\" queue's workers (ALEXUS_ACTIONS_NOTIFY_WORKERS)")
	fs.DurationVar(&f.actions.NotifyTimeout, "actions-notify-timeout", envDuration("ALEXUS_ACTIONS_NOTIFY_TIMEOUT", a.NotifyTimeout), "time allowed per notify delivery (ALEXUS_ACTIONS_NOTIFY_TIMEOUT)")
	fs.IntVar(&f.actions.RunbookWorkers, "actions-runbook-workers", envInt("ALEXUS_ACTIONS_RUNBOOK_WORKERS", a.RunbookWorkers), "runbook jobs (Rundeck, AWX, generic) run at once, the \"runbook\" queue's workers (ALEXUS_ACTIONS_RUNBOOK_WORKERS)")
	fs.DurationVar(&f.actions.RunbookTimeout, "actions-runbook-timeout", envDuration("ALEXUS_ACTIONS_RUNBOOK_TIMEOUT", a.RunbookTimeout), "time allowed per runbook trigger (ALEXUS_ACTIONS_RUNBOOK_TIMEOUT)")
	fs.IntVar(&f.actions.TicketWorkers, "actions-ticket-workers", envInt("ALEXUS_ACTIONS_TICKET_WORKERS", a.TicketWorkers), "jira jobs, and as many servicenow jobs, run at once: each of the \"jira\" and \"servicenow\" queues' workers (ALEXUS_ACTIONS_TICKET_WORKERS)")
	fs.DurationVar(&f.actions.TicketTimeout, "actions-ticket-timeout", envDuration("ALEXUS_ACTIONS_TICKET_TIMEOUT", a.TicketTimeout), "time allowed per request to a tenant's Jira or ServiceNow (ALEXUS_ACTIONS_TICKET_TIMEOUT)")
	fs.DurationVar(&f.actions.TicketReconcileInterval, "actions-ticket-reconcile-interval", envDuration("ALEXUS_ACTIONS_TICKET_RECONCILE_INTERVAL", a.TicketReconcileInterval), "how often the leader compares open tickets with their incidents, repairing missed webhooks (ALEXUS_ACTIONS_TICKET_RECONCILE_INTERVAL)")
	fs.DurationVar(&f.actions.RescueAfter, "actions-rescue-after", envDuration("ALEXUS_ACTIONS_RESCUE_AFTER", a.RescueAfter), "how long a job may run before it is taken for stuck (its process died) and run again; 0: the longest job timeout plus a minute (ALEXUS_ACTIONS_RESCUE_AFTER)")
	fs.DurationVar(&f.actions.SweepInterval, "actions-sweep-interval", envDuration("ALEXUS_ACTIONS_SWEEP_INTERVAL", a.SweepInterval), "how often dead actions (job discarded or cancelled without an outcome) are recorded failed (ALEXUS_ACTIONS_SWEEP_INTERVAL)")
	fs.DurationVar(&f.actions.AuditChainInterval, "actions-audit-chain-interval", envDuration("ALEXUS_ACTIONS_AUDIT_CHAIN_INTERVAL", a.AuditChainInterval), "how often the leader links new audit entries into their tenants' hash chains (ALEXUS_ACTIONS_AUDIT_CHAIN_INTERVAL)")
	fs.DurationVar(&f.actions.PollInterval, "actions-poll-interval", envDuration("ALEXUS_ACTIONS_POLL_INTERVAL", a.PollInterval), "how often due jobs are looked for (ALEXUS_ACTIONS_POLL_INTERVAL)")
	fs.DurationVar(&f.actions.ShutdownTimeout, "actions-shutdown-timeout", envDuration("ALEXUS_ACTIONS_SHUTDOWN_TIMEOUT", a.ShutdownTimeout), "wait for running jobs at shutdown (ALEXUS_ACTIONS_SHUTDOWN_TIMEOUT)")
	stringFlag(fs, &f.egressAllow, "actions-egress-allow", "ALEXUS_ACTIONS_EGRESS_ALLOW", "", "comma-separated CIDRs of non-public networks every tenant's actions may reach (default none; public addresses are always reachable)")
}

// config turns the flags into a mesh configuration for planes.
func (f *meshFlags) config(planes ...mesh.Plane) (mesh.Config, error) {
	ns := f.stores.space()
	f.gateway.Auth.Algorithms = f.jwtAlgorithms
	f.gateway.CORSAllowedOrigins = f.corsOrigins
	var err error
	if f.devJWTSecret != "" {
		if f.gateway.Auth.DevHS256Secret, err = secretBytes("ALEXUS_DEV_JWT_SECRET", f.devJWTSecret); err != nil {
			return mesh.Config{}, err
		}
	}
	f.ingest.Namespace = ns
	f.orchestrator.Namespace = ns
	if f.webhookSecret != "" {
		if f.actions.WebhookSecret, err = secretBytes("ALEXUS_ACTIONS_WEBHOOK_SECRET", f.webhookSecret); err != nil {
			return mesh.Config{}, err
		}
	}
	if f.actions.EgressAllow, err = egress.ParsePrefixes(f.egressAllow); err != nil {
		return mesh.Config{}, fmt.Errorf("ALEXUS_ACTIONS_EGRESS_ALLOW: %w", err)
	}
	if f.stores.internalSecret == "" {
		return mesh.Config{}, fmt.Errorf("set ALEXUS_INTERNAL_TOKEN_SECRET (at least 32 bytes, the same on every plane)")
	}
	internal, err := secretBytes("ALEXUS_INTERNAL_TOKEN_SECRET", f.stores.internalSecret)
	if err != nil {
		return mesh.Config{}, err
	}
	keys, err := f.stores.keyring()
	if err != nil {
		return mesh.Config{}, err
	}
	cfg := mesh.Config{
		Planes:         planes,
		Addrs:          f.addrs,
		Store:          f.stores.storeConfig(),
		RedisURL:       f.stores.redisURL,
		InternalSecret: internal,
		SecretKeys:     keys,
		Gateway:        f.gateway,
		Ingest:         f.ingest,
		Orchestrator:   f.orchestrator,
		Actions:        f.actions,
	}
	if len(planes) == 1 && f.listen != "" {
		switch planes[0] {
		case mesh.Gateway:
			cfg.Addrs.Gateway = f.listen
		case mesh.Ingest:
			cfg.Addrs.Ingest = f.listen
		case mesh.Orchestrator:
			cfg.Addrs.Orchestrator = f.listen
			if cfg.Addrs.Reasoning == "" {
				// Dial our own ReasoningService where others reach us.
				cfg.Addrs.Reasoning = f.addrs.Orchestrator
			}
		case mesh.Actions:
			cfg.Addrs.Actions = f.listen
		}
	}
	return cfg, nil
}

func newPlaneCmd(g *globals, p mesh.Plane, short string) *cobra.Command {
	f := &meshFlags{}
	cmd := &cobra.Command{
		Use:   string(p),
		Short: short,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			defer log.Sync() //nolint:errcheck
			if err := servePprof(cmd.Context(), log, g.pprofAddr); err != nil {
				return err
			}
			setPlaneGC()
			cfg, err := f.config(p)
			if err != nil {
				return err
			}
			m, err := mesh.Start(cmd.Context(), log, cfg)
			if err != nil {
				return err
			}
			return m.Wait()
		},
	}
	f.register(cmd.Flags())
	return cmd
}

func newGatewayCmd(g *globals) *cobra.Command {
	return newPlaneCmd(g, mesh.Gateway, "Run the public gateway: Connect, gRPC and gRPC-Web on one port, and vendor webhooks")
}

func newIngestCmd(g *globals) *cobra.Command {
	return newPlaneCmd(g, mesh.Ingest, "Run the ingestion plane: normalise, de-duplicate and stream signals")
}

func newOrchestratorCmd(g *globals) *cobra.Command {
	return newPlaneCmd(g, mesh.Orchestrator, "Run the orchestrator: the reasoning pipeline and incident queries")
}

func newActionsCmd(g *globals) *cobra.Command {
	return newPlaneCmd(g, mesh.Actions, "Run the action plane: idempotent actions as durable jobs, and the audit log")
}

func orDefault(v, def []string) []string {
	if len(v) > 0 {
		return v
	}
	return def
}
