// Package ingest is the ingestion plane: it serves alexus.ingest.v1.IngestService,
// turns raw vendor payloads into signals with the source's normaliser
// (package normalise), de-duplicates them by fingerprint and appends them to
// the caller's tenant stream in Redis (package dedup), answering only after
// every alert of a payload was recorded. It owns no Postgres.
//
// A call passes the plane's limits (package limit): a slot of the
// replica's bounded dispatcher and the payload's size, encoding and nesting
// caps before any of that, and the tenant's rate, which an Ingest call is
// charged in the same Redis script that records its alerts (a refused call
// records nothing; a payload that fails to normalise is charged too). A call a limit turns away is
// answered at once, RESOURCE_EXHAUSTED with the reason (ErrorInfo, domain
// ErrorDomain) and when to retry (RetryInfo), or INVALID_ARGUMENT for a
// payload; none is queued or dropped in silence.
//
// Service.Run serves the plane; Ingester is the same logic on plain Go
// values, without gRPC.
package ingest
