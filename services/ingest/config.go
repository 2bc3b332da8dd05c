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
	// MaxJSONDepth is how deeply a payload's arrays and objects may nest;
	// deeper is INVALID_ARGUMENT, checked before any normaliser runs
	// (ALEXUS_INGEST_MAX_JSON_DEPTH).
	MaxJSONDepth int
	// RatePerSecond is how many payloads per second each tenant may send
	// across all ingest replicas: one per Ingest call, one per IngestBatch
	// item. Above it, Ingest is RESOURCE_EXHAUSTED (reason RATE_LIMITED) and
	// batch items are rejected. Zero disables the limit
	// (ALEXUS_INGEST_RATE_PER_SECOND).
	RatePerSecond int
	// RateBurst is how many payloads a tenant may send at once after a quiet
	// spell (ALEXUS_INGEST_RATE_BURST).
	RateBurst int
	// MaxInFlight is how many calls (an Ingest, or a whole IngestBatch
	// stream) one replica works on at once; more is RESOURCE_EXHAUSTED
	// (reason INGEST_BUSY) (ALEXUS_INGEST_MAX_IN_FLIGHT).
	MaxInFlight int
	// MaxInFlightPerTenant is how many of those one tenant may hold; more is
	// RESOURCE_EXHAUSTED (reason TENANT_BUSY)
	// (ALEXUS_INGEST_MAX_IN_FLIGHT_PER_TENANT).
	MaxInFlightPerTenant int
	// SourceCacheTTL is how long a replica keeps a tenant's mapping rules
	// and fingerprint overrides before reading them again; a change saved
	// through another replica applies here within it
	// (ALEXUS_INGEST_SOURCE_CACHE_TTL, a Go duration).
	SourceCacheTTL time.Duration
	// InFlightWait is how long a call waits for a free slot before it is
	// refused; zero refuses at once (ALEXUS_INGEST_IN_FLIGHT_WAIT).
	InFlightWait time.Duration
}

// maxInFlightWait bounds InFlightWait: a call waits briefly or not at all,
// so a full replica answers quickly instead of holding calls in a queue.
const maxInFlightWait = time.Second

// maxSourceCacheTTL bounds SourceCacheTTL: a saved rule or override must
// reach every replica soon.
const maxSourceCacheTTL = 5 * time.Minute

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		Namespace:       rediskey.DefaultNamespace,
		DedupWindow:     24 * time.Hour,
		RawPayloadCap:   64 << 10,
		MaxPayloadBytes: maxPayloadLimit,
		MaxBatchItems:   1000,

		MaxJSONDepth:         64,
		RatePerSecond:        500,
		RateBurst:            1000,
		MaxInFlight:          64,
		MaxInFlightPerTenant: 16,
		SourceCacheTTL:       5 * time.Second,
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
	if c.MaxJSONDepth < 1 {
		errs = append(errs, fmt.Errorf("MaxJSONDepth %d must be at least 1", c.MaxJSONDepth))
	}
	if c.RatePerSecond < 0 {
		errs = append(errs, fmt.Errorf("RatePerSecond %d must not be negative (0 disables the limit)", c.RatePerSecond))
	}
	if c.RatePerSecond > 0 && c.RateBurst < 1 {
		errs = append(errs, fmt.Errorf("RateBurst %d must be at least 1 when RatePerSecond is set", c.RateBurst))
	}
	if c.MaxInFlight < 1 {
		errs = append(errs, fmt.Errorf("MaxInFlight %d must be at least 1", c.MaxInFlight))
	}
	if c.MaxInFlightPerTenant < 1 || c.MaxInFlightPerTenant > max(c.MaxInFlight, 1) {
		errs = append(errs, fmt.Errorf("MaxInFlightPerTenant %d must be between 1 and MaxInFlight (%d)", c.MaxInFlightPerTenant, c.MaxInFlight))
	}
	if c.SourceCacheTTL < 0 || c.SourceCacheTTL > maxSourceCacheTTL {
		errs = append(errs, fmt.Errorf("SourceCacheTTL %s must be between 0 and %s", c.SourceCacheTTL, maxSourceCacheTTL))
	}
	if c.InFlightWait < 0 || c.InFlightWait > maxInFlightWait {
		errs = append(errs, fmt.Errorf("InFlightWait %s must be between 0 and %s", c.InFlightWait, maxInFlightWait))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid ingest config: %w", err)
	}
	return nil
}
