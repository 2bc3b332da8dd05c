package ticket

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/alexus-platform/alexus/internal/openaiapi"
)

// Systems are the ticketing systems Alexus keeps in step with. Their names
// are also the webhook sources their changes come back through
// (POST /v1/webhooks/jira, /v1/webhooks/servicenow), so no tenant mapping
// rule may take them.
var Systems = []string{"jira", "servicenow"}

// IsSystem reports whether name is one of Systems.
func IsSystem(name string) bool { return slices.Contains(Systems, name) }

// State is an Alexus incident's state as the ticket integrations see it.
type State string

// The incident states a remote ticket maps onto. The zero State means the
// remote's status maps onto none of them (e.g. a custom Jira status with
// no category); such an update moves nothing.
const (
	Open         State = "open"
	Acknowledged State = "acknowledged"
	Resolved     State = "resolved"
)

// rank orders the states for Decide's tie-break: further along is higher.
func (s State) rank() int {
	switch s {
	case Open:
		return 1
	case Acknowledged:
		return 2
	case Resolved:
		return 3
	}
	return 0
}

// Valid reports whether s is one of the three states.
func (s State) Valid() bool { return s.rank() > 0 }

// Update is an inbound change to a remote ticket, normalized from a Jira
// webhook or a ServiceNow outbound REST message.
type Update struct {
	// System is "jira" or "servicenow".
	System string
	// Key identifies the ticket: the Jira issue key (OPS-42) or the
	// ServiceNow sys_id.
	Key string
	// Number is the ServiceNow number (INC0010001); for Jira it repeats
	// the key.
	Number string
	// Marker is the Alexus marker the ticket carries ("alexus-<hash>"), or
	// empty when it carries none (a ticket Alexus did not open).
	Marker string
	// Status is the remote's status: the Jira status name ("In Progress")
	// or the ServiceNow state code ("2").
	Status string
	// StatusCategory is Jira's status category key (new, indeterminate,
	// done) or ServiceNow's state label (In Progress).
	StatusCategory string
	// FromStatus is the status before the change when the status changed
	// and the remote said what it was.
	FromStatus string
	// StatusChanged reports whether this change touched the status.
	StatusChanged bool
	// State is Status mapped onto an Alexus state; empty when unmapped.
	State State
	// ChangedBy is who made the change: the Jira accountId or the
	// ServiceNow user_name.
	ChangedBy string
	// At is when the remote says the change happened.
	At time.Time
	// Fields names the fields the change touched, as the remote names
	// them (status, labels, work_notes, ...), when it says.
	Fields []string
	// Version is ServiceNow's sys_mod_count after the change; 0 when the
	// remote has none (Jira) or did not send it.
	Version int64
}

// markerPrefix begins every marker.
const markerPrefix = "alexus-"

// markerHash is what a hash inside a marker may hold: a Jira label may not
// contain spaces and a ServiceNow encoded query splits on ^, so the hash
// is kept to letters, digits, '-' and '_'.
var markerHash = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Marker is the correlation marker of the incident with hash: the label
// of its Jira issue and the correlation_id of its ServiceNow incident.
func Marker(hash string) (string, error) {
	if !markerHash.MatchString(hash) {
		return "", fmt.Errorf("ticket: incident hash %q must be 1 to 64 letters, digits, '-' or '_'", openaiapi.Clip(hash, 80))
	}
	return markerPrefix + strings.ToLower(hash), nil
}

// HashOf returns the incident hash a marker carries, or false when s is
// not a marker.
func HashOf(s string) (string, bool) {
	h, ok := strings.CutPrefix(s, markerPrefix)
	if !ok || !markerHash.MatchString(h) {
		return "", false
	}
	return h, true
}

// EchoWindow bounds rule 3 of IsEcho: how long after Alexus's own write
// an update reporting the state Alexus wrote still counts as its echo. It
// absorbs the remote's webhook delay and clock skew between the remote and
// Alexus.
const EchoWindow = 2 * time.Minute

// Self identifies Alexus's own writes on one tenant's remote.
type Self struct {
	// Users are the integration accounts Alexus writes as: Jira
	// accountIds, ServiceNow user_names. ServiceNow user names compare
	// without regard to case; Jira account IDs exactly.
	Users []string
}

// Written is what Alexus last wrote to a ticket, as the caller recorded
// it. The zero Written means Alexus has written nothing yet.
type Written struct {
	// State is the state Alexus last set on the ticket.
	State State
	// At is when it wrote it: the remote's timestamp of the write if the
	// response carried one, else Alexus's clock.
	At time.Time
	// Version is the ServiceNow sys_mod_count the write's response
	// reported; 0 when unknown.
	Version int64
}

