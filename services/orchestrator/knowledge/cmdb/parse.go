package cmdb

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/alexus-platform/alexus/internal/graph"
)

// Format is the shape of one input file.
type Format string

// The formats Parse reads.
const (
	// NativeJSON is {"cis":[{"id","type","name","description",
	// "properties":{...}}],"relations":[{"from","to","type"}]}. Other fields
	// of a CI become properties.
	NativeJSON Format = "native.json"
	// NativeCIsCSV is cis.csv: a header row holding id and optionally type,
	// name and description; every other column becomes a property.
	NativeCIsCSV Format = "cis.csv"
	// NativeRelationsCSV is relations.csv: a header row holding from, to
	// and type.
	NativeRelationsCSV Format = "relations.csv"
	// ServiceNowCIJSON is an export of cmdb_ci (or a class table beneath it)
	// from the Table API ({"result":[...]}) or the JSON data retrieval API
	// ({"records":[...]}), or a bare array of records.
	ServiceNowCIJSON Format = "cmdb_ci.json"
	// ServiceNowCICSV is a CSV export of cmdb_ci with field names as headers.
	ServiceNowCICSV Format = "cmdb_ci.csv"
	// ServiceNowRelJSON is an export of cmdb_rel_ci, shaped as
	// ServiceNowCIJSON.
	ServiceNowRelJSON Format = "cmdb_rel_ci.json"
	// ServiceNowRelCSV is a CSV export of cmdb_rel_ci; parent.sys_id and
	// child.sys_id columns are preferred to parent and child when present.
	ServiceNowRelCSV Format = "cmdb_rel_ci.csv"
)

// Formats lists every format.
var Formats = []Format{NativeJSON, NativeCIsCSV, NativeRelationsCSV, ServiceNowCIJSON, ServiceNowCICSV, ServiceNowRelJSON, ServiceNowRelCSV}

// Defaults of ParseOptions.
const (
	DefaultMaxBytes = 256 << 20
	DefaultMaxRows  = 1_000_000
	// maxPropertyValue is the longest property value a graph node takes.
	maxPropertyValue = 4096
)

// ParseOptions tune Parse.
type ParseOptions struct {
	// MaxBytes caps the input; 0 means DefaultMaxBytes.
	MaxBytes int64
	// MaxRows caps the records of one file; 0 means DefaultMaxRows.
	MaxRows int
	// RelationTypes adds relationship type names (matched as RelationType
	// matches them) mapped to edge types, parent → child. They take
	// precedence over the built-in table.
	RelationTypes map[string]graph.EdgeType
}

// Batch is what Parse read: nodes and edges ready for Import.
type Batch struct {
	Nodes []graph.Node
	Edges []graph.Edge
	// EdgeRows[i] is the row Edges[i] came from, so Import can report a
	// rejected edge against it.
	EdgeRows []Row
	// Teams are the team CIs that CIs' support_group or owned_by name and
	// the input did not hold. Import creates each only when neither Nodes
	// nor the graph has a node of that ID, so it never overwrites a team
	// imported in full.
	Teams []graph.Node
	// DroppedProperties counts fields left out because a CI had more than
	// graph.MaxProperties; the well-known ServiceNow fields are kept first.
	DroppedProperties int
}

// Merge appends o to b, e.g. a cmdb_rel_ci file's batch to a cmdb_ci one's.
func (b *Batch) Merge(o *Batch) {
	if o == nil {
		return
	}
	b.Nodes = append(b.Nodes, o.Nodes...)
	b.Edges = append(b.Edges, o.Edges...)
	b.EdgeRows = append(b.EdgeRows, o.EdgeRows...)
	b.Teams = append(b.Teams, o.Teams...)
	b.DroppedProperties += o.DroppedProperties
}

// Row names one input record.
type Row struct {
	// Source is the table or file: "cmdb_ci", "cmdb_rel_ci", "cis",
	// "relations", "cis.csv", "relations.csv".
	Source string
	// Row is the 1-based position of the record in its JSON array, or the
	// 1-based line a CSV record starts on (the header is line 1).
	Row int
	// ID is the record's id or sys_id when it has one.
	ID string
}

