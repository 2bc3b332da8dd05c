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
	pageSize, after, err := pageOf(pageSize, DefaultSignalPageSize, MaxSignalPageSize, pageToken)
	if err != nil {
		return nil, "", err
	}
	// Only the conditions that apply, so the planner sees the shape of the
	// signals_source_newest or signals_newest index and each page is a range
	// scan of it.
	where, args := "tenant_id = $1", []any{string(t)}
	if source != "" {
		args = append(args, source)
		where += fmt.Sprintf(" AND source = $%d", len(args))
	}
	if after != nil {
		args = append(args, after.at, after.id)
		where += fmt.Sprintf(" AND (received_at, id) < ($%d, $%d::uuid)", len(args)-1, len(args))
	}
	args = append(args, pageSize+1)
	var out []*signalv1.Signal
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, selectSignal+" WHERE "+where+
			fmt.Sprintf(" ORDER BY received_at DESC, id DESC LIMIT $%d", len(args)), args...)
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
	out, next := page(out, pageSize, func(sig *signalv1.Signal) cursor {
		return cursor{at: sig.GetReceivedAt().AsTime(), id: sig.GetId()}
	})
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
