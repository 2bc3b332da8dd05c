package jira

import (
	"cmp"
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

// System names Jira in ticket.Update and errors.
const System = "jira"

// CommonLabel is carried by every issue Alexus opens, beside its marker,
// so a tenant (or the reconcile job) can find them all with one JQL.
const CommonLabel = "alexus"

// PropertyKey is the entity property on a comment that carries Alexus's
// note id.
const PropertyKey = "alexus"

// ErrNoTransition: the issue's workflow offers no transition into the
// state asked for from where the issue is. Not retried.
var ErrNoTransition = errors.New("jira: no transition to the requested state")

// Client talks to one tenant's Jira.
type Client struct {
	cfg Config
	api *ticketapi.Caller
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.IssueType == "" {
		cfg.IssueType = DefaultIssueType
	}
	cred := ticketapi.Credentials{User: cfg.Email, Secret: cfg.APIToken, BearerToken: cfg.BearerToken}
	api := ticketapi.NewClient(System, cfg.BaseURL, cred, errorMessage, cfg.Options)
	return &Client{cfg: cfg, api: api}, nil
}

// Issue is what Alexus reads of a Jira issue.
type Issue struct {
	// ID is Jira's numeric issue id, Key its key (OPS-42).
	ID, Key string
	Summary string
	// Status is the status name, StatusCategory its category's key.
	Status, StatusCategory string
	// State is the status mapped onto an Alexus state; empty if unmapped.
	State ticket.State
	// Marker is the issue's "alexus-<hash>" label, if it has one.
	Marker  string
	Labels  []string
	Created time.Time
	Updated time.Time
}

// NewIssue is the issue to open for an incident.
type NewIssue struct {
	// Hash is the incident's hash; the issue is labelled with its marker.
	Hash string
	// Summary is the issue's one-line title (clipped to 250 bytes).
	Summary string
	// Description is plain text; blank lines separate paragraphs.
	Description string
	// Labels are added to the Config's and Alexus's own.
	Labels []string
}

var issueKey = regexp.MustCompile(`^(?:[A-Z][A-Z0-9_]*-[1-9][0-9]*|[1-9][0-9]*)$`)

func checkKey(key string) error {
	if !issueKey.MatchString(key) {
		return fmt.Errorf("jira: %q is not an issue key or id", openaiapi.Clip(key, 40))
	}
	return nil
}

// issueFields are the fields every read asks for.
var issueFields = []string{"summary", "status", "labels", "created", "updated"}

// FindOrCreate returns the incident's issue, opening it if no issue
// carries the incident's marker, and reports whether this call opened it.
// It never opens a second issue for a marker; see the package
// documentation.
func (c *Client) FindOrCreate(ctx context.Context, in NewIssue) (Issue, bool, error) {
	marker, err := ticket.Marker(in.Hash)
	if err != nil {
		return Issue{}, false, err
	}
	if strings.TrimSpace(in.Summary) == "" {
		return Issue{}, false, errors.New("jira: summary is required")
	}
	for _, l := range in.Labels {
		if !label.MatchString(l) {
			return Issue{}, false, fmt.Errorf("jira: label %q must be 1 to 255 characters without spaces", l)
		}
	}
	labels := slices.Compact(slices.Sorted(slices.Values(append(append([]string{CommonLabel, marker}, c.cfg.Labels...), in.Labels...))))
	fields := map[string]any{
		"project":   map[string]string{"key": c.cfg.Project},
		"issuetype": map[string]string{"name": c.cfg.IssueType},
		"summary":   openaiapi.Clip(in.Summary, 250),
		"labels":    labels,
	}
	if strings.TrimSpace(in.Description) != "" {
		fields["description"] = ADF(in.Description)
	}
	find := func(ctx context.Context) (Issue, bool, error) { return c.find(ctx, marker) }
	create := func(ctx context.Context) (Issue, error) {
		var out struct {
			ID  string `json:"id"`
			Key string `json:"key"`
		}
		err := c.api.Once(ctx, ticketapi.Request{Method: "POST", Path: "rest/api/3/issue", Body: map[string]any{"fields": fields}, Out: &out})
		if err != nil {
			return Issue{}, err
		}
		if out.Key == "" {
			return Issue{}, backoff.Permanent(fmt.Errorf("%w: created issue has no key", ticket.ErrBadResponse))
		}
		// The create answers with the key alone; the issue starts in its
		// workflow's initial status, which a Get would name.
		return Issue{ID: out.ID, Key: out.Key, Summary: fields["summary"].(string), Marker: marker, Labels: labels, State: ticket.Open, StatusCategory: "new"}, nil
	}
	return ticketapi.FindOrCreate(ctx, c.api, find, create)
}

// Find returns the oldest issue carrying the marker of the incident with
// hash, or false if there is none.
func (c *Client) Find(ctx context.Context, hash string) (Issue, bool, error) {
	marker, err := ticket.Marker(hash)
	if err != nil {
		return Issue{}, false, err
	}
	return c.find(ctx, marker)
}

func (c *Client) find(ctx context.Context, marker string) (Issue, bool, error) {
	var out struct {
		Issues []wireIssue `json:"issues"`
	}
	err := c.api.Do(ctx, ticketapi.Request{
		Method: "POST",
		Path:   "rest/api/3/search/jql",
		Body: map[string]any{
			"jql":        fmt.Sprintf("labels = %q ORDER BY created ASC", marker),
			"fields":     issueFields,
			"maxResults": 50,
		},
		Out: &out,
	})
	if err != nil || len(out.Issues) == 0 {
		return Issue{}, false, err
	}
	issues := make([]Issue, len(out.Issues))
	for i, w := range out.Issues {
		issues[i] = c.issue(w)
	}
	// The oldest is the issue of record, whatever order Jira answered in.
	return slices.MinFunc(issues, func(a, b Issue) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		ai, _ := strconv.ParseInt(a.ID, 10, 64)
		bi, _ := strconv.ParseInt(b.ID, 10, 64)
		return cmp.Compare(ai, bi)
	}), true, nil
}