// RowError is a rejected record and why.
type RowError struct {
	Source string
	Row    int
	ID     string
	Err    string
}

func (e RowError) Error() string {
	if e.ID != "" {
		return fmt.Sprintf("%s row %d (%s): %s", e.Source, e.Row, e.ID, e.Err)
	}
	return fmt.Sprintf("%s row %d: %s", e.Source, e.Row, e.Err)
}

// ErrInput is wrapped by every error of Parse: the input cannot be read as
// the format says.
var ErrInput = errors.New("cmdb: unreadable input")

// Parse reads one file of the given format with default options. It returns
// the batch and the rejected rows; err is set only when the input as a
// whole cannot be read.
func Parse(format Format, r io.Reader) (*Batch, []RowError, error) {
	return ParseWith(format, r, ParseOptions{})
}

// ParseWith is Parse with options.
func ParseWith(format Format, r io.Reader, opts ParseOptions) (*Batch, []RowError, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxRows <= 0 {
		opts.MaxRows = DefaultMaxRows
	}
	p := &parser{opts: opts, b: &Batch{}, teams: map[string]bool{}, ids: map[string]int{}}
	lr := &limitReader{r: r, left: opts.MaxBytes}
	br := bufio.NewReaderSize(lr, 64<<10)
	skipBOM(br)
	var err error
	switch format {
	case NativeJSON:
		err = p.json(br, format, map[string]func(Row, map[string]value){"cis": p.nativeCI, "relations": p.nativeRel})
	case ServiceNowCIJSON:
		err = p.json(br, format, map[string]func(Row, map[string]value){"": p.snowCI})
	case ServiceNowRelJSON:
		err = p.json(br, format, map[string]func(Row, map[string]value){"": p.snowRel})
	case NativeCIsCSV:
		err = p.csv(br, "cis.csv", []string{"id"}, p.nativeCI)
	case NativeRelationsCSV:
		err = p.csv(br, "relations.csv", []string{"from", "to", "type"}, p.nativeRel)
	case ServiceNowCICSV:
		err = p.csv(br, "cmdb_ci", []string{"sys_id"}, p.snowCI)
	case ServiceNowRelCSV:
		err = p.csv(br, "cmdb_rel_ci", []string{"type"}, p.snowRel)
	default:
		return nil, nil, fmt.Errorf("%w: unknown format %q (want one of %v)", ErrInput, format, Formats)
	}
	if lr.over {
		return nil, nil, fmt.Errorf("%w: %s: input over %d bytes", ErrInput, format, opts.MaxBytes)
	}
	if err != nil {
		return nil, nil, err
	}
	return p.b, p.errs, nil
}

// value is one field of a record: its stored value and, for references
// and choices, its display value.
type value struct {
	raw, display string
}

// text is what a field reads as: the display value when there is one.
func (v value) text() string {
	if v.display != "" {
		return v.display
	}
	return v.raw
}

type parser struct {
	opts  ParseOptions
	b     *Batch
	errs  []RowError
	teams map[string]bool
	ids   map[string]int // node ID → row, for duplicates within the file
	rows  int
}

func (p *parser) reject(row Row, format string, args ...any) {
	p.errs = append(p.errs, RowError{Source: row.Source, Row: row.Row, ID: row.ID, Err: fmt.Sprintf(format, args...)})
}