// IsEcho reports whether u is an echo of Alexus's own write and must be
// ignored; see the package documentation for the rule.
func IsEcho(u Update, self Self, last Written) bool {
	if u.ChangedBy != "" && slices.ContainsFunc(self.Users, func(s string) bool {
		if u.System == "servicenow" {
			return strings.EqualFold(s, u.ChangedBy)
		}
		return s == u.ChangedBy
	}) {
		return true
	}
	if last.Version > 0 && u.Version > 0 && u.Version <= last.Version {
		return true
	}
	if last.State != "" && u.State == last.State && !last.At.IsZero() && !u.At.IsZero() &&
		!u.At.After(last.At.Add(EchoWindow)) {
		return true
	}
	return false
}

// Change is one side's state and when that side says it was set.
type Change struct {
	State State
	// At is when the state was set; zero when unknown.
	At time.Time
}

// Side names where a state came from.
type Side int

// The sides of a sync.
const (
	// Neither: both sides already agree.
	Neither Side = iota
	// Local: Alexus's incident wins; the remote ticket must be written.
	Local
	// Remote: the remote ticket wins; the incident must move.
	Remote
)

func (s Side) String() string {
	switch s {
	case Local:
		return "local"
	case Remote:
		return "remote"
	}
	return "neither"
}

// Decision is what Decide settled on.
type Decision struct {
	// State is the state both sides end in.
	State State
	// Winner is the side whose state that is; Neither when they agreed.
	Winner Side
	// Reason says which rule decided, for logs and the audit trail.
	Reason string
}

// Decide settles a conflict between the incident's state (local) and the
// remote ticket's (remote) by the rule in the package documentation. An
// invalid state on one side loses to a valid one on the other; with
// neither valid, nothing changes.
func Decide(local, remote Change) Decision {
	switch {
	case !local.State.Valid() && !remote.State.Valid():
		return Decision{State: local.State, Winner: Neither, Reason: "neither state is known"}
	case !remote.State.Valid():
		return Decision{State: local.State, Winner: Local, Reason: "the remote state maps to no incident state"}
	case !local.State.Valid():
		return Decision{State: remote.State, Winner: Remote, Reason: "the incident has no state"}
	case local.State == remote.State:
		return Decision{State: local.State, Winner: Neither, Reason: "in sync"}
	case local.State == Resolved && remote.State == Acknowledged:
		return Decision{State: Resolved, Winner: Local, Reason: "an acknowledgement never undoes a resolution"}
	case remote.State == Resolved && local.State == Acknowledged:
		return Decision{State: Resolved, Winner: Remote, Reason: "an acknowledgement never undoes a resolution"}
	}
	switch l, r := local.At, remote.At; {
	case !l.IsZero() && (r.IsZero() || l.After(r)):
		return Decision{State: local.State, Winner: Local, Reason: "the incident changed last"}
	case !r.IsZero() && (l.IsZero() || r.After(l)):
		return Decision{State: remote.State, Winner: Remote, Reason: "the remote ticket changed last"}
	}
	if local.State.rank() > remote.State.rank() {
		return Decision{State: local.State, Winner: Local, Reason: "a tie goes to the state further along"}
	}
	return Decision{State: remote.State, Winner: Remote, Reason: "a tie goes to the state further along"}
}

// The causes a client call can fail with, for errors.Is. A *APIError
// matches the one its status means.
var (
	// ErrUnauthorized: the remote refused the credentials (401). Not
	// retried.
	ErrUnauthorized = errors.New("ticket: credentials refused")
	// ErrForbidden: the credentials are valid but lack a permission the
	// call needs (403). Not retried.
	ErrForbidden = errors.New("ticket: permission denied")
	// ErrNotFound: the ticket (or the endpoint) does not exist, or the
	// account may not see it (404). Not retried.
	ErrNotFound = errors.New("ticket: not found")
	// ErrRateLimited: the remote still answered 429 when the retries were
	// spent.
	ErrRateLimited = errors.New("ticket: rate limited")
	// ErrTimeout: an attempt got no complete response within the timeout;
	// it is retried until the retries are spent.
	ErrTimeout = errors.New("ticket: request timed out")
	// ErrBadResponse: a 2xx response the client cannot use. Not retried.
	ErrBadResponse = errors.New("ticket: bad response")
)

// APIError is a response with a non-2xx status; the client's error that
// wraps it names the system and the call. Message is the remote's
// own message (Jira's errorMessages and errors, ServiceNow's
// error.message and error.detail), clipped, with credentials redacted
// should the remote echo one.
type APIError struct {
	// System is "jira" or "servicenow".
	System     string
	StatusCode int
	Message    string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is matches the cause the status means.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	}
	return false
}
