package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Schema is a JSON schema for structured output: its name and raw text,
// sent to the server, and a compiled form that checks answers locally.
// Build one with NewSchema or MustSchema.
//
// The validator covers the subset of JSON Schema the planes use: type (one
// name or a list, of object, string, number, integer, boolean, array,
// null), properties, required, additionalProperties (a boolean), items (one
// schema), enum, minimum, maximum, minItems, maxItems, minLength and
// maxLength. Annotations (title, description, default, examples, format,
// $schema, $id, $comment) are accepted and ignored. Any other keyword fails
// NewSchema, so a schema is never checked more loosely than it reads.
type Schema struct {
	name string
	raw  json.RawMessage
	root *node
}

var schemaName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// NewSchema compiles schema under name, which OpenAI requires to be 1-64
// letters, digits, '_' or '-'.
func NewSchema(name string, schema json.RawMessage) (*Schema, error) {
	if !schemaName.MatchString(name) {
		return nil, fmt.Errorf("llm: schema name %q must be 1-64 of A-Z, a-z, 0-9, '_' or '-'", clip(name, 80))
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, schema); err != nil {
		return nil, fmt.Errorf("llm: schema %q: %w", name, err)
	}
	root, err := compile(compact.Bytes(), "$")
	if err != nil {
		return nil, fmt.Errorf("llm: schema %q: %w", name, err)
	}
	if !slices.Contains(root.types, "object") || len(root.types) != 1 {
		return nil, fmt.Errorf("llm: schema %q: the root must be of type object", name)
	}
	return &Schema{name: name, raw: compact.Bytes(), root: root}, nil
}

// MustSchema is NewSchema for schemas fixed at compile time; it panics on
// error.
func MustSchema(name string, schema string) *Schema {
	s, err := NewSchema(name, json.RawMessage(schema))
	if err != nil {
		panic(err)
	}
	return s
}

// Name returns the schema's name.
func (s *Schema) Name() string { return s.name }

// Validate parses data as one JSON value and checks it against the schema.
// It fails with ErrMalformed if data is not JSON, or with a *SchemaError
// (errors.Is ErrSchema) listing the violations.
func (s *Schema) Validate(data []byte) error {
	v, err := parseJSON(data)
	if err != nil {
		return err
	}
	var vs []Violation
	s.root.check(v, "$", &vs)
	if len(vs) > 0 {
		return &SchemaError{Violations: vs}
	}
	return nil
}

// parseJSON decodes exactly one JSON value, keeping numbers exact.
func parseJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: empty", ErrMalformed)
		}
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the JSON value", ErrMalformed)
	}
	return v, nil
}

// maxViolations bounds how many violations one SchemaError lists.
const maxViolations = 10

// Violation is one way an answer breaks the schema. Path is a JSONPath-like
// location such as $.findings[2].severity; Reason says what is wrong
// without quoting the answer's values.
type Violation struct {
	Path   string
	Reason string
}

// SchemaError lists the violations of an answer, in a stable order, at
// most ten. errors.Is(err, ErrSchema) holds for it.
type SchemaError struct {
	Violations []Violation
}