// json reads a top-level object whose array members named in handlers are
// records ("" handles a ServiceNow export: records, result or a bare
// array).
func (p *parser) json(r io.Reader, format Format, handlers map[string]func(Row, map[string]value)) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	fail := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("%w: %s: not JSON at byte %d: %v", ErrInput, format, se.Offset, err)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: %s: JSON ends early", ErrInput, format)
		}
		return fmt.Errorf("%w: %s: %v", ErrInput, format, err)
	}
	tok, err := dec.Token()
	if err != nil {
		return fail(err)
	}
	snow, isSnow := handlers[""]
	source := map[Format]string{ServiceNowCIJSON: "cmdb_ci", ServiceNowRelJSON: "cmdb_rel_ci"}[format]
	if tok == json.Delim('[') && isSnow {
		if err := p.elements(dec, source, snow); err != nil {
			return fail(err)
		}
		return p.trailing(dec, format)
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("%w: %s: want a JSON object at the top", ErrInput, format)
	}
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		key, _ := tok.(string)
		h, ok := handlers[key]
		name := key
		if !ok && isSnow && (key == "records" || key == "result") {
			h, ok, name = snow, true, source
		}
		if !ok {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fail(err)
			}
			continue
		}
		found = true
		if err := p.array(dec, name, h); err != nil {
			return fail(err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return fail(err)
	}
	if !found {
		want := "cis or relations"
		if isSnow {
			want = "records or result"
		}
		return fmt.Errorf("%w: %s: the object has no %s array", ErrInput, format, want)
	}
	return p.trailing(dec, format)
}

func (p *parser) trailing(dec *json.Decoder, format Format) error {
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: %s: data after the JSON document", ErrInput, format)
	}
	return nil
}

func (p *parser) array(dec *json.Decoder, source string, h func(Row, map[string]value)) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != json.Delim('[') {
		return fmt.Errorf("%s must be an array", source)
	}
	return p.elements(dec, source, h)
}

// elements reads an array's records once its '[' has been read.
func (p *parser) elements(dec *json.Decoder, source string, h func(Row, map[string]value)) error {
	for i := 1; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		if p.rows++; p.rows > p.opts.MaxRows {
			return fmt.Errorf("more than %d records", p.opts.MaxRows)
		}
		rec, err := decodeRecord(raw)
		if err != nil {
			p.reject(Row{Source: source, Row: i}, "%v", err)
			continue
		}
		h(Row{Source: source, Row: i}, rec)
	}
	_, err := dec.Token()
	return err
}

// decodeRecord reads one JSON record into fields. Values may be strings,
// numbers, booleans, null, {"value","display_value","link"} objects, or
// (native properties) a nested object; a legacy "dv_x" field is x's display
// value.
func decodeRecord(raw json.RawMessage) (map[string]value, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, errors.New("record is not a JSON object")
	}
	out := make(map[string]value, len(m))
	for k, v := range m {
		if strings.HasPrefix(k, "dv_") {
			continue
		}
		val, err := decodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("field %q: %v", k, err)
		}
		if dv, ok := m["dv_"+k]; ok {
			if d, err := decodeValue(dv); err == nil {
				val.display = d.text()
			}
		}
		out[k] = val
	}
	return out, nil
}

func decodeValue(v json.RawMessage) (value, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return value{}, nil
	}
	switch v[0] {
	case '"':
		var s string
		err := json.Unmarshal(v, &s)
		return value{raw: s}, err
	case '{':
		var ref map[string]json.RawMessage
		if err := json.Unmarshal(v, &ref); err != nil {
			return value{}, err
		}
		isRef := len(ref) > 0
		for k := range ref {
			isRef = isRef && (k == "value" || k == "display_value" || k == "link")
		}
		if !isRef {
			// Not a reference: a nested object, kept as compact JSON text.
			var buf bytes.Buffer
			if err := json.Compact(&buf, v); err != nil {
				return value{}, err
			}
			return value{raw: buf.String()}, nil
		}
		r, err := decodeValue(ref["value"])
		if err != nil {
			return value{}, err
		}
		d, err := decodeValue(ref["display_value"])
		if err != nil {
			return value{}, err
		}
		return value{raw: r.raw, display: d.text()}, nil
	default:
		var buf bytes.Buffer
		if err := json.Compact(&buf, v); err != nil {
			return value{}, err
		}
		return value{raw: buf.String()}, nil
	}
}

