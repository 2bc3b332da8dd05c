// Package sntest is a stand-in ServiceNow instance for tests of code that
// talks to ServiceNow through internal/ticket/servicenow. It speaks the
// Table API on the incident table — create, query with sysparm_query,
// get, PATCH — with ServiceNow's {"result": ...} bodies, its
// {"error":{"message","detail"},"status":"failure"} errors and its data
// policy on resolution, keeps records in memory (sys_mod_count,
// sys_updated_by and sys_updated_on kept the way the instance keeps them,
// work notes as a journal), records every request, and can be told to
// fail: 401, 429 with Retry-After, 5xx, hang until the client gives up,
// or perform a write and then drop the connection before answering (a
// lost response). SetState (a human moving a record) returns the body of
// the outbound REST message the tenant's business rule sends.
package sntest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
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
	Username = "alexus.integration"
	Password = "s3cret-Passw0rd"
)

// Route names an endpoint, for faults and recorded requests.
type Route = tickettest.Route

// The endpoints the server speaks.
const (
	RouteCreate Route = "POST /api/now/table/incident"
	RouteQuery  Route = "GET /api/now/table/incident"
	RouteGet    Route = "GET /api/now/table/incident/{sys_id}"
	RouteUpdate Route = "PATCH /api/now/table/incident/{sys_id}"
)

// Fault is how the server answers one request instead of serving it;
// Status answers with ServiceNow's error body of that status.
type Fault = tickettest.Fault

// Request is one request the server received.
type Request = tickettest.Request

// Journal is one work note.
type Journal struct {
	Value     string
	CreatedBy string
	Created   time.Time
}

// Record is an incident record the server holds. Fields hold every
// field's internal value.
type Record struct {
	Fields    map[string]string
	WorkNotes []Journal
}

// SysID is the record's sys_id.
func (r Record) SysID() string { return r.Fields["sys_id"] }

// Server is a stand-in ServiceNow instance. Its URL is the base URL to
// configure; Fail, Requests and AcceptBearer (which accepts a bearer
// token as well, acting as Username) come from tickettest.
type Server struct {
	*tickettest.Server

	mu      sync.Mutex
	records []*Record
	clock   func() time.Time
}

// New starts a server that accepts Username and Password, and closes it
// when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{clock: func() time.Time { return time.Now().UTC().Truncate(time.Second) }}
	s.Server = tickettest.New(t, tickettest.Remote{
		Username: Username,
		Password: Password,
		Route:    route,
		Error:    writeStatus,
		NoRoute: func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusBadRequest, "Requested URI does not represent any resource", r.URL.Path)
		},
		Serve: s.handle,
	})
	return s
}

// Records returns a copy of every record, oldest first.
func (s *Server) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Record, len(s.records))
	for i, r := range s.records {
		out[i] = copyRecord(r)
	}
	return out
}

// Record returns a copy of the record with sysID.
func (s *Server) Record(sysID string) (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.find(sysID); r != nil {
		return copyRecord(r), true
	}
	return Record{}, false
}

func copyRecord(r *Record) Record {
	return Record{Fields: maps.Clone(r.Fields), WorkNotes: slices.Clone(r.WorkNotes)}
}

// AddRecord inserts a record as user would, with fields, and returns its
// sys_id.
func (s *Server) AddRecord(user string, fields map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.insert(user, fields).Fields["sys_id"]
}

// SetState sets the record's state as user would, with the close fields a
// resolution needs, and returns the outbound REST message body the
// tenant's business rule sends for the change.
func (s *Server) SetState(sysID, state, user string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.find(sysID)
	if r == nil {
		return nil, fmt.Errorf("sntest: no record %s", sysID)
	}
	prev := r.Fields["state"]
	changes := map[string]string{"state": state}
	if state == "6" || state == "7" {
		changes["close_code"], changes["close_notes"] = "Solution provided", "Fixed by "+user
	}
	s.update(r, user, changes)
	return json.Marshal(map[string]any{
		"sys_id":         r.Fields["sys_id"],
		"number":         r.Fields["number"],
		"state":          r.Fields["state"],
		"previous_state": prev,
		"correlation_id": r.Fields["correlation_id"],
		"sys_updated_by": r.Fields["sys_updated_by"],
		"sys_updated_on": r.Fields["sys_updated_on"],
		"sys_mod_count":  r.Fields["sys_mod_count"],
		"changed_fields": slices.Sorted(maps.Keys(changes)),
	})
}

