package gate

import (
	"cmp"
	"fmt"
	"github.com/alexus-platform/alexus/internal/textlimit"
	"strings"

	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
)

// Limits of the knowledge graph (graph.MaxIDLen, MaxTitleLen, the length of
// a property value), and how much of the diagnosis a node body carries.
const (
	maxNodeID    = 200
	maxTitle     = 1000
	maxProperty  = 4096
	maxBodyPiece = 2000
)

// IssueID is the knowledge graph node of the incident id's validated
// resolution's issue.
func IssueID(id string) string { return "incident:" + id }

// ResolutionID is the knowledge graph node of the incident id's validated
// resolution.
func ResolutionID(id string) string { return "resolution:" + id }

// resolutionNodes describes the resolved incident inc, with its
// transitions trs and the verdict that validated it, as an issue and what
// resolved it: the action Alexus ran, or the source when it ran none.
func resolutionNodes(inc incident.Incident, trs []incident.Transition, verdict incident.Transition) (issue, res *knowledgev1.Node) {
	diag := diagnosis(trs)
	resolvedAt := ""
	if inc.ResolvedAt != nil {
		resolvedAt = stamp(*inc.ResolvedAt)
	}
	window := verdict.Details["window"]

	var body strings.Builder
	body.WriteString(inc.Title)
	if c := strings.TrimSpace(diag.GetProbableCause()); c != "" {
		fmt.Fprintf(&body, "\nProbable cause: %s", truncate(c, maxBodyPiece))
	}
	fmt.Fprintf(&body, "\nResource: %s. Source: %s. Severity: %s.", cmp.Or(inc.Resource, "none"), inc.Source, incident.SeverityText(inc.Severity))
	issue = &knowledgev1.Node{
		Id: IssueID(inc.ID), Kind: knowledgev1.NodeKind_NODE_KIND_ISSUE, Type: "incident",
		Title: truncate(cmp.Or(strings.TrimSpace(inc.Title), "incident "+inc.ID), maxTitle),
		Body:  body.String(),
		Properties: props(map[string]string{
			"incident_id": inc.ID, "fingerprint": inc.Fingerprint, "resource": inc.Resource,
			"source": inc.Source, "resolved_at": resolvedAt,
		}),
	}

	resProps := map[string]string{"incident_id": inc.ID, "validated": "true", "window": window, "resolved_at": resolvedAt,
		"validated_at": verdict.Details["checked_at"]}
	var title, what string
	a := diag.GetRecommendedAction()
	if ex, ok := find(trs, incident.StageExecute); ok {
		kind, target := cmp.Or(a.GetKind(), "webhook"), cmp.Or(ex.Details["target"], a.GetTarget())
		title = cmp.Or(strings.TrimSpace(a.GetSummary()), fmt.Sprintf("Run the %s action %s", kind, target))
		what = fmt.Sprintf("Alexus ran the %s action %q (action %s) for this incident.", kind, target, ex.Details["action_id"])
		resProps["resolved_by"], resProps["action_kind"], resProps["action_target"], resProps["action_id"] = "action", kind, target, ex.Details["action_id"]
	} else if by := lastResolution(trs).Details[incident.DetailBy]; by != "" && by != "source" {
		// A person (or the incident's ticket) resolved it.
		r := lastResolution(trs)
		title = "Resolved by " + by + " without an action from Alexus"
		what = by + " resolved the incident"
		if src := r.Details[incident.DetailSource]; src != "" {
			what += " (" + src + ")"
		}
		if reason := r.Details[incident.DetailReason]; reason != "" {
			what += ": " + truncate(reason, maxBodyPiece)
		}
		what += ". Alexus ran no action."
		resProps["resolved_by"], resProps["resolved_by_subject"] = "person", by
	} else {
		title = "Resolved by the source without an action from Alexus"
		what = "The source resolved the alert; Alexus ran no action."
		if esc, ok := find(trs, incident.StageEscalate); ok {
			what += fmt.Sprintf(" The incident had been escalated to %s.", cmp.Or(esc.Details["route"], "a person"))
		}
		if a != nil {
			what += fmt.Sprintf(" The diagnosis had recommended the %s action %q: %s", a.GetKind(), a.GetTarget(), truncate(a.GetSummary(), maxBodyPiece))
		}
		resProps["resolved_by"] = "source"
	}
	if rb := diag.GetRunbook(); rb != "" {
		what += "\nRunbook: " + truncate(rb, maxBodyPiece)
	}
	res = &knowledgev1.Node{
		Id: ResolutionID(inc.ID), Kind: knowledgev1.NodeKind_NODE_KIND_RESOLUTION, Type: "resolution",
		Title: truncate(title, maxTitle),
		Body: fmt.Sprintf("%s\nIt resolved %q on %s at %s, and nothing matching came back within %s.",
			what, truncate(inc.Title, maxBodyPiece), cmp.Or(inc.Resource, "no resource"), resolvedAt, window),
		Properties: props(resProps),
	}
	return issue, res
}

// lastResolution is the incident's latest resolved transition; the zero
// Transition when it has none.
func lastResolution(trs []incident.Transition) incident.Transition {
	for i := len(trs) - 1; i >= 0; i-- {
		if trs[i].Stage == incident.StageResolved {
			return trs[i]
		}
	}
	return incident.Transition{}
}

// props drops empty values and cuts long ones to the graph's limit.
func props(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if v != "" {
			out[k] = truncate(v, maxProperty)
		}
	}
	return out
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string { return textlimit.Truncate(s, n) }
