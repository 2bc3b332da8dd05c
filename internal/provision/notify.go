package provision

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/audit"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// Audit events about notify targets.
const (
	EventNotifyTargetSet     = "notify_target.set"
	EventNotifyTargetRemoved = "notify_target.removed"
)

// NotifyTargetPurpose binds a sealed notify-target URL to its column.
const NotifyTargetPurpose = "notify_target.url"

// NotifyFormat is the message format a notify target speaks.
type NotifyFormat string

// The notify formats.
const (
	// NotifySlack is a Slack incoming webhook: a JSON body with text and
	// Block Kit blocks.
	NotifySlack NotifyFormat = "slack"
	// NotifyTeams is a Microsoft Teams incoming webhook (or a Workflows
	// webhook): a message with an Adaptive Card attachment.
	NotifyTeams NotifyFormat = "teams"
)

// MaxNotifyURLLen bounds a notify target's URL.
const MaxNotifyURLLen = 2000

// ErrUnknownNotifyTarget reports a notify target the tenant does not have.
var ErrUnknownNotifyTarget = errors.New("no such notify target")

var notifyNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// NotifyTarget is a registered notify target as listed; its URL is never
// listed, only its host.
type NotifyTarget struct {
	Name      string
	Format    NotifyFormat
	Host      string
	UpdatedAt time.Time
}

// SetNotifyTarget registers (or repoints) the context's tenant's notify
// target name: format says how messages are written, rawURL is the
// incoming-webhook URL, sealed with keys before it is stored. The change is
// audited without the URL, which is the channel's credential.
func SetNotifyTarget(ctx context.Context, db *store.DB, keys *secretbox.Keyring, name string, format NotifyFormat, rawURL string) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	if !notifyNamePattern.MatchString(name) {
		return fmt.Errorf("notify target name %q: want 1-64 characters of a-z, 0-9, '_' or '-', starting with a letter or digit", name)
	}
	if format != NotifySlack && format != NotifyTeams {
		return fmt.Errorf("notify target format %q: want %q or %q", format, NotifySlack, NotifyTeams)
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(rawURL) > MaxNotifyURLLen {
		// The URL is not repeated: it is a credential.
		return fmt.Errorf("notify target %s: the URL must be an http or https URL of at most %d bytes", name, MaxNotifyURLLen)
	}
	if keys == nil {
		return errors.New("no key ring to seal the notify target's URL with: set ALEXUS_SECRET_KEYS")
	}
	record := uuid.New()
	sealed, err := keys.Seal(NotifyTargetOwner(t, record.String()), []byte(rawURL))
	if err != nil {
		return fmt.Errorf("seal the URL of notify target %s: %w", name, err)
	}
	return db.WithTenant(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO notify_targets (tenant_id, name, format, record_id, url_sealed, url_host) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (tenant_id, name) DO UPDATE SET format = EXCLUDED.format, record_id = EXCLUDED.record_id,
				url_sealed = EXCLUDED.url_sealed, url_host = EXCLUDED.url_host, updated_at = now()`,
			string(t), name, string(format), record, sealed, u.Hostname()); err != nil {
			return fmt.Errorf("set notify target %s for %s: %w", name, t, err)
		}
		return audit.Append(ctx, tx, EventNotifyTargetSet, "notify_target/"+name,
			map[string]string{"format": string(format), "host": u.Hostname()})
	})
}

// NotifyTargetOwner is the secretbox owner of a notify target's sealed URL.
func NotifyTargetOwner(t tenant.ID, record string) secretbox.Owner {
	return secretbox.Owner{Tenant: string(t), Record: record, Purpose: NotifyTargetPurpose}
}

// ListNotifyTargets returns the context's tenant's notify targets by name.
func ListNotifyTargets(ctx context.Context, db *store.DB) ([]NotifyTarget, error) {
	var out []NotifyTarget
	err := db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT name, format, url_host, updated_at FROM notify_targets WHERE tenant_id = $1 ORDER BY name`, string(tenantOf(ctx)))
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (NotifyTarget, error) {
			var n NotifyTarget
			err := r.Scan(&n.Name, &n.Format, &n.Host, &n.UpdatedAt)
			return n, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list notify targets: %w", err)
	}
	return out, nil
}

// RemoveNotifyTarget deletes the context's tenant's notify target name and
// audits it; notify actions naming it fail from then on.
func RemoveNotifyTarget(ctx context.Context, db *store.DB, name string) error {
	return db.WithTenant(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM notify_targets WHERE tenant_id = $1 AND name = $2`, string(tenantOf(ctx)), name)
		if err != nil {
			return fmt.Errorf("remove notify target %s: %w", name, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: %s", ErrUnknownNotifyTarget, name)
		}
		return audit.Append(ctx, tx, EventNotifyTargetRemoved, "notify_target/"+name, nil)
	})
}
