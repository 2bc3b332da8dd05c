package ticketjob

import "github.com/alexus-platform/alexus/services/actions/job"

// JiraArgs are a jira job's arguments: the reference to its action.
type JiraArgs struct {
	job.Ref
}

// Kind is the River job kind.
func (JiraArgs) Kind() string { return "alexus.actions.jira" }

// ServiceNowArgs are a servicenow job's arguments: the reference to its
// action.
type ServiceNowArgs struct {
	job.Ref
}

// Kind is the River job kind.
func (ServiceNowArgs) Kind() string { return "alexus.actions.servicenow" }
