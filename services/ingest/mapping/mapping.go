package mapping

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/services/ingest/normalise"
)

// Rule is a tenant's mapping of one custom source: a CEL expression per
// signal field. Only Name and Title are required.
type Rule struct {
	// Name is the source slug the rule is posted to, /v1/webhooks/<Name>.
	Name string `json:"-"`
	// Version counts saved changes of the rule; it is the version of the
	// rule's fingerprint recipe, stored with every signal it makes.
	Version uint32 `json:"-"`
	// Alerts, when set, selects a list of alerts in the payload (e.g.
	// `payload.events`); each element becomes one signal, seen as `alert`.
	Alerts string `json:"alerts,omitempty"`
	// Title is required; a string.
	Title string `json:"title"`
	// Status yields "firing", "resolved" or "acknowledged"; empty means
	// always firing.
	Status string `json:"status,omitempty"`
	// Severity yields a severity word (see normalise.SeverityWord).
	Severity    string `json:"severity,omitempty"`
	Description string `json:"description,omitempty"`
	Resource    string `json:"resource,omitempty"`
	Link        string `json:"link,omitempty"`
	// Labels yields a map of strings; non-string values are rendered as
	// JSON text.
	Labels string `json:"labels,omitempty"`
	// Fingerprint yields the alert's stable identity; empty means a hash of
	// labels, title and resource.
	Fingerprint string `json:"fingerprint,omitempty"`
	// StartsAt and EndsAt yield RFC 3339 strings, or CEL timestamps.
	StartsAt string `json:"starts_at,omitempty"`
	EndsAt   string `json:"ends_at,omitempty"`
}

// ErrInvalidRule wraps every reason a rule does not compile.
var ErrInvalidRule = errors.New("invalid mapping rule")

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// costLimit bounds one evaluation; a plain field expression costs a few
// units, a comprehension over a large list costs more.
const costLimit = 100_000

// maxExprLen bounds each expression's source.
const maxExprLen = 4096

// Compiled is a compiled Rule; it implements normalise.Normaliser.
type Compiled struct {
	rule   Rule
	recipe normalise.Recipe
	fields map[string]cel.Program
}

// field names, in the order errors report them.
var fieldOrder = []string{"alerts", "title", "status", "severity", "description", "resource", "link", "labels", "fingerprint", "starts_at", "ends_at"}

func (r Rule) exprs() map[string]string {
	return map[string]string{
		"alerts": r.Alerts, "title": r.Title, "status": r.Status, "severity": r.Severity,
		"description": r.Description, "resource": r.Resource, "link": r.Link, "labels": r.Labels,
		"fingerprint": r.Fingerprint, "starts_at": r.StartsAt, "ends_at": r.EndsAt,
	}
}

