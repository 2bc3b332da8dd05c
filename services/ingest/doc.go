// Package ingest is the ingestion plane: it serves alexus.ingest.v1.IngestService,
// turns raw vendor payloads into signals with the source's normaliser
// (package normalise), de-duplicates them by fingerprint and appends them to
// the caller's tenant stream in Redis (package dedup), answering only after
// every alert of a payload was recorded. It owns no Postgres.
//
// Service.Run serves the plane; Ingester is the same logic on plain Go
// values, without gRPC.
package ingest
