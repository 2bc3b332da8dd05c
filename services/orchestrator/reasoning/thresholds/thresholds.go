package thresholds

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/alexus-platform/alexus/internal/audit"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/tenantcache"
)

// Audit events of rule changes; the subject is threshold_rule/<severity
// or any>/<kind or any>.
const (
	EventSet     = "threshold_rule.set"
	EventDeleted = "threshold_rule.deleted"
)

func ruleSubject(sev, kind string) string {
	return "threshold_rule/" + cmp.Or(sev, "any") + "/" + cmp.Or(kind, "any")
}

// ErrInvalid reports a rule or rule key that cannot be stored: an undefined
// severity, a malformed action kind, or thresholds out of order or outside
// [0, 1].
var ErrInvalid = errors.New("invalid threshold rule")

// Defaults are the plane's thresholds, from its configuration; they apply
// where no tenant rule matches.
type Defaults struct {
	ExecuteAt, ClarifyAt float64
}

// CacheTTL is how long a replica answers Resolve from the tenant's rules as
// it last read them. Resolve runs once per signal; the rules change rarely.
// This replica's own Set and Delete take effect at once, another replica's
// within CacheTTL.
const CacheTTL = 2 * time.Second

// Store reads and writes tenants' threshold rules. Every query runs in a
// transaction scoped to the context's verified tenant.
type Store struct {
	db    *store.DB
	def   Defaults
	rules *tenantcache.Cache[[]*reasoningv1.ThresholdRule]
}

// New returns a Store over db that falls back to def.
func New(db *store.DB, def Defaults) *Store {
	s := &Store{db: db, def: def}
	s.rules = tenantcache.New(CacheTTL, s.List)
	return s
}

// forget drops the cached rules of t after a write.
func (s *Store) forget(t tenant.ID) { s.rules.Forget(t) }

// severityText is the stored form of each severity a rule may name; the
// migration's CHECK lists the same values. Unspecified is stored as the
// empty string: the rule covers any severity.
var severityText = map[signalv1.Severity]string{
	signalv1.Severity_SEVERITY_UNSPECIFIED: "",
	signalv1.Severity_SEVERITY_INFO:        "info",
	signalv1.Severity_SEVERITY_WARNING:     "warning",
	signalv1.Severity_SEVERITY_ERROR:       "error",
	signalv1.Severity_SEVERITY_CRITICAL:    "critical",
}

// kindPattern is the action kinds a rule may name, as in the API and the
// migration's CHECK; the empty kind covers any kind.
var kindPattern = regexp.MustCompile(`^([a-z][a-z0-9_]{0,31})?$`)

// key checks a rule's severity and action kind and returns the severity's
// stored form.
func key(sev signalv1.Severity, kind string) (string, error) {
	text, ok := severityText[sev]
	if !ok {
		return "", fmt.Errorf("%w: severity %d is not a defined severity", ErrInvalid, sev)
	}
	if !kindPattern.MatchString(kind) {
		return "", fmt.Errorf("%w: action_kind %q must be empty or 1-32 characters of a-z, 0-9 and '_', starting with a letter", ErrInvalid, kind)
	}
	return text, nil
}

// checkThresholds refuses thresholds outside [0, 1], NaN (which fails every
// comparison) and a clarify_at above execute_at.
func checkThresholds(executeAt, clarifyAt float64) error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"execute_at", executeAt}, {"clarify_at", clarifyAt}} {
		if !(f.v >= 0 && f.v <= 1) {
			return fmt.Errorf("%w: %s %v must be in [0, 1]", ErrInvalid, f.name, f.v)
		}
	}
	if clarifyAt > executeAt {
		return fmt.Errorf("%w: clarify_at %v must not exceed execute_at %v", ErrInvalid, clarifyAt, executeAt)
	}
	return nil
}

func parseSeverity(text string) (signalv1.Severity, error) {
	for s, t := range severityText {
		if t == text {
			return s, nil
		}
	}
	return 0, fmt.Errorf("stored severity %q is not one this package knows", text)
}

