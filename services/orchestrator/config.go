package orchestrator

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/alexus-platform/alexus/internal/rediskey"
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
	}
	return nil
}
