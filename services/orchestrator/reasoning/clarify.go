package reasoning

import (
	"fmt"
	"math"
	"strings"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
)

// Answers to a clarify question that confirm or decline the recommended
// action. A declining word is looked for first, so "no, don't proceed"
// declines.
var (
	declines = mustPattern(`^(no|n|nope|reject(ed)?|decline(d)?|deny|denied|don'?t|do not|stop|cancel|abort|negative)\b`)
	confirms = mustPattern(`^(yes|y|yep|yeah|confirm(ed)?|approve(d)?|proceed|go( ahead)?|ok(ay)?|do it|run it|execute|affirmative|lgtm)\b`)
)

// DecideAnswered takes the confidence check's decision again once a person
// answered the clarify question:
//
//   - an answer that declines (no, reject, don't, cancel, ...) escalates:
//     the person keeps the incident;
//   - an answer that confirms (yes, confirm, approve, proceed, go ahead,
//     ...) executes the recommended action at confidence 1, a person's
//     confirmation standing in for the runbook or the certainty the
//     pipeline lacked; with no action to run it escalates, as the person
//     said the alert needs attention;
//   - any other answer escalates with the answer attached: the pipeline
//     does not act on text it cannot read as a yes.
//
// A second clarify is never the outcome, so a question is asked at most
// once per incident.
func DecideAnswered(c Classification, d Diagnosis, answer string, th Thresholds) Decision {
	a := strings.ToLower(strings.TrimSpace(answer))
	out := Decision{Confidence: math.Min(c.Confidence, d.Confidence), Thresholds: th, Decision: reasoningv1.Decision_DECISION_ESCALATE}
	switch {
	case declines.MatchString(a):
		out.Reason = fmt.Sprintf("a person declined: %q", clipTo(answer, 200))
	case confirms.MatchString(a) && d.Action != nil:
		out.Decision, out.Confidence = reasoningv1.Decision_DECISION_EXECUTE, 1
		out.Reason = "confirmed by a person; " + d.Action.Summary
	case confirms.MatchString(a):
		out.Reason = "a person confirmed the alert needs attention and there is no action to run"
	default:
		out.Reason = fmt.Sprintf("the answer %q neither confirms nor declines; a person takes over", clipTo(answer, 200))
	}
	return out
}
