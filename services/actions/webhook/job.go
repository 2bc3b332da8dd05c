package webhook

import "github.com/alexus-platform/alexus/services/actions/job"

// Args are a webhook job's arguments: the reference to its action.
type Args struct {
	job.Ref
}

// Kind is the River job kind.
func (Args) Kind() string { return "alexus.actions.webhook" }
