package normalise

import (
	"slices"
	"strings"
)

// Helpers shared by the normalisers for building labels and annotations:
// absent vendor fields must never appear as empty labels, and the tag
// conventions of several vendors ("key:value" strings) read alike.

// setLabel sets m[key] to value when both are non-empty, so that absent
// vendor fields leave no empty labels or annotations behind.
func setLabel(m map[string]string, key, value string) {
	if key != "" && value != "" {
		m[key] = value
	}
}

// nonEmpty returns the fields whose value is not empty, or nil when none
// is.
func nonEmpty(fields map[string]string) map[string]string {
	out := make(map[string]string, len(fields))
	for name, value := range fields {
		setLabel(out, name, value)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// nonEmptyTrimmed is nonEmpty of the fields with their values trimmed of
// surrounding space.
func nonEmptyTrimmed(fields map[string]string) map[string]string {
	trimmed := make(map[string]string, len(fields))
	for name, value := range fields {
		trimmed[name] = strings.TrimSpace(value)
	}
	return nonEmpty(trimmed)
}

// joinNonEmpty joins the non-empty elements of list with sep.
func joinNonEmpty[S ~string](list []S, sep string) string {
	parts := make([]string, 0, len(list))
	for _, s := range list {
		if s != "" {
			parts = append(parts, string(s))
		}
	}
	return strings.Join(parts, sep)
}

// splitTag splits a "key:value" tag at its first colon, trimming the tag,
// the key and the value of surrounding space; a tag without a colon is a
// key with an empty value.
func splitTag(tag string) (key, value string) {
	key, value, _ = strings.Cut(strings.TrimSpace(tag), ":")
	return strings.TrimSpace(key), strings.TrimSpace(value)
}

// addTagLabels flattens "key:value" tags (see splitTag), the convention of
// Datadog and Opsgenie tags, into labels. Tags with an empty key are
// skipped, and later tags overwrite earlier ones of the same key.
func addTagLabels(labels map[string]string, tags []string) {
	for _, tag := range tags {
		if key, value := splitTag(tag); key != "" {
			labels[key] = value
		}
	}
}

// tagValues gathers tags that may repeat a key (Zabbix's, Dynatrace's),
// keeping every value of each key.
type tagValues map[string][]string

// add records one value of key; an empty key is skipped.
func (tv tagValues) add(key, value string) {
	if key != "" {
		tv[key] = append(tv[key], value)
	}
}

// labels turns the tags into labels: the values of one key sorted,
// duplicates dropped, and comma-joined, so the same tag set gives the same
// labels whatever order it was sent in. It is nil when there are no tags.
func (tv tagValues) labels() map[string]string {
	if len(tv) == 0 {
		return nil
	}
	labels := make(map[string]string, len(tv))
	for key, values := range tv {
		slices.Sort(values)
		labels[key] = strings.Join(slices.Compact(values), ",")
	}
	return labels
}

// sortedTags trims tags of surrounding space, drops empty ones and
// duplicates, and sorts the rest, so that their order never shows in
// labels or fingerprints.
func sortedTags(tags []string) []string {
	clean := make([]string, 0, len(tags))
	for _, t := range tags {
		if t = strings.TrimSpace(t); t != "" {
			clean = append(clean, t)
		}
	}
	slices.Sort(clean)
	return slices.Compact(clean)
}

// maxLabelDepth bounds how deep addJSONLabels follows nested objects; a
// vendor's labels are flat or one level deep, and a hostile payload must
// not make a signal of millions of labels.
const maxLabelDepth = 4

// addJSONLabels flattens v, a JSON value decoded with UseNumber, into
// labels: object keys are joined to prefix with ".", a list of scalars
// becomes its values joined with ",", and null is skipped. Lists of objects
// and anything deeper than maxLabelDepth are passed over, as descriptive
// detail that belongs in the raw payload rather than in labels.
func addJSONLabels(labels map[string]string, prefix string, v any) {
	addJSONLabelsAt(labels, prefix, v, 0)
}

// addJSONLabelsAt is addJSONLabels at a nesting depth.
func addJSONLabelsAt(labels map[string]string, prefix string, v any, depth int) {
	switch v := v.(type) {
	case map[string]any:
		if depth >= maxLabelDepth {
			return
		}
		for k, sub := range v {
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			addJSONLabelsAt(labels, key, sub, depth+1)
		}
	case []any:
		values := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := decodedScalarText(e)
			if !ok {
				return
			}
			values = append(values, s)
		}
		setLabel(labels, prefix, joinNonEmpty(values, ","))
	default:
		if s, ok := decodedScalarText(v); ok {
			setLabel(labels, prefix, s)
		}
	}
}