// csv reads a header row that must hold the required columns, then one
// record per row.
func (p *parser) csv(r io.Reader, source string, required []string, h func(Row, map[string]value)) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: %s: empty file, want a header row", ErrInput, source)
	}
	if err != nil {
		return fmt.Errorf("%w: %s: not CSV: %v", ErrInput, source, err)
	}
	seen := map[string]bool{}
	for i, c := range header {
		c = strings.TrimSpace(c)
		if !utf8.ValidString(c) || c == "" {
			return fmt.Errorf("%w: %s: header column %d is empty or not UTF-8", ErrInput, source, i+1)
		}
		if seen[strings.ToLower(c)] {
			return fmt.Errorf("%w: %s: header column %q appears twice", ErrInput, source, c)
		}
		seen[strings.ToLower(c)] = true
		header[i] = c
	}
	for _, c := range required {
		if !seen[c] {
			return fmt.Errorf("%w: %s: header %v lacks the column %q (want at least %v)", ErrInput, source, trimList(header), c, required)
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return fmt.Errorf("%w: %s: line %d: %v", ErrInput, source, pe.StartLine, pe.Err)
			}
			return fmt.Errorf("%w: %s: %v", ErrInput, source, err)
		}
		if p.rows++; p.rows > p.opts.MaxRows {
			return fmt.Errorf("%w: %s: more than %d records", ErrInput, source, p.opts.MaxRows)
		}
		row := Row{Source: source, Row: line}
		if len(rec) != len(header) {
			p.reject(row, "%d fields, the header has %d", len(rec), len(header))
			continue
		}
		m := make(map[string]value, len(rec))
		for i, v := range rec {
			if v != "" {
				m[header[i]] = value{raw: v}
			}
		}
		h(row, m)
	}
}

func trimList(s []string) []string {
	if len(s) > 10 {
		return append(slices.Clip(s[:10]), "...")
	}
	return s
}

// nativeCI reads a CI of the native formats.
func (p *parser) nativeCI(row Row, rec map[string]value) {
	id := field(rec, "id").raw
	row.ID = id
	typ := strings.TrimSpace(field(rec, "type").raw)
	class := ""
	switch {
	case typ == "":
		typ = TypeCI
	case strings.HasPrefix(strings.ToLower(typ), "cmdb_ci") || strings.EqualFold(typ, "sys_user_group"):
		class = typ
		typ, _ = ClassType(typ)
	default:
		typ = strings.ToLower(typ)
	}
	n := graph.Node{ID: id, Kind: graph.KindCI, Type: typ, Title: field(rec, "name").text(), Body: field(rec, "description").text()}
	props := map[string]value{}
	if pv, ok := rec["properties"]; ok && pv.raw != "" {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(pv.raw), &m); err != nil {
			p.reject(row, "properties must be an object of strings")
			return
		}
		for k, raw := range m {
			v, err := decodeValue(raw)
			if err != nil {
				p.reject(row, "property %q: %v", k, err)
				return
			}
			props[k] = v
		}
	}
	for k, v := range rec {
		switch strings.ToLower(k) {
		case "id", "type", "name", "description", "properties":
			continue
		}
		props[k] = v
	}
	if class != "" {
		props["sys_class_name"] = value{raw: class}
	}
	p.addCI(row, n, props)
}

// snowCI reads a ServiceNow cmdb_ci record.
func (p *parser) snowCI(row Row, rec map[string]value) {
	id := field(rec, "sys_id").raw
	row.ID = id
	class := field(rec, "sys_class_name").raw
	typ, _ := ClassType(class)
	body := field(rec, "short_description").text()
	bodyField := "short_description"
	if body == "" {
		body, bodyField = field(rec, "description").text(), "description"
	}
	n := graph.Node{ID: id, Kind: graph.KindCI, Type: typ, Title: field(rec, "name").text(), Body: body}
	props := make(map[string]value, len(rec))
	for k, v := range rec {
		switch strings.ToLower(k) {
		case "name", bodyField:
			continue
		}
		props[k] = v
	}
	p.addCI(row, n, props)
}

// priority lists the ServiceNow fields kept first when a CI has more than
// graph.MaxProperties.
var priority = []string{
	"sys_id", "sys_class_name", "operational_status", "install_status", "environment", "support_group",
	"owned_by", "managed_by", "assigned_to", "ip_address", "fqdn", "host_name", "dns_domain", "os",
	"os_version", "version", "category", "subcategory", "location", "company", "department",
	"business_criticality", "used_for", "manufacturer", "model_id", "serial_number", "port",
	"tcp_port", "url", "sys_updated_on", "discovery_source",
}

