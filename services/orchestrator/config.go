package orchestrator

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/alexus-platform/alexus/internal/embed"
	"github.com/alexus-platform/alexus/internal/llm"
	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/services/orchestrator/gate"
	"github.com/alexus-platform/alexus/services/orchestrator/pipeline"
)

// Config configures the orchestrator plane. Each field's environment
// variable is given in its comment; the consumer's fields are documented
// on pipeline.ConsumerConfig.
type Config struct {
	// Namespace prefixes every Redis key (ALEXUS_REDIS_NAMESPACE,
	// default "alexus"). It must match the ingest plane's.
	Namespace rediskey.Space
	// ConsumerConfig says how the signal streams are read: group and
	// consumer names, concurrency, claiming, retries and dead letters.
	pipeline.ConsumerConfig
	// MaxWatchersPerTenant caps the WatchIncidents streams one tenant may
	// hold open on this replica, each holding a Redis connection; the call
	// beyond it is refused with RESOURCE_EXHAUSTED
	// (ALEXUS_ORCHESTRATOR_MAX_WATCHERS_PER_TENANT, default 32).
	MaxWatchersPerTenant int
	// ExecuteAt is the confidence at or above which a recommended action is
	// executed (ALEXUS_ORCHESTRATOR_EXECUTE_AT, default 0.8).
	ExecuteAt float64
	// ClarifyAt is the confidence at or above which (and below ExecuteAt) a
	// human is asked to clarify; below it the incident is escalated
	// (ALEXUS_ORCHESTRATOR_CLARIFY_AT, default 0.5).
	ClarifyAt float64
	// Knowledge configures the knowledge graph and its embedder.
	Knowledge KnowledgeConfig
	// LLM configures the model path of the reasoning stages.
	LLM LLMConfig
	// QualityGate configures the check of resolutions
	// (ALEXUS_QUALITY_GATE_DELAY, ALEXUS_QUALITY_GATE_WORKERS).
	QualityGate gate.Config
	// ResumeSweepInterval is how often the replica looks for clarify
	// answers whose incident never resumed (the answering process died
	// before queueing the resume) and queues them again: answers older
	// than this interval and than the consumer's ClaimMinIdle times
	// MaxDeliveries (7.5m by default), at most three times each
	// (ALEXUS_ORCHESTRATOR_RESUME_SWEEP_INTERVAL, default 1m; 0 turns the
	// sweep off).
	ResumeSweepInterval time.Duration
}

// LLMConfig configures the language model behind ClassifyIncident and
// Diagnose. Without a base URL every stage takes its heuristic path.
type LLMConfig struct {
	// BaseURL is an OpenAI-compatible chat completions API: OpenAI, a
	// LiteLLM proxy, vLLM or Ollama (ALEXUS_LLM_BASE_URL). Empty: no model.
	BaseURL string
	// Model is the chat model asked for (ALEXUS_LLM_MODEL).
	Model string
	// APIKey is sent as a bearer token (ALEXUS_LLM_API_KEY).
	APIKey string
	// Timeout bounds one request (ALEXUS_LLM_TIMEOUT, default 8s).
	Timeout time.Duration
	// StageBudget bounds a stage's whole use of the model, retries
	// included; past it the stage falls back to the heuristic, so that a
	// slow model never holds an entry past its EntryTimeout
	// (ALEXUS_LLM_STAGE_BUDGET, default 8s).
	StageBudget time.Duration
	// MaxConcurrentPerTenant bounds one tenant's calls in flight on this
	// replica; a call that finds them all taken falls back at once
	// (ALEXUS_LLM_MAX_CONCURRENT_PER_TENANT, default 4).
	MaxConcurrentPerTenant int
	// MaxTokens caps the completion tokens of one call
	// (ALEXUS_LLM_MAX_TOKENS, default 1024).
	MaxTokens int
	// JSONMode asks for {"type":"json_object"} instead of a JSON schema,
	// for servers without structured outputs; answers are still checked
	// against the schema (ALEXUS_LLM_JSON_MODE).
	JSONMode bool
}

// KnowledgeConfig configures the knowledge graph (the Postgres adapter)
// and the embedder of node texts and search queries.
type KnowledgeConfig struct {
	// Dimension is the embedding dimension of every vector
	// (ALEXUS_GRAPH_DIMENSION, default 1536). The embedder must produce it.
	Dimension int
	// MaxCachedVectors bounds the vectors a replica keeps in memory for
	// exact vector search, across tenants (ALEXUS_GRAPH_MAX_CACHED_VECTORS,
	// default 500,000: about 3 GB at 1536 dimensions).
	MaxCachedVectors int
	// EmbedBaseURL is an OpenAI-compatible embeddings API (OpenAI, a LiteLLM
	// proxy, vLLM, Ollama) (ALEXUS_EMBED_BASE_URL). Empty uses the built-in
	// local embedder, which needs no network.
	EmbedBaseURL string
	// EmbedModel is the model asked for (ALEXUS_EMBED_MODEL).
	EmbedModel string
	// EmbedAPIKey is sent as a bearer token (ALEXUS_EMBED_API_KEY).
	EmbedAPIKey string
}