func (e *SchemaError) Error() string {
	var b strings.Builder
	b.WriteString(ErrSchema.Error())
	for i, v := range e.Violations {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(v.Path)
		b.WriteString(": ")
		b.WriteString(v.Reason)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrSchema) hold.
func (e *SchemaError) Is(target error) bool { return target == ErrSchema }

// node is one compiled (sub)schema. Nil pointers and empty slices mean the
// keyword is absent.
type node struct {
	types        []string
	properties   map[string]*node
	required     []string
	noAdditional bool
	items        *node
	enum         []any
	minimum      *big.Float
	maximum      *big.Float
	minItems     *int
	maxItems     *int
	minLength    *int
	maxLength    *int
}

var knownTypes = []string{"object", "string", "number", "integer", "boolean", "array", "null"}

// annotations are keywords that do not constrain a value.
var annotations = []string{"title", "description", "default", "examples", "format", "$schema", "$id", "$comment"}

func compile(raw json.RawMessage, at string) (*node, error) {
	var kw map[string]json.RawMessage
	if err := json.Unmarshal(raw, &kw); err != nil || kw == nil {
		return nil, fmt.Errorf("%s: a schema must be a JSON object", at)
	}
	n := &node{}
	for _, k := range slices.Sorted(maps.Keys(kw)) {
		v := kw[k]
		var err error
		switch k {
		case "type":
			n.types, err = compileType(v)
		case "properties":
			var props map[string]json.RawMessage
			if err = json.Unmarshal(v, &props); err != nil || props == nil {
				err = errors.New("must be an object")
				break
			}
			n.properties = make(map[string]*node, len(props))
			for name, p := range props {
				if n.properties[name], err = compile(p, at+pathKey(name)); err != nil {
					return nil, err
				}
			}
		case "required":
			err = json.Unmarshal(v, &n.required)
		case "additionalProperties":
			var allowed bool
			if err = json.Unmarshal(v, &allowed); err != nil {
				err = errors.New("only true or false is supported")
				break
			}
			n.noAdditional = !allowed
		case "items":
			n.items, err = compile(v, at+"[]")
			if err != nil {
				return nil, err
			}
		case "enum":
			var vals []json.RawMessage
			if err = json.Unmarshal(v, &vals); err != nil || len(vals) == 0 {
				err = errors.New("must be a non-empty array")
				break
			}
			for _, raw := range vals {
				x, perr := parseJSON(raw)
				if perr != nil {
					return nil, fmt.Errorf("%s: enum: %w", at, perr)
				}
				n.enum = append(n.enum, x)
			}
		case "minimum":
			n.minimum, err = compileNumber(v)
		case "maximum":
			n.maximum, err = compileNumber(v)
		case "minItems":
			n.minItems, err = compileCount(v)
		case "maxItems":
			n.maxItems, err = compileCount(v)
		case "minLength":
			n.minLength, err = compileCount(v)
		case "maxLength":
			n.maxLength, err = compileCount(v)
		default:
			if !slices.Contains(annotations, k) {
				return nil, fmt.Errorf("%s: keyword %q is not supported", at, clip(k, 64))
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", at, k, err)
		}
	}
	return n, nil
}

func compileType(v json.RawMessage) ([]string, error) {
	var one string
	var many []string
	if json.Unmarshal(v, &one) == nil {
		many = []string{one}
	} else if err := json.Unmarshal(v, &many); err != nil || len(many) == 0 {
		return nil, errors.New("must be a type name or a non-empty list of them")
	}
	for _, t := range many {
		if !slices.Contains(knownTypes, t) {
			return nil, fmt.Errorf("unknown type %q", clip(t, 32))
		}
	}
	return many, nil
}

func compileNumber(v json.RawMessage) (*big.Float, error) {
	// Not json.Unmarshal into a json.Number, which accepts a quoted "1".
	x, _ := parseJSON(v)
	num, ok := x.(json.Number)
	if !ok {
		return nil, errors.New("must be a number")
	}
	f, ok := new(big.Float).SetString(num.String())
	if !ok {
		return nil, errors.New("must be a number")
	}
	return f, nil
}

func compileCount(v json.RawMessage) (*int, error) {
	var n int
	if err := json.Unmarshal(v, &n); err != nil || n < 0 {
		return nil, errors.New("must be a non-negative integer")
	}
	return &n, nil
}

// check appends v's violations of n, found at path, to vs.
func (n *node) check(v any, path string, vs *[]Violation) {
	add := func(format string, args ...any) {
		if len(*vs) < maxViolations {
			*vs = append(*vs, Violation{Path: path, Reason: fmt.Sprintf(format, args...)})
		}
	}
	if len(n.types) > 0 && !slices.ContainsFunc(n.types, func(t string) bool { return hasType(v, t) }) {
		add("want %s, got %s", strings.Join(n.types, " or "), typeOf(v))
		return
	}
	if len(n.enum) > 0 && !slices.ContainsFunc(n.enum, func(e any) bool { return equalJSON(v, e) }) {
		add("value not in enum %s", enumText(n.enum))
	}
	switch v := v.(type) {
	case map[string]any:
		for _, name := range n.required {
			if _, ok := v[name]; !ok {
				*vs = appendCapped(*vs, Violation{Path: path + pathKey(name), Reason: "required property missing"})
			}
		}
		for _, name := range slices.Sorted(maps.Keys(v)) {
			if p, ok := n.properties[name]; ok {
				p.check(v[name], path+pathKey(name), vs)
			} else if n.noAdditional {
				*vs = appendCapped(*vs, Violation{Path: path + pathKey(name), Reason: "additional property not allowed"})
			}
		}
	case []any:
		if n.minItems != nil && len(v) < *n.minItems {
			add("%d items, want at least %d", len(v), *n.minItems)
		}
		if n.maxItems != nil && len(v) > *n.maxItems {
			add("%d items, want at most %d", len(v), *n.maxItems)
		}
		if n.items != nil {
			for i, x := range v {
				n.items.check(x, path+"["+strconv.Itoa(i)+"]", vs)
			}
		}
	case string:
		l := utf8.RuneCountInString(v)
		if n.minLength != nil && l < *n.minLength {
			add("%d characters, want at least %d", l, *n.minLength)
		}
		if n.maxLength != nil && l > *n.maxLength {
			add("%d characters, want at most %d", l, *n.maxLength)
		}
	case json.Number:
		f, ok := new(big.Float).SetString(v.String())
		if !ok {
			add("number out of range")
			return
		}
		if n.minimum != nil && f.Cmp(n.minimum) < 0 {
			add("below minimum %s", n.minimum.Text('g', -1))
		}
		if n.maximum != nil && f.Cmp(n.maximum) > 0 {
			add("above maximum %s", n.maximum.Text('g', -1))
		}
	}
}

func appendCapped(vs []Violation, v Violation) []Violation {
	if len(vs) < maxViolations {
		return append(vs, v)
	}
	return vs
}

func hasType(v any, t string) bool {
	switch t {
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		f, ok := new(big.Float).SetString(n.String())
		return ok && f.IsInt()
	case "number":
		_, ok := v.(json.Number)
		return ok
	default:
		return typeOf(v) == t
	}
}

// typeOf names v's JSON type; a number is "number" whether integral or not.
func typeOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// equalJSON compares two decoded JSON values; numbers compare by value,
// so 1, 1.0 and 1e0 are equal.
func equalJSON(a, b any) bool {
	switch a := a.(type) {
	case json.Number:
		b, ok := b.(json.Number)
		if !ok {
			return false
		}
		x, okx := new(big.Float).SetString(a.String())
		y, oky := new(big.Float).SetString(b.String())
		return okx && oky && x.Cmp(y) == 0
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, av := range a {
			bv, ok := b[k]
			if !ok || !equalJSON(av, bv) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		return ok && slices.EqualFunc(a, b, equalJSON)
	default:
		return a == b
	}
}

// enumText renders the schema's enum for an error, shortened.
func enumText(enum []any) string {
	data, err := json.Marshal(enum)
	if err != nil {
		return "(unprintable)"
	}
	return clip(string(data), 120)
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// pathKey renders a property step of a path: .name, or ["odd name"] for
// names that are not identifiers. Names come from the answer too, so they
// are shortened.
func pathKey(name string) string {
	if identifier.MatchString(name) && len(name) <= 64 {
		return "." + name
	}
	return "[" + strconv.Quote(clip(name, 64)) + "]"
}
