// Package jiratest is a stand-in Jira Cloud for tests of code that talks
// to Jira through internal/ticket/jira. It speaks the documented REST API
// v3 endpoints the client uses — create issue, JQL search, get issue,
// comments with entity properties, transitions — with Jira's error bodies,
// keeps its issues in memory, records every request, and can be told to
// fail: 401, 429 with Retry-After, 5xx, hang until the client gives up,
// or perform a write and then drop the connection before answering (a
// lost response). Transition (a human moving an issue) returns the
// jira:issue_updated webhook body Jira would send.
package jiratest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexus-platform/alexus/internal/ticket/tickettest"
)

// The credentials the server accepts by default.
const (
	Email     = "alexus-bot@example.com"
	APIToken  = "ATATT3xFfGF0-test-token"
	AccountID = "712020:alexus-bot-0000-0000-000000000000"
	Project   = "OPS"
)

// The workflow's statuses: name, id and category key.
var statuses = []Status{
	{ID: "10000", Name: "To Do", Category: "new", Transition: "11"},
	{ID: "3", Name: "In Progress", Category: "indeterminate", Transition: "21"},
	{ID: "10001", Name: "Done", Category: "done", Transition: "31"},
}

// Status is one status of the stand-in's workflow. Transition is the id
// of the transition into it, offered from every other status.
type Status struct {
	ID, Name, Category, Transition string
}

// Route names an endpoint, for faults and recorded requests.
type Route = tickettest.Route

// The endpoints the server speaks.
const (
	RouteCreateIssue    Route = "POST /rest/api/3/issue"
	RouteSearch         Route = "POST /rest/api/3/search/jql"
	RouteGetIssue       Route = "GET /rest/api/3/issue/{key}"
	RouteListComments   Route = "GET /rest/api/3/issue/{key}/comment"
	RouteAddComment     Route = "POST /rest/api/3/issue/{key}/comment"
	RouteGetTransitions Route = "GET /rest/api/3/issue/{key}/transitions"
	RouteDoTransition   Route = "POST /rest/api/3/issue/{key}/transitions"
)

// Fault is how the server answers one request instead of serving it;
// Status answers with Jira's error body of that status.
type Fault = tickettest.Fault

// Request is one request the server received.
type Request = tickettest.Request

// Comment is a comment on an issue.
type Comment struct {
	ID         string
	Text       string
	Body       map[string]any
	AuthorID   string
	Properties map[string]json.RawMessage
	Created    time.Time
}

// Issue is an issue the server holds.
type Issue struct {
	ID, Key   string
	Project   string
	IssueType string
	Summary   string
	// Description is the description's ADF document.
	Description map[string]any
	Labels      []string
	Status      Status
	Comments    []Comment
	Created     time.Time
	Updated     time.Time
}

// Server is a stand-in Jira. Its URL is the base URL to configure;
// Fail, Requests and AcceptBearer (which accepts a bearer token as well)
// come from tickettest.
type Server struct {
	*tickettest.Server

	mu       sync.Mutex
	issues   []*Issue
	nextID   int
	projects map[string]bool
}

// New starts a server that accepts Email and APIToken for project
// Project, and closes it when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{nextID: 10000, projects: map[string]bool{Project: true}}
	s.Server = tickettest.New(t, tickettest.Remote{
		Username: Email,
		Password: APIToken,
		Route:    route,
		Error:    writeStatus,
		NoRoute: func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "No endpoint "+r.Method+" "+r.URL.Path)
		},
		Serve: func(w http.ResponseWriter, r *http.Request, rt Route, key, _ string, body []byte) {
			s.handle(w, r, rt, key, body)
		},
	})
	return s
}

// Issues returns a copy of every issue, oldest first.
func (s *Server) Issues() []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Issue, len(s.issues))
	for i, iss := range s.issues {
		out[i] = copyIssue(iss)
	}
	return out
}

// Issue returns a copy of the issue with key.
func (s *Server) Issue(key string) (Issue, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if iss := s.find(key); iss != nil {
		return copyIssue(iss), true
	}
	return Issue{}, false
}

