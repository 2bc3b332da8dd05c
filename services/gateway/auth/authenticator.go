package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"connectrpc.com/connect"
	"go.uber.org/zap"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// Authenticator turns an Authorization header into an admitted identity.
type Authenticator struct {
	verifier *Verifier
	tenants  *Tenants
	log      *zap.Logger
}

// NewAuthenticator combines a Verifier and a Tenants.
func NewAuthenticator(v *Verifier, ts *Tenants, log *zap.Logger) (*Authenticator, error) {
	if v == nil || ts == nil {
		return nil, errors.New("authenticator: verifier and tenants are required")
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &Authenticator{verifier: v, tenants: ts, log: log}, nil
}

// BearerToken extracts the token of an "Authorization: Bearer <token>"
// header value. The scheme is case-insensitive (RFC 9110).
func BearerToken(authorization string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// Authenticate verifies the bearer JWT in authorization and admits its
// tenant. Errors are ErrUnauthenticated (wrapped), *NotProvisionedError, or
// a store failure.
func (a *Authenticator) Authenticate(ctx context.Context, authorization string) (tenant.Identity, error) {
	token, ok := BearerToken(authorization)
	if !ok {
		return tenant.Identity{}, fmt.Errorf("%w: missing bearer token", ErrUnauthenticated)
	}
	return a.AuthenticateToken(ctx, token)
}

// AuthenticateToken is Authenticate for a token already taken out of its
// header.
func (a *Authenticator) AuthenticateToken(ctx context.Context, token string) (tenant.Identity, error) {
	id, err := a.verifier.Verify(ctx, token)
	if err != nil {
		return tenant.Identity{}, err
	}
	if err := a.tenants.Admit(ctx, id); err != nil {
		return tenant.Identity{}, err
	}
	return id, nil
}

// ConnectError maps an Authenticate error to the Connect error a caller
// sees: UNAUTHENTICATED, PERMISSION_DENIED for an unprovisioned tenant,
// CANCELED or DEADLINE_EXCEEDED when the caller's own context ended while the
// tenant was being checked, and UNAVAILABLE when the store failed. A store
// error that merely wraps a context error of its own (a connect_timeout in
// the Postgres URL, say) under a live caller context is still UNAVAILABLE.
func ConnectError(err error) *connect.Error {
	var (
		np   *NotProvisionedError
		gone *callerGoneError
	)
	switch {
	case errors.Is(err, ErrUnauthenticated):
		return connect.NewError(connect.CodeUnauthenticated, err)
	case errors.As(err, &np):
		return connect.NewError(connect.CodePermissionDenied, np)
	case errors.As(err, &gone):
		// The caller gave up or ran out of time, not the store: UNAVAILABLE
		// would report an outage that did not happen.
		if errors.Is(gone.cause, context.DeadlineExceeded) {
			return connect.NewError(connect.CodeDeadlineExceeded, errors.New("deadline exceeded while checking the tenant"))
		}
		return connect.NewError(connect.CodeCanceled, errors.New("call was canceled while checking the tenant"))
	default:
		// The store error may name hosts or SQL; the caller learns only
		// that the lookup failed and may retry.
		return connect.NewError(connect.CodeUnavailable, errors.New("tenant lookup is unavailable, retry later"))
	}
}

// Interceptor returns the Connect interceptor that authenticates every
// unary and streaming call on the handler side and puts the identity in the
// context. Client-side calls pass through untouched.
func (a *Authenticator) Interceptor() connect.Interceptor { return interceptor{a} }

type interceptor struct{ a *Authenticator }

func (i interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if req.Spec().IsClient {
			return next(ctx, req)
		}
		ctx, err := i.admit(ctx, req.Spec().Procedure, req.Header().Get("Authorization"))
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (i interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (i interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		ctx, err := i.admit(ctx, conn.Spec().Procedure, conn.RequestHeader().Get("Authorization"))
		if err != nil {
			return err
		}
		return next(ctx, conn)
	}
}

func (i interceptor) admit(ctx context.Context, procedure, authorization string) (context.Context, error) {
	id, err := i.a.Authenticate(ctx, authorization)
	if err != nil {
		cerr := ConnectError(err)
		// The reason is logged, never the token; a store failure is logged
		// in full because the caller only sees UNAVAILABLE.
		i.a.log.Info("refused call", zap.String("procedure", procedure),
			zap.String("code", cerr.Code().String()), zap.Error(err))
		return ctx, cerr
	}
	return tenant.WithIdentity(ctx, id), nil
}
