package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// DefaultSignalPageSize and MaxSignalPageSize bound ListSignals pages.
const (
	DefaultSignalPageSize = 100
	MaxSignalPageSize     = 1000
)

// selectSignal reads a signal without its raw payload, which a listing
// never needs and which is up to the raw payload cap per row.
const selectSignal = `
	SELECT id::text, source, fingerprint, external_id, status, severity, title, description, resource,
	       labels, annotations, link, starts_at, ends_at, received_at, fingerprint_recipe, fingerprint_recipe_version
	FROM signals`

// ListSignals returns one page of the tenant's signals, newest first (by
// received time, then ID), optionally of one source only, and the token of
// the next page, empty on the last.
func (s *Store) ListSignals(ctx context.Context, source string, pageSize int, pageToken string) ([]*signalv1.Signal, string, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, "", err
	}
	if pageSize <= 0 {
		pageSize = DefaultSignalPageSize
	}
	pageSize = min(pageSize, MaxSignalPageSize)
	after, err := decodeCursor(pageToken)
	if err != nil {
		return nil, "", err
	}
	// One query shape whatever the filters: an empty source or cursor
	// switches its condition off. The conditions match the signals_newest and
	// signals_source_newest indexes, so each page is an index range scan.
	var (
		afterAt *time.Time
		afterID *string
	)
	if after != nil {
		afterAt, afterID = &after.at, &after.id
	}
	var out []*signalv1.Signal
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, selectSignal+`
			WHERE tenant_id = $1
			  AND ($2 = '' OR source = $2)
			  AND ($3::timestamptz IS NULL OR (received_at, id) < ($3, $4::uuid))
			ORDER BY received_at DESC, id DESC
			LIMIT $5`, string(t), source, afterAt, afterID, pageSize+1)
		if err != nil {
			return fmt.Errorf("list signals: %w", err)
		}
		out, err = pgx.CollectRows(rows, scanSignal)
		if err != nil {
			return fmt.Errorf("list signals: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > pageSize {
		out = out[:pageSize]
		last := out[len(out)-1]
		next = encodeCursor(cursor{at: last.GetReceivedAt().AsTime(), id: last.GetId()})
	}
	for _, sig := range out {
		sig.TenantId = string(t)
	}
	return out, next, nil
}

func scanSignal(row pgx.CollectableRow) (*signalv1.Signal, error) {
	var (
		sig                 signalv1.Signal
		status, severity    string
		labels, annotations []byte
		startsAt, endsAt    *time.Time
		receivedAt          time.Time
		recipeVersion       int32
	)
	err := row.Scan(&sig.Id, &sig.Source, &sig.Fingerprint, &sig.ExternalId, &status, &severity, &sig.Title,
		&sig.Description, &sig.Resource, &labels, &annotations, &sig.Link, &startsAt, &endsAt, &receivedAt,
		&sig.FingerprintRecipe, &recipeVersion)
	if err != nil {
		return nil, err
	}
	sig.Status = parseStatus(status)
	sig.Severity = parseSeverity(severity)
	if err := json.Unmarshal(labels, &sig.Labels); err != nil {
		return nil, fmt.Errorf("decode labels of signal %s: %w", sig.Id, err)
	}
	if err := json.Unmarshal(annotations, &sig.Annotations); err != nil {
		return nil, fmt.Errorf("decode annotations of signal %s: %w", sig.Id, err)
	}
	if startsAt != nil {
		sig.StartsAt = timestamppb.New(*startsAt)
	}
	if endsAt != nil {
		sig.EndsAt = timestamppb.New(*endsAt)
	}
	sig.ReceivedAt = timestamppb.New(receivedAt)
	sig.FingerprintRecipeVersion = uint32(max(recipeVersion, 0))
	return &sig, nil
}

// ListSignals implements OrchestratorService.
func (h *Handler) ListSignals(ctx context.Context, req *orchestratorv1.ListSignalsRequest) (*orchestratorv1.ListSignalsResponse, error) {
	if req.GetPageSize() < 0 || req.GetPageSize() > MaxSignalPageSize {
		return nil, status.Errorf(codes.InvalidArgument, "page_size must be between 0 and %d", MaxSignalPageSize)
	}
	sigs, next, err := h.store.ListSignals(ctx, req.GetSource(), int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, h.statusOf(ctx, "list signals", err)
	}
	return &orchestratorv1.ListSignalsResponse{Signals: sigs, NextPageToken: next}, nil
}
