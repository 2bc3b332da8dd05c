package servicenow

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/alexus-platform/alexus/internal/ticket"
)

// ErrBadOutbound: the body is not the outbound message Alexus expects.
var ErrBadOutbound = errors.New("servicenow: malformed outbound message")

// Outbound is the body of the outbound REST message a tenant configures;
// see the package documentation.
type Outbound struct {
	SysID         string   `json:"sys_id"`
	Number        string   `json:"number"`
	State         flex     `json:"state"`
	PreviousState flex     `json:"previous_state"`
	CorrelationID string   `json:"correlation_id"`
	SysUpdatedBy  string   `json:"sys_updated_by"`
	SysUpdatedOn  string   `json:"sys_updated_on"`
	SysModCount   flex     `json:"sys_mod_count"`
	ChangedFields []string `json:"changed_fields"`
}

// ParseOutbound reads an outbound message into a ticket.Update.
func ParseOutbound(body []byte) (ticket.Update, error) {
	var m Outbound
	if err := json.Unmarshal(body, &m); err != nil {
		return ticket.Update{}, fmt.Errorf("%w: %w", ErrBadOutbound, err)
	}
	if err := checkSysID(m.SysID); err != nil {
		return ticket.Update{}, fmt.Errorf("%w: %w", ErrBadOutbound, err)
	}
	if m.State == "" {
		return ticket.Update{}, fmt.Errorf("%w: no state", ErrBadOutbound)
	}
	at, err := ParseTime(m.SysUpdatedOn)
	if err != nil {
		return ticket.Update{}, fmt.Errorf("%w: sys_updated_on: %w", ErrBadOutbound, err)
	}
	u := ticket.Update{
		System:         System,
		Key:            m.SysID,
		Number:         m.Number,
		Status:         string(m.State),
		StatusCategory: StateLabel(string(m.State)),
		FromStatus:     string(m.PreviousState),
		State:          StateOf(string(m.State)),
		ChangedBy:      m.SysUpdatedBy,
		At:             at,
		Fields:         m.ChangedFields,
	}
	if _, ok := ticket.HashOf(m.CorrelationID); ok {
		u.Marker = m.CorrelationID
	}
	if m.SysModCount != "" {
		if u.Version, err = strconv.ParseInt(string(m.SysModCount), 10, 64); err != nil {
			return ticket.Update{}, fmt.Errorf("%w: sys_mod_count %q", ErrBadOutbound, m.SysModCount)
		}
	}
	switch {
	case m.PreviousState != "":
		u.StatusChanged = m.PreviousState != m.State
	default:
		for _, f := range m.ChangedFields {
			if f == "state" {
				u.StatusChanged = true
			}
		}
	}
	return u, nil
}
