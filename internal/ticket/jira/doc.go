// Package jira is Alexus's two-way link to Jira Cloud (REST API v3): it
// opens an issue for an incident, comments diagnoses on it, moves it
// through the workflow when the incident moves, reads it back for the
// reconcile job, and turns Jira's jira:issue_updated webhooks into
// ticket.Updates. The package jiratest beneath it is a stand-in Jira for
// tests.
//
// # Outbound
//
// Client.FindOrCreate opens the incident's issue in the tenant's project
// with the tenant's issue type (POST /rest/api/3/issue, description in
// Atlassian Document Format) and two labels: "alexus", shared by every
// issue Alexus opens, and the incident's marker "alexus-<hash>". Before
// it creates, it searches for the marker (POST /rest/api/3/search/jql,
// labels = "alexus-<hash>"), and when a create fails in a way that may
// have come after Jira created the issue (a timeout, a 5xx, a dropped
// connection) it searches again before retrying, so a retried create does
// not open a second issue. Jira's search index trails a create by a
// moment; the wait before the retry (Options.InitialBackoff, 1s by
// default) gives it that moment, and should two issues carry one marker
// anyway, the oldest is the issue of record: Find and FindOrCreate return
// it.
//
// Client.Comment posts a comment (ADF body) carrying the entity property
// "alexus" {"note": id}; a retry after a lost response first lists the
// issue's comments for that id, so a diagnosis is commented once.
//
// Client.SetState moves the issue to the status category of an Alexus
// state through one of the transitions Jira offers (GET, then POST
// /rest/api/3/issue/{key}/transitions). Config.Statuses may name the
// status to reach for each state; otherwise the first transition into the
// state's category is taken. An issue already in the category is left
// alone, which makes SetState safe to repeat.
//
// Credentials are an Atlassian account's email and API token (basic
// auth) or an OAuth 2.0 bearer token. They never appear in an error.
//
// # State mapping
//
// Jira workflows differ per project, but every status belongs to one of
// three categories, and those map onto the incident's states:
//
//	status category                 Alexus state
//	new ("To Do")                   open
//	indeterminate ("In Progress")   acknowledged
//	done ("Done")                   resolved
//	undefined, or none              none: the update moves nothing
//
// Config.States overrides the mapping by status name (case-insensitive),
// e.g. a "Waiting for vendor" status in the indeterminate category that a
// tenant wants treated as open.
//
// # Inbound
//
// ParseWebhook reads a jira:issue_updated webhook: the key,
// labels (for the marker) and current status with its category, the
// changelog's items (the fields changed; a "status" item's fromString and
// toString), the acting user's accountId and the event's timestamp. Other
// events return ErrIgnoredEvent; the caller answers 200 and drops them.
// Whether an update is Alexus's own echo, and how a conflict is settled,
// is decided by ticket.IsEcho and ticket.Decide.
package jira
