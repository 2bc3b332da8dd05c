package provision_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store/storetest"
)

// A notify target's URL is the channel's credential: it is stored sealed
// to its tenant and record, never audited or listed, and a new URL gets a
// new record so an old sealed URL cannot be written back over it.
func TestNotifyTargetURLIsSealedAndBound(t *testing.T) {
	t.Parallel()
	db := storetest.New(t).DB
	acme, globex := as("acme"), as("globex")
	for _, ctx := range []context.Context{acme, globex} {
		_, err := provision.EnsureTenant(ctx, db, provision.TenantOptions{})
		require.NoError(t, err)
	}
	key, err := secretbox.GenerateKey()
	require.NoError(t, err)
	keys, err := secretbox.ParseKeyring("k1:" + key)
	require.NoError(t, err)
	const slackURL = "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX"

	require.ErrorContains(t, provision.SetNotifyTarget(acme, db, nil, "oncall", provision.NotifySlack, slackURL), "ALEXUS_SECRET_KEYS")
	require.ErrorContains(t, provision.SetNotifyTarget(acme, db, keys, "On Call", provision.NotifySlack, slackURL), "name")
	require.ErrorContains(t, provision.SetNotifyTarget(acme, db, keys, "oncall", "email", slackURL), "format")
	err = provision.SetNotifyTarget(acme, db, keys, "oncall", provision.NotifySlack, "ftp://hooks.slack.com/XXXXSECRETXXXX")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "XXXXSECRETXXXX", "a refused URL is not repeated")
	require.NoError(t, provision.SetNotifyTarget(acme, db, keys, "oncall", provision.NotifySlack, slackURL))

	type row struct {
		format string
		record uuid.UUID
		sealed []byte
	}
	read := func(ctx context.Context) (row, error) {
		var r row
		err := db.WithTenant(ctx, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT format, record_id, url_sealed FROM notify_targets WHERE name = 'oncall'`).
				Scan(&r.format, &r.record, &r.sealed)
		})
		return r, err
	}
	first, err := read(acme)
	require.NoError(t, err)
	require.Equal(t, "slack", first.format)
	require.NotContains(t, string(first.sealed), "XXXXSECRETXXXX", "stored sealed, never in the clear")
	opened, err := keys.Open(provision.NotifyTargetOwner("acme", first.record.String()), first.sealed)
	require.NoError(t, err)
	require.Equal(t, slackURL, string(opened))
	_, err = keys.Open(provision.NotifyTargetOwner("globex", first.record.String()), first.sealed)
	require.ErrorIs(t, err, secretbox.ErrDecrypt, "bound to its tenant")
	_, err = read(globex)
	require.ErrorIs(t, err, pgx.ErrNoRows, "another tenant does not see it")

	const teamsURL = "https://acme.webhook.office.com/webhookb2/XXXXOTHERSECRETXXXX"
	require.NoError(t, provision.SetNotifyTarget(acme, db, keys, "oncall", provision.NotifyTeams, teamsURL))
	second, err := read(acme)
	require.NoError(t, err)
	require.Equal(t, "teams", second.format)
	require.NotEqual(t, first.record, second.record, "a new URL is a new record")
	_, err = keys.Open(provision.NotifyTargetOwner("acme", second.record.String()), first.sealed)
	require.ErrorIs(t, err, secretbox.ErrDecrypt, "the old sealed URL does not open as the new one")

	list, err := provision.ListNotifyTargets(acme, db)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "oncall", list[0].Name)
	require.Equal(t, provision.NotifyTeams, list[0].Format)
	require.Equal(t, "acme.webhook.office.com", list[0].Host)
	list, err = provision.ListNotifyTargets(globex, db)
	require.NoError(t, err)
	require.Empty(t, list)

	require.ErrorIs(t, provision.RemoveNotifyTarget(globex, db, "oncall"), provision.ErrUnknownNotifyTarget)
	require.NoError(t, provision.RemoveNotifyTarget(acme, db, "oncall"))
	list, err = provision.ListNotifyTargets(acme, db)
	require.NoError(t, err)
	require.Empty(t, list)

	// Every change is audited, and no audit entry holds a URL.
	var events []string
	var leaked bool
	err = db.WithTenant(acme, func(tx pgx.Tx) error {
		rows, err := tx.Query(acme, `SELECT event, details::text LIKE '%SECRET%' FROM audit_log WHERE subject = 'notify_target/oncall' ORDER BY id`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var e string
			var l bool
			if err := rows.Scan(&e, &l); err != nil {
				return err
			}
			events = append(events, e)
			leaked = leaked || l
		}
		return rows.Err()
	})
	require.NoError(t, err)
	require.Equal(t, []string{provision.EventNotifyTargetSet, provision.EventNotifyTargetSet, provision.EventNotifyTargetRemoved}, events)
	require.False(t, leaked)

}
