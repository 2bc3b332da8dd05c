package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	ingestv1 "github.com/alexus-platform/alexus/gen/alexus/ingest/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/services/gateway/auth"
	"github.com/alexus-platform/alexus/services/gateway/signature"
)

// Pattern is the route the handler expects to be mounted on; it reads the
// source from the {source} wildcard.
const Pattern = "POST /v1/webhooks/{source}"

// sourcePattern mirrors the IngestRequest.source rule, so a bad source is a
// 400 here without reading the body.
var sourcePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// statusClientClosedRequest is the non-standard 499 that the Connect
// protocol maps CANCELED to; a vendor that hung up never reads it.
const statusClientClosedRequest = 499

// Retry hints for vendors: how long to wait after UNAVAILABLE and, unless
// ingest says otherwise, after RESOURCE_EXHAUSTED.
const (
	unavailableRetryAfter = 5
	exhaustedRetryAfter   = 1
)

// The ingest plane's refusals under load: RESOURCE_EXHAUSTED with a
// google.rpc.ErrorInfo of this domain and one of these reasons. A tenant over
// its rate is the vendor's doing and gets 429; a busy replica is ours and
// gets 503. Both carry Retry-After from the status's RetryInfo.
const (
	ingestErrorDomain = "alexus.ingest"
	reasonRateLimited = "RATE_LIMITED"
	reasonIngestBusy  = "INGEST_BUSY"
	reasonTenantBusy  = "TENANT_BUSY"
	reasonBatchTooBig = "BATCH_TOO_LARGE"
)

// maxForwardedHeaders matches the IngestRequest.headers limit.
const maxForwardedHeaders = 64

// Forwarded request headers: the few exact names and vendor prefixes that
// normalisers and signature checks may need. Credentials (Authorization,
// Cookie) are never forwarded.
var (
	forwardExact    = []string{"content-type", "user-agent", "x-request-id"}
	forwardPrefixes = []string{"x-amz-sns-", "x-datadog-", "x-grafana-", "x-pagerduty-", "sentry-hook-", "x-hub-signature", "x-signature", "ce-"}
)

// Config sets the handler's limits.
type Config struct {
	// MaxBodyBytes caps the payload; larger bodies get 413.
	MaxBodyBytes int64
	// TokenCacheTTL is how long a resolved integration token is trusted
	// without asking Postgres again; a revoked token stops working within
	// it. 0 asks every time.
	TokenCacheTTL time.Duration
}

// Deps are the handler's collaborators.
type Deps struct {
	Log *zap.Logger
	// Auth verifies tenant JWTs and admits their tenants.
	Auth *auth.Authenticator
	// DB resolves integration tokens.
	DB *store.DB
	// Ingest receives the payloads; dialled with rpc.Dial so the identity
	// in the context is signed into every call.
	Ingest ingestv1.IngestServiceClient
	// Keys unseals integrations' signing secrets; nil when no key ring is
	// configured, and then a delivery for an integration with a secret is
	// answered 503 (the fault is ours) rather than let through unchecked.
	Keys *secretbox.Keyring
	// Tickets receives the changes the tenant's Jira and ServiceNow send
	// back (sources jira and servicenow); nil answers them 404.
	Tickets TicketReceiver
	// SNS verifies AWS SNS message signatures; nil means the production
	// verifier (certificates only from sns.<region>.amazonaws.com).
	SNS *signature.SNSVerifier
}

// TicketReceiver is the action plane's side of inbound ticket changes.
type TicketReceiver interface {
	ReceiveTicketEvent(ctx context.Context, in *actionsv1.ReceiveTicketEventRequest, opts ...grpc.CallOption) (*actionsv1.ReceiveTicketEventResponse, error)
}

// Handler serves Pattern.
type Handler struct {
	cfg    Config
	deps   Deps
	tokens *tokenCache
	now    func() time.Time
	// reqLog is deps.Log for reqLog, which adds two frames.
	reqLog *zap.Logger
}