func (s *Server) find(sysID string) *Record {
	for _, r := range s.records {
		if r.Fields["sys_id"] == sysID {
			return r
		}
	}
	return nil
}

func newSysID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// writable are the incident fields the stand-in accepts in a write.
var writable = []string{"short_description", "description", "urgency", "impact", "state", "correlation_id",
	"correlation_display", "close_code", "close_notes", "assignment_group", "work_notes", "caller_id", "category"}

func (s *Server) insert(user string, fields map[string]string) *Record {
	t := s.clock().Format(time.DateTime)
	r := &Record{Fields: map[string]string{
		"sys_id": newSysID(), "number": fmt.Sprintf("INC%07d", 10001+len(s.records)),
		"state": "1", "urgency": "3", "impact": "3", "priority": "5",
		"short_description": "", "description": "", "correlation_id": "", "correlation_display": "",
		"close_code": "", "close_notes": "", "assignment_group": "",
		"sys_created_on": t, "sys_created_by": user, "sys_updated_on": t, "sys_updated_by": user, "sys_mod_count": "0",
	}}
	for k, v := range fields {
		if k == "work_notes" {
			r.WorkNotes = append(r.WorkNotes, Journal{Value: v, CreatedBy: user, Created: s.clock()})
			continue
		}
		r.Fields[k] = v
	}
	s.records = append(s.records, r)
	return r
}

func (s *Server) update(r *Record, user string, fields map[string]string) {
	for k, v := range fields {
		if k == "work_notes" {
			if v != "" {
				r.WorkNotes = append(r.WorkNotes, Journal{Value: v, CreatedBy: user, Created: s.clock()})
			}
			continue
		}
		r.Fields[k] = v
	}
	n, _ := strconv.Atoi(r.Fields["sys_mod_count"])
	r.Fields["sys_mod_count"] = strconv.Itoa(n + 1)
	r.Fields["sys_updated_by"] = user
	r.Fields["sys_updated_on"] = s.clock().Format(time.DateTime)
}

var recordPath = regexp.MustCompile(`^/api/now(?:/v[12])?/table/incident(?:/([^/]+))?$`)

func route(r *http.Request) (Route, string) {
	m := recordPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return "", ""
	}
	switch {
	case m[1] == "" && r.Method == http.MethodPost:
		return RouteCreate, ""
	case m[1] == "" && r.Method == http.MethodGet:
		return RouteQuery, ""
	case m[1] != "" && r.Method == http.MethodGet:
		return RouteGet, m[1]
	case m[1] != "" && (r.Method == http.MethodPatch || r.Method == http.MethodPut):
		return RouteUpdate, m[1]
	}
	return "", ""
}