func copyIssue(iss *Issue) Issue {
	c := *iss
	c.Labels = slices.Clone(iss.Labels)
	c.Comments = slices.Clone(iss.Comments)
	return c
}

// AddIssue creates an issue as a human would, in To Do, and returns its
// key.
func (s *Server) AddIssue(summary string, labels ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.create(Project, "Task", summary, nil, labels).Key
}

// Transition moves the issue with key to the named status as the account
// accountID would, and returns the jira:issue_updated webhook body Jira
// sends for it.
func (s *Server) Transition(key, status, accountID string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	iss := s.find(key)
	if iss == nil {
		return nil, fmt.Errorf("jiratest: no issue %s", key)
	}
	i := slices.IndexFunc(statuses, func(st Status) bool { return strings.EqualFold(st.Name, status) })
	if i < 0 {
		return nil, fmt.Errorf("jiratest: no status %q", status)
	}
	from := iss.Status
	iss.Status = statuses[i]
	iss.Updated = now()
	return json.Marshal(webhook(iss, from, accountID, iss.Updated))
}

// webhook is a jira:issue_updated body as Jira Cloud sends it for a
// status change.
func webhook(iss *Issue, from Status, accountID string, at time.Time) map[string]any {
	return map[string]any{
		"timestamp":             at.UnixMilli(),
		"webhookEvent":          "jira:issue_updated",
		"issue_event_type_name": "issue_generic",
		"user": map[string]any{
			"self":        "https://example.atlassian.net/rest/api/2/user?accountId=" + accountID,
			"accountId":   accountID,
			"displayName": "Jane Operator",
			"active":      true,
			"timeZone":    "Europe/Berlin",
			"accountType": "atlassian",
		},
		"issue": issueJSON("https://example.atlassian.net", iss),
		"changelog": map[string]any{
			"id": strconv.FormatInt(at.UnixNano()%100000, 10),
			"items": []any{map[string]any{
				"field": "status", "fieldtype": "jira", "fieldId": "status",
				"from": from.ID, "fromString": from.Name,
				"to": iss.Status.ID, "toString": iss.Status.Name,
			}},
		},
	}
}

func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

const timeLayout = "2006-01-02T15:04:05.000-0700"

func (s *Server) find(key string) *Issue {
	for _, iss := range s.issues {
		if iss.Key == key || iss.ID == key {
			return iss
		}
	}
	return nil
}

func (s *Server) create(project, issueType, summary string, desc map[string]any, labels []string) *Issue {
	s.nextID++
	t := now()
	iss := &Issue{
		ID:          strconv.Itoa(s.nextID),
		Key:         fmt.Sprintf("%s-%d", project, len(s.issues)+1),
		Project:     project,
		IssueType:   issueType,
		Summary:     summary,
		Description: desc,
		Labels:      slices.Clone(labels),
		Status:      statuses[0],
		Created:     t,
		Updated:     t,
	}
	s.issues = append(s.issues, iss)
	return iss
}

var (
	issuePath = regexp.MustCompile(`^/rest/api/3/issue/([^/]+)(/comment|/transitions)?$`)
	labelJQL  = regexp.MustCompile(`^labels\s*=\s*"?([^"\s]+)"?(?:\s+ORDER BY created (?:ASC|DESC))?$`)
)

func route(r *http.Request) (Route, string) {
	switch p := r.URL.Path; {
	case r.Method == http.MethodPost && p == "/rest/api/3/issue":
		return RouteCreateIssue, ""
	case r.Method == http.MethodPost && p == "/rest/api/3/search/jql":
		return RouteSearch, ""
	default:
		m := issuePath.FindStringSubmatch(p)
		if m == nil {
			return "", ""
		}
		switch r.Method + m[2] {
		case "GET":
			return RouteGetIssue, m[1]
		case "GET/comment":
			return RouteListComments, m[1]
		case "POST/comment":
			return RouteAddComment, m[1]
		case "GET/transitions":
			return RouteGetTransitions, m[1]
		case "POST/transitions":
			return RouteDoTransition, m[1]
		}
	}
	return "", ""
}