// DefaultConfig returns the defaults documented on Config and
// pipeline.ConsumerConfig.
func DefaultConfig() Config {
	return Config{
		Namespace: rediskey.DefaultNamespace,
		ConsumerConfig: pipeline.ConsumerConfig{
			Group:            "orchestrator",
			Consumer:         defaultConsumer(),
			Concurrency:      64,
			ReadCount:        16,
			Block:            time.Second,
			ClaimMinIdle:     90 * time.Second,
			ClaimInterval:    5 * time.Second,
			MaxDeliveries:    5,
			DiscoverInterval: 500 * time.Millisecond,
			EntryTimeout:     30 * time.Second,
			DeadLetterMaxLen: 10000,
		},
		MaxWatchersPerTenant: 32,
		ExecuteAt:            0.8,
		ClarifyAt:            0.5,
		Knowledge:            KnowledgeConfig{Dimension: 1536, MaxCachedVectors: 500_000},
		LLM:                  LLMConfig{Timeout: 8 * time.Second, StageBudget: 8 * time.Second, MaxConcurrentPerTenant: 4, MaxTokens: 1024},
		QualityGate:          gate.DefaultConfig(),
		ResumeSweepInterval:  time.Minute,
	}
}

func defaultConsumer() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "orchestrator"
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}

// Validate names the first bad field.
func (c Config) Validate() error {
	if c.Namespace == "" || strings.ContainsAny(string(c.Namespace), "{}: ") {
		return fmt.Errorf("orchestrator: namespace %q must be non-empty without '{', '}', ':' or spaces", c.Namespace)
	}
	if err := c.ConsumerConfig.Validate(); err != nil {
		return fmt.Errorf("orchestrator: %w", err)
	}
	switch {
	case c.MaxWatchersPerTenant < 1:
		return fmt.Errorf("orchestrator: max watchers per tenant %d must be at least 1", c.MaxWatchersPerTenant)
	case !(c.ExecuteAt > 0 && c.ExecuteAt <= 1):
		return fmt.Errorf("orchestrator: execute at %v must be in (0, 1]", c.ExecuteAt)
	case !(c.ClarifyAt >= 0 && c.ClarifyAt <= c.ExecuteAt):
		return fmt.Errorf("orchestrator: clarify at %v must be in [0, execute at %v]", c.ClarifyAt, c.ExecuteAt)
	case c.Knowledge.Dimension < 64 || c.Knowledge.Dimension > 8192:
		return fmt.Errorf("orchestrator: graph dimension %d must be between 64 and 8192", c.Knowledge.Dimension)
	case c.Knowledge.MaxCachedVectors < 1:
		return fmt.Errorf("orchestrator: graph max cached vectors %d must be at least 1", c.Knowledge.MaxCachedVectors)
	case c.Knowledge.EmbedBaseURL != "" && c.Knowledge.EmbedModel == "":
		return errors.New("orchestrator: an embeddings base URL needs a model (ALEXUS_EMBED_MODEL)")
	case c.LLM.BaseURL != "" && c.LLM.Model == "":
		return errors.New("orchestrator: a model base URL needs a model (ALEXUS_LLM_MODEL)")
	case c.LLM.StageBudget <= 0:
		return fmt.Errorf("orchestrator: model stage budget %v must be positive", c.LLM.StageBudget)
	}
	if _, err := c.LLM.Client(nil); err != nil {
		return fmt.Errorf("orchestrator: %w", err)
	}
	if c.ResumeSweepInterval < 0 {
		return fmt.Errorf("orchestrator: resume sweep interval %s must not be negative", c.ResumeSweepInterval)
	}
	if err := c.QualityGate.Validate(); err != nil {
		return fmt.Errorf("orchestrator: %w", err)
	}
	return nil
}

// Client builds the configured model client, which tells meter (nil for
// none) the tokens of every call and, when meter is also an llm.Budgeter,
// asks it before each; nil without a base URL.
func (c LLMConfig) Client(meter llm.Meter) (*llm.Client, error) {
	if c.BaseURL == "" {
		return nil, nil
	}
	return llm.New(llm.Config{
		BaseURL: c.BaseURL, Model: c.Model, APIKey: c.APIKey, Timeout: c.Timeout,
		MaxConcurrentPerTenant: c.MaxConcurrentPerTenant, MaxTokens: c.MaxTokens, JSONMode: c.JSONMode,
		Meter: meter,
	})
}

// embedder builds the configured embedder.
func (c KnowledgeConfig) embedder() (embed.Embedder, error) {
	if c.EmbedBaseURL == "" {
		return embed.NewLocal(c.Dimension)
	}
	return embed.NewOpenAI(embed.OpenAIConfig{BaseURL: c.EmbedBaseURL, Model: c.EmbedModel, APIKey: c.EmbedAPIKey, Dimension: c.Dimension})
}