// New returns a Handler.
func New(cfg Config, deps Deps) (*Handler, error) {
	if cfg.MaxBodyBytes <= 0 {
		return nil, fmt.Errorf("webhook: max body bytes %d must be positive", cfg.MaxBodyBytes)
	}
	if deps.Auth == nil || deps.DB == nil || deps.Ingest == nil {
		return nil, errors.New("webhook: auth, db and ingest are required")
	}
	if deps.Log == nil {
		deps.Log = zap.NewNop()
	}
	if deps.SNS == nil {
		sns, err := signature.NewSNSVerifier(signature.SNSConfig{})
		if err != nil {
			return nil, fmt.Errorf("webhook: %w", err)
		}
		deps.SNS = sns
	}
	return &Handler{
		cfg: cfg, deps: deps, tokens: newTokenCache(cfg.TokenCacheTTL, deps.Keys), now: time.Now,
		reqLog: deps.Log.WithOptions(zap.AddCallerSkip(2)),
	}, nil
}

// Result is one alert's verdict in the 202 answer.
type Result struct {
	SignalID    string `json:"signal_id"`
	Fingerprint string `json:"fingerprint"`
	Verdict     string `json:"verdict"`
	Title       string `json:"title"`
}

// Response is the 202 answer.
type Response struct {
	Results []Result `json:"results"`
}

// ErrorBody is every error answer.
type ErrorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
	// Reason names the limit that refused the delivery (RATE_LIMITED,
	// INGEST_BUSY, TENANT_BUSY) when ingest named one.
	Reason string `json:"reason,omitempty"`
}

// httpError is a refusal with its status and code.
type httpError struct {
	status     int
	code       string
	reason     string
	msg        string
	retryAfter int
}

func (e *httpError) Error() string { return e.msg }

func refuse(status int, code, format string, args ...any) *httpError {
	return &httpError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// ServeHTTP handles one delivery: authenticate, check the body, forward to
// ingest, answer.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, source := r.Context(), r.PathValue("source")
	id, payload, log, ok := h.admit(w, r)
	if !ok {
		return
	}
	if ticket.IsSystem(source) {
		h.serveTicket(w, r, id, source, payload, log)
		return
	}
	if source == signature.SourceSNS {
		// SNS signs every message; control messages are answered here and
		// never reach ingest.
		if done := h.serveSNS(w, r, payload, log); done {
			return
		}
	}

	res, err := h.deps.Ingest.Ingest(tenant.WithIdentity(ctx, id), &ingestv1.IngestRequest{
		Source:  source,
		Payload: payload,
		Headers: forwardedHeaders(r.Header),
	})
	if err != nil {
		herr := fromStatus(err)
		log.Warn("ingest refused webhook", zap.Int("status", herr.status), zap.String("code", herr.code), zap.String("limit", herr.reason), zap.String("reason", herr.msg))
		writeError(w, herr)
		return
	}
	out := Response{Results: toResults(res.GetResults())}
	log.Debug("accepted webhook", zap.Int("results", len(out.Results)), zap.Int("bytes", len(payload)))
	writeJSON(w, http.StatusAccepted, out)
}

// admit authenticates the caller and reads the body. When it refuses, it
// has logged and answered, and ok is false. The logger it returns carries
// the source and tenant.
func (h *Handler) admit(w http.ResponseWriter, r *http.Request) (id tenant.Identity, body []byte, log reqLog, ok bool) {
	source := r.PathValue("source")
	log = reqLog{log: h.reqLog, source: source}

	id, in, herr := h.authenticate(r.Context(), r, source)
	if herr == nil {
		log.tenant = id.Tenant
		body, herr = h.readPayload(w, r)
	}
	if herr == nil && in != nil && in.secret != nil && source != signature.SourceSNS {
		herr = h.checkSignature(r, source, in, body)
	}
	if herr != nil {
		log.Info("refused webhook", zap.Int("status", herr.status), zap.String("reason", herr.msg))
		writeError(w, herr)
		return tenant.Identity{}, nil, log, false
	}
	return id, body, log, true
}

// reqLog writes a delivery's lines with its source and, once known, its
// tenant. Unlike zap's With, it encodes those fields only for lines that
// are written: most deliveries write none at the production level.
type reqLog struct {
	// log skips reqLog's two frames, so lines name their real caller.
	log    *zap.Logger
	source string
	tenant tenant.ID
}

