package knowledge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/alexus-platform/alexus/internal/audit"
	"github.com/alexus-platform/alexus/internal/textlimit"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
	"github.com/alexus-platform/alexus/internal/embed"
	"github.com/alexus-platform/alexus/internal/graph"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/knowledge/chunk"
)

// DefaultFileType is the type of a knowledge file's documents when the
// request names none.
const DefaultFileType = "runbook"

// fileRecord is one entry of tenant_rag_settings.knowledge_files.
type fileRecord struct {
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	SizeBytes int64     `json:"size_bytes"`
	SHA256    string    `json:"sha256"`
	Chunks    int       `json:"chunks"`
	LinkedCIs []string  `json:"linked_cis"`
	AddedAt   time.Time `json:"added_at"`
}

// fileID is the prefix of a file's document IDs: "file:<name>#<n>".
func fileID(name string) string { return "file:" + name }

func chunkIDs(name string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fileID(name) + "#" + strconv.Itoa(i+1)
	}
	return ids
}

// AddKnowledgeFile implements KnowledgeService. The chunks of a file added
// again under its name replace the old ones: the old documents are deleted
// first, so a shorter new version leaves none behind. Two adds of one name
// at the same moment may interleave; adding it once more settles it.
func (h *Handler) AddKnowledgeFile(ctx context.Context, req *knowledgev1.AddKnowledgeFileRequest) (*knowledgev1.AddKnowledgeFileResponse, error) {
	typ := req.GetType()
	if typ == "" {
		typ = DefaultFileType
	}
	chunks, err := chunk.Split(fileID(req.GetName()), req.GetContent(), chunk.Options{})
	if err != nil {
		if errors.Is(err, chunk.ErrTooLarge) || errors.Is(err, chunk.ErrNotUTF8) {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		return nil, h.statusOf(ctx, "chunk knowledge file", err)
	}
	cis, err := h.ciNames(ctx)
	if err != nil {
		return nil, h.statusOf(ctx, "list CIs", err)
	}
	matcher := chunk.NewMatcher(cis)
	nodes := make([]graph.Node, len(chunks))
	var edges []graph.Edge
	linked := map[string]bool{}
	for i, c := range chunks {
		title := req.GetName()
		if c.Title != "" {
			title = c.Title
		}
		nodes[i] = graph.Node{
			ID: c.ID, Kind: graph.KindDocument, Type: typ, Title: truncate(title, graph.MaxTitleLen), Body: c.Body,
			Properties: map[string]string{"file": req.GetName(), "anchor": c.Anchor, "chunk": strconv.Itoa(i + 1)},
		}
		for _, ci := range matcher.Find(c.Title + "\n" + c.Body) {
			edges = append(edges, graph.Edge{From: c.ID, To: ci, Type: graph.Affects})
			linked[ci] = true
		}
	}
	emb, err := h.embedderFor(ctx)
	if err != nil {
		return nil, h.statusOf(ctx, "embed knowledge file", err)
	}
	if err := embedAll(ctx, emb, nodes); err != nil {
		return nil, h.statusOf(ctx, "embed knowledge file", err)
	}

	files, err := h.files(ctx)
	if err != nil {
		return nil, h.statusOf(ctx, "read knowledge files", err)
	}
	if old, ok := findFile(files, req.GetName()); ok {
		if err := h.graph.DeleteNodes(ctx, chunkIDs(old.Name, old.Chunks)); err != nil {
			return nil, h.statusOf(ctx, "delete the old version's documents", err)
		}
	}
	if err := h.graph.UpsertNodes(ctx, nodes); err != nil {
		return nil, h.statusOf(ctx, "write knowledge file documents", err)
	}
	if len(edges) > 0 {
		if err := h.graph.UpsertEdges(ctx, edges); err != nil {
			return nil, h.statusOf(ctx, "link knowledge file documents", err)
		}
	}
	sum := sha256.Sum256([]byte(req.GetContent()))
	rec := fileRecord{
		Name: req.GetName(), Type: typ, SizeBytes: int64(len(req.GetContent())), SHA256: hex.EncodeToString(sum[:]),
		Chunks: len(chunks), LinkedCIs: sortedKeys(linked), AddedAt: time.Now().UTC(),
	}
	if err := h.saveFile(ctx, rec); err != nil {
		return nil, h.statusOf(ctx, "record knowledge file", err)
	}
	return &knowledgev1.AddKnowledgeFileResponse{File: fileToProto(rec)}, nil
}

// ListKnowledgeFiles implements KnowledgeService.
func (h *Handler) ListKnowledgeFiles(ctx context.Context, _ *knowledgev1.ListKnowledgeFilesRequest) (*knowledgev1.ListKnowledgeFilesResponse, error) {
	files, err := h.files(ctx)
	if err != nil {
		return nil, h.statusOf(ctx, "read knowledge files", err)
	}
	out := &knowledgev1.ListKnowledgeFilesResponse{}
	for _, f := range files {
		out.Files = append(out.Files, fileToProto(f))
	}
	return out, nil
}

// RemoveKnowledgeFile implements KnowledgeService.
func (h *Handler) RemoveKnowledgeFile(ctx context.Context, req *knowledgev1.RemoveKnowledgeFileRequest) (*knowledgev1.RemoveKnowledgeFileResponse, error) {
	files, err := h.files(ctx)
	if err != nil {
		return nil, h.statusOf(ctx, "read knowledge files", err)
	}
	old, ok := findFile(files, req.GetName())
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no knowledge file named %q", req.GetName())
	}
	if err := h.graph.DeleteNodes(ctx, chunkIDs(old.Name, old.Chunks)); err != nil {
		return nil, h.statusOf(ctx, "delete knowledge file documents", err)
	}
	if err := h.updateFiles(ctx, EventFileRemoved, req.GetName(), nil, func(fs []fileRecord) []fileRecord {
		return slices.DeleteFunc(fs, func(f fileRecord) bool { return f.Name == req.GetName() })
	}); err != nil {
		return nil, h.statusOf(ctx, "record knowledge file removal", err)
	}
	return &knowledgev1.RemoveKnowledgeFileResponse{}, nil
}

