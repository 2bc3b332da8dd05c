package ingest

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alexus-platform/alexus/internal/rediskey"
)

// maxPayloadLimit is the largest payload the proto contract admits
// (IngestRequest.payload max_len); a larger MaxPayloadBytes would never apply.
const maxPayloadLimit = 1 << 20

// Config is the ingestion plane's configuration.
type Config struct {
	// Namespace prefixes every Redis key (ALEXUS_REDIS_NAMESPACE). The
	// orchestrator must use the same one to find the streams.
	Namespace rediskey.Space
	// DedupWindow is how long a firing alert's fingerprint stays claimed:
	// repeats inside it are duplicates of the first signal, a repeat after
	// it opens a new one (ALEXUS_INGEST_DEDUP_WINDOW, a Go duration).
	DedupWindow time.Duration
	// RawPayloadCap is how many bytes of each alert's raw payload are kept
	// on its signal; longer ones are cut and marked raw_truncated
	// (ALEXUS_INGEST_RAW_PAYLOAD_CAP). Zero keeps none.
	RawPayloadCap int
	// MaxPayloadBytes is the largest payload accepted, at most 1 MiB
	// (ALEXUS_INGEST_MAX_PAYLOAD_BYTES).
	MaxPayloadBytes int
	// MaxBatchItems is the most items one IngestBatch stream may carry;
	// more is RESOURCE_EXHAUSTED (ALEXUS_INGEST_MAX_BATCH_ITEMS).
	MaxBatchItems int
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		Namespace:       rediskey.DefaultNamespace,
		DedupWindow:     24 * time.Hour,
		RawPayloadCap:   64 << 10,
		MaxPayloadBytes: maxPayloadLimit,
		MaxBatchItems:   1000,
	}
}

// Validate names every bad field.
func (c Config) Validate() error {
	var errs []error
	if c.Namespace == "" || strings.ContainsAny(string(c.Namespace), "{}: ") {
		errs = append(errs, fmt.Errorf("Namespace %q must be non-empty without '{', '}', ':' or spaces", c.Namespace))
	}
	if c.DedupWindow < time.Second {
		errs = append(errs, fmt.Errorf("DedupWindow %s must be at least 1s", c.DedupWindow))
	}
	if c.RawPayloadCap < 0 {
		errs = append(errs, fmt.Errorf("RawPayloadCap %d must not be negative", c.RawPayloadCap))
	}
	if c.MaxPayloadBytes < 1 || c.MaxPayloadBytes > maxPayloadLimit {
		errs = append(errs, fmt.Errorf("MaxPayloadBytes %d must be between 1 and %d", c.MaxPayloadBytes, maxPayloadLimit))
	}
	if c.MaxBatchItems < 1 {
		errs = append(errs, fmt.Errorf("MaxBatchItems %d must be at least 1", c.MaxBatchItems))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid ingest config: %w", err)
	}
	return nil
}