func (l reqLog) Debug(msg string, fields ...zap.Field) { l.write(zapcore.DebugLevel, msg, fields) }
func (l reqLog) Info(msg string, fields ...zap.Field)  { l.write(zapcore.InfoLevel, msg, fields) }
func (l reqLog) Warn(msg string, fields ...zap.Field)  { l.write(zapcore.WarnLevel, msg, fields) }

func (l reqLog) write(lvl zapcore.Level, msg string, fields []zap.Field) {
	ce := l.log.Check(lvl, msg)
	if ce == nil {
		return
	}
	all := make([]zap.Field, 0, 2+len(fields))
	all = append(all, zap.String("source", l.source))
	if l.tenant != "" {
		all = append(all, zap.String("tenant_id", string(l.tenant)))
	}
	ce.Write(append(all, fields...)...)
}

// toResults converts ingest's results to their JSON form.
func toResults(res []*ingestv1.IngestResult) []Result {
	out := make([]Result, 0, len(res))
	for _, r := range res {
		out = append(out, Result{
			SignalID:    r.GetSignalId(),
			Fingerprint: r.GetFingerprint(),
			Verdict:     verdictWord(r.GetVerdict()),
			Title:       r.GetTitle(),
		})
	}
	return out
}

// authenticate resolves the caller, and the integration when the caller
// used an integration token (nil for a JWT). The source is checked here
// too, after authentication, so an anonymous caller learns nothing about
// which sources exist.
func (h *Handler) authenticate(ctx context.Context, r *http.Request, source string) (tenant.Identity, *integration, *httpError) {
	token, herr := credential(r)
	if herr != nil {
		return tenant.Identity{}, nil, herr
	}
	var (
		id tenant.Identity
		in *integration
	)
	// A token with provision's prefix is an integration token; anything else
	// is taken for a JWT.
	if strings.HasPrefix(token, provision.TokenPrefix) {
		resolved, err := h.tokens.resolve(ctx, h.deps.DB, token)
		switch {
		case errors.Is(err, provision.ErrUnknownToken):
			return tenant.Identity{}, nil, refuse(http.StatusUnauthorized, "unauthenticated", "unknown or revoked integration token")
		case err != nil:
			h.deps.Log.Error("resolving integration token failed", zap.Error(err))
			return tenant.Identity{}, nil, &httpError{status: http.StatusServiceUnavailable, code: "unavailable", msg: "token lookup is unavailable, retry later", retryAfter: unavailableRetryAfter}
		case resolved.source != source:
			return tenant.Identity{}, nil, refuse(http.StatusForbidden, "permission_denied", "integration token is for source %q, not %q", resolved.source, source)
		}
		in = &resolved
		id = tenant.Identity{Tenant: resolved.tenant, Subject: "integration:" + resolved.source}
	} else {
		var err error
		id, err = h.deps.Auth.AuthenticateToken(ctx, token)
		if err != nil {
			cerr := auth.ConnectError(err)
			herr := &httpError{code: cerr.Code().String(), msg: cerr.Message()}
			switch cerr.Code() {
			case connect.CodeUnauthenticated:
				herr.status = http.StatusUnauthorized
			case connect.CodePermissionDenied:
				herr.status = http.StatusForbidden
			case connect.CodeCanceled:
				// The vendor hung up; nothing failed on our side. 499 is
				// what the Connect protocol uses for CANCELED.
				herr.status = statusClientClosedRequest
			case connect.CodeDeadlineExceeded:
				herr.status = http.StatusGatewayTimeout
			default:
				h.deps.Log.Error("admitting webhook tenant failed", zap.Error(err))
				herr.status, herr.retryAfter = http.StatusServiceUnavailable, unavailableRetryAfter
			}
			return tenant.Identity{}, nil, herr
		}
	}
	if !sourcePattern.MatchString(source) {
		return tenant.Identity{}, nil, refuse(http.StatusBadRequest, "invalid_argument", "source %q is not a valid source name", source)
	}
	return id, in, nil
}

