package audit_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/audit"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/migrations"
)

func TestCanonicalJSON(t *testing.T) {
	t.Parallel()
	require.Equal(t, `{}`, string(audit.CanonicalStrings(nil)))
	require.Equal(t,
		`{"":"","Z":"1","a":"\"\\/<>&","b":"\b\f\n\r\t\u0001\u001f`+"\x7f"+`","é":"`+"\u2028😀\uFFFD"+`"}`,
		string(audit.CanonicalStrings(map[string]string{
			"é": "\u2028😀\xff", "a": `"\/<>&`, "b": "\b\f\n\r\t\x01\x1f\x7f", "Z": "1", "": "",
		})), "keys sorted by bytes; only quotes, backslashes and control characters escaped; bad UTF-8 replaced")

	for in, want := range map[string]string{
		`{"b": [1, 2.50, {"y": null, "x": true}], "a": "\u00e9\n"}`: `{"a":"é\n","b":[1,2.50,{"x":true,"y":null}]}`,
		`  "s"  `:    `"s"`,
		`[]`:         `[]`,
		`-0.0000001`: `-0.0000001`,
	} {
		got, err := audit.CanonicalJSON([]byte(in))
		require.NoError(t, err, in)
		require.Equal(t, want, string(got), in)
	}
	for _, bad := range []string{``, `{`, `{} {}`, `{"a": 1,}`} {
		_, err := audit.CanonicalJSON([]byte(bad))
		require.Error(t, err, bad)
	}
}

func TestRecordEncoding(t *testing.T) {
	t.Parallel()
	r := audit.Record{
		Tenant: "acme", Seq: 258, At: time.UnixMicro(1_700_000_000_123_456),
		Actor: "user:alice", Event: "e", Subject: "s", Details: []byte(`{}`), PrevHash: audit.GenesisHash(),
	}
	want := "0000000f" + hex.EncodeToString([]byte("alexus-audit-v1")) +
		"00000004" + hex.EncodeToString([]byte("acme")) +
		"00000008" + "0000000000000102" +
		"00000008" + fmt.Sprintf("%016x", int64(1_700_000_000_123_456)) +
		"0000000a" + hex.EncodeToString([]byte("user:alice")) +
		"00000001" + "65" +
		"00000001" + "73" +
		"00000002" + "7b7d" +
		"00000020" + hex.EncodeToString(make([]byte, 32))
	require.Equal(t, want, hex.EncodeToString(r.AppendEncoding(nil)))
}

// The SQL implementation of the encoding (the migration's backfill and an
// auditor's cross-check) and the Go one (the writer and Verify) hash the
// same rows to the same bytes, for every kind of detail value jsonb holds.
func TestSQLAndGoEncodingsAgree(t *testing.T) {
	t.Parallel()
	b := setup(t)
	prev := make([]byte, audit.HashSize)
	_, _ = rand.Read(prev)
	at := []time.Time{
		time.Date(2024, 2, 29, 23, 59, 59, 999_999_000, time.UTC),
		time.Date(1969, 7, 20, 20, 17, 40, 1000, time.FixedZone("x", -5*3600)),
	}

	// Details the writer produces: string pairs.
	for i, m := range []map[string]string{
		nil,
		{"k": "v"},
		{"é": "\u2028😀", "a": `"\/<>&`, "b": "\b\f\n\r\t\x01\x1f\x7f", "Z": "1", "": "", "z": "\xffbad"},
		{"reason": "disk 91% full on db-2; ran `cleanup --all`", "url": "https://x.example/?a=1&b=<2>"},
	} {
		canon := audit.CanonicalStrings(m)
		rec := audit.Record{Tenant: "acme", Seq: int64(i + 1), At: at[i%2], Actor: "user:ålice", Event: "thing.done",
			Subject: "thing/\"1\"", Details: canon, PrevHash: prev}
		var (
			sqlHash []byte
			stored  string
		)
		require.NoError(t, b.admin.QueryRow(b.ctx,
			`SELECT alexus_audit_entry_hash($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8), $7::text::jsonb::text`,
			rec.Tenant, rec.Seq, rec.At, rec.Actor, rec.Event, rec.Subject, string(canon), rec.PrevHash).Scan(&sqlHash, &stored))
		goHash := rec.Hash()
		require.Equal(t, hex.EncodeToString(goHash[:]), hex.EncodeToString(sqlHash), "%q", canon)

		// And what Verify reads back from jsonb hashes the same.
		again, err := audit.CanonicalJSON([]byte(stored))
		require.NoError(t, err)
		require.Equal(t, string(canon), string(again))
	}

	// Details other code may have stored: any JSON.
	for _, js := range []string{
		`{"n": 3, "ok": true, "none": null}`,
		`{"f": 1.50, "e": 1e3, "neg": -0.0, "big": 12345678901234567890.000, "tiny": 1E-7}`,
		`{"nested": {"z": [1, "two", {"b": 2, "a": [true, false]}], "a": {}}, "arr": []}`,
		`{"esc": "\u00e9\ud83d\ude00\u0007\/", "ключ": "значение", "日本": "語"}`,
		`[1, 2, 3]`,
		`"just a string"`,
	} {
		rec := audit.Record{Tenant: "acme", Seq: 9, At: at[0], Actor: "a", Event: "e", Subject: "s", PrevHash: prev}
		var (
			sqlHash []byte
			stored  string
		)
		require.NoError(t, b.admin.QueryRow(b.ctx,
			`SELECT alexus_audit_entry_hash($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8), $7::text::jsonb::text`,
			rec.Tenant, rec.Seq, rec.At, rec.Actor, rec.Event, rec.Subject, js, rec.PrevHash).Scan(&sqlHash, &stored))
		var err error
		rec.Details, err = audit.CanonicalJSON([]byte(stored))
		require.NoError(t, err)
		goHash := rec.Hash()
		require.Equal(t, hex.EncodeToString(goHash[:]), hex.EncodeToString(sqlHash), js)
	}
}