// Set creates or replaces the tenant's rule for r's severity and action
// kind and returns it as stored, with its update time. r.UpdatedAt is
// ignored. A rule that fails validation stores nothing and returns an error
// wrapping ErrInvalid that names the field and its value.
func (s *Store) Set(ctx context.Context, r *reasoningv1.ThresholdRule) (*reasoningv1.ThresholdRule, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: no rule given", ErrInvalid)
	}
	sev, err := key(r.GetSeverity(), r.GetActionKind())
	if err != nil {
		return nil, err
	}
	if err := checkThresholds(r.GetExecuteAt(), r.GetClarifyAt()); err != nil {
		return nil, err
	}
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	var at time.Time
	defer s.forget(t)
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO reasoning_thresholds (tenant_id, severity, action_kind, execute_at, clarify_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (tenant_id, severity, action_kind) DO UPDATE
			  SET execute_at = EXCLUDED.execute_at, clarify_at = EXCLUDED.clarify_at, updated_at = now()
			RETURNING updated_at`,
			string(t), sev, r.GetActionKind(), r.GetExecuteAt(), r.GetClarifyAt()).Scan(&at)
		if err != nil {
			return err
		}
		return audit.Append(ctx, tx, EventSet, ruleSubject(sev, r.GetActionKind()), map[string]string{
			"execute_at": strconv.FormatFloat(r.GetExecuteAt(), 'f', -1, 64),
			"clarify_at": strconv.FormatFloat(r.GetClarifyAt(), 'f', -1, 64),
		})
	})
	if err != nil {
		return nil, fmt.Errorf("set threshold rule (severity %q, action kind %q): %w", sev, r.GetActionKind(), err)
	}
	return &reasoningv1.ThresholdRule{
		Severity:   r.GetSeverity(),
		ActionKind: r.GetActionKind(),
		ExecuteAt:  r.GetExecuteAt(),
		ClarifyAt:  r.GetClarifyAt(),
		UpdatedAt:  timestamppb.New(at),
	}, nil
}

// List returns the tenant's rules in the order Resolve prefers them: most
// specific first (severity and kind, severity alone, kind alone, neither),
// then by severity, highest first, then by action kind.
func (s *Store) List(ctx context.Context) ([]*reasoningv1.ThresholdRule, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	var rules []*reasoningv1.ThresholdRule
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT severity, action_kind, execute_at, clarify_at, updated_at
			FROM reasoning_thresholds WHERE tenant_id = $1`, string(t))
		if err != nil {
			return err
		}
		rules, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*reasoningv1.ThresholdRule, error) {
			var (
				r   reasoningv1.ThresholdRule
				sev string
				at  time.Time
			)
			if err := row.Scan(&sev, &r.ActionKind, &r.ExecuteAt, &r.ClarifyAt, &at); err != nil {
				return nil, err
			}
			r.UpdatedAt = timestamppb.New(at)
			r.Severity, err = parseSeverity(sev)
			return &r, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list threshold rules: %w", err)
	}
	slices.SortFunc(rules, func(a, b *reasoningv1.ThresholdRule) int {
		return cmp.Or(
			cmp.Compare(specificity(a), specificity(b)),
			cmp.Compare(b.GetSeverity(), a.GetSeverity()),
			cmp.Compare(a.GetActionKind(), b.GetActionKind()),
		)
	})
	return rules, nil
}

// specificity ranks a rule as Resolve prefers it, 0 first: severity and
// kind, severity alone, kind alone, neither.
func specificity(r *reasoningv1.ThresholdRule) int {
	rank := 0
	if r.GetSeverity() == signalv1.Severity_SEVERITY_UNSPECIFIED {
		rank += 2
	}
	if r.GetActionKind() == "" {
		rank++
	}
	return rank
}

// Delete removes the tenant's rule for sev and kind and reports whether
// there was one. Arguments are validated as Set validates them.
func (s *Store) Delete(ctx context.Context, sev signalv1.Severity, kind string) (bool, error) {
	text, err := key(sev, kind)
	if err != nil {
		return false, err
	}
	t, err := tenant.Require(ctx)
	if err != nil {
		return false, err
	}
	var deleted bool
	defer s.forget(t)
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM reasoning_thresholds WHERE tenant_id = $1 AND severity = $2 AND action_kind = $3`,
			string(t), text, kind)
		if deleted = tag.RowsAffected() > 0; err != nil || !deleted {
			return err
		}
		return audit.Append(ctx, tx, EventDeleted, ruleSubject(text, kind), nil)
	})
	if err != nil {
		return false, fmt.Errorf("delete threshold rule (severity %q, action kind %q): %w", text, kind, err)
	}
	return deleted, nil
}

// Resolve returns the thresholds that apply to a signal of severity sev
// whose recommended action is of kind kind (empty when there is none): the
// tenant's most specific matching rule, or the defaults when none matches.
// A severity no rule can name (unspecified or undefined) or a kind no rule
// can name matches only the rules that cover any. The rules are read at
// most once per CacheTTL per tenant.
func (s *Store) Resolve(ctx context.Context, sev signalv1.Severity, kind string) (*reasoningv1.Thresholds, error) {
	rules, err := s.rules.Get(ctx)
	if err != nil {
		return nil, fmt.Errorf("resolve thresholds: %w", err)
	}
	// List orders rules most specific first, so the first match wins.
	for _, r := range rules {
		if (r.GetSeverity() == signalv1.Severity_SEVERITY_UNSPECIFIED || r.GetSeverity() == sev) &&
			(r.GetActionKind() == "" || r.GetActionKind() == kind) {
			return &reasoningv1.Thresholds{
				ExecuteAt: r.GetExecuteAt(), ClarifyAt: r.GetClarifyAt(),
				Severity: r.GetSeverity(), ActionKind: r.GetActionKind(), TenantRule: true,
			}, nil
		}
	}
	return s.Defaults(), nil
}

// Defaults returns the plane's thresholds, which apply where no tenant rule
// matches.
func (s *Store) Defaults() *reasoningv1.Thresholds {
	return &reasoningv1.Thresholds{ExecuteAt: s.def.ExecuteAt, ClarifyAt: s.def.ClarifyAt}
}