// ciNames maps each CI's name (its title) and ID, lower-cased by the
// matcher, to its ID, for finding the CIs a document names.
func (h *Handler) ciNames(ctx context.Context) (map[string]string, error) {
	names := map[string]string{}
	after := ""
	for {
		page, err := h.graph.ListNodes(ctx, graph.KindCI, after, graph.MaxListLimit)
		if err != nil {
			return nil, err
		}
		for _, n := range page {
			names[n.ID] = n.ID
			if n.Title != "" {
				names[n.Title] = n.ID
			}
		}
		if len(page) < graph.MaxListLimit {
			return names, nil
		}
		after = page[len(page)-1].ID
	}
}

// embedAll embeds nodes from their text with e, embedBatch at a time.
func embedAll(ctx context.Context, e embed.Embedder, nodes []graph.Node) error {
	for start := 0; start < len(nodes); start += embedBatch {
		part := nodes[start:min(start+embedBatch, len(nodes))]
		texts := make([]string, len(part))
		for i, n := range part {
			texts[i] = EmbeddingText(n)
		}
		vs, err := e.Embed(ctx, texts)
		if err != nil {
			return fmt.Errorf("%w: %w", errEmbed, err)
		}
		for i := range part {
			part[i].Embedding = vs[i]
		}
	}
	return nil
}

// files reads the tenant's knowledge files, by name.
func (h *Handler) files(ctx context.Context) ([]fileRecord, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	var raw []byte
	err = h.db.WithTenant(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT knowledge_files FROM tenant_rag_settings WHERE tenant_id = $1`, string(t)).Scan(&raw)
		if errors.Is(err, pgx.ErrNoRows) {
			raw = []byte("[]")
			return nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read knowledge files: %w", err)
	}
	var files []fileRecord
	if err := json.Unmarshal(raw, &files); err != nil {
		return nil, fmt.Errorf("decode knowledge files: %w", err)
	}
	return files, nil
}

// saveFile records rec, replacing the entry of its name.
func (h *Handler) saveFile(ctx context.Context, rec fileRecord) error {
	details := map[string]string{"type": rec.Type, "sha256": rec.SHA256, "chunks": strconv.Itoa(rec.Chunks)}
	return h.updateFiles(ctx, EventFileAdded, rec.Name, details, func(fs []fileRecord) []fileRecord {
		fs = slices.DeleteFunc(fs, func(f fileRecord) bool { return f.Name == rec.Name })
		return append(fs, rec)
	})
}

// Audit events of knowledge files; the subject is knowledge_file/<name>.
const (
	EventFileAdded   = "knowledge_file.added"
	EventFileRemoved = "knowledge_file.removed"
)

// updateFiles rewrites the tenant's knowledge files with change, under a
// row lock so concurrent changes of different files do not lose each other,
// and audits it as event on the file name.
func (h *Handler) updateFiles(ctx context.Context, event, name string, details map[string]string, change func([]fileRecord) []fileRecord) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	return h.db.WithTenant(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO tenant_rag_settings (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING`, string(t)); err != nil {
			return fmt.Errorf("create rag settings: %w", err)
		}
		var raw []byte
		if err := tx.QueryRow(ctx, `SELECT knowledge_files FROM tenant_rag_settings WHERE tenant_id = $1 FOR UPDATE`, string(t)).Scan(&raw); err != nil {
			return fmt.Errorf("lock knowledge files: %w", err)
		}
		var files []fileRecord
		if err := json.Unmarshal(raw, &files); err != nil {
			return fmt.Errorf("decode knowledge files: %w", err)
		}
		files = change(files)
		slices.SortFunc(files, func(a, b fileRecord) int { return strings.Compare(a.Name, b.Name) })
		out, err := json.Marshal(files)
		if err != nil {
			return fmt.Errorf("encode knowledge files: %w", err)
		}
		if _, err = tx.Exec(ctx, `UPDATE tenant_rag_settings SET knowledge_files = $2, updated_at = now() WHERE tenant_id = $1`, string(t), out); err != nil {
			return err
		}
		return audit.Append(ctx, tx, event, "knowledge_file/"+name, details)
	})
}

func findFile(files []fileRecord, name string) (fileRecord, bool) {
	for _, f := range files {
		if f.Name == name {
			return f, true
		}
	}
	return fileRecord{}, false
}

func fileToProto(f fileRecord) *knowledgev1.KnowledgeFile {
	return &knowledgev1.KnowledgeFile{
		Name: f.Name, Type: f.Type, SizeBytes: f.SizeBytes, Sha256: f.SHA256, Chunks: int32(f.Chunks),
		LinkedCis: f.LinkedCIs, AddedAt: timestamppb.New(f.AddedAt),
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string { return textlimit.Truncate(s, n) }
