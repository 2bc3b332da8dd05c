package runbook

import "github.com/alexus-platform/alexus/services/actions/job"

// Args are a runbook job's arguments: the reference to its action.
type Args struct {
	job.Ref
}

// Kind is the River job kind.
func (Args) Kind() string { return "alexus.actions.runbook" }