// TokenQueryParam is the query parameter that may carry an integration
// token, for vendors that can set neither an Authorization header nor
// basic-auth credentials in the URL (Azure Monitor action groups, Sentry
// internal integrations).
const TokenQueryParam = "token"

// credential finds the caller's token: a bearer token (a JWT or an
// integration token); the password of HTTP basic auth, which must be an
// integration token (AWS SNS and Google Cloud Monitoring put credentials
// in the endpoint URL as user:password@); or the token query parameter,
// which must be an integration token too, since a JWT in a URL would end
// up in proxies' logs.
func credential(r *http.Request) (string, *httpError) {
	authz := r.Header.Get("Authorization")
	if token, ok := auth.BearerToken(authz); ok {
		return token, nil
	}
	if _, password, ok := r.BasicAuth(); ok {
		if !strings.HasPrefix(password, provision.TokenPrefix) {
			return "", refuse(http.StatusUnauthorized, "unauthenticated", "basic auth must carry an integration token as its password")
		}
		return password, nil
	}
	if authz != "" {
		return "", refuse(http.StatusUnauthorized, "unauthenticated", "authorization must be a bearer token or basic auth")
	}
	if token := r.URL.Query().Get(TokenQueryParam); token != "" {
		if !strings.HasPrefix(token, provision.TokenPrefix) {
			return "", refuse(http.StatusUnauthorized, "unauthenticated", "only an integration token may be given in the URL")
		}
		return token, nil
	}
	return "", refuse(http.StatusUnauthorized, "unauthenticated", "missing bearer token")
}

// checkSignature verifies the vendor's signature of body with the
// integration's signing secret (package signature documents each
// source's scheme). A missing, bad or stale signature is 401.
func (h *Handler) checkSignature(r *http.Request, source string, in *integration, body []byte) *httpError {
	err := signature.Verify(source, in.secret, r.Header, body, h.now())
	switch signature.HTTPStatus(err) {
	case http.StatusOK:
		return nil
	case http.StatusUnauthorized:
		return refuse(http.StatusUnauthorized, "unauthenticated", "%v", err)
	default:
		h.deps.Log.Error("checking webhook signature failed", zap.String("tenant_id", string(in.tenant)), zap.String("integration_id", in.id), zap.Error(err))
		return &httpError{status: http.StatusServiceUnavailable, code: "unavailable", msg: "signature check is unavailable, retry later", retryAfter: unavailableRetryAfter}
	}
}

// SNSConfirmation is the answer to an SNS control message.
type SNSConfirmation struct {
	// Type is the SNS message type that was handled.
	Type string `json:"type"`
	// TopicArn is the topic concerned.
	TopicArn string `json:"topic_arn"`
	// Confirmed says whether the subscription was confirmed.
	Confirmed bool `json:"confirmed"`
}

// serveSNS verifies an SNS message's signature, whatever the caller's
// credentials, and handles control messages: a SubscriptionConfirmation is
// confirmed by visiting its SubscribeURL (only on an allowed SNS host), an
// UnsubscribeConfirmation is acknowledged; neither is ingested. done is
// false for a verified Notification, which the caller forwards to ingest.
func (h *Handler) serveSNS(w http.ResponseWriter, r *http.Request, body []byte, log reqLog) (done bool) {
	msg, err := h.deps.SNS.Verify(r.Context(), body)
	if err != nil {
		herr := refuse(http.StatusUnauthorized, "unauthenticated", "%v", err)
		if signature.HTTPStatus(err) != http.StatusUnauthorized {
			herr = &httpError{status: http.StatusServiceUnavailable, code: "unavailable", msg: "SNS signing certificate is unavailable, retry later", retryAfter: unavailableRetryAfter}
		}
		log.Info("refused SNS message", zap.Int("status", herr.status), zap.String("reason", err.Error()))
		writeError(w, herr)
		return true
	}
	switch msg.Type {
	case signature.SNSNotification:
		return false
	case signature.SNSSubscriptionConfirmation:
		if err := h.deps.SNS.ConfirmSubscription(r.Context(), msg); err != nil {
			log.Warn("confirming SNS subscription failed", zap.String("topic_arn", msg.TopicArn), zap.Error(err))
			writeError(w, &httpError{status: http.StatusServiceUnavailable, code: "unavailable", msg: "confirming the subscription failed; SNS will resend it", retryAfter: unavailableRetryAfter})
			return true
		}
		log.Info("confirmed SNS subscription", zap.String("topic_arn", msg.TopicArn))
		writeJSON(w, http.StatusOK, SNSConfirmation{Type: msg.Type, TopicArn: msg.TopicArn, Confirmed: true})
	default:
		log.Info("acknowledged SNS control message", zap.String("type", msg.Type), zap.String("topic_arn", msg.TopicArn))
		writeJSON(w, http.StatusOK, SNSConfirmation{Type: msg.Type, TopicArn: msg.TopicArn})
	}
	return true
}

