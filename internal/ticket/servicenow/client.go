package servicenow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/alexus-platform/alexus/internal/openaiapi"
	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/internal/ticket/ticketapi"
)

// System names ServiceNow in ticket.Update and errors.
const System = "servicenow"

// CorrelationDisplay is the correlation_display of every record Alexus
// opens.
const CorrelationDisplay = "Alexus"

// The incident table's state codes.
const (
	StateNew        = "1"
	StateInProgress = "2"
	StateOnHold     = "3"
	StateResolved   = "6"
	StateClosed     = "7"
	StateCanceled   = "8"
)

var stateLabels = map[string]string{
	StateNew: "New", StateInProgress: "In Progress", StateOnHold: "On Hold",
	StateResolved: "Resolved", StateClosed: "Closed", StateCanceled: "Canceled",
}

// StateLabel is the label of a state code, or "" for an unknown code.
func StateLabel(code string) string { return stateLabels[code] }

// StateOf maps a state code onto an Alexus state; see the package
// documentation. An unknown code maps to none.
func StateOf(code string) ticket.State {
	switch code {
	case StateNew:
		return ticket.Open
	case StateInProgress, StateOnHold:
		return ticket.Acknowledged
	case StateResolved, StateClosed, StateCanceled:
		return ticket.Resolved
	}
	return ""
}

// CodeOf is the state code Alexus writes for s.
func CodeOf(s ticket.State) string {
	switch s {
	case ticket.Open:
		return StateNew
	case ticket.Acknowledged:
		return StateInProgress
	case ticket.Resolved:
		return StateResolved
	}
	return ""
}

var sysID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func checkSysID(id string) error {
	if !sysID.MatchString(id) {
		return fmt.Errorf("servicenow: %q is not a sys_id", openaiapi.Clip(id, 40))
	}
	return nil
}

// Client talks to one tenant's ServiceNow instance.
type Client struct {
	cfg Config
	api *ticketapi.Caller
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.CloseCode == "" {
		cfg.CloseCode = DefaultCloseCode
	}
	cred := ticketapi.Credentials{User: cfg.Username, Secret: cfg.Password, BearerToken: cfg.BearerToken}
	api := ticketapi.NewClient(System, cfg.BaseURL, cred, errorMessage, cfg.Options)
	return &Client{cfg: cfg, api: api}, nil
}

// Incident is what Alexus reads of an incident record.
type Incident struct {
	SysID, Number    string
	ShortDescription string
	// State is the state code, StateLabel its label.
	State, StateLabel string
	// AlexusState is State mapped onto an Alexus state; empty if unmapped.
	AlexusState ticket.State
	// Marker is the record's correlation_id when it is an Alexus marker.
	Marker    string
	UpdatedBy string
	Created   time.Time
	Updated   time.Time
	// Version is sys_mod_count, the number of updates the record has had.
	Version int64
}

// Written is what Alexus's write left on the record, for ticket.IsEcho.
func (i Incident) Written() ticket.Written {
	return ticket.Written{State: i.AlexusState, At: i.Updated, Version: i.Version}
}

// NewIncident is the record to open for an incident.
type NewIncident struct {
	// Hash is the incident's hash; the record's correlation_id is its
	// marker.
	Hash string
	// ShortDescription is the one-line title (clipped to 160 bytes, the
	// field's length).
	ShortDescription string
	// Description is plain text.
	Description string
	// Urgency and Impact are 1 (high) to 3 (low); 0 leaves the instance's
	// default.
	Urgency, Impact int
}

// fields are the fields every read asks for.
var fields = strings.Join([]string{"sys_id", "number", "short_description", "state", "correlation_id",
	"sys_updated_by", "sys_updated_on", "sys_created_on", "sys_mod_count"}, ",")

// query is the query string of every read: raw values, no reference
// links.
func query(extra map[string]string) map[string][]string {
	q := map[string][]string{
		"sysparm_fields":                 {fields},
		"sysparm_display_value":          {"false"},
		"sysparm_exclude_reference_link": {"true"},
	}
	for k, v := range extra {
		q[k] = []string{v}
	}
	return q
}

