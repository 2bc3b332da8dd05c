package ingest

import (
	"context"
	"errors"

	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	ingestv1 "github.com/alexus-platform/alexus/gen/alexus/ingest/v1"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	"github.com/alexus-platform/alexus/services/ingest/mapping"
	"github.com/alexus-platform/alexus/services/ingest/normalise"
	"github.com/alexus-platform/alexus/services/ingest/sources"
)

// Preview bounds: how many stored signals a preview examines by default and
// at most, and the page size it reads them in.
const (
	defaultPreviewSignals = 10_000
	maxPreviewSignals     = 100_000
	previewPageSize       = 1000
)

// sourceHandler adapts SourceService to the sources package.
type sourceHandler struct {
	ingestv1.UnimplementedSourceServiceServer
	log     *zap.Logger
	ing     *Ingester
	store   *sources.Store
	cache   *sources.Cache
	signals orchestratorv1.OrchestratorServiceClient
}

// CreateMappingRule implements SourceService.
func (h *sourceHandler) CreateMappingRule(ctx context.Context, req *ingestv1.CreateMappingRuleRequest) (*ingestv1.CreateMappingRuleResponse, error) {
	saved, err := h.store.CreateRule(ctx, ruleFromProto(req.GetRule()))
	if err != nil {
		return nil, h.statusOf(ctx, "create mapping rule", err)
	}
	h.cache.Invalidate(ctx)
	return &ingestv1.CreateMappingRuleResponse{Rule: ruleToProto(saved)}, nil
}

// UpdateMappingRule implements SourceService.
func (h *sourceHandler) UpdateMappingRule(ctx context.Context, req *ingestv1.UpdateMappingRuleRequest) (*ingestv1.UpdateMappingRuleResponse, error) {
	saved, err := h.store.UpdateRule(ctx, ruleFromProto(req.GetRule()))
	if err != nil {
		return nil, h.statusOf(ctx, "update mapping rule", err)
	}
	h.cache.Invalidate(ctx)
	return &ingestv1.UpdateMappingRuleResponse{Rule: ruleToProto(saved)}, nil
}

// ListMappingRules implements SourceService.
func (h *sourceHandler) ListMappingRules(ctx context.Context, _ *ingestv1.ListMappingRulesRequest) (*ingestv1.ListMappingRulesResponse, error) {
	rules, err := h.store.Rules(ctx)
	if err != nil {
		return nil, h.statusOf(ctx, "list mapping rules", err)
	}
	out := &ingestv1.ListMappingRulesResponse{Rules: make([]*ingestv1.MappingRule, len(rules))}
	for k, r := range rules {
		out.Rules[k] = ruleToProto(r)
	}
	return out, nil
}

// TestMappingRule implements SourceService. The sample goes through the
// same checks and the same code as a real delivery, the tenant's
// fingerprint override of the rule's name included, and nothing is stored.
func (h *sourceHandler) TestMappingRule(ctx context.Context, req *ingestv1.TestMappingRuleRequest) (*ingestv1.TestMappingRuleResponse, error) {
	rule := ruleFromProto(req.GetRule())
	if name := req.GetName(); name != "" {
		saved, err := h.store.Rule(ctx, name)
		if err != nil {
			return nil, h.statusOf(ctx, "test mapping rule", err)
		}
		rule = saved.Rule
	}
	compiled, err := mapping.Compile(rule)
	if err != nil {
		return nil, h.statusOf(ctx, "test mapping rule", err)
	}
	snap, err := h.ing.snapshot(ctx)
	if err != nil {
		return nil, h.statusOf(ctx, "test mapping rule", err)
	}
	sigs, err := h.ing.NormaliseWith(compiled, snap, rule.Name, req.GetPayload(), req.GetHeaders())
	if err != nil {
		return nil, h.statusOf(ctx, "test mapping rule", err)
	}
	return &ingestv1.TestMappingRuleResponse{Signals: sigs}, nil
}

// DeleteMappingRule implements SourceService.
func (h *sourceHandler) DeleteMappingRule(ctx context.Context, req *ingestv1.DeleteMappingRuleRequest) (*ingestv1.DeleteMappingRuleResponse, error) {
	if err := h.store.DeleteRule(ctx, req.GetName()); err != nil {
		return nil, h.statusOf(ctx, "delete mapping rule", err)
	}
	h.cache.Invalidate(ctx)
	return &ingestv1.DeleteMappingRuleResponse{}, nil
}

// SetFingerprintOverride implements SourceService. The source must be one
// the tenant can post to: a native source or one of its live rules.
func (h *sourceHandler) SetFingerprintOverride(ctx context.Context, req *ingestv1.SetFingerprintOverrideRequest) (*ingestv1.SetFingerprintOverrideResponse, error) {
	o := overrideFromProto(req.GetOverride())
	if err := h.knownSource(ctx, o.Source); err != nil {
		return nil, h.statusOf(ctx, "set fingerprint override", err)
	}
	saved, err := h.store.SetOverride(ctx, o)
	if err != nil {
		return nil, h.statusOf(ctx, "set fingerprint override", err)
	}
	h.cache.Invalidate(ctx)
	return &ingestv1.SetFingerprintOverrideResponse{Override: overrideToProto(saved)}, nil
}

// ListFingerprintOverrides implements SourceService.
func (h *sourceHandler) ListFingerprintOverrides(ctx context.Context, _ *ingestv1.ListFingerprintOverridesRequest) (*ingestv1.ListFingerprintOverridesResponse, error) {
	os, err := h.store.Overrides(ctx)
	if err != nil {
		return nil, h.statusOf(ctx, "list fingerprint overrides", err)
	}
	out := &ingestv1.ListFingerprintOverridesResponse{Overrides: make([]*ingestv1.FingerprintOverride, len(os))}
	for k, o := range os {
		out.Overrides[k] = overrideToProto(o)
	}
	return out, nil
}

