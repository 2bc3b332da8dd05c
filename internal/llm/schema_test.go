package llm_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/llm"
)

// incidentSchema exercises every supported keyword.
var incidentSchema = llm.MustSchema("incident", `{
	"$schema": "https://json-schema.org/draft/2020-12/schema",
	"title": "Incident verdict",
	"type": "object",
	"properties": {
		"summary":  {"type": "string", "minLength": 3, "maxLength": 40, "description": "one line"},
		"priority": {"type": "integer", "minimum": 1, "maximum": 5},
		"score":    {"type": "number", "minimum": -1.5, "maximum": 1.5},
		"owner":    {"type": ["string", "null"]},
		"status":   {"enum": ["open", "closed", 3, null]},
		"steps": {
			"type": "array", "minItems": 1, "maxItems": 3,
			"items": {
				"type": "object",
				"properties": {"action": {"type": "string"}, "done": {"type": "boolean"}},
				"required": ["action"],
				"additionalProperties": false
			}
		},
		"labels": {"type": "object", "additionalProperties": true}
	},
	"required": ["summary", "priority"],
	"additionalProperties": false
}`)

func TestSchemaValidateAccepts(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{
		`{"summary":"db lag","priority":3}`,
		`{"summary":"db lag","priority":1.0,"score":-1.5,"owner":null,"status":"open","steps":[{"action":"failover","done":true}],"labels":{"any":[1,2]}}`,
		`{"summary":"ümlaut","priority":5e0,"score":1.5,"owner":"sre","status":3.0}`,
		`{"summary":"abc","priority":2,"status":null,"steps":[{"action":"a"},{"action":"b"},{"action":"c"}]}`,
		"\n {\"summary\":\"db lag\",\"priority\":3} \n",
	} {
		require.NoError(t, incidentSchema.Validate([]byte(doc)), doc)
	}
}

func TestSchemaValidateRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		doc  string
		want []llm.Violation
	}{
		{"missing required", `{"summary":"db lag"}`, []llm.Violation{{"$.priority", "required property missing"}}},
		{"wrong type", `{"summary":7,"priority":3}`, []llm.Violation{{"$.summary", "want string, got number"}}},
		{"integer with fraction", `{"summary":"abc","priority":2.5}`, []llm.Violation{{"$.priority", "want integer, got number"}}},
		{"below minimum", `{"summary":"abc","priority":0}`, []llm.Violation{{"$.priority", "below minimum 1"}}},
		{"above maximum", `{"summary":"abc","priority":1,"score":1.6}`, []llm.Violation{{"$.score", "above maximum 1.5"}}},
		{"too short", `{"summary":"ab","priority":1}`, []llm.Violation{{"$.summary", "2 characters, want at least 3"}}},
		{"too long", `{"summary":"` + `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","priority":1}`, []llm.Violation{{"$.summary", "41 characters, want at most 40"}}},
		{"type list", `{"summary":"abc","priority":1,"owner":false}`, []llm.Violation{{"$.owner", "want string or null, got boolean"}}},
		{"enum", `{"summary":"abc","priority":1,"status":"pending"}`, []llm.Violation{{"$.status", `value not in enum ["open","closed",3,null]`}}},
		{"too few items", `{"summary":"abc","priority":1,"steps":[]}`, []llm.Violation{{"$.steps", "0 items, want at least 1"}}},
		{"too many items", `{"summary":"abc","priority":1,"steps":[{"action":"a"},{"action":"a"},{"action":"a"},{"action":"a"}]}`, []llm.Violation{{"$.steps", "4 items, want at most 3"}}},
		{"nested", `{"summary":"abc","priority":1,"steps":[{"action":"a"},{"done":"yes","why":1}]}`, []llm.Violation{
			{"$.steps[1].action", "required property missing"},
			{"$.steps[1].done", "want boolean, got string"},
			{"$.steps[1].why", "additional property not allowed"},
		}},
		{"extra property with odd name", `{"summary":"abc","priority":1,"a b":1}`, []llm.Violation{{`$["a b"]`, "additional property not allowed"}}},
		{"root type", `"just text"`, []llm.Violation{{"$", "want object, got string"}}},
		{"null root", `null`, []llm.Violation{{"$", "want object, got null"}}},
		{"several, in order", `{"priority":"high","zzz":1,"aaa":2}`, []llm.Violation{
			{"$.summary", "required property missing"},
			{"$.aaa", "additional property not allowed"},
			{"$.priority", "want integer, got string"},
			{"$.zzz", "additional property not allowed"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := incidentSchema.Validate([]byte(tc.doc))
			require.ErrorIs(t, err, llm.ErrSchema)
			var se *llm.SchemaError
			require.True(t, errors.As(err, &se))
			require.Equal(t, tc.want, se.Violations)
		})
	}
}