// writeStatus answers a bad credential or a fault with ServiceNow's body
// for status.
func writeStatus(w http.ResponseWriter, status int) {
	switch status {
	case http.StatusUnauthorized:
		writeError(w, status, "User Not Authenticated", "Required to provide Auth information")
	case http.StatusTooManyRequests:
		writeError(w, status, "Rate limit exceeded", "Rate limit of 100 requests per 3600 seconds exceeded for this user")
	default:
		writeError(w, status, "Internal server error", "Transaction cancelled: maximum execution time exceeded")
	}
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, rt Route, id, user string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := r.URL.Query()
	var rec *Record
	if id != "" {
		if rec = s.find(id); rec == nil {
			writeError(w, http.StatusNotFound, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
			return
		}
	}
	switch rt {
	case RouteCreate, RouteUpdate:
		var in map[string]any
		if err := json.Unmarshal(body, &in); err != nil {
			writeError(w, http.StatusBadRequest, "Exception while reading request", "The payload is not valid JSON.")
			return
		}
		fields := map[string]string{}
		for k, v := range in {
			if !slices.Contains(writable, k) {
				continue // ServiceNow ignores fields it does not know.
			}
			fields[k] = fmt.Sprint(v)
		}
		// The incident table's data policy: a resolution needs its code
		// and notes.
		if st := fields["state"]; st == "6" || st == "7" {
			code, notes := fields["close_code"], fields["close_notes"]
			if rec != nil {
				code, notes = cmpOr(code, rec.Fields["close_code"]), cmpOr(notes, rec.Fields["close_notes"])
			}
			if code == "" || notes == "" {
				writeError(w, http.StatusForbidden, "Operation Failed", "Data Policy Exception: \n\tThe following fields are mandatory: Resolution code, Resolution notes")
				return
			}
		}
		if rt == RouteCreate {
			rec = s.insert(user, fields)
			w.Header().Set("Location", "http://"+r.Host+"/api/now/table/incident/"+rec.Fields["sys_id"])
			writeJSON(w, http.StatusCreated, map[string]any{"result": view(rec, q)})
			return
		}
		s.update(rec, user, fields)
		writeJSON(w, http.StatusOK, map[string]any{"result": view(rec, q)})
	case RouteGet:
		writeJSON(w, http.StatusOK, map[string]any{"result": view(rec, q)})
	case RouteQuery:
		match, order, err := parseQuery(q.Get("sysparm_query"))
		if err != nil {
			writeError(w, http.StatusBadRequest, "Invalid query", err.Error())
			return
		}
		var found []*Record
		for _, r := range s.records {
			if match(r) {
				found = append(found, r)
			}
		}
		if order != "" {
			slices.SortStableFunc(found, func(a, b *Record) int { return strings.Compare(a.Fields[order], b.Fields[order]) })
		}
		if n, err := strconv.Atoi(q.Get("sysparm_limit")); err == nil && n >= 0 && n < len(found) {
			found = found[:n]
		}
		out := []any{}
		for _, r := range found {
			out = append(out, view(r, q))
		}
		writeJSON(w, http.StatusOK, map[string]any{"result": out})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

var queryTerm = regexp.MustCompile(`^([a-z_]+)=(.*)$`)

// parseQuery understands the encoded queries the client sends:
// field=value terms joined by ^, and ORDERBYfield.
func parseQuery(qs string) (func(*Record) bool, string, error) {
	var terms [][2]string
	order := ""
	for t := range strings.SplitSeq(qs, "^") {
		switch {
		case t == "":
		case strings.HasPrefix(t, "ORDERBY"):
			order = strings.TrimPrefix(t, "ORDERBY")
		default:
			m := queryTerm.FindStringSubmatch(t)
			if m == nil {
				return nil, "", fmt.Errorf("the stand-in understands field=value^ORDERBYfield, not %q", t)
			}
			terms = append(terms, [2]string{m[1], m[2]})
		}
	}
	return func(r *Record) bool {
		for _, t := range terms {
			if r.Fields[t[0]] != t[1] {
				return false
			}
		}
		return true
	}, order, nil
}

var stateLabels = map[string]string{"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved", "7": "Closed", "8": "Canceled"}

// view is a record as the Table API returns it: the fields
// sysparm_fields names (all when empty), internal values unless
// sysparm_display_value=true, in which case states read as labels and
// work_notes as the journal's text.
func view(r *Record, q map[string][]string) map[string]any {
	display := first(q["sysparm_display_value"]) == "true"
	var want []string
	if f := first(q["sysparm_fields"]); f != "" {
		want = strings.Split(f, ",")
	} else {
		want = slices.Collect(maps.Keys(r.Fields))
		want = append(want, "work_notes")
	}
	out := map[string]any{}
	for _, f := range want {
		switch {
		case f == "work_notes" && display:
			var b strings.Builder
			for _, j := range slices.Backward(r.WorkNotes) {
				fmt.Fprintf(&b, "%s - %s (Work notes)\n%s\n\n", j.Created.Format(time.DateTime), j.CreatedBy, j.Value)
			}
			out[f] = b.String()
		case f == "work_notes":
			out[f] = ""
		case f == "state" && display:
			out[f] = stateLabels[r.Fields[f]]
		default:
			out[f] = r.Fields[f]
		}
	}
	return out
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func writeError(w http.ResponseWriter, status int, msg, detail string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "detail": detail}, "status": "failure"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