// acceptedMediaType reports whether a body of media type mt may be posted
// to source. JSON, and JSON-based types such as
// application/cloudevents+json, always; text/plain only where a vendor
// documents it for JSON bodies: AWS SNS deliveries, and CloudEvents in
// binary mode (a ce-specversion header), whose body is the event's data.
func acceptedMediaType(source, mt string, hdr http.Header) bool {
	switch {
	case mt == "application/json", strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"):
		return true
	case mt == "text/plain":
		return source == "sns" || hdr.Get("Ce-Specversion") != ""
	}
	return false
}

// readPayload checks the media type and reads at most MaxBodyBytes.
func (h *Handler) readPayload(w http.ResponseWriter, r *http.Request) ([]byte, *httpError) {
	ct := r.Header.Get("Content-Type")
	mt, err := ct, error(nil)
	// The common case, which parses to itself, without the parser's map.
	if ct != "application/json" {
		mt, _, err = mime.ParseMediaType(ct)
	}
	if err != nil || !acceptedMediaType(r.PathValue("source"), mt, r.Header) {
		return nil, refuse(http.StatusUnsupportedMediaType, "unsupported_media_type", "content type must be application/json (or application/*+json)")
	}
	if r.ContentLength > h.cfg.MaxBodyBytes {
		return nil, refuse(http.StatusRequestEntityTooLarge, "payload_too_large", "body is larger than %d bytes", h.cfg.MaxBodyBytes)
	}
	body, err := readBody(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes), r.ContentLength)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, refuse(http.StatusRequestEntityTooLarge, "payload_too_large", "body is larger than %d bytes", h.cfg.MaxBodyBytes)
	case err != nil:
		return nil, refuse(http.StatusBadRequest, "invalid_argument", "reading body failed")
	case len(body) == 0:
		return nil, refuse(http.StatusBadRequest, "invalid_argument", "body is empty")
	}
	return body, nil
}