var badPropChars = regexp.MustCompile(`[^A-Za-z0-9_.:-]+`)

// propName makes a field name a valid property name.
func propName(k string) string {
	k = badPropChars.ReplaceAllString(strings.TrimSpace(k), "_")
	if len(k) > 64 {
		k = k[:64]
	}
	return k
}

// addCI finishes a CI: properties (capped), owner edges and validation.
func (p *parser) addCI(row Row, n graph.Node, fields map[string]value) {
	if err := graph.ValidateID(n.ID); err != nil {
		p.reject(row, "bad id: %v", unwrap(err))
		return
	}
	if prev, dup := p.ids[n.ID]; dup {
		p.reject(row, "duplicate id, first seen at row %d; this row is ignored", prev)
		return
	}
	if len(n.Title) > graph.MaxTitleLen {
		p.reject(row, "name is %d bytes, at most %d", len(n.Title), graph.MaxTitleLen)
		return
	}
	if len(n.Body) > graph.MaxBodyLen {
		p.reject(row, "description is %d bytes, at most %d", len(n.Body), graph.MaxBodyLen)
		return
	}
	keys := make([]string, 0, len(fields))
	for k, v := range fields {
		if v.text() != "" {
			keys = append(keys, k)
		}
	}
	rank := func(k string) int {
		if i := slices.Index(priority, strings.ToLower(k)); i >= 0 {
			return i
		}
		return len(priority)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	props := make(map[string]string, min(len(keys), graph.MaxProperties))
	for _, k := range keys {
		name := propName(k)
		if name == "" {
			continue
		}
		if _, taken := props[name]; taken {
			continue
		}
		if len(props) == graph.MaxProperties {
			p.b.DroppedProperties++
			continue
		}
		v := fields[k].text()
		if len(v) > maxPropertyValue {
			p.reject(row, "field %q is %d bytes, at most %d", k, len(v), maxPropertyValue)
			return
		}
		props[name] = v
	}
	if len(props) > 0 {
		n.Properties = props
	}
	if err := graph.ValidateNode(n, 0); err != nil {
		p.reject(row, "%v", unwrap(err))
		return
	}
	p.ids[n.ID] = row.Row
	if n.Type == TypeTeam {
		p.teams[n.ID] = true
	}
	p.b.Nodes = append(p.b.Nodes, n)
	for _, f := range []string{"support_group", "owned_by", "owner"} {
		v, ok := fieldOK(fields, f)
		if !ok || v.raw == "" && v.display == "" {
			continue
		}
		team, err := p.team(v)
		if err != nil {
			p.reject(row, "%s: %v", f, err)
			continue
		}
		if team.ID == n.ID {
			continue
		}
		p.b.Edges = append(p.b.Edges, graph.Edge{From: n.ID, To: team.ID, Type: graph.OwnedBy})
		p.b.EdgeRows = append(p.b.EdgeRows, row)
	}
}

var sysIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// team returns the team CI a support_group or owned_by value names, adding
// it to the batch's stubs the first time. A reference's value (or a bare
// 32-hex sys_id) is the team's ID, so it meets a sys_user_group row of the
// same export; a bare name becomes the ID "team:<name>".
func (p *parser) team(v value) (graph.Node, error) {
	id, title := v.raw, v.display
	if id == "" || (!sysIDPattern.MatchString(id) && v.display == "") {
		name := strings.TrimSpace(v.text())
		id, title = "team:"+name, name
	}
	if title == "" {
		title = id
	}
	if len(title) > graph.MaxTitleLen {
		title = title[:graph.MaxTitleLen]
		for !utf8.ValidString(title) {
			title = title[:len(title)-1]
		}
	}
	t := graph.Node{ID: id, Kind: graph.KindCI, Type: TypeTeam, Title: title}
	if err := graph.ValidateNode(t, 0); err != nil {
		return graph.Node{}, fmt.Errorf("team: %v", unwrap(err))
	}
	if !p.teams[id] {
		p.teams[id] = true
		p.b.Teams = append(p.b.Teams, t)
	}
	return t, nil
}

// nativeRel reads a relation of the native formats.
func (p *parser) nativeRel(row Row, rec map[string]value) {
	p.addRel(row, field(rec, "from").raw, field(rec, "to").raw, field(rec, "type").text(), false)
}

// snowRel reads a ServiceNow cmdb_rel_ci record.
func (p *parser) snowRel(row Row, rec map[string]value) {
	row.ID = field(rec, "sys_id").raw
	end := func(name string) (string, bool) {
		if v, ok := fieldOK(rec, name+".sys_id"); ok && v.raw != "" {
			return v.raw, true
		}
		v := field(rec, name)
		if v.raw == "" && v.display != "" {
			p.reject(row, "%s is given by display value only (%q); export references with their sys_id", name, v.display)
			return "", false
		}
		return v.raw, true
	}
	parent, ok := end("parent")
	if !ok {
		return
	}
	child, ok := end("child")
	if !ok {
		return
	}
	t := field(rec, "type")
	name := t.text()
	if t.display == "" && sysIDPattern.MatchString(t.raw) {
		if _, _, known := p.relation(t.raw); !known {
			p.reject(row, "relationship type given as the sys_id %s; export with display values (sysparm_display_value=all) or map it in ParseOptions.RelationTypes", t.raw)
			return
		}
	}
	p.addRel(row, parent, child, name, true)
}

func (p *parser) relation(name string) (graph.EdgeType, bool, bool) {
	norm := normRelation(name)
	for k, t := range p.opts.RelationTypes {
		if normRelation(k) == norm {
			return t, false, true
		}
	}
	return RelationType(name)
}

func (p *parser) addRel(row Row, from, to, typ string, snow bool) {
	from, to = strings.TrimSpace(from), strings.TrimSpace(to)
	if row.ID == "" {
		row.ID = from + "->" + to
	}
	if from == "" || to == "" {
		p.reject(row, "relation needs both ends (%s)", map[bool]string{true: "parent and child", false: "from and to"}[snow])
		return
	}
	et, reverse, ok := p.relation(typ)
	if !ok {
		p.reject(row, "unknown relationship type %q (mapped: DEPENDS_ON, RUNS_ON, OWNED_BY and their ServiceNow names)", typ)
		return
	}
	if reverse {
		from, to = to, from
	}
	e := graph.Edge{From: from, To: to, Type: et}
	for _, id := range []string{from, to} {
		if err := graph.ValidateID(id); err != nil {
			p.reject(row, "bad end: %v", unwrap(err))
			return
		}
	}
	if err := graph.ValidateEdge(e, graph.KindCI, graph.KindCI); err != nil {
		p.reject(row, "%v", unwrap(err))
		return
	}
	p.b.Edges = append(p.b.Edges, e)
	p.b.EdgeRows = append(p.b.EdgeRows, row)
}

// field returns a record's field by name, any case.
func field(rec map[string]value, name string) value {
	v, _ := fieldOK(rec, name)
	return v
}

func fieldOK(rec map[string]value, name string) (value, bool) {
	if v, ok := rec[name]; ok {
		return v, true
	}
	for k, v := range rec {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return value{}, false
}

// unwrap drops the graph's "invalid graph input: " prefix from a message.
func unwrap(err error) string {
	return strings.TrimPrefix(err.Error(), graph.ErrInvalid.Error()+": ")
}

func skipBOM(br *bufio.Reader) {
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		_, _ = br.Discard(3)
	}
}

// limitReader fails once more than left bytes were read.
type limitReader struct {
	r    io.Reader
	left int64
	over bool
}

func (l *limitReader) Read(b []byte) (int, error) {
	if l.left < 0 {
		l.over = true
		return 0, errors.New("input too large")
	}
	if int64(len(b)) > l.left+1 {
		b = b[:l.left+1]
	}
	n, err := l.r.Read(b)
	l.left -= int64(n)
	if l.left < 0 {
		l.over = true
		return n, errors.New("input too large")
	}
	return n, err
}
