// Package audit is the one writer of audit_log rows and the verifier of the
// hash chain they form. The action plane audits every action and outcome with
// it, provisioning audits tenant, webhook target and integration token
// changes, and the ingestion plane audits source configuration changes, so
// every entry has the same shape and the same actor rule whichever code wrote
// it.
//
// An entry is appended inside the caller's tenant transaction, so it is
// written if and only if the change it records is. The application role may
// only SELECT and INSERT audit rows and set the link of an unchained one;
// nothing changes an entry's content or deletes one. Reading the log is the
// action plane's ListAuditLog (services/actions/audit); checking it is
// Verify, behind `alexus audit verify --tenant T`.
//
// # The chain
//
// Each tenant's entries form one hash chain. Entry seq (1, 2, 3, ... with no
// gaps) carries prev_hash, the hash of the tenant's entry seq-1 (32 zero bytes
// for seq 1), and hash, the SHA-256 of its canonical encoding below. The
// table audit_chain_heads holds each tenant's last seq and hash.
//
// Entries are chained asynchronously. Append inserts the entry without its
// link (seq, prev_hash and hash NULL) and takes no lock, so a tenant's
// audited transactions run side by side. Chain links a tenant's unchained
// entries in id order: in one transaction per batch of up to ChainBatch, it
// locks the tenant's head (SELECT ... FOR UPDATE; chainers of one tenant take
// turns, writers never wait), gives the entries the next seqs, computes their
// hashes and moves the head. The action plane's elected leader runs it for
// every tenant with unchained entries (services/actions/chain, every
// ALEXUS_ACTIONS_AUDIT_CHAIN_INTERVAL, 1s by default), so an entry is
// chained about a second after its transaction commits; Verify runs it for
// its tenant before it checks. Until then the entry is in the log (and in
// ListAuditLog, with seq 0 and no hash) but not yet covered by the chain: the
// tamper evidence below covers chained entries.
//
// A trigger on audit_log (migrations/00017_audit_async_chain.sql) refuses any
// change of an entry's content and lets seq, prev_hash and hash be set only
// from NULL, once, for every role that leaves triggers on; the application
// role holds UPDATE on those three columns only, to chain, and still cannot
// edit, re-chain or delete an entry.
//
// Whoever changes a row afterwards (an owner or a superuser with triggers
// off; the application role cannot) breaks its hash; whoever removes one
// leaves a gap in seq and a prev_hash that no longer matches; whoever removes
// the newest rows leaves the head ahead of the log. Verify finds each. Anyone
// able to rewrite every hash after an edit, and the head, can hide it: record
// the head that Verify reports (seq and hash) somewhere outside the database
// to anchor the chain.
//
// # Canonical encoding, version 1
//
// The hash of an entry is SHA-256 over the concatenation of nine fields, in
// this order. Each field is written as its length in bytes (4 bytes,
// unsigned, big-endian) followed by the bytes themselves:
//
//  1. the domain tag, the 15 ASCII bytes "alexus-audit-v1";
//  2. the tenant id, UTF-8;
//  3. seq, 8 bytes, big-endian;
//  4. the entry's time (column at) as microseconds since
//     1970-01-01T00:00:00Z, 8 bytes, big-endian two's complement;
//  5. the actor, UTF-8;
//  6. the event, UTF-8;
//  7. the subject, UTF-8;
//  8. the details as canonical JSON, UTF-8 (below);
//  9. prev_hash, 32 bytes.
//
// Canonical JSON has no insignificant whitespace. An object's members are
// written `"key":value`, separated by commas, sorted by the UTF-8 bytes of
// their keys. An array keeps its order. A string is written between double
// quotes with `"` and `\` escaped by a backslash, U+0008, U+000C, U+000A,
// U+000D and U+0009 written as \b, \f, \n, \r and \t, the other characters
// below U+0020 as \u00xx with lower-case hex digits, and every other
// character as its literal UTF-8 bytes. Numbers, true, false and null are
// written as Postgres prints them in jsonb (the text Postgres returns for the
// stored value). Appended details are string pairs, so only strings occur in
// entries this package writes; rows written before the chain existed may
// hold any JSON.
//
// The migration that introduced the chain (migrations/00012_audit_chain.sql)
// implements the same encoding in SQL (alexus_audit_entry_hash), which
// backfilled the chain of the rows written before it. A test checks that both
// implementations agree, so an auditor can recompute a hash with either:
//
//	SELECT seq, alexus_audit_entry_hash(tenant_id, seq, at, actor, event,
//	       subject, details, prev_hash) = hash AS ok
//	FROM audit_log WHERE tenant_id = 'acme' ORDER BY seq;
package audit