// readBody reads body to its end. When the request declares its length
// (at most the limit, checked by the caller), the buffer is sized for it
// up front, instead of io.ReadAll growing and copying it several times.
func readBody(body io.Reader, contentLength int64) ([]byte, error) {
	if contentLength <= 0 {
		return io.ReadAll(body)
	}
	// One byte more than declared, so that seeing EOF needs no growth; a
	// body longer than declared still reads whole, growing as io.ReadAll
	// does (net/http stops at the declared length anyway).
	buf := make([]byte, 0, contentLength+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// forwardedHeaders picks the allow-listed headers, lower-cased, in a stable
// order so the cap drops the same ones every time.
func forwardedHeaders(hdr http.Header) map[string]string {
	// Only the allowed names are sorted: the order among them, and so which
	// ones the cap drops, is the same as when sorting them all.
	var names []string
	for k := range hdr {
		if forwarded(k) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	out := make(map[string]string, min(len(names), maxForwardedHeaders))
	for _, k := range names {
		if len(out) == maxForwardedHeaders {
			break
		}
		lk := strings.ToLower(k)
		if _, dup := out[lk]; dup {
			// Two spellings of one name (only possible for a Header built
			// by hand); the first in sorted order wins, as before.
			continue
		}
		v := hdr[k]
		if len(v) == 1 {
			out[lk] = v[0]
		} else {
			out[lk] = strings.Join(v, ", ")
		}
	}
	return out
}

// forwarded reports whether the header name k, in any case, is allowed
// through, without lower-casing every header of every request.
func forwarded(k string) bool {
	for _, e := range forwardExact {
		if strings.EqualFold(k, e) {
			return true
		}
	}
	for _, p := range forwardPrefixes {
		if len(k) >= len(p) && strings.EqualFold(k[:len(p)], p) {
			return true
		}
	}
	return false
}

// fromStatus maps ingest's gRPC status to the answer a vendor sees.
func fromStatus(err error) *httpError {
	st := status.Convert(err)
	herr := &httpError{code: connect.Code(st.Code()).String(), msg: st.Message()}
	switch st.Code() {
	case codes.InvalidArgument:
		herr.status = http.StatusBadRequest
	case codes.Unauthenticated:
		herr.status = http.StatusUnauthorized
	case codes.PermissionDenied:
		herr.status = http.StatusForbidden
	case codes.NotFound:
		herr.status = http.StatusNotFound
	case codes.FailedPrecondition:
		// The request is well-formed but cannot be taken in the state things
		// are in (e.g. an SNS subscription confirmation).
		herr.status = http.StatusUnprocessableEntity
	case codes.ResourceExhausted:
		herr.status, herr.retryAfter = http.StatusTooManyRequests, retryAfter(st, exhaustedRetryAfter)
		switch herr.reason = ingestReason(st); herr.reason {
		case reasonIngestBusy, reasonTenantBusy:
			herr.status = http.StatusServiceUnavailable
		case reasonBatchTooBig:
			// Retrying the same batch never helps: split it.
			herr.status, herr.retryAfter = http.StatusRequestEntityTooLarge, 0
		}
	case codes.Unavailable:
		herr.status, herr.retryAfter = http.StatusServiceUnavailable, retryAfter(st, unavailableRetryAfter)
	default:
		// Anything else is the plane's fault, not the vendor's; the message
		// may carry internals, so the vendor gets a generic one.
		herr.status, herr.msg = http.StatusBadGateway, "ingest failed"
	}
	return herr
}

// ingestReason returns the reason of the status's ErrorInfo from the ingest
// plane, or "" when it has none.
func ingestReason(st *status.Status) string {
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok && ei.GetDomain() == ingestErrorDomain {
			return ei.GetReason()
		}
	}
	return ""
}

// retryAfter returns the whole seconds of the status's RetryInfo detail,
// rounded up and at least 1, or def when there is none.
func retryAfter(st *status.Status, def int) int {
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			// A GCRA limiter often asks for a few milliseconds; Retry-After
			// has whole seconds, so that is 1.
			return max(int(math.Ceil(ri.GetRetryDelay().AsDuration().Seconds())), 1)
		}
	}
	return def
}

// verdictWords maps every known verdict to its word, so answers do not
// build the same few strings on every delivery.
var verdictWords = func() map[ingestv1.Verdict]string {
	m := make(map[ingestv1.Verdict]string, len(ingestv1.Verdict_name))
	for n := range ingestv1.Verdict_name {
		v := ingestv1.Verdict(n)
		m[v] = strings.ToLower(strings.TrimPrefix(v.String(), "VERDICT_"))
	}
	return m
}()

// verdictWord turns VERDICT_ACCEPTED into "accepted".
func verdictWord(v ingestv1.Verdict) string {
	if w, ok := verdictWords[v]; ok {
		return w
	}
	return strings.ToLower(strings.TrimPrefix(v.String(), "VERDICT_"))
}

func writeError(w http.ResponseWriter, e *httpError) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="alexus"`)
	}
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	writeJSON(w, e.status, ErrorBody{Error: e.msg, Code: e.code, Reason: e.reason})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Cannot happen with the answer types here; answer plainly anyway.
		status, body = http.StatusInternalServerError, []byte(`{"error":"internal error","code":"internal"}`)
	}
	// The trailing newline json.Encoder used to write, so bodies are as
	// before; with the length known, the answer goes out in one write,
	// not chunked.
	body = append(body, '\n')
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