// FindOrCreate returns the incident's record, opening it if no record
// carries the incident's marker, and reports whether this call opened it.
// It never opens a second record for a marker; see the package
// documentation.
func (c *Client) FindOrCreate(ctx context.Context, in NewIncident) (Incident, bool, error) {
	marker, err := ticket.Marker(in.Hash)
	if err != nil {
		return Incident{}, false, err
	}
	switch {
	case strings.TrimSpace(in.ShortDescription) == "":
		return Incident{}, false, errors.New("servicenow: short description is required")
	case in.Urgency < 0 || in.Urgency > 3:
		return Incident{}, false, fmt.Errorf("servicenow: urgency %d must be 1 to 3", in.Urgency)
	case in.Impact < 0 || in.Impact > 3:
		return Incident{}, false, fmt.Errorf("servicenow: impact %d must be 1 to 3", in.Impact)
	}
	body := map[string]string{
		"short_description":   openaiapi.Clip(in.ShortDescription, 160),
		"description":         in.Description,
		"correlation_id":      marker,
		"correlation_display": CorrelationDisplay,
	}
	if in.Urgency > 0 {
		body["urgency"] = strconv.Itoa(in.Urgency)
	}
	if in.Impact > 0 {
		body["impact"] = strconv.Itoa(in.Impact)
	}
	if c.cfg.AssignmentGroup != "" {
		body["assignment_group"] = c.cfg.AssignmentGroup
	}
	find := func(ctx context.Context) (Incident, bool, error) { return c.find(ctx, marker) }
	create := func(ctx context.Context) (Incident, error) {
		var out struct {
			Result wireRecord `json:"result"`
		}
		err := c.api.Once(ctx, ticketapi.Request{Method: "POST", Path: "api/now/table/incident", Query: query(nil), Body: body, Out: &out})
		if err != nil {
			return Incident{}, err
		}
		if !sysID.MatchString(out.Result.SysID) {
			return Incident{}, backoff.Permanent(fmt.Errorf("%w: created record has no sys_id", ticket.ErrBadResponse))
		}
		return out.Result.incident(), nil
	}
	return ticketapi.FindOrCreate(ctx, c.api, find, create)
}

// Find returns the oldest record whose correlation_id is the marker of
// the incident with hash, or false if there is none.
func (c *Client) Find(ctx context.Context, hash string) (Incident, bool, error) {
	marker, err := ticket.Marker(hash)
	if err != nil {
		return Incident{}, false, err
	}
	return c.find(ctx, marker)
}

func (c *Client) find(ctx context.Context, marker string) (Incident, bool, error) {
	var out struct {
		Result []wireRecord `json:"result"`
	}
	err := c.api.Do(ctx, ticketapi.Request{
		Method: "GET",
		Path:   "api/now/table/incident",
		// The marker holds no '^', so it cannot break out of the query.
		Query: query(map[string]string{"sysparm_query": "correlation_id=" + marker + "^ORDERBYsys_created_on", "sysparm_limit": "10"}),
		Out:   &out,
	})
	if err != nil || len(out.Result) == 0 {
		return Incident{}, false, err
	}
	incs := make([]Incident, len(out.Result))
	for i, w := range out.Result {
		incs[i] = w.incident()
	}
	// The oldest is the record of record, whatever order came back.
	return slices.MinFunc(incs, func(a, b Incident) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.Number, b.Number)
	}), true, nil
}

// Get reads the record with sysID, for the reconcile job.
func (c *Client) Get(ctx context.Context, sysID string) (Incident, error) {
	if err := checkSysID(sysID); err != nil {
		return Incident{}, err
	}
	var out struct {
		Result wireRecord `json:"result"`
	}
	err := c.api.Do(ctx, ticketapi.Request{Method: "GET", Path: "api/now/table/incident/" + sysID, Query: query(nil), Out: &out})
	if err != nil {
		return Incident{}, err
	}
	return out.Result.incident(), nil
}

// noteTag ends every work note Alexus adds.
func noteTag(id string) string { return "[alexus note " + id + "]" }

// WorkNote adds text as a work note on the record, once per noteID (see
// the package documentation), and reports whether this call added it. An
// empty noteID is derived from the text.
func (c *Client) WorkNote(ctx context.Context, sysID, noteID, text string) (bool, error) {
	if err := checkSysID(sysID); err != nil {
		return false, err
	}
	if strings.TrimSpace(text) == "" {
		return false, errors.New("servicenow: work note text is required")
	}
	if noteID == "" {
		sum := sha256.Sum256([]byte(text))
		noteID = hex.EncodeToString(sum[:8])
	}
	if strings.ContainsAny(noteID, "[]\r\n") {
		return false, fmt.Errorf("servicenow: note id %q must not hold brackets or line breaks", openaiapi.Clip(noteID, 40))
	}
	tag := noteTag(noteID)
	find := func(ctx context.Context) (struct{}, bool, error) {
		// Journal fields read back, as display values, as the text of
		// every entry.
		var out struct {
			Result struct {
				WorkNotes string `json:"work_notes"`
			} `json:"result"`
		}
		err := c.api.Do(ctx, ticketapi.Request{
			Method: "GET",
			Path:   "api/now/table/incident/" + sysID,
			Query:  map[string][]string{"sysparm_fields": {"work_notes"}, "sysparm_display_value": {"true"}},
			Out:    &out,
		})
		return struct{}{}, err == nil && strings.Contains(out.Result.WorkNotes, tag), err
	}
	create := func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.api.Once(ctx, ticketapi.Request{
			Method: "PATCH",
			Path:   "api/now/table/incident/" + sysID,
			Query:  query(nil),
			Body:   map[string]string{"work_notes": strings.TrimRight(text, "\n") + "\n\n" + tag},
		})
	}
	_, added, err := ticketapi.FindOrCreate(ctx, c.api, find, create)
	return added, err
}

