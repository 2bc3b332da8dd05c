package normalise

import (
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// Helpers shared by the normalisers: time formats and severity words that
// several vendors use. A vendor-specific mapping stays in its own file.

// rfc3339Time parses an RFC 3339 time, as most vendors send. Empty and the
// zero time "0001-01-01T00:00:00Z" (Alertmanager's "unset") both yield nil.
func rfc3339Time(s string) (*timestamppb.Timestamp, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, fmt.Errorf("not an RFC 3339 time")
	}
	if t.IsZero() {
		return nil, nil
	}
	ts := timestamppb.New(t)
	if err := ts.CheckValid(); err != nil {
		return nil, fmt.Errorf("time out of range")
	}
	return ts, nil
}

// unixTime converts seconds since the epoch; 0 means unset and yields nil.
func unixTime(sec int64) *timestamppb.Timestamp {
	if sec <= 0 {
		return nil
	}
	return timestamppb.New(time.Unix(sec, 0))
}

// unixMilliTime converts milliseconds since the epoch; 0 means unset.
func unixMilliTime(ms int64) *timestamppb.Timestamp {
	if ms <= 0 {
		return nil
	}
	return timestamppb.New(time.UnixMilli(ms))
}

// SeverityWord maps the severity words vendors and label conventions use
// (Alertmanager's `severity` label, Grafana's, generic JSON's, ...) onto
// Alexus's scale. Matching ignores case and surrounding space.
//
//	critical, page, emergency, fatal     → CRITICAL
//	error, high, major                   → ERROR
//	warning, warn, medium, minor         → WARNING
//	info, low, none, informational       → INFO
//	missing, or any other value          → WARNING
//
// Unknown values map to WARNING rather than INFO so that an alert with an
// unusual label still gets looked at.
func SeverityWord(label string) signalv1.Severity {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "critical", "page", "emergency", "fatal":
		return signalv1.Severity_SEVERITY_CRITICAL
	case "error", "high", "major":
		return signalv1.Severity_SEVERITY_ERROR
	case "info", "low", "none", "informational":
		return signalv1.Severity_SEVERITY_INFO
	default:
		return signalv1.Severity_SEVERITY_WARNING
	}
}
