package jira

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/alexus-platform/alexus/internal/openaiapi"
	"github.com/alexus-platform/alexus/internal/ticket"
)

// EventIssueUpdated is the webhookEvent ParseWebhook reads.
const EventIssueUpdated = "jira:issue_updated"

// ErrIgnoredEvent: the webhook is not a jira:issue_updated event. The
// receiver answers 200 and drops it, so Jira does not retry it.
var ErrIgnoredEvent = errors.New("jira: not a jira:issue_updated event")

// ErrBadWebhook: the body is not a Jira webhook Alexus can read.
var ErrBadWebhook = errors.New("jira: malformed webhook")

// Webhook is the part of a Jira webhook's body that Alexus reads.
type Webhook struct {
	// Timestamp is milliseconds since the Unix epoch.
	Timestamp    int64  `json:"timestamp"`
	WebhookEvent string `json:"webhookEvent"`
	// IssueEventTypeName is e.g. issue_generic or issue_updated.
	IssueEventTypeName string `json:"issue_event_type_name"`
	User               *struct {
		AccountID   string `json:"accountId"`
		DisplayName string `json:"displayName"`
		// Name is Jira Data Center's user name, where Cloud has none.
		Name string `json:"name"`
	} `json:"user"`
	Issue *wireIssue `json:"issue"`
	// Changelog lists what the update changed.
	Changelog *struct {
		ID    string `json:"id"`
		Items []struct {
			Field      string `json:"field"`
			FieldID    string `json:"fieldId"`
			FieldType  string `json:"fieldtype"`
			From       string `json:"from"`
			FromString string `json:"fromString"`
			To         string `json:"to"`
			ToString   string `json:"toString"`
		} `json:"items"`
	} `json:"changelog"`
}

// ParseWebhook reads a jira:issue_updated webhook into a ticket.Update,
// mapping the issue's status with overrides (see StateOf). The update's
// time is the event's timestamp, else the issue's updated field.
func ParseWebhook(body []byte, overrides map[string]ticket.State) (ticket.Update, error) {
	var w Webhook
	if err := json.Unmarshal(body, &w); err != nil {
		return ticket.Update{}, fmt.Errorf("%w: %w", ErrBadWebhook, err)
	}
	if w.WebhookEvent != EventIssueUpdated {
		return ticket.Update{}, fmt.Errorf("%w: %q", ErrIgnoredEvent, openaiapi.Clip(w.WebhookEvent, 64))
	}
	if w.Issue == nil || w.Issue.Key == "" {
		return ticket.Update{}, fmt.Errorf("%w: no issue key", ErrBadWebhook)
	}
	u := ticket.Update{
		System: System,
		Key:    w.Issue.Key,
		Number: w.Issue.Key,
		Marker: markerOf(w.Issue.Fields.Labels),
	}
	if s := w.Issue.Fields.Status; s != nil {
		u.Status, u.StatusCategory = s.Name, s.StatusCategory.Key
	}
	if w.User != nil {
		u.ChangedBy = w.User.AccountID
		if u.ChangedBy == "" {
			u.ChangedBy = w.User.Name
		}
	}
	if w.Timestamp > 0 {
		u.At = time.UnixMilli(w.Timestamp).UTC()
	} else if t, err := parseTime(w.Issue.Fields.Updated); err == nil {
		u.At = t.UTC()
	}
	if w.Changelog != nil {
		for _, it := range w.Changelog.Items {
			name := it.Field
			if name == "" {
				name = it.FieldID
			}
			u.Fields = append(u.Fields, name)
			if it.FieldID == "status" || it.Field == "status" {
				u.StatusChanged = true
				u.FromStatus = it.FromString
				if u.Status == "" {
					// A payload trimmed of the issue's fields still names
					// the new status; its category is then unknown.
					u.Status = it.ToString
				}
			}
		}
	}
	u.State = StateOf(u.Status, u.StatusCategory, overrides)
	return u, nil
}