// DeleteFingerprintOverride implements SourceService.
func (h *sourceHandler) DeleteFingerprintOverride(ctx context.Context, req *ingestv1.DeleteFingerprintOverrideRequest) (*ingestv1.DeleteFingerprintOverrideResponse, error) {
	if err := h.store.DeleteOverride(ctx, req.GetSource()); err != nil {
		return nil, h.statusOf(ctx, "delete fingerprint override", err)
	}
	h.cache.Invalidate(ctx)
	return &ingestv1.DeleteFingerprintOverrideResponse{}, nil
}

// PreviewFingerprintOverride implements SourceService. It reads the
// source's stored signals from the orchestrator, which owns them, newest
// first, and computes each one's fingerprint under the override with the
// same code intake would use.
func (h *sourceHandler) PreviewFingerprintOverride(ctx context.Context, req *ingestv1.PreviewFingerprintOverrideRequest) (*ingestv1.PreviewFingerprintOverrideResponse, error) {
	o := overrideFromProto(req.GetOverride())
	if err := o.Validate(); err != nil {
		return nil, h.statusOf(ctx, "preview fingerprint override", err)
	}
	limit := int(req.GetMaxSignals())
	if limit == 0 {
		limit = defaultPreviewSignals
	}
	limit = min(limit, maxPreviewSignals)
	p := sources.NewPreviewer(o)
	examined, token, truncated := 0, "", false
	for {
		page, err := h.signals.ListSignals(ctx, &orchestratorv1.ListSignalsRequest{
			Source: o.Source, PageSize: int32(min(previewPageSize, limit-examined)), PageToken: token,
		})
		if err != nil {
			return nil, h.statusOf(ctx, "preview fingerprint override: list signals", err)
		}
		for _, sig := range page.GetSignals() {
			p.Add(sig)
		}
		examined += len(page.GetSignals())
		token = page.GetNextPageToken()
		if token == "" {
			break
		}
		if examined >= limit {
			truncated = true
			break
		}
	}
	r := p.Result()
	return &ingestv1.PreviewFingerprintOverrideResponse{
		SignalsExamined:     int32(r.Examined),
		Truncated:           truncated,
		CurrentFingerprints: int32(r.Current),
		NewFingerprints:     int32(r.New),
		Merges:              int32(r.Merges),
		MergedFingerprints:  int32(r.MergedFingerprints),
		Splits:              int32(r.Splits),
		MergeExamples:       changesToProto(r.MergeExamples),
		SplitExamples:       changesToProto(r.SplitExamples),
	}, nil
}

// errUnknownOverrideSource reports an override of a source the tenant
// cannot post to.
var errUnknownOverrideSource = errors.New("source is neither a native source nor one of the tenant's mapping rules")

func (h *sourceHandler) knownSource(ctx context.Context, source string) error {
	if _, err := normalise.Builtin().Lookup(source); err == nil {
		return nil
	}
	if _, err := h.store.Rule(ctx, source); err != nil {
		if errors.Is(err, sources.ErrNotFound) {
			return errUnknownOverrideSource
		}
		return err
	}
	return nil
}

// statusOf maps the sources package's errors, then the Ingester's.
func (h *sourceHandler) statusOf(ctx context.Context, op string, err error) error {
	switch {
	case errors.Is(err, mapping.ErrInvalidRule), errors.Is(err, sources.ErrInvalidOverride):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, errUnknownOverrideSource):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, sources.ErrExists):
		return status.Error(codes.AlreadyExists, err.Error())
	case errors.Is(err, sources.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	}
	return statusOf(ctx, h.log, op, err)
}

func ruleFromProto(r *ingestv1.MappingRule) mapping.Rule {
	return mapping.Rule{
		Name: r.GetName(), Alerts: r.GetAlerts(), Title: r.GetTitle(), Status: r.GetStatus(),
		Severity: r.GetSeverity(), Description: r.GetDescription(), Resource: r.GetResource(),
		Link: r.GetLink(), Labels: r.GetLabels(), Fingerprint: r.GetFingerprint(),
		StartsAt: r.GetStartsAt(), EndsAt: r.GetEndsAt(),
	}
}

func ruleToProto(r sources.SavedRule) *ingestv1.MappingRule {
	return &ingestv1.MappingRule{
		Name: r.Name, Version: r.Version, Alerts: r.Alerts, Title: r.Title, Status: r.Status,
		Severity: r.Severity, Description: r.Description, Resource: r.Resource, Link: r.Link,
		Labels: r.Labels, Fingerprint: r.Fingerprint, StartsAt: r.StartsAt, EndsAt: r.EndsAt,
		CreatedAt: timestamppb.New(r.CreatedAt), UpdatedAt: timestamppb.New(r.UpdatedAt),
	}
}

func overrideFromProto(o *ingestv1.FingerprintOverride) sources.Override {
	return sources.Override{Source: o.GetSource(), Fields: o.GetFields()}
}

func overrideToProto(o sources.Override) *ingestv1.FingerprintOverride {
	return &ingestv1.FingerprintOverride{Source: o.Source, Fields: o.Fields, Version: o.Version, UpdatedAt: timestamppb.New(o.UpdatedAt)}
}

func changesToProto(cs []sources.Change) []*ingestv1.FingerprintChange {
	out := make([]*ingestv1.FingerprintChange, len(cs))
	for k, c := range cs {
		out[k] = &ingestv1.FingerprintChange{Fingerprint: c.Fingerprint, Into: c.Into, Title: c.Title}
	}
	return out
}