// writeStatus answers a bad credential or a fault with Jira's body for
// status.
func writeStatus(w http.ResponseWriter, status int) {
	switch status {
	case http.StatusUnauthorized:
		// Jira Cloud answers a bad credential with plain text.
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "Client must be authenticated to access this resource.")
	case http.StatusTooManyRequests:
		writeError(w, status, "Rate limit exceeded.")
	default:
		writeError(w, status, "Internal server error.")
	}
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, rt Route, key string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	base := "http://" + r.Host
	if rt != RouteCreateIssue && rt != RouteSearch && s.find(key) == nil {
		writeError(w, http.StatusNotFound, "Issue does not exist or you do not have permission to see it.")
		return
	}
	switch rt {
	case RouteCreateIssue:
		var req struct {
			Fields struct {
				Project     struct{ Key string }  `json:"project"`
				IssueType   struct{ Name string } `json:"issuetype"`
				Summary     string                `json:"summary"`
				Description map[string]any        `json:"description"`
				Labels      []string              `json:"labels"`
			} `json:"fields"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			writeError(w, http.StatusBadRequest, "Unexpected character in the request body.")
			return
		}
		f := req.Fields
		errs := map[string]string{}
		if !s.projects[f.Project.Key] {
			errs["project"] = "Specify a valid project ID or key"
		}
		if f.IssueType.Name == "" {
			errs["issuetype"] = "Specify an issue type"
		}
		if strings.TrimSpace(f.Summary) == "" {
			errs["summary"] = "You must specify a summary of the issue."
		}
		if f.Description != nil && f.Description["type"] != "doc" {
			errs["description"] = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
		}
		for _, l := range f.Labels {
			if strings.ContainsAny(l, " \t") {
				errs["labels"] = "The label '" + l + "' contains spaces which is invalid."
			}
		}
		if len(errs) > 0 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"errorMessages": []string{}, "errors": errs})
			return
		}
		iss := s.create(f.Project.Key, f.IssueType.Name, f.Summary, f.Description, f.Labels)
		writeJSON(w, http.StatusCreated, map[string]any{"id": iss.ID, "key": iss.Key, "self": base + "/rest/api/3/issue/" + iss.ID})
	case RouteSearch:
		var req struct {
			JQL        string `json:"jql"`
			MaxResults int    `json:"maxResults"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			writeError(w, http.StatusBadRequest, "Invalid request payload.")
			return
		}
		m := labelJQL.FindStringSubmatch(strings.TrimSpace(req.JQL))
		if m == nil {
			writeError(w, http.StatusBadRequest, "The stand-in only understands labels = \"x\" [ORDER BY created ASC]: "+req.JQL)
			return
		}
		out := []any{}
		for _, iss := range s.issues {
			if slices.ContainsFunc(iss.Labels, func(l string) bool { return strings.EqualFold(l, m[1]) }) {
				out = append(out, issueJSON(base, iss))
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"issues": out, "isLast": true})
	case RouteGetIssue:
		writeJSON(w, http.StatusOK, issueJSON(base, s.find(key)))
	case RouteListComments:
		iss := s.find(key)
		expand := strings.Contains(r.URL.Query().Get("expand"), "properties")
		out := []any{}
		for _, c := range slices.Backward(iss.Comments) {
			cm := map[string]any{
				"id":      c.ID,
				"self":    base + "/rest/api/3/issue/" + iss.ID + "/comment/" + c.ID,
				"author":  map[string]any{"accountId": c.AuthorID},
				"body":    c.Body,
				"created": c.Created.Format(timeLayout),
				"updated": c.Created.Format(timeLayout),
			}
			if expand {
				props := []any{}
				for k, v := range c.Properties {
					props = append(props, map[string]any{"key": k, "value": v})
				}
				cm["properties"] = props
			}
			out = append(out, cm)
		}
		writeJSON(w, http.StatusOK, map[string]any{"startAt": 0, "maxResults": 100, "total": len(out), "comments": out})
	case RouteAddComment:
		iss := s.find(key)
		var req struct {
			Body       map[string]any `json:"body"`
			Properties []struct {
				Key   string          `json:"key"`
				Value json.RawMessage `json:"value"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(body, &req); err != nil || req.Body["type"] != "doc" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"errorMessages": []string{}, "errors": map[string]string{"comment": "Comment body must be an Atlassian Document."}})
			return
		}
		c := Comment{ID: strconv.Itoa(20000 + s.nextID + len(iss.Comments)), Body: req.Body, Text: plainText(req.Body), AuthorID: AccountID, Created: now(), Properties: map[string]json.RawMessage{}}
		for _, p := range req.Properties {
			c.Properties[p.Key] = p.Value
		}
		iss.Comments = append(iss.Comments, c)
		iss.Updated = c.Created
		writeJSON(w, http.StatusCreated, map[string]any{"id": c.ID, "body": c.Body, "created": c.Created.Format(timeLayout)})
	case RouteGetTransitions:
		iss := s.find(key)
		out := []any{}
		for _, st := range statuses {
			if st.ID == iss.Status.ID {
				continue
			}
			out = append(out, map[string]any{"id": st.Transition, "name": st.Name, "to": statusJSON(base, st), "hasScreen": false, "isAvailable": true})
		}
		writeJSON(w, http.StatusOK, map[string]any{"expand": "transitions", "transitions": out})
	case RouteDoTransition:
		iss := s.find(key)
		var req struct {
			Transition struct{ ID string } `json:"transition"`
		}
		_ = json.Unmarshal(body, &req)
		i := slices.IndexFunc(statuses, func(st Status) bool { return st.Transition == req.Transition.ID })
		if i < 0 || statuses[i].ID == iss.Status.ID {
			writeJSON(w, http.StatusBadRequest, map[string]any{"errorMessages": []string{"Transition id '" + req.Transition.ID + "' is not valid for this issue."}, "errors": map[string]string{}})
			return
		}
		iss.Status = statuses[i]
		iss.Updated = now()
		w.WriteHeader(http.StatusNoContent)
	}
}

func statusJSON(base string, st Status) map[string]any {
	catID := map[string]int{"new": 2, "indeterminate": 4, "done": 3}[st.Category]
	catName := map[string]string{"new": "To Do", "indeterminate": "In Progress", "done": "Done"}[st.Category]
	color := map[string]string{"new": "blue-gray", "indeterminate": "yellow", "done": "green"}[st.Category]
	return map[string]any{
		"self": base + "/rest/api/3/status/" + st.ID, "description": "", "name": st.Name, "id": st.ID,
		"statusCategory": map[string]any{"self": base + "/rest/api/3/statuscategory/" + strconv.Itoa(catID), "id": catID, "key": st.Category, "colorName": color, "name": catName},
	}
}

func issueJSON(base string, iss *Issue) map[string]any {
	return map[string]any{
		"id":   iss.ID,
		"key":  iss.Key,
		"self": base + "/rest/api/3/issue/" + iss.ID,
		"fields": map[string]any{
			"summary":     iss.Summary,
			"description": iss.Description,
			"labels":      iss.Labels,
			"status":      statusJSON(base, iss.Status),
			"issuetype":   map[string]any{"name": iss.IssueType},
			"project":     map[string]any{"key": iss.Project},
			"created":     iss.Created.Format(timeLayout),
			"updated":     iss.Updated.Format(timeLayout),
		},
	}
}

// plainText flattens an ADF document's text nodes.
func plainText(n any) string {
	m, ok := n.(map[string]any)
	if !ok {
		return ""
	}
	var b strings.Builder
	if s, ok := m["text"].(string); ok {
		b.WriteString(s)
	}
	if m["type"] == "hardBreak" {
		b.WriteString("\n")
	}
	kids, _ := m["content"].([]any)
	for i, k := range kids {
		if i > 0 && m["type"] == "doc" {
			b.WriteString("\n\n")
		}
		b.WriteString(plainText(k))
	}
	return b.String()
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"errorMessages": []string{msg}, "errors": map[string]string{}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