func TestSchemaViolationsCapped(t *testing.T) {
	t.Parallel()
	doc := map[string]int{}
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"} {
		doc[k] = 1
	}
	data, err := json.Marshal(doc)
	require.NoError(t, err)
	var se *llm.SchemaError
	require.ErrorAs(t, incidentSchema.Validate(data), &se)
	require.Len(t, se.Violations, 10)
}

func TestSchemaValidateMalformed(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{``, `{`, `{"summary":}`, `{"summary":"a"} {}`, `{"summary":"a"} x`, `nope`} {
		err := incidentSchema.Validate([]byte(doc))
		require.ErrorIs(t, err, llm.ErrMalformed, doc)
		require.NotErrorIs(t, err, llm.ErrSchema, doc)
	}
}

func TestNewSchemaRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, schemaName, schema, want string
	}{
		{"bad name", "triage verdict", `{"type":"object"}`, "schema name"},
		{"long name", string(make([]byte, 65)), `{"type":"object"}`, "schema name"},
		{"not json", "s", `{"type":`, "unexpected end"},
		{"not an object", "s", `["object"]`, "must be a JSON object"},
		{"root not object", "s", `{"type":"array"}`, "root must be of type object"},
		{"root without type", "s", `{"properties":{}}`, "root must be of type object"},
		{"unknown type", "s", `{"type":"object","properties":{"a":{"type":"date"}}}`, `$.a: type: unknown type "date"`},
		{"unsupported keyword", "s", `{"type":"object","properties":{"a":{"type":"string","pattern":"^x"}}}`, `$.a: keyword "pattern" is not supported`},
		{"anyOf", "s", `{"type":"object","anyOf":[]}`, `keyword "anyOf" is not supported`},
		{"$ref", "s", `{"type":"object","properties":{"a":{"$ref":"#/$defs/x"}}}`, `keyword "$ref" is not supported`},
		{"additionalProperties schema", "s", `{"type":"object","additionalProperties":{"type":"string"}}`, "only true or false"},
		{"empty enum", "s", `{"type":"object","properties":{"a":{"enum":[]}}}`, "non-empty array"},
		{"bad minimum", "s", `{"type":"object","properties":{"a":{"minimum":"1"}}}`, "minimum: must be a number"},
		{"negative minItems", "s", `{"type":"object","properties":{"a":{"minItems":-1}}}`, "minItems: must be a non-negative integer"},
		{"bad items", "s", `{"type":"object","properties":{"a":{"type":"array","items":{"type":"tuple"}}}}`, `$.a[]: type: unknown type "tuple"`},
		{"bad required", "s", `{"type":"object","required":"a"}`, "required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := llm.NewSchema(tc.schemaName, json.RawMessage(tc.schema))
			require.Error(t, err)
			require.Nil(t, s)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestMustSchemaPanics(t *testing.T) {
	t.Parallel()
	require.Panics(t, func() { llm.MustSchema("s", `{"type":"string"}`) })
	require.Equal(t, "incident", incidentSchema.Name())
}
