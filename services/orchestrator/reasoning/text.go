package reasoning

import (
	"regexp"
	"strings"
	"unicode"
)

// textOf is what the rules read of a signal, split by where it came from,
// because a word in the headline says more than the same word in a log line.
type textOf struct {
	// headline is the title, the summary and the alert rule's name, the
	// part of an alert its author wrote to say what is wrong.
	headline string
	// detail is the description and the vendors' free-text fields (see
	// detailAnnotations).
	detail string
	// title is the title alone.
	title string
}

// all is every piece of text, headline first.
func (t textOf) all() string { return t.headline + " . " + t.detail }

// ruleNameLabels are the labels in which vendors name the rule or check
// that fired: Alertmanager and Grafana's alertname, Kibana's rule_name,
// Splunk's search_name, Sentry's alert_rule, CloudWatch's alarm_name,
// Azure's alertRule, GCP's policy_name and condition_name, New Relic's
// alertConditionNames and Grafana's rulename.
var ruleNameLabels = []string{"alertname", "rule_name", "search_name", "alert_rule", "alarm_name", "alertrule", "policy_name", "condition_name", "alertconditionnames", "rulename"}

// detailAnnotations are the annotations in which vendors carry free text
// about the alert beyond its title.
var detailAnnotations = []string{
	"summary", "description", "message", "reason", "_raw", "alert_message", "trigger_description",
	"alarm_description", "state_reason", "alert_title", "description_title", "impacted_entity",
}

// runbookKeys are where a runbook link is carried: the runbook_url
// annotation (Alertmanager, Grafana, generic), Azure's runbook custom
// property (a label after ingest) and a GCP policy's documentation.
var runbookKeys = []string{"runbook_url", "runbook", "documentation"}

func readText(sig Signal, labels map[string]string) textOf {
	var head, detail []string
	head = append(head, sig.Title)
	if s := sig.Annotations["summary"]; s != "" && s != sig.Title {
		head = append(head, s)
	}
	if n := ruleName(labels); n != "" && n != sig.Title {
		head = append(head, n)
	}
	if sig.Description != "" {
		detail = append(detail, sig.Description)
	}
	for _, k := range detailAnnotations {
		if k == "summary" {
			continue
		}
		if v := strings.TrimSpace(sig.Annotations[k]); v != "" && v != sig.Title && !strings.Contains(sig.Description, v) {
			detail = append(detail, v)
		}
	}
	return textOf{
		headline: normText(strings.Join(head, " . ")),
		detail:   normText(strings.Join(detail, " . ")),
		title:    normText(sig.Title),
	}
}

// ruleName is the name of the rule that fired, from the first of
// ruleNameLabels the signal carries.
func ruleName(labels map[string]string) string {
	for _, k := range ruleNameLabels {
		if v := labels[k]; v != "" {
			return v
		}
	}
	return ""
}

// runbook is the runbook link the signal carries, if any.
func runbook(sig Signal, labels map[string]string) string {
	for _, k := range runbookKeys {
		if v := strings.TrimSpace(sig.Annotations[k]); v != "" {
			return v
		}
		if v := labels[k]; v != "" {
			return v
		}
	}
	return ""
}

// normText lower-cases s, splits CamelCase names ("KubePodCrashLooping"
// reads "kube pod crash looping") and turns the separators of
// machine names ("frontdoor-origin-down", "sql_db") into spaces, so that
// the word patterns match alert names and prose alike.
func normText(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
			b.WriteRune(' ')
		}
		switch r {
		case '-', '_':
			b.WriteRune(' ')
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// words compiles a case-insensitive pattern matching any of the phrases as
// whole words; a phrase ending in "*" matches any word it starts.
func words(phrases ...string) *pattern {
	alts := make([]string, 0, len(phrases))
	for _, p := range phrases {
		stem := strings.HasSuffix(p, "*")
		q := regexp.QuoteMeta(strings.TrimSuffix(p, "*"))
		q = strings.ReplaceAll(q, " ", `\s+`)
		if stem {
			q += `\w*`
		}
		alts = append(alts, q)
	}
	return mustPattern(`(?i)\b(?:` + strings.Join(alts, "|") + `)\b`)
}

// clauses splits text into the clauses the guards look within.
func clauses(text string) []string {
	return clauseSplit.Split(text, -1)
}

var clauseSplit = regexp.MustCompile(`[.;!\n]+\s|[;\n]|\s\.\s`)

// firstMatch returns the first phrase of re found in text, outside clauses
// that say the condition has passed ("error rate is normal", "back to
// 0.3%").
func firstMatch(re *pattern, text string) string {
	if !re.mayMatch(text) {
		return "" // no clause can match; skip the split
	}
	for _, c := range clauses(text) {
		if pastOrNormal.MatchString(c) {
			continue
		}
		if m := re.FindString(c); m != "" {
			return strings.Join(strings.Fields(m), " ")
		}
	}
	return ""
}

// pastOrNormal marks a clause that reports a condition as over or absent.
var pastOrNormal = words("is normal", "are normal", "back to", "back under", "back below", "no longer", "recovered", "returned to normal")
