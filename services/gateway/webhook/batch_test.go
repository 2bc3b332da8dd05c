package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	ingestv1 "github.com/alexus-platform/alexus/gen/alexus/ingest/v1"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/gateway/planetest"
	"github.com/alexus-platform/alexus/services/gateway/webhook"
)

// batchIngest stands in for the ingest plane's IngestBatch with per-item
// verdicts: a JSON object is accepted (duplicate when it has "dup"), any
// other item is rejected, and more than maxItems items fail the call.
type batchIngest struct {
	ingestv1.IngestServiceClient
	maxItems int
}

func (f batchIngest) IngestBatch(ctx context.Context, _ ...grpc.CallOption) (grpc.ClientStreamingClient[ingestv1.IngestBatchRequest, ingestv1.IngestBatchResponse], error) {
	return &batchStream{ctx: ctx, maxItems: f.maxItems}, nil
}

type batchStream struct {
	grpc.ClientStream
	ctx      context.Context
	maxItems int
	reqs     []*ingestv1.IngestBatchRequest
}

func (s *batchStream) Send(req *ingestv1.IngestBatchRequest) error {
	s.reqs = append(s.reqs, req)
	return nil
}

func (s *batchStream) CloseAndRecv() (*ingestv1.IngestBatchResponse, error) {
	if len(s.reqs) > s.maxItems {
		st, err := status.Newf(codes.ResourceExhausted, "batch has more than %d items", s.maxItems).
			WithDetails(&errdetails.ErrorInfo{Reason: "BATCH_TOO_LARGE", Domain: "alexus.ingest"})
		if err != nil {
			return nil, err
		}
		return nil, st.Err()
	}
	id, _ := tenant.FromContext(s.ctx)
	res := &ingestv1.IngestBatchResponse{}
	for i, req := range s.reqs {
		item := &ingestv1.IngestBatchItem{Index: int32(i)}
		var obj map[string]any
		if json.Unmarshal(req.GetItem().GetPayload(), &obj) != nil || obj == nil {
			item.RejectedReason = "payload is not a JSON object"
		} else {
			verdict := ingestv1.Verdict_VERDICT_ACCEPTED
			if _, ok := obj["dup"]; ok {
				verdict = ingestv1.Verdict_VERDICT_DUPLICATE
			}
			names := make([]string, 0, len(req.GetItem().GetHeaders()))
			for k := range req.GetItem().GetHeaders() {
				names = append(names, k)
			}
			slices.Sort(names)
			item.Results = []*ingestv1.IngestResult{{
				SignalId:    "sig-" + req.GetItem().GetSource(),
				Fingerprint: strings.Join(names, ","),
				Verdict:     verdict,
				Title:       planetest.Who(id),
			}}
		}
		res.Items = append(res.Items, item)
	}
	return res, nil
}

type batchAnswer struct {
	status     int
	header     http.Header
	items      []webhook.BatchItem
	err        webhook.ErrorBody
	rawBody    string
	retryAfter string
}

// batchURL serves ServeBatch on its pattern with the given ingest client
// (the in-test planes when nil) and returns alertmanager's batch URL.
func (b *bundle) batchURL(t *testing.T, ingest ingestv1.IngestServiceClient) string {
	t.Helper()
	if ingest == nil {
		ingest = planetest.Start(t).Ingest
	}
	h, err := webhook.New(webhook.Config{MaxBodyBytes: maxBody}, webhook.Deps{Log: b.log, Auth: b.authn, DB: b.db.DB, Ingest: ingest})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.HandleFunc(webhook.BatchPattern, h.ServeBatch)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/v1/webhooks/alertmanager/batch"
}