var env = func() *cel.Env {
	e, err := cel.NewEnv(
		cel.Variable("payload", cel.DynType),
		cel.Variable("headers", cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable("alert", cel.DynType),
		ext.Strings(),
		cel.OptionalTypes(),
	)
	if err != nil {
		panic(fmt.Sprintf("build CEL environment: %v", err))
	}
	return e
}()

// Compile checks and compiles every expression of r. The error names the
// rule, the field and the expression that failed, with CEL's own message.
func Compile(r Rule) (*Compiled, error) {
	if !namePattern.MatchString(r.Name) {
		return nil, fmt.Errorf("%w: name %q must be 1-63 characters of a-z, 0-9, '_' or '-'", ErrInvalidRule, r.Name)
	}
	if strings.TrimSpace(r.Title) == "" {
		return nil, fmt.Errorf("%w %q: field \"title\" needs an expression", ErrInvalidRule, r.Name)
	}
	c := &Compiled{
		rule:   r,
		recipe: normalise.Recipe{Name: "mapping:" + r.Name, Prefix: "map-" + r.Name, Version: max(r.Version, 1)},
		fields: map[string]cel.Program{},
	}
	exprs := r.exprs()
	for _, f := range fieldOrder {
		src := strings.TrimSpace(exprs[f])
		if src == "" {
			continue
		}
		if len(src) > maxExprLen {
			return nil, fmt.Errorf("%w %q: field %q: expression longer than %d characters", ErrInvalidRule, r.Name, f, maxExprLen)
		}
		ast, iss := env.Compile(src)
		if iss != nil && iss.Err() != nil {
			return nil, fmt.Errorf("%w %q: field %q: expression %q: %v", ErrInvalidRule, r.Name, f, src, iss.Err())
		}
		if err := checkType(f, ast.OutputType()); err != nil {
			return nil, fmt.Errorf("%w %q: field %q: expression %q: %v", ErrInvalidRule, r.Name, f, src, err)
		}
		prg, err := env.Program(ast, cel.CostLimit(costLimit), cel.InterruptCheckFrequency(100))
		if err != nil {
			return nil, fmt.Errorf("%w %q: field %q: expression %q: %v", ErrInvalidRule, r.Name, f, src, err)
		}
		c.fields[f] = prg
	}
	return c, nil
}

// checkType refuses expressions whose static type cannot give the field.
// Dyn passes: JSON payloads are dynamic, so most checks happen per alert.
func checkType(field string, t *cel.Type) error {
	if t == nil || t.IsExactType(cel.DynType) {
		return nil
	}
	switch field {
	case "alerts":
		if t.Kind() != types.ListKind {
			return fmt.Errorf("yields %s, want a list", t)
		}
	case "labels":
		if t.Kind() != types.MapKind {
			return fmt.Errorf("yields %s, want a map", t)
		}
	case "starts_at", "ends_at":
		if !t.IsExactType(cel.StringType) && !t.IsExactType(cel.TimestampType) {
			return fmt.Errorf("yields %s, want a string or timestamp", t)
		}
	default:
		if !t.IsExactType(cel.StringType) {
			return fmt.Errorf("yields %s, want a string", t)
		}
	}
	return nil
}

// Name returns the rule's source slug.
func (c *Compiled) Name() string { return c.rule.Name }

// evalTimeout bounds one payload's evaluation in wall time as well as cost.
const evalTimeout = 100 * time.Millisecond

// Normalise implements normalise.Normaliser.
func (c *Compiled) Normalise(payload []byte, headers map[string]string, received time.Time) ([]*signalv1.Signal, error) {
	var doc any
	if err := json.Unmarshal(payload, &doc); err != nil {
		return nil, fmt.Errorf("%w: mapping %q needs a JSON body: %v", normalise.ErrInvalidPayload, c.rule.Name, err)
	}
	if headers == nil {
		headers = map[string]string{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), evalTimeout)
	defer cancel()
	alerts := []any{doc}
	if prg, ok := c.fields["alerts"]; ok {
		v, err := c.eval(ctx, prg, "alerts", doc, headers, doc)
		if err != nil {
			return nil, err
		}
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			return nil, fmt.Errorf("%w: mapping %q: field \"alerts\" gave no list of alerts", normalise.ErrInvalidPayload, c.rule.Name)
		}
		alerts = list
	}
	sigs := make([]*signalv1.Signal, 0, len(alerts))
	for i, a := range alerts {
		sig, err := c.one(ctx, doc, headers, a, received)
		if err != nil {
			return nil, fmt.Errorf("%w: alert %d: %v", normalise.ErrInvalidPayload, i, err)
		}
		sigs = append(sigs, sig)
	}
	return sigs, nil
}

