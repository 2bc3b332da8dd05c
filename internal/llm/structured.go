package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// CompleteJSON sends req, which must carry a Schema, and decodes the
// answer into out after checking it against the schema. The answer must be
// one JSON value, optionally inside a single ```json (or bare ```) fence;
// no other text around it is tolerated.
//
// Besides Complete's errors it fails with ErrMalformed (not JSON) or a
// *SchemaError (errors.Is ErrSchema). In those two cases, and only those,
// the Response is returned with the error, so the caller can log the usage
// and attempts of the answer it is discarding.
func CompleteJSON[T any](ctx context.Context, c *Client, req Request, out *T) (*Response, error) {
	if req.Schema == nil {
		return nil, errors.New("llm: CompleteJSON needs a request with a schema")
	}
	if out == nil {
		return nil, errors.New("llm: CompleteJSON needs somewhere to decode into")
	}
	resp, err := c.Complete(ctx, req)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Response, error) {
		if resp.FinishReason == "length" {
			err = fmt.Errorf("%w (answer cut short at the token budget)", err)
		}
		return resp, fmt.Errorf("llm: schema %q, model %q, %d attempt(s): %w", req.Schema.name, resp.Model, resp.Attempts, err)
	}
	data := []byte(unfence(resp.Content))
	if err := req.Schema.Validate(data); err != nil {
		return fail(err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		// The answer fits the schema but not T: the two disagree, which is
		// the caller's bug, not the model's.
		return resp, fmt.Errorf("llm: schema %q does not match %T: %w", req.Schema.name, out, err)
	}
	return resp, nil
}

// unfence returns s without one surrounding Markdown code fence (```json
// or ```), which models add despite being asked for bare JSON. Anything
// else is returned trimmed and left for the parser to reject.
func unfence(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "```") || !strings.HasSuffix(s, "```") || len(s) < 6 {
		return s
	}
	inner := s[3 : len(s)-3]
	nl := strings.IndexByte(inner, '\n')
	if nl < 0 {
		return s
	}
	switch lang := strings.TrimSpace(inner[:nl]); strings.ToLower(lang) {
	case "", "json":
		return strings.TrimSpace(inner[nl+1:])
	default:
		return s
	}
}