// Get reads the issue with key, for the reconcile job.
func (c *Client) Get(ctx context.Context, key string) (Issue, error) {
	if err := checkKey(key); err != nil {
		return Issue{}, err
	}
	var w wireIssue
	err := c.api.Do(ctx, ticketapi.Request{
		Method: "GET",
		Path:   "rest/api/3/issue/" + key,
		Query:  map[string][]string{"fields": {strings.Join(issueFields, ",")}},
		Out:    &w,
	})
	if err != nil {
		return Issue{}, err
	}
	return c.issue(w), nil
}

// Comment adds text (plain; blank lines separate paragraphs) as a comment
// on the issue, once per noteID: the comment carries noteID in its
// "alexus" property, and when one of the issue's latest 100 comments
// already does, nothing is added — so neither a repeated call nor a retry
// after a lost response duplicates it. An empty noteID is derived from
// the text. It reports whether this call added the comment.
func (c *Client) Comment(ctx context.Context, key, noteID, text string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	if strings.TrimSpace(text) == "" {
		return false, errors.New("jira: comment text is required")
	}
	if noteID == "" {
		sum := sha256.Sum256([]byte(text))
		noteID = hex.EncodeToString(sum[:8])
	}
	find := func(ctx context.Context) (struct{}, bool, error) {
		ok, err := c.hasComment(ctx, key, noteID)
		return struct{}{}, ok, err
	}
	create := func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.api.Once(ctx, ticketapi.Request{
			Method: "POST",
			Path:   "rest/api/3/issue/" + key + "/comment",
			Body: map[string]any{
				"body":       ADF(text),
				"properties": []any{map[string]any{"key": PropertyKey, "value": map[string]string{"note": noteID}}},
			},
		})
	}
	_, added, err := ticketapi.FindOrCreate(ctx, c.api, find, create)
	return added, err
}

// hasComment looks for noteID among the issue's latest 100 comments.
func (c *Client) hasComment(ctx context.Context, key, noteID string) (bool, error) {
	var out struct {
		Comments []struct {
			Properties []struct {
				Key   string          `json:"key"`
				Value json.RawMessage `json:"value"`
			} `json:"properties"`
		} `json:"comments"`
	}
	err := c.api.Do(ctx, ticketapi.Request{
		Method: "GET",
		Path:   "rest/api/3/issue/" + key + "/comment",
		Query:  map[string][]string{"expand": {"properties"}, "orderBy": {"-created"}, "maxResults": {"100"}},
		Out:    &out,
	})
	if err != nil {
		return false, err
	}
	for _, cm := range out.Comments {
		for _, p := range cm.Properties {
			var v struct {
				Note string `json:"note"`
			}
			if p.Key == PropertyKey && json.Unmarshal(p.Value, &v) == nil && v.Note == noteID {
				return true, nil
			}
		}
	}
	return false, nil
}

// SetState moves the issue into the status category of state, through a
// transition the workflow offers, and reports whether it moved it. An
// issue already there is left alone.
func (c *Client) SetState(ctx context.Context, key string, state ticket.State) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	if !state.Valid() {
		return false, fmt.Errorf("jira: unknown state %q", state)
	}
	there := func(ctx context.Context) (struct{}, bool, error) {
		iss, err := c.Get(ctx, key)
		return struct{}{}, err == nil && iss.State == state, err
	}
	if _, ok, err := there(ctx); err != nil || ok {
		return false, err
	}
	move := func(ctx context.Context) (struct{}, error) {
		id, err := c.transitionTo(ctx, key, state)
		if err != nil {
			return struct{}{}, backoff.Permanent(err)
		}
		return struct{}{}, c.api.Once(ctx, ticketapi.Request{
			Method: "POST",
			Path:   "rest/api/3/issue/" + key + "/transitions",
			Body:   map[string]any{"transition": map[string]string{"id": id}},
		})
	}
	if _, err := ticketapi.Create(ctx, c.api, there, move); err != nil {
		return false, err
	}
	return true, nil
}

