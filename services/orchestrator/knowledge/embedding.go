package knowledge

import (
	"context"
	"errors"
	"fmt"
	"github.com/alexus-platform/alexus/internal/audit"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
	"github.com/alexus-platform/alexus/internal/embed"
	"github.com/alexus-platform/alexus/internal/graph"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// EventEmbeddingSettingsSet audits a change of a tenant's embedding model.
const EventEmbeddingSettingsSet = "embedding_settings.set"

// EmbedKeyPurpose binds sealed embedding API keys to their use.
const EmbedKeyPurpose = provision.EmbedKeyPurpose

// embedderTTL is how long a replica keeps a tenant's embedder before
// reading its settings again; a change made through another replica
// applies within it.
const embedderTTL = 10 * time.Second

// embedSettings is the tenant's row of tenant_rag_settings, key sealed.
type embedSettings struct {
	BaseURL, Model string
	SealedKey      []byte
}

// embedders caches each tenant's embedder.
type embedders struct {
	mu      sync.Mutex
	entries map[tenant.ID]embedderEntry
}

type embedderEntry struct {
	e       embed.Embedder
	expires time.Time
}

// embedderFor returns the embedder of the context's tenant: its own model
// when it set one, the deployment's otherwise.
func (h *Handler) embedderFor(ctx context.Context) (embed.Embedder, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	h.tenantEmbed.mu.Lock()
	e, ok := h.tenantEmbed.entries[t]
	h.tenantEmbed.mu.Unlock()
	if ok && time.Now().Before(e.expires) {
		return e.e, nil
	}
	s, err := h.embedSettings(ctx)
	if err != nil {
		return nil, err
	}
	emb, err := h.buildEmbedder(t, s)
	if err != nil {
		return nil, err
	}
	h.tenantEmbed.mu.Lock()
	h.tenantEmbed.entries[t] = embedderEntry{e: emb, expires: time.Now().Add(embedderTTL)}
	h.tenantEmbed.mu.Unlock()
	return emb, nil
}

// buildEmbedder makes the embedder s describes for tenant t.
func (h *Handler) buildEmbedder(t tenant.ID, s embedSettings) (embed.Embedder, error) {
	if s.BaseURL == "" {
		return h.embed, nil
	}
	var key string
	if len(s.SealedKey) > 0 {
		if h.keys == nil {
			return nil, fmt.Errorf("%w: the tenant's embedding key is sealed but no key ring is configured (ALEXUS_SECRET_KEYS)", errEmbed)
		}
		raw, err := h.keys.Open(secretbox.Owner{Tenant: string(t), Record: provision.EmbedKeyRecord, Purpose: EmbedKeyPurpose}, s.SealedKey)
		if err != nil {
			return nil, fmt.Errorf("%w: open the tenant's embedding key: %w", errEmbed, err)
		}
		key = string(raw)
	}
	return embed.NewOpenAI(embed.OpenAIConfig{BaseURL: s.BaseURL, Model: s.Model, APIKey: key, Dimension: h.graph.Dimension()})
}

func (h *Handler) embedSettings(ctx context.Context) (embedSettings, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return embedSettings{}, err
	}
	var s embedSettings
	err = h.db.WithTenant(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT embed_base_url, embed_model, embed_api_key FROM tenant_rag_settings WHERE tenant_id = $1`,
			string(t)).Scan(&s.BaseURL, &s.Model, &s.SealedKey)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return embedSettings{}, fmt.Errorf("read embedding settings: %w", err)
	}
	return s, nil
}

// GetEmbeddingSettings implements KnowledgeService.
func (h *Handler) GetEmbeddingSettings(ctx context.Context, _ *knowledgev1.GetEmbeddingSettingsRequest) (*knowledgev1.GetEmbeddingSettingsResponse, error) {
	s, err := h.embedSettings(ctx)
	if err != nil {
		return nil, h.statusOf(ctx, "get embedding settings", err)
	}
	return &knowledgev1.GetEmbeddingSettingsResponse{Settings: h.settingsToProto(s)}, nil
}

// probeText is what a new model is tried on before it is saved.
const probeText = "alexus embedding probe: checkout-api latency after a deploy"

// SetEmbeddingSettings implements KnowledgeService. The new model is tried
// first, then saved, then, if the model changed, every node of the tenant
// is embedded again with it.
func (h *Handler) SetEmbeddingSettings(ctx context.Context, req *knowledgev1.SetEmbeddingSettingsRequest) (*knowledgev1.SetEmbeddingSettingsResponse, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetBaseUrl() != "" && req.GetModel() == "" {
		return nil, status.Error(codes.InvalidArgument, "a base URL needs a model")
	}
	old, err := h.embedSettings(ctx)
	if err != nil {
		return nil, h.statusOf(ctx, "set embedding settings", err)
	}
	next := embedSettings{BaseURL: req.GetBaseUrl(), Model: req.GetModel(), SealedKey: old.SealedKey}
	switch {
	case req.GetClearApiKey() || next.BaseURL == "":
		next.SealedKey = nil
	case req.GetApiKey() != "":
		if h.keys == nil {
			return nil, status.Error(codes.FailedPrecondition, "no key ring is configured to seal the key (ALEXUS_SECRET_KEYS)")
		}
		if next.SealedKey, err = h.keys.Seal(secretbox.Owner{Tenant: string(t), Record: provision.EmbedKeyRecord, Purpose: EmbedKeyPurpose}, []byte(req.GetApiKey())); err != nil {
			return nil, h.statusOf(ctx, "seal embedding key", err)
		}
	}
	emb, err := h.buildEmbedder(t, next)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "embedding settings: %v", err)
	}
	if _, err := emb.Embed(ctx, []string{probeText}); err != nil {
		h.log.Info("embedding model refused at save", zap.String("tenant_id", string(t)), zap.Error(err))
		code := codes.FailedPrecondition
		if errors.Is(err, embed.ErrTimeout) {
			code = codes.Unavailable
		}
		return nil, status.Errorf(code, "the model did not embed a probe text as the graph needs (%d dimensions): %v", h.graph.Dimension(), err)
	}
	err = h.db.WithTenant(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO tenant_rag_settings (tenant_id, embed_base_url, embed_model, embed_api_key) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id) DO UPDATE SET embed_base_url = EXCLUDED.embed_base_url, embed_model = EXCLUDED.embed_model,
			  embed_api_key = EXCLUDED.embed_api_key, updated_at = now()`,
			string(t), next.BaseURL, next.Model, next.SealedKey)
		if err != nil {
			return err
		}
		// The base URL may carry a credential, and the key is secret: only
		// the model and whether a key is set are audited.
		return audit.Append(ctx, tx, EventEmbeddingSettingsSet, "embedding_settings", map[string]string{
			"model": next.Model, "api_key_set": strconv.FormatBool(len(next.SealedKey) > 0),
		})
	})
	if err != nil {
		return nil, h.statusOf(ctx, "save embedding settings", err)
	}
	h.tenantEmbed.mu.Lock()
	h.tenantEmbed.entries[t] = embedderEntry{e: emb, expires: time.Now().Add(embedderTTL)}
	h.tenantEmbed.mu.Unlock()

	out := &knowledgev1.SetEmbeddingSettingsResponse{Settings: h.settingsToProto(next)}
	if old.BaseURL != next.BaseURL || old.Model != next.Model {
		n, err := h.reembed(ctx, emb)
		if err != nil {
			return nil, h.statusOf(ctx, "embed the tenant's nodes again", err)
		}
		out.Reembedded = int32(n)
	}
	return out, nil
}

// reembed embeds every node of the tenant again with e, a page at a time.
// Nodes come from ListNodes without their embeddings and are upserted whole
// with new ones, which keeps their edges.
func (h *Handler) reembed(ctx context.Context, e embed.Embedder) (int, error) {
	n, after := 0, ""
	for {
		page, err := h.graph.ListNodes(ctx, "", after, graph.MaxListLimit)
		if err != nil {
			return n, err
		}
		if len(page) == 0 {
			return n, nil
		}
		if err := embedAll(ctx, e, page); err != nil {
			return n, err
		}
		if err := h.graph.UpsertNodes(ctx, page); err != nil {
			return n, err
		}
		n += len(page)
		after = page[len(page)-1].ID
	}
}

func (h *Handler) settingsToProto(s embedSettings) *knowledgev1.EmbeddingSettings {
	effective := h.embed.Model()
	if s.BaseURL != "" {
		effective = s.Model
	}
	return &knowledgev1.EmbeddingSettings{
		BaseUrl: s.BaseURL, Model: s.Model, ApiKeySet: len(s.SealedKey) > 0,
		Dimension: int32(h.graph.Dimension()), EffectiveModel: effective,
	}
}
