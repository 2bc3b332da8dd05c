package sources

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/services/ingest/normalise"
)

// ErrInvalidOverride wraps every reason an override is refused.
var ErrInvalidOverride = errors.New("invalid fingerprint override")

// MaxOverrideFields bounds an override's field list.
const MaxOverrideFields = 16

// Override makes a source's fingerprint a hash of chosen fields of its
// normalised signals instead of the source's own recipe.
type Override struct {
	// Source is a native source or one of the tenant's mapping rules.
	Source string
	// Fields are the identifying fields: title, resource, external_id,
	// severity, labels.<name> or annotations.<name>.
	Fields []string
	// Version counts saved changes from 1.
	Version uint32
	// UpdatedAt is when the override last changed.
	UpdatedAt time.Time
}

var (
	sourcePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	// A label or annotation name as vendors write them: Prometheus names,
	// dotted and slashed Kubernetes-style keys, dashes.
	mapKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_./-]{0,99}$`)
)

// plainFields are the signal fields an override may name directly.
var plainFields = []string{"title", "resource", "external_id", "severity"}

// Validate names what is wrong with o, ignoring its version.
func (o Override) Validate() error {
	if !sourcePattern.MatchString(o.Source) {
		return fmt.Errorf("%w: source %q must be 1-63 characters of a-z, 0-9, '_' or '-'", ErrInvalidOverride, o.Source)
	}
	if len(o.Fields) == 0 || len(o.Fields) > MaxOverrideFields {
		return fmt.Errorf("%w: %d fields; name between 1 and %d", ErrInvalidOverride, len(o.Fields), MaxOverrideFields)
	}
	seen := make(map[string]bool, len(o.Fields))
	for _, f := range o.Fields {
		if seen[f] {
			return fmt.Errorf("%w: field %q is named twice", ErrInvalidOverride, f)
		}
		seen[f] = true
		if err := validField(f); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidOverride, err)
		}
	}
	return nil
}

func validField(f string) error {
	for _, p := range plainFields {
		if f == p {
			return nil
		}
	}
	for _, prefix := range []string{"labels.", "annotations."} {
		if key, ok := strings.CutPrefix(f, prefix); ok {
			if !mapKeyPattern.MatchString(key) {
				return fmt.Errorf("field %q: %q is not a valid %s name", f, key, strings.TrimSuffix(prefix, "s."))
			}
			return nil
		}
	}
	return fmt.Errorf("field %q is not one of %s, labels.<name>, annotations.<name>", f, strings.Join(plainFields, ", "))
}

// Recipe is the fingerprint recipe of o: "override:<source>" at o's
// version. Its prefix differs from every native one, so an override's
// fingerprints never collide with the source's own.
func (o Override) Recipe() normalise.Recipe {
	return normalise.Recipe{Name: "override:" + o.Source, Prefix: "ovr-" + o.Source, Version: max(o.Version, 1)}
}

// Fingerprint returns the fingerprint o gives sig, without changing sig.
// A field sig lacks counts as empty.
func (o Override) Fingerprint(sig *signalv1.Signal) string {
	values := make(map[string]string, len(o.Fields))
	for _, f := range o.Fields {
		values[f] = fieldValue(sig, f)
	}
	return o.Recipe().Prefix + ":" + normalise.HashFields(values)
}

// Apply sets sig's fingerprint and recipe to o's. The vendor's own ID
// (external_id) is left as it is.
func (o Override) Apply(sig *signalv1.Signal) {
	fp := o.Fingerprint(sig)
	r := o.Recipe()
	sig.Fingerprint, sig.FingerprintRecipe, sig.FingerprintRecipeVersion = fp, r.Name, r.Version
}

func fieldValue(sig *signalv1.Signal, f string) string {
	switch f {
	case "title":
		return sig.GetTitle()
	case "resource":
		return sig.GetResource()
	case "external_id":
		return sig.GetExternalId()
	case "severity":
		return sig.GetSeverity().String()
	}
	if key, ok := strings.CutPrefix(f, "labels."); ok {
		return sig.GetLabels()[key]
	}
	if key, ok := strings.CutPrefix(f, "annotations."); ok {
		return sig.GetAnnotations()[key]
	}
	return ""
}
