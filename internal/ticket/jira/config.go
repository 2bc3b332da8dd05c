package jira

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/internal/ticket/ticketapi"
)

// DefaultIssueType is the issue type of a Config without one.
const DefaultIssueType = "Task"

// Config is one tenant's Jira. Zero optional fields take defaults.
type Config struct {
	// BaseURL is the site, e.g. https://example.atlassian.net, or, with an
	// OAuth 2.0 token, https://api.atlassian.com/ex/jira/{cloudId}.
	BaseURL string
	// Email and APIToken authenticate with basic auth, as an Atlassian
	// account and one of its API tokens.
	Email, APIToken string
	// BearerToken, instead of Email and APIToken, authenticates with an
	// OAuth 2.0 access token.
	BearerToken string
	// Project is the key of the project issues are opened in, e.g. OPS.
	Project string
	// IssueType names the issue type opened (default Task).
	IssueType string
	// Labels are added to every issue, beside "alexus" and the marker.
	Labels []string
	// AccountID is the accountId of the account Alexus writes as, for the
	// echo-loop rule (see Self).
	AccountID string
	// States overrides the category mapping for the named statuses
	// (case-insensitive).
	States map[string]ticket.State
	// Statuses names the status SetState reaches for a state; a state
	// without one goes to the first status of its category that a
	// transition offers.
	Statuses map[ticket.State]string
	ticketapi.Options
}

var (
	projectKey = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,254}$`)
	label      = regexp.MustCompile(`^\S{1,255}$`)
)

// Validate names the first bad field.
func (c Config) Validate() error {
	if _, err := ticketapi.ParseBaseURL(c.BaseURL); err != nil {
		return fmt.Errorf("jira: %w", err)
	}
	switch {
	case c.BearerToken != "" && (c.Email != "" || c.APIToken != ""):
		return errors.New("jira: set either a bearer token or an email and API token, not both")
	case c.BearerToken == "" && (c.Email == "" || c.APIToken == ""):
		return errors.New("jira: an email and API token (or a bearer token) are required")
	case strings.ContainsAny(c.Email, ":\r\n"):
		return errors.New("jira: email must not contain ':' or a line break")
	case strings.ContainsAny(c.APIToken+c.BearerToken, "\r\n "):
		return errors.New("jira: token must not contain spaces or line breaks")
	case !projectKey.MatchString(c.Project):
		return fmt.Errorf("jira: project key %q must be upper-case letters, digits and '_', starting with a letter", c.Project)
	case strings.TrimSpace(c.IssueType) != c.IssueType:
		return fmt.Errorf("jira: issue type %q has surrounding spaces", c.IssueType)
	}
	for _, l := range c.Labels {
		if !label.MatchString(l) {
			return fmt.Errorf("jira: label %q must be 1 to 255 characters without spaces", l)
		}
	}
	seen := map[string]bool{}
	for name, s := range c.States {
		if !s.Valid() {
			return fmt.Errorf("jira: status %q maps to unknown state %q", name, s)
		}
		if seen[strings.ToLower(name)] {
			return fmt.Errorf("jira: status %q is mapped twice (names compare without case)", name)
		}
		seen[strings.ToLower(name)] = true
	}
	for s, name := range c.Statuses {
		if !s.Valid() {
			return fmt.Errorf("jira: status %q is named for unknown state %q", name, s)
		}
	}
	if err := c.Options.Validate(); err != nil {
		return fmt.Errorf("jira: %w", err)
	}
	return nil
}

// Self is the tenant's integration account, for ticket.IsEcho.
func (c Config) Self() ticket.Self {
	if c.AccountID == "" {
		return ticket.Self{}
	}
	return ticket.Self{Users: []string{c.AccountID}}
}
