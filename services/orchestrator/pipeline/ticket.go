package pipeline

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
)

// The action plane's limits on a ticket's title and description.
const (
	maxTicketTitle       = 255
	maxTicketDescription = 30000
)

// decided is what a decision stage did, for the ticket it may ask for.
type decided struct {
	stage incident.Stage
	// what says it in words, e.g. "escalate: <reason>".
	what string
	// route and routeReason are an escalation's.
	route, routeReason string
}

// ticketFor is the ticket a decision stage asks for, stored with it: for
// an escalation, or for any decision when the tenant wants every incident
// ticketed; nil when the tenant has no ticket system. The tenant's settings
// come from the Store's per-tenant cache, so a tenant without tickets costs
// no query here.
func (p *Processor) ticketFor(ctx context.Context, id string, inc incident.Incident, sig *signalv1.Signal, cls *reasoningv1.Classification, diag *reasoningv1.Diagnosis, d decided) (*incident.TicketOpen, error) {
	st, err := p.store.Settings(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the ticket settings: %w", err)
	}
	if st.TicketSystem == "" || (d.stage != incident.StageEscalate && !st.TicketEveryIncident) {
		return nil, nil
	}
	return &incident.TicketOpen{
		System:      st.TicketSystem,
		Title:       truncate(cmp.Or(strings.TrimSpace(sig.GetTitle()), strings.TrimSpace(inc.Title), "Incident "+id), maxTicketTitle),
		Description: ticketDescription(id, inc, sig, cls, diag, d),
	}, nil
}

// ticketDescription is the ticket's plain text: what Alexus knows of the
// incident and what it decided, for the person who picks the ticket up.
func ticketDescription(id string, inc incident.Incident, sig *signalv1.Signal, cls *reasoningv1.Classification, diag *reasoningv1.Diagnosis, d decided) string {
	var b strings.Builder
	line := func(label, v string) {
		if v = strings.TrimSpace(v); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", label, v)
		}
	}
	line("Alexus incident", id)
	line("Severity", incident.SeverityText(cls.GetSeverity()))
	line("Resource", cmp.Or(sig.GetResource(), inc.Resource))
	line("Source", cmp.Or(sig.GetSource(), inc.Source))
	line("Decision", d.what)
	if d.stage == incident.StageEscalate {
		line("Routed to", cmp.Or(d.route, "nobody (no route configured)")+" ("+cmp.Or(d.routeReason, "none")+")")
	}
	if diag.GetBranch() == reasoningv1.Branch_BRANCH_CMDB {
		if a := strings.TrimSpace(diag.GetAnswer()); a != "" {
			fmt.Fprintf(&b, "\nAnswer:\n%s\n", truncate(a, 5000))
		}
	} else if c := strings.TrimSpace(diag.GetProbableCause()); c != "" {
		fmt.Fprintf(&b, "\nProbable cause:\n%s\n", truncate(c, 5000))
	}
	if ev := diag.GetEvidence(); len(ev) > 0 {
		b.WriteString("\nEvidence:\n")
		for _, e := range ev {
			fmt.Fprintf(&b, "- %s", truncate(e.GetSummary(), 1000))
			if e.GetDocumentId() != "" {
				fmt.Fprintf(&b, " [%s]", truncate(e.GetDocumentId(), 200))
			}
			b.WriteString("\n")
		}
	}
	if a := diag.GetRecommendedAction(); a != nil {
		b.WriteString("\n")
		line("Recommended action", strings.TrimSpace(fmt.Sprintf("%s %q: %s", a.GetKind(), a.GetTarget(), a.GetSummary())))
	}
	line("Runbook", truncate(diag.GetRunbook(), 1000))
	return truncate(b.String(), maxTicketDescription)
}