func (b *bundle) postBatch(t *testing.T, url, authorization, contentType, body string) batchAnswer {
	t.Helper()
	req, err := http.NewRequestWithContext(b.ctx, http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", "Alertmanager/0.27")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	a := batchAnswer{status: res.StatusCode, header: res.Header, rawBody: string(raw), retryAfter: res.Header.Get("Retry-After")}
	require.Equal(t, "application/json", res.Header.Get("Content-Type"), "every answer is JSON: %s", raw)
	if res.StatusCode == http.StatusOK {
		var ok webhook.BatchResponse
		require.NoError(t, json.Unmarshal(raw, &ok))
		a.items = ok.Items
	} else {
		require.NoError(t, json.Unmarshal(raw, &a.err))
		require.NotEmpty(t, a.err.Error)
		require.NotEmpty(t, a.err.Code)
	}
	return a
}

func TestBatchAnswersEachItem(t *testing.T) {
	t.Parallel()
	b := setup(t)
	url := b.batchURL(t, batchIngest{maxItems: 3})

	a := b.postBatch(t, url, "Bearer "+b.token, "application/json", `{"items": [{"version":"4"}, "not an alert", {"dup":true}]}`)
	require.Equal(t, http.StatusOK, a.status, a.rawBody)
	result := func(verdict string) []webhook.Result {
		return []webhook.Result{{SignalID: "sig-alertmanager", Fingerprint: "content-type,user-agent", Verdict: verdict, Title: "acme/integration:alertmanager"}}
	}
	require.Equal(t, []webhook.BatchItem{
		{Index: 0, Results: result("accepted")},
		{Index: 1, Results: []webhook.Result{}, RejectedReason: "payload is not a JSON object"},
		{Index: 2, Results: result("duplicate")},
	}, a.items)
	require.Contains(t, a.rawBody, `"rejected_reason":""`, "the field is always present")

	// More items than ingest takes: 413 without Retry-After, since sending
	// the same batch again can never work.
	a = b.postBatch(t, url, "Bearer "+b.token, "application/json", `{"items": [{}, {}, {}, {}]}`)
	require.Equal(t, http.StatusRequestEntityTooLarge, a.status, a.rawBody)
	require.Equal(t, "resource_exhausted", a.err.Code)
	require.Empty(t, a.header.Get("Retry-After"))
}

func TestBatchUsesOneStreamWithTheCallersIdentity(t *testing.T) {
	t.Parallel()
	b := setup(t)
	url := b.batchURL(t, nil)

	// The in-test plane answers one item per message, naming the identity.
	a := b.postBatch(t, url, "Bearer "+b.issuer.Token(t, "acme"), "application/json", `{"items": [1, {"a": [2]}, null]}`)
	require.Equal(t, http.StatusOK, a.status, a.rawBody)
	require.Len(t, a.items, 3)
	for i, it := range a.items {
		require.Equal(t, i, it.Index)
		require.Equal(t, "acme/user-1", it.RejectedReason)
	}
}

func TestBatchRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	url := b.batchURL(t, nil)
	authz := "Bearer " + b.token

	a := b.postBatch(t, url, "", "application/json", `{"items": [{}]}`)
	require.Equal(t, http.StatusUnauthorized, a.status)
	require.Equal(t, "unauthenticated", a.err.Code)
	require.NotEmpty(t, a.header.Get("WWW-Authenticate"))

	a = b.postBatch(t, url, authz, "application/xml", `{"items": [{}]}`)
	require.Equal(t, http.StatusUnsupportedMediaType, a.status)

	for _, body := range []string{`not json`, `{"items": [{}]} trailing`, `{}`, `{"items": null}`, `{"items": []}`, `{"items": {}}`, `[{}]`} {
		a = b.postBatch(t, url, authz, "application/json", body)
		require.Equal(t, http.StatusBadRequest, a.status, body)
		require.Equal(t, "invalid_argument", a.err.Code, body)
	}

	a = b.postBatch(t, url, authz, "application/json", `{"items": [{}, `+string(planetest.FailPayload(codes.Unavailable, 0))+`]}`)
	require.Equal(t, http.StatusServiceUnavailable, a.status, a.rawBody)
	require.Equal(t, "unavailable", a.err.Code)
	require.Equal(t, "5", a.retryAfter)
}
