package notify

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/services/actions/action"
)

// Render returns the JSON body for a notification of a in format.
func Render(format provision.NotifyFormat, a action.Action) ([]byte, error) {
	switch format {
	case provision.NotifySlack:
		return json.Marshal(slackMessage(a))
	case provision.NotifyTeams:
		return json.Marshal(teamsMessage(a))
	default:
		return nil, fmt.Errorf("unknown notify format %q", format)
	}
}

// Slack incoming-webhook message: "text" is the fallback shown in
// notifications and by clients without Block Kit; "blocks" is the layout.
type slackPayload struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackText struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

// slackEscape escapes the three characters Slack's mrkdwn gives meaning
// to, so text from an alert cannot mention a channel (<!channel>) or forge
// a link.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

var slackSeverityIcon = map[action.Severity]string{
	action.SeverityCritical: ":red_circle:",
	action.SeverityError:    ":large_orange_circle:",
	action.SeverityWarning:  ":large_yellow_circle:",
	action.SeverityInfo:     ":large_blue_circle:",
}

func slackMessage(a action.Action) slackPayload {
	p := a.Notify
	var blocks []slackBlock
	if p.Title != "" {
		blocks = append(blocks, slackBlock{Type: "header", Text: &slackText{Type: "plain_text", Text: p.Title, Emoji: true}})
	}
	blocks = append(blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: slackEscape(p.Text)}})
	if len(p.Fields) > 0 {
		fields := make([]slackText, 0, len(p.Fields))
		for _, k := range slices.Sorted(maps.Keys(p.Fields)) {
			fields = append(fields, slackText{Type: "mrkdwn", Text: "*" + slackEscape(k) + "*\n" + slackEscape(p.Fields[k])})
		}
		blocks = append(blocks, slackBlock{Type: "section", Fields: fields})
	}
	var context []slackText
	if p.Severity != "" {
		context = append(context, slackText{Type: "mrkdwn", Text: slackSeverityIcon[p.Severity] + " Severity: *" + string(p.Severity) + "*"})
	}
	if p.IncidentURL != "" {
		// The URL was checked to be http(s) when the action was recorded;
		// '|' and '>' would end Slack's link syntax early, so they are
		// percent-encoded.
		u := strings.NewReplacer("|", "%7C", ">", "%3E", "<", "%3C").Replace(p.IncidentURL)
		context = append(context, slackText{Type: "mrkdwn", Text: "<" + u + "|Open incident>"})
	}
	context = append(context, slackText{Type: "mrkdwn", Text: "Alexus action `" + a.ID + "`"})
	blocks = append(blocks, slackBlock{Type: "context", Elements: context})
	return slackPayload{Text: fallback(p), Blocks: blocks}
}

// fallback is the plain text of a notification, for Slack's "text".
func fallback(p action.NotifyParams) string {
	var b strings.Builder
	if p.Severity != "" {
		b.WriteString("[" + strings.ToUpper(string(p.Severity)) + "] ")
	}
	if p.Title != "" {
		b.WriteString(slackEscape(p.Title) + ": ")
	}
	b.WriteString(slackEscape(p.Text))
	return b.String()
}

// Teams incoming-webhook message: a "message" whose one attachment is an
// Adaptive Card (schema 1.4, which Teams renders).
type teamsPayload struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string    `json:"contentType"`
	ContentURL  *string   `json:"contentUrl"`
	Content     teamsCard `json:"content"`
}

type teamsCard struct {
	Schema  string         `json:"$schema"`
	Type    string         `json:"type"`
	Version string         `json:"version"`
	Body    []teamsElement `json:"body"`
	Actions []teamsAction  `json:"actions,omitempty"`
	MSTeams map[string]any `json:"msteams,omitempty"`
}

type teamsElement struct {
	Type    string      `json:"type"`
	Text    string      `json:"text,omitempty"`
	Size    string      `json:"size,omitempty"`
	Weight  string      `json:"weight,omitempty"`
	Color   string      `json:"color,omitempty"`
	Wrap    bool        `json:"wrap,omitempty"`
	Spacing string      `json:"spacing,omitempty"`
	Facts   []teamsFact `json:"facts,omitempty"`
}

type teamsFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

type teamsAction struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// TeamsContentType is the attachment content type of an Adaptive Card.
const TeamsContentType = "application/vnd.microsoft.card.adaptive"

var teamsSeverityColor = map[action.Severity]string{
	action.SeverityCritical: "Attention",
	action.SeverityError:    "Attention",
	action.SeverityWarning:  "Warning",
	action.SeverityInfo:     "Accent",
}

func teamsMessage(a action.Action) teamsPayload {
	p := a.Notify
	var body []teamsElement
	if p.Title != "" {
		body = append(body, teamsElement{Type: "TextBlock", Text: p.Title, Size: "Large", Weight: "Bolder", Wrap: true})
	}
	if p.Severity != "" {
		body = append(body, teamsElement{Type: "TextBlock", Text: strings.ToUpper(string(p.Severity)),
			Weight: "Bolder", Color: teamsSeverityColor[p.Severity], Spacing: "None"})
	}
	body = append(body, teamsElement{Type: "TextBlock", Text: p.Text, Wrap: true})
	facts := make([]teamsFact, 0, len(p.Fields)+1)
	for _, k := range slices.Sorted(maps.Keys(p.Fields)) {
		facts = append(facts, teamsFact{Title: k, Value: p.Fields[k]})
	}
	facts = append(facts, teamsFact{Title: "Alexus action", Value: a.ID})
	body = append(body, teamsElement{Type: "FactSet", Facts: facts})
	card := teamsCard{
		Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
		Type:    "AdaptiveCard",
		Version: "1.4",
		Body:    body,
		MSTeams: map[string]any{"width": "Full"},
	}
	if p.IncidentURL != "" {
		card.Actions = []teamsAction{{Type: "Action.OpenUrl", Title: "Open incident", URL: p.IncidentURL}}
	}
	return teamsPayload{
		Type:        "message",
		Attachments: []teamsAttachment{{ContentType: TeamsContentType, Content: card}},
	}
}
