package servicenow

import (
	"errors"
	"fmt"
	"strings"

	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/internal/ticket/ticketapi"
)

// DefaultCloseCode is the close_code of a resolution without one: a
// choice of the incident table's close_code in current releases.
const DefaultCloseCode = "Solution provided"

// Config is one tenant's ServiceNow instance. Zero optional fields take
// defaults.
type Config struct {
	// BaseURL is the instance, e.g. https://example.service-now.com.
	BaseURL string
	// Username and Password authenticate with basic auth. Username is
	// also the sys_updated_by of Alexus's own changes.
	Username, Password string
	// BearerToken, instead of Username and Password, authenticates with
	// an OAuth 2.0 access token; set Username too, for the echo rule.
	BearerToken string
	// CloseCode is the close_code set when Alexus resolves (default
	// "Solution provided").
	CloseCode string
	// AssignmentGroup, when set, is the sys_id of the group new incidents
	// are assigned to.
	AssignmentGroup string
	// EchoUsers are further user names whose changes are Alexus's own
	// (e.g. the account of a mid server acting for it).
	EchoUsers []string
	ticketapi.Options
}

// Validate names the first bad field.
func (c Config) Validate() error {
	if _, err := ticketapi.ParseBaseURL(c.BaseURL); err != nil {
		return fmt.Errorf("servicenow: %w", err)
	}
	switch {
	case c.BearerToken != "" && c.Password != "":
		return errors.New("servicenow: set either a bearer token or a password, not both")
	case c.BearerToken == "" && (c.Username == "" || c.Password == ""):
		return errors.New("servicenow: a username and password (or a bearer token) are required")
	case strings.ContainsAny(c.Username, ":\r\n"):
		return errors.New("servicenow: username must not contain ':' or a line break")
	case strings.ContainsAny(c.BearerToken, "\r\n "):
		return errors.New("servicenow: bearer token must not contain spaces or line breaks")
	case c.AssignmentGroup != "" && !sysID.MatchString(c.AssignmentGroup):
		return fmt.Errorf("servicenow: assignment group %q must be a sys_id", c.AssignmentGroup)
	}
	if err := c.Options.Validate(); err != nil {
		return fmt.Errorf("servicenow: %w", err)
	}
	return nil
}

// Self is the tenant's integration accounts, for ticket.IsEcho.
func (c Config) Self() ticket.Self {
	var users []string
	if c.Username != "" {
		users = append(users, c.Username)
	}
	return ticket.Self{Users: append(users, c.EchoUsers...)}
}
