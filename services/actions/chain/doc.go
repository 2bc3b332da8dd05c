// Package chain links the audit log's new entries into each tenant's hash
// chain. internal/audit.Append writes an entry without its link, so audited
// transactions of one tenant do not wait for each other; the Chainer, a
// River periodic job on the action plane's elected leader (every
// ALEXUS_ACTIONS_AUDIT_CHAIN_INTERVAL, 1s by default), finds the tenants
// with unchained entries and links them with internal/audit.Chain, so an
// entry is on its tenant's chain about a second after its transaction
// commits.
package chain
