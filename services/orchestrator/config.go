package orchestrator

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/alexus-platform/alexus/internal/rediskey"
)

// Config configures the orchestrator plane. Each field's environment
// variable is given in its comment.
type Config struct {
	// Namespace prefixes every Redis key (ALEXUS_REDIS_NAMESPACE,
	// default "alexus"). It must match the ingest plane's.
	Namespace rediskey.Space
	// Group is the consumer group every replica joins
	// (ALEXUS_ORCHESTRATOR_GROUP, default "orchestrator").
	Group string
	// Consumer is this replica's name in the group
	// (ALEXUS_ORCHESTRATOR_CONSUMER, default <hostname>-<pid>). Names must
	// be unique among live replicas.
	Consumer string
	// Concurrency is the number of entries processed at once
	// (ALEXUS_ORCHESTRATOR_CONCURRENCY, default 64).
	Concurrency int
	// ReadCount is the most entries read per tenant stream per read, and
	// claimed per stream per claim pass (ALEXUS_ORCHESTRATOR_READ_COUNT,
	// default 16).
	ReadCount int64
	// Block is how long a read waits for new entries
	// (ALEXUS_ORCHESTRATOR_BLOCK, default 1s). It also bounds how long a
	// stopping replica waits for its last read.
	Block time.Duration
	// ClaimMinIdle is how long an entry must have been pending before any
	// replica takes it over and retries it (ALEXUS_ORCHESTRATOR_CLAIM_MIN_IDLE,
	// default 30s).
	ClaimMinIdle time.Duration
	// ClaimInterval is how often idle entries are looked for
	// (ALEXUS_ORCHESTRATOR_CLAIM_INTERVAL, default 5s).
	ClaimInterval time.Duration
	// MaxDeliveries is how often an entry is tried before it goes to the
	// dead-letter stream (ALEXUS_ORCHESTRATOR_MAX_DELIVERIES, default 5).
	MaxDeliveries int64
	// DiscoverInterval is how often the registry of tenant streams is read
	// again (ALEXUS_ORCHESTRATOR_DISCOVER_INTERVAL, default 2s).
	DiscoverInterval time.Duration
	// EntryTimeout bounds the processing of one entry, all stages included
	// (ALEXUS_ORCHESTRATOR_ENTRY_TIMEOUT, default 30s).
	EntryTimeout time.Duration
	// DeadLetterMaxLen caps each tenant's dead-letter stream, approximately,
	// dropping the oldest (ALEXUS_ORCHESTRATOR_DEAD_LETTER_MAX_LEN, default
	// 10000).
	DeadLetterMaxLen int64
	// ExecuteAt is the confidence at or above which a recommended action is
	// executed (ALEXUS_ORCHESTRATOR_EXECUTE_AT, default 0.8).
	ExecuteAt float64
	// ClarifyAt is the confidence at or above which (and below ExecuteAt) a
	// human is asked to clarify; below it the incident is escalated
	// (ALEXUS_ORCHESTRATOR_CLARIFY_AT, default 0.5).
	ClarifyAt float64
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	return Config{
		Namespace:        rediskey.DefaultNamespace,
		Group:            "orchestrator",
		Consumer:         defaultConsumer(),
		Concurrency:      64,
		ReadCount:        16,
		Block:            time.Second,
		ClaimMinIdle:     30 * time.Second,
		ClaimInterval:    5 * time.Second,
		MaxDeliveries:    5,
		DiscoverInterval: 2 * time.Second,
		EntryTimeout:     30 * time.Second,
		DeadLetterMaxLen: 10000,
		ExecuteAt:        0.8,
		ClarifyAt:        0.5,
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
	switch {
	case c.Namespace == "" || strings.ContainsAny(string(c.Namespace), "{}: "):
		return fmt.Errorf("orchestrator: namespace %q must be non-empty without '{', '}', ':' or spaces", c.Namespace)
	case c.Group == "":
		return errors.New("orchestrator: group must not be empty")
	case c.Consumer == "":
		return errors.New("orchestrator: consumer must not be empty")
	case c.Concurrency < 1:
		return fmt.Errorf("orchestrator: concurrency %d must be at least 1", c.Concurrency)
	case c.ReadCount < 1:
		return fmt.Errorf("orchestrator: read count %d must be at least 1", c.ReadCount)
	case c.Block <= 0:
		return fmt.Errorf("orchestrator: block %s must be positive", c.Block)
	case c.ClaimMinIdle <= 0:
		return fmt.Errorf("orchestrator: claim min idle %s must be positive", c.ClaimMinIdle)
	case c.ClaimInterval <= 0:
		return fmt.Errorf("orchestrator: claim interval %s must be positive", c.ClaimInterval)
	case c.MaxDeliveries < 1:
		return fmt.Errorf("orchestrator: max deliveries %d must be at least 1", c.MaxDeliveries)
	case c.DiscoverInterval <= 0:
		return fmt.Errorf("orchestrator: discover interval %s must be positive", c.DiscoverInterval)
	case c.EntryTimeout <= 0:
		return fmt.Errorf("orchestrator: entry timeout %s must be positive", c.EntryTimeout)
	case c.DeadLetterMaxLen < 1:
		return fmt.Errorf("orchestrator: dead letter max len %d must be at least 1", c.DeadLetterMaxLen)
	case !(c.ExecuteAt > 0 && c.ExecuteAt <= 1):
		return fmt.Errorf("orchestrator: execute at %v must be in (0, 1]", c.ExecuteAt)
	case !(c.ClarifyAt >= 0 && c.ClarifyAt <= c.ExecuteAt):
		return fmt.Errorf("orchestrator: clarify at %v must be in [0, execute at %v]", c.ClarifyAt, c.ExecuteAt)
	}
	return nil
}