// SetState sets the record's state to the code for state and returns the
// record as it is afterwards, and whether this call changed it.
// closeNotes are the close_notes of a resolution, which ServiceNow
// requires; other states ignore them (add a work note with WorkNote). A
// record already in state is left alone. Setting fields is safe to
// repeat, so a lost response is simply retried.
func (c *Client) SetState(ctx context.Context, sysID string, state ticket.State, closeNotes string) (Incident, bool, error) {
	if err := checkSysID(sysID); err != nil {
		return Incident{}, false, err
	}
	code := CodeOf(state)
	if code == "" {
		return Incident{}, false, fmt.Errorf("servicenow: unknown state %q", state)
	}
	if state == ticket.Resolved && strings.TrimSpace(closeNotes) == "" {
		return Incident{}, false, errors.New("servicenow: close notes are required to resolve")
	}
	cur, err := c.Get(ctx, sysID)
	if err != nil || cur.AlexusState == state {
		return cur, false, err
	}
	body := map[string]string{"state": code}
	if state == ticket.Resolved {
		body["close_code"] = c.cfg.CloseCode
		body["close_notes"] = closeNotes
	}
	var out struct {
		Result wireRecord `json:"result"`
	}
	if err := c.api.Do(ctx, ticketapi.Request{Method: "PATCH", Path: "api/now/table/incident/" + sysID, Query: query(nil), Body: body, Out: &out}); err != nil {
		return Incident{}, false, err
	}
	return out.Result.incident(), true, nil
}

// Resolve sets the record to Resolved with the configured close code and
// closeNotes; see SetState.
func (c *Client) Resolve(ctx context.Context, sysID, closeNotes string) (Incident, bool, error) {
	return c.SetState(ctx, sysID, ticket.Resolved, closeNotes)
}

// Self is the tenant's integration accounts, for ticket.IsEcho.
func (c *Client) Self() ticket.Self { return c.cfg.Self() }

// wireRecord is a record as the Table API returns it with
// sysparm_display_value=false: every value a string.
type wireRecord struct {
	SysID            string `json:"sys_id"`
	Number           string `json:"number"`
	ShortDescription string `json:"short_description"`
	State            flex   `json:"state"`
	CorrelationID    string `json:"correlation_id"`
	SysUpdatedBy     string `json:"sys_updated_by"`
	SysUpdatedOn     string `json:"sys_updated_on"`
	SysCreatedOn     string `json:"sys_created_on"`
	SysModCount      flex   `json:"sys_mod_count"`
}

func (w wireRecord) incident() Incident {
	inc := Incident{
		SysID: w.SysID, Number: w.Number, ShortDescription: w.ShortDescription,
		State: string(w.State), StateLabel: StateLabel(string(w.State)), AlexusState: StateOf(string(w.State)),
		UpdatedBy: w.SysUpdatedBy,
	}
	if _, ok := ticket.HashOf(w.CorrelationID); ok {
		inc.Marker = w.CorrelationID
	}
	inc.Created, _ = ParseTime(w.SysCreatedOn)
	inc.Updated, _ = ParseTime(w.SysUpdatedOn)
	inc.Version, _ = strconv.ParseInt(string(w.SysModCount), 10, 64)
	return inc
}

// flex reads a value ServiceNow (or a tenant's script) may send as a
// string or a number.
type flex string

func (f *flex) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*f = flex(strings.TrimSpace(s))
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want a string or a number, got %s", openaiapi.Clip(string(b), 20))
	}
	*f = flex(n.String())
	return nil
}

// ParseTime reads a glide date-time's internal value, "2006-01-02
// 15:04:05" in UTC; RFC 3339 is accepted too.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.ParseInLocation(time.DateTime, s, time.UTC); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("servicenow: bad date-time %q", openaiapi.Clip(s, 40))
}

// errorMessage reads the Table API's error body, {"error":{"message",
// "detail"},"status":"failure"}.
func errorMessage(body []byte) string {
	var w struct {
		Error struct {
			Message string `json:"message"`
			Detail  string `json:"detail"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &w) != nil {
		return ""
	}
	if w.Error.Detail != "" && w.Error.Detail != w.Error.Message {
		return w.Error.Message + ": " + w.Error.Detail
	}
	return w.Error.Message
}