// Rows written before the chain existed are chained by the migration that
// introduced it, with the same encoding, so they verify; new entries go on
// from the backfilled head.
func TestMigrationBackfillsTheChain(t *testing.T) {
	t.Parallel()
	b := setup(t) // for as(); the rows below go to a database of their own
	adminURL := emptyDatabase(t)

	sqlDB, err := sql.Open("pgx", adminURL)
	require.NoError(t, err)
	defer sqlDB.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	require.NoError(t, err)
	_, err = p.UpTo(b.ctx, 11)
	require.NoError(t, err)

	conn, err := pgx.Connect(b.ctx, adminURL)
	require.NoError(t, err)
	defer conn.Close(b.ctx)
	_, err = conn.Exec(b.ctx, `
		INSERT INTO tenants (id) VALUES ('acme'), ('globex'), ('initech');
		INSERT INTO audit_log (tenant_id, at, actor, event, subject, details) VALUES
		  ('acme', '2024-01-02 03:04:05.123456+00', 'user:alice', 'tenant.created', 'tenant/acme', '{}'),
		  ('globex', now(), 'system', 'tenant.created', 'tenant/globex', '{"n": 3, "ok": true}'),
		  ('acme', now(), 'system:cli', 'integration_token.created', 'integration/1', '{"source": "alertmanager", "name": "prod \"eu\"\n"}'),
		  ('acme', now(), 'system', 'other.plane', 'x/1', '{"nested": {"b": [1, 2.50, null], "a": "é"}, "Z": -0.0}'),
		  ('globex', now(), 'user:bob', 'action.requested', 'action/2', '{"kind": "webhook"}')`)
	require.NoError(t, err)

	require.NoError(t, store.Migrate(b.ctx, adminURL))
	db, err := store.Open(b.ctx, store.Config{AdminURL: adminURL})
	require.NoError(t, err)
	defer db.Close()

	for id, n := range map[string]int64{"acme": 3, "globex": 2, "initech": 0} {
		rep, err := audit.Verify(as(tenant.ID(id)), db, nil)
		require.NoError(t, err)
		require.True(t, rep.Intact(), "%s: %v", id, rep.Breaks)
		require.Equal(t, n, rep.Rows, id)
		require.Equal(t, n, rep.HeadSeq, id)
	}

	ctx := as("acme")
	require.NoError(t, db.WithTenant(ctx, func(tx pgx.Tx) error {
		return audit.Append(ctx, tx, "thing.done", "thing/1", map[string]string{"k": "v"})
	}))
	rep, err := audit.Verify(ctx, db, nil)
	require.NoError(t, err)
	require.True(t, rep.Intact(), "%v", rep.Breaks)
	require.EqualValues(t, 4, rep.Rows)
}

// emptyDatabase creates a database with no schema and returns its admin URL.
func emptyDatabase(t *testing.T) string {
	t.Helper()
	admin := storetest.AdminURL()
	conn, err := pgx.Connect(t.Context(), admin)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("postgres unreachable under CI: %v", err)
		}
		t.Skipf("SKIPPED: postgres unreachable (%v)", err)
	}
	defer conn.Close(t.Context())
	raw := make([]byte, 6)
	_, _ = rand.Read(raw)
	name := "alexus_test_" + hex.EncodeToString(raw)
	_, err = conn.Exec(t.Context(), "CREATE DATABASE "+name)
	require.NoError(t, err)
	t.Cleanup(func() {
		// t.Context is already canceled when cleanups run.
		ctx := context.Background()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(admin)
	require.NoError(t, err)
	u.Path = "/" + name
	return u.String()
}
