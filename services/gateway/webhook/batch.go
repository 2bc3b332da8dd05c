package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"go.uber.org/zap"

	ingestv1 "github.com/alexus-platform/alexus/gen/alexus/ingest/v1"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/services/gateway/signature"
)

// BatchPattern is the route ServeBatch expects to be mounted on. The body
// is {"items": [<payload>, ...]}, each item one vendor payload of the
// source; authentication, body limits and error answers are those of
// Pattern.
const BatchPattern = "POST /v1/webhooks/{source}/batch"

// BatchRequest is the body of a batch delivery.
type BatchRequest struct {
	// Items are the payloads, each forwarded as its raw JSON bytes.
	Items []json.RawMessage `json:"items"`
}

// BatchItem is one item's answer: its results when it was taken, or why it
// was rejected.
type BatchItem struct {
	Index          int      `json:"index"`
	Results        []Result `json:"results"`
	RejectedReason string   `json:"rejected_reason"`
}

// BatchResponse is the 200 answer to a batch: one entry per item.
type BatchResponse struct {
	Items []BatchItem `json:"items"`
}

// ServeBatch handles one batch delivery: authenticate, read the items, send
// them to ingest on one IngestBatch stream, answer with each item's verdict.
// Items ingest rejects are reported in the answer, not as an HTTP error.
func (h *Handler) ServeBatch(w http.ResponseWriter, r *http.Request) {
	id, body, log, ok := h.admit(w, r)
	if !ok {
		return
	}
	if r.PathValue("source") == signature.SourceSNS {
		// SNS posts one signed message at a time; a batch of them could not
		// carry their signatures.
		h.refuseBatch(w, log, refuse(http.StatusBadRequest, "invalid_argument", "sns messages are posted one at a time to /v1/webhooks/sns"))
		return
	}
	if source := r.PathValue("source"); ticket.IsSystem(source) {
		// A ticket change is not an alert: it goes to the action plane,
		// one change per request, as the remote sends it.
		h.refuseBatch(w, log, refuse(http.StatusBadRequest, "invalid_argument", "%s changes are posted one at a time to /v1/webhooks/%s", source, source))
		return
	}
	var req BatchRequest
	if err := json.Unmarshal(body, &req); err != nil {
		h.refuseBatch(w, log, refuse(http.StatusBadRequest, "invalid_argument", "body is not a JSON object of the form {\"items\": [...]}"))
		return
	}
	if len(req.Items) == 0 {
		h.refuseBatch(w, log, refuse(http.StatusBadRequest, "invalid_argument", "items must be a non-empty array"))
		return
	}

	res, err := h.ingestBatch(tenant.WithIdentity(r.Context(), id), r.PathValue("source"), forwardedHeaders(r.Header), req.Items)
	if err != nil {
		herr := fromStatus(err)
		log.Warn("ingest refused webhook batch", zap.Int("status", herr.status), zap.String("code", herr.code), zap.String("limit", herr.reason), zap.String("reason", herr.msg))
		writeError(w, herr)
		return
	}
	out := BatchResponse{Items: make([]BatchItem, 0, len(res.GetItems()))}
	rejected := 0
	for _, it := range res.GetItems() {
		if it.GetRejectedReason() != "" {
			rejected++
		}
		out.Items = append(out.Items, BatchItem{
			Index:          int(it.GetIndex()),
			Results:        toResults(it.GetResults()),
			RejectedReason: it.GetRejectedReason(),
		})
	}
	log.Info("accepted webhook batch", zap.Int("items", len(out.Items)), zap.Int("rejected", rejected), zap.Int("bytes", len(body)))
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) refuseBatch(w http.ResponseWriter, log reqLog, herr *httpError) {
	log.Info("refused webhook batch", zap.Int("status", herr.status), zap.String("reason", herr.msg))
	writeError(w, herr)
}

// ingestBatch sends the items on one IngestBatch stream and returns
// ingest's answer.
func (h *Handler) ingestBatch(ctx context.Context, source string, headers map[string]string, items []json.RawMessage) (*ingestv1.IngestBatchResponse, error) {
	// Cancelling ends the stream if it is abandoned on a send error.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := h.deps.Ingest.IngestBatch(ctx)
	if err != nil {
		return nil, err
	}
	for _, item := range items {
		err := stream.Send(&ingestv1.IngestBatchRequest{Item: &ingestv1.IngestRequest{
			Source:  source,
			Payload: item,
			Headers: headers,
		}})
		if errors.Is(err, io.EOF) {
			// Ingest ended the stream; its status comes from CloseAndRecv.
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return stream.CloseAndRecv()
}
