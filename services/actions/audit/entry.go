package audit

import (
	"encoding/json"
	"fmt"
	"time"
)

// Entry is one row of the audit log.
type Entry struct {
	// ID is the entry's position in the tenant's log; it only grows.
	ID int64
	// At is when the entry was written.
	At time.Time
	// Actor is the verified subject or a plane's system identity.
	Actor string
	// Event names what happened, e.g. "action.requested".
	Event string
	// Subject names what it happened to, e.g. "action/<id>".
	Subject string
	// Details are the event's key/value pairs.
	Details map[string]string
	// Seq is the entry's position in the tenant's hash chain, from 1; 0
	// while the entry is not chained yet (entries are written unchained and
	// linked by the action plane's leader within about a second).
	Seq int64
	// Hash is the SHA-256 of the entry's canonical encoding; PrevHash is
	// the hash of the entry at Seq-1 (see internal/audit). Both are empty
	// while the entry is not chained yet.
	Hash, PrevHash []byte
}

// decodeDetails turns the stored jsonb object into string pairs. Other
// planes may store numbers, booleans or nested values; those keep their JSON
// text rather than being dropped, so nothing recorded is hidden from a
// reader.
func decodeDetails(raw []byte) (map[string]string, error) {
	out := map[string]string{}
	if len(raw) == 0 {
		return out, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("decode audit details: %w", err)
	}
	for k, v := range fields {
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			out[k] = s
			continue
		}
		out[k] = string(v)
	}
	return out, nil
}