func (c *Compiled) one(ctx context.Context, doc any, headers map[string]string, alert any, received time.Time) (*signalv1.Signal, error) {
	str := func(field string) (string, error) {
		prg, ok := c.fields[field]
		if !ok {
			return "", nil
		}
		v, err := c.eval(ctx, prg, field, doc, headers, alert)
		if err != nil {
			return "", err
		}
		return text(v), nil
	}
	sig := &signalv1.Signal{Source: c.rule.Name, ReceivedAt: timestamppb.New(received)}
	var err error
	if sig.Title, err = str("title"); err != nil {
		return nil, err
	}
	if sig.Title == "" {
		return nil, fmt.Errorf("mapping %q: title is empty", c.rule.Name)
	}
	status, err := str("status")
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(strings.TrimSpace(status)) {
	case "", "firing":
		sig.Status = signalv1.Status_STATUS_FIRING
	case "resolved":
		sig.Status = signalv1.Status_STATUS_RESOLVED
	case "acknowledged":
		sig.Status = signalv1.Status_STATUS_ACKNOWLEDGED
	default:
		return nil, fmt.Errorf("mapping %q: status %.32q is not firing, resolved or acknowledged", c.rule.Name, status)
	}
	severity, err := str("severity")
	if err != nil {
		return nil, err
	}
	sig.Severity = normalise.SeverityWord(severity)
	if sig.Description, err = str("description"); err != nil {
		return nil, err
	}
	if sig.Resource, err = str("resource"); err != nil {
		return nil, err
	}
	if sig.Link, err = str("link"); err != nil {
		return nil, err
	}
	if prg, ok := c.fields["labels"]; ok {
		v, err := c.eval(ctx, prg, "labels", doc, headers, alert)
		if err != nil {
			return nil, err
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("mapping %q: field \"labels\" did not give a map", c.rule.Name)
		}
		sig.Labels = make(map[string]string, len(m))
		for k, val := range m {
			sig.Labels[k] = text(val)
		}
	}
	for _, f := range []struct {
		name string
		dst  **timestamppb.Timestamp
	}{{"starts_at", &sig.StartsAt}, {"ends_at", &sig.EndsAt}} {
		prg, ok := c.fields[f.name]
		if !ok {
			continue
		}
		v, err := c.eval(ctx, prg, f.name, doc, headers, alert)
		if err != nil {
			return nil, err
		}
		ts, err := timestamp(v)
		if err != nil {
			return nil, fmt.Errorf("mapping %q: field %q: %v", c.rule.Name, f.name, err)
		}
		*f.dst = ts
	}
	fp, err := str("fingerprint")
	if err != nil {
		return nil, err
	}
	if fp == "" {
		identity := map[string]string{"title": sig.Title, "resource": sig.Resource}
		for k, v := range sig.Labels {
			identity["label:"+k] = v
		}
		fp = normalise.HashFields(identity)
	} else {
		sig.ExternalId = fp
	}
	c.recipe.Apply(sig, fp)
	if raw, err := json.Marshal(alert); err == nil {
		sig.RawPayload = raw
	}
	return sig, nil
}

// eval runs one field's program and returns its value as plain Go (string,
// float64, bool, map[string]any, []any, time.Time or nil).
func (c *Compiled) eval(ctx context.Context, prg cel.Program, field string, doc any, headers map[string]string, alert any) (any, error) {
	out, _, err := prg.ContextEval(ctx, map[string]any{"payload": doc, "headers": headers, "alert": alert})
	if err != nil {
		return nil, fmt.Errorf("mapping %q: field %q: %v", c.rule.Name, field, err)
	}
	return native(out)
}

// native converts a CEL value back to plain Go: through the JSON value
// type CEL can always produce, then to string, float64, bool, nil,
// map[string]any or []any. Timestamps stay time.Time.
func native(v ref.Val) (any, error) {
	if v.Type() == types.TimestampType {
		return v.Value(), nil
	}
	out, err := v.ConvertToNative(reflect.TypeFor[*structpb.Value]())
	if err != nil {
		return nil, fmt.Errorf("value of type %s cannot be used here", v.Type().TypeName())
	}
	return out.(*structpb.Value).AsInterface(), nil
}

// text renders a field value as a string: strings as they are, numbers and
// booleans in their JSON form, nil as empty, anything else as JSON.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func timestamp(v any) (*timestamppb.Timestamp, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case time.Time:
		return timestamppb.New(x), nil
	case string:
		if x == "" {
			return nil, nil
		}
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return nil, fmt.Errorf("%.40q is not an RFC 3339 time", x)
		}
		return timestamppb.New(t), nil
	}
	return nil, fmt.Errorf("want an RFC 3339 string or a timestamp")
}

// Rule returns the rule c was compiled from.
func (c *Compiled) Rule() Rule { return c.rule }
