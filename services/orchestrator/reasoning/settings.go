package reasoning

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	"github.com/alexus-platform/alexus/internal/llm"
	"github.com/alexus-platform/alexus/internal/rpc"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/reasoning/modelsettings"
)

// ModelSettings are the tenants' own settings of the model path (model,
// API key, request timeout, monthly token budget) and their token use;
// modelsettings.Store implements them over Postgres. The budget itself is
// enforced by the model client, whose Meter the same Store should be.
type ModelSettings interface {
	// Get returns the context's tenant's settings, key opened. It is read
	// before every model call, so it should be cheap.
	Get(ctx context.Context) (modelsettings.Settings, error)
	// Set replaces them; see modelsettings.Store.Set.
	Set(ctx context.Context, req *reasoningv1.SetModelSettingsRequest) error
	// Usage returns the tokens the tenant used this calendar month (UTC).
	Usage(ctx context.Context) (int64, error)
}

// errSettings marks a stage that left the model path because its tenant's
// settings could not be read.
var errSettings = errors.New("the tenant's model settings could not be read")

// errNoSettings answers the settings RPCs of a handler without a
// ModelSettings.
var errNoSettings = status.Error(codes.FailedPrecondition, "this reasoning handler stores no tenant model settings")

// overrides are a tenant's own model, key and timeout, applied to each of
// its model calls; zero fields leave the client's settings.
type overrides struct {
	model, apiKey string
	timeout       time.Duration
}

// apply returns r carrying o.
func (o overrides) apply(r llm.Request) llm.Request {
	r.Model, r.APIKey, r.Timeout = o.model, o.apiKey, o.timeout
	return r
}

// tenantOverrides returns the context's tenant's overrides: none without a
// ModelSettings. An error wraps errSettings, so the stage falls back with a
// reason that says so.
func (h *Handler) tenantOverrides(ctx context.Context) (overrides, error) {
	if h.o.Settings == nil {
		return overrides{}, nil
	}
	s, err := h.o.Settings.Get(ctx)
	if err != nil {
		return overrides{}, fmt.Errorf("%w: %w", errSettings, err)
	}
	return overrides{model: s.Model, apiKey: s.APIKey, timeout: s.Timeout}, nil
}

// GetModelSettings implements ReasoningService.
func (h *Handler) GetModelSettings(ctx context.Context, _ *reasoningv1.GetModelSettingsRequest) (*reasoningv1.GetModelSettingsResponse, error) {
	s, err := h.modelSettings(ctx, "get model settings")
	if err != nil {
		return nil, err
	}
	return &reasoningv1.GetModelSettingsResponse{Settings: s}, nil
}

// SetModelSettings implements ReasoningService. The answer is the settings
// as stored, read back.
func (h *Handler) SetModelSettings(ctx context.Context, req *reasoningv1.SetModelSettingsRequest) (*reasoningv1.SetModelSettingsResponse, error) {
	if _, err := tenant.Require(ctx); err != nil {
		return nil, err
	}
	if h.o.Settings == nil {
		return nil, errNoSettings
	}
	if err := h.o.Settings.Set(ctx, req); err != nil {
		return nil, h.settingsStatus(ctx, "set model settings", err)
	}
	s, err := h.modelSettings(ctx, "read back model settings")
	if err != nil {
		return nil, err
	}
	return &reasoningv1.SetModelSettingsResponse{Settings: s}, nil
}

// modelSettings is the context's tenant's settings as the API shows them:
// without the key, with this month's token use and the model its calls
// actually use.
func (h *Handler) modelSettings(ctx context.Context, op string) (*reasoningv1.ModelSettings, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	if h.o.Settings == nil {
		return nil, errNoSettings
	}
	s, err := h.o.Settings.Get(ctx)
	if err != nil {
		return nil, h.settingsStatus(ctx, op, err)
	}
	used, err := h.o.Settings.Usage(ctx)
	if err != nil {
		return nil, h.settingsStatus(ctx, op, err)
	}
	out := &reasoningv1.ModelSettings{
		Model:               s.Model,
		ApiKeySet:           s.APIKey != "",
		TimeoutMs:           int32(s.Timeout.Milliseconds()),
		MonthlyTokenBudget:  s.MonthlyBudget,
		TokensUsedThisMonth: used,
		ModelConfigured:     h.o.Model != nil,
	}
	// Without a deployment model no call is made, so none is effective.
	if h.o.Model != nil {
		out.EffectiveModel = cmp.Or(s.Model, h.o.Model.Model(t))
	}
	return out, nil
}

func (h *Handler) settingsStatus(ctx context.Context, op string, err error) error {
	switch {
	case errors.Is(err, modelsettings.ErrInvalid):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, modelsettings.ErrNoKeyring):
		return status.Error(codes.FailedPrecondition, err.Error())
	}
	return rpc.StatusOf(ctx, h.log, op, err)
}