// Resolve moves the issue into the done category; see SetState.
func (c *Client) Resolve(ctx context.Context, key string) (bool, error) {
	return c.SetState(ctx, key, ticket.Resolved)
}

// transitionTo picks the transition into state among those the issue
// offers now.
func (c *Client) transitionTo(ctx context.Context, key string, state ticket.State) (string, error) {
	var out struct {
		Transitions []struct {
			ID          string     `json:"id"`
			Name        string     `json:"name"`
			To          wireStatus `json:"to"`
			IsAvailable *bool      `json:"isAvailable"`
		} `json:"transitions"`
	}
	err := c.api.Do(ctx, ticketapi.Request{Method: "GET", Path: "rest/api/3/issue/" + key + "/transitions", Out: &out})
	if err != nil {
		return "", err
	}
	want := c.cfg.Statuses[state]
	for _, t := range out.Transitions {
		if t.IsAvailable != nil && !*t.IsAvailable {
			continue
		}
		if want != "" && strings.EqualFold(t.To.Name, want) ||
			want == "" && c.State(t.To.Name, t.To.StatusCategory.Key) == state {
			return t.ID, nil
		}
	}
	if want != "" {
		return "", fmt.Errorf("%w: %s offers no transition to status %q", ErrNoTransition, key, want)
	}
	return "", fmt.Errorf("%w: %s offers no transition to a status that maps to %s", ErrNoTransition, key, state)
}

// State maps a status, with its category's key, onto an Alexus state
// with the tenant's overrides.
func (c *Client) State(status, category string) ticket.State {
	return StateOf(status, category, c.cfg.States)
}

// ParseWebhook is the package's ParseWebhook with the tenant's overrides.
func (c *Client) ParseWebhook(body []byte) (ticket.Update, error) {
	return ParseWebhook(body, c.cfg.States)
}

// Self is the tenant's integration account, for ticket.IsEcho.
func (c *Client) Self() ticket.Self { return c.cfg.Self() }

// StateOf maps a status onto an Alexus state: by name through overrides
// (case-insensitive) first, else by its category's key (new → open,
// indeterminate → acknowledged, done → resolved). Anything else maps to
// no state.
func StateOf(status, category string, overrides map[string]ticket.State) ticket.State {
	for name, s := range overrides {
		if strings.EqualFold(name, status) {
			return s
		}
	}
	switch category {
	case "new":
		return ticket.Open
	case "indeterminate":
		return ticket.Acknowledged
	case "done":
		return ticket.Resolved
	}
	return ""
}

type wireStatus struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	StatusCategory struct {
		Key  string `json:"key"`
		Name string `json:"name"`
	} `json:"statusCategory"`
}

type wireIssue struct {
	ID     string `json:"id"`
	Key    string `json:"key"`
	Fields struct {
		Summary string      `json:"summary"`
		Status  *wireStatus `json:"status"`
		Labels  []string    `json:"labels"`
		Created string      `json:"created"`
		Updated string      `json:"updated"`
	} `json:"fields"`
}

func (c *Client) issue(w wireIssue) Issue {
	iss := Issue{ID: w.ID, Key: w.Key, Summary: w.Fields.Summary, Labels: w.Fields.Labels, Marker: markerOf(w.Fields.Labels)}
	if s := w.Fields.Status; s != nil {
		iss.Status, iss.StatusCategory = s.Name, s.StatusCategory.Key
		iss.State = c.State(s.Name, s.StatusCategory.Key)
	}
	iss.Created, _ = parseTime(w.Fields.Created)
	iss.Updated, _ = parseTime(w.Fields.Updated)
	return iss
}

func markerOf(labels []string) string {
	for _, l := range labels {
		if _, ok := ticket.HashOf(l); ok {
			return l
		}
	}
	return ""
}

// parseTime reads Jira's timestamps, e.g. 2026-03-01T12:00:00.000+0000.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("jira: bad timestamp %q", openaiapi.Clip(s, 40))
}

// errorMessage reads Jira's error body, {"errorMessages":[...],
// "errors":{"field":"message"}}; a short plain-text body (Jira's 401
// answers with one) is kept as it is.
func errorMessage(body []byte) string {
	var w struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		if s := strings.TrimSpace(string(body)); !strings.HasPrefix(s, "<") && !strings.HasPrefix(s, "{") {
			return s
		}
		return ""
	}
	parts := append([]string(nil), w.ErrorMessages...)
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range w.Errors {
			if !yield(k) {
				return
			}
		}
	}) {
		parts = append(parts, k+": "+w.Errors[k])
	}
	return strings.Join(parts, "; ")
}
