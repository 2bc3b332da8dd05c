package pipeline

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
)

// Router picks where an escalation goes.
type Router interface {
	// Route returns the route for an incident on resource and how it was
	// chosen; an empty route means the tenant configured none.
	Route(ctx context.Context, resource string) (route, reason string, err error)
}

// Owners reads the owners of a CI from the tenant's knowledge graph; the
// orchestrator's knowledge.Handler implements it in process.
type Owners interface {
	GetOwners(ctx context.Context, req *knowledgev1.GetOwnersRequest) (*knowledgev1.GetOwnersResponse, error)
}

// OwnerRouter routes an escalation to the owner of the affected CI in the
// tenant's knowledge graph, else to the tenant's default route.
type OwnerRouter struct {
	Owners Owners
	// DefaultRoute returns the tenant's default route ("" for none).
	DefaultRoute func(ctx context.Context) (string, error)
}

// maxCIID is the knowledge graph's limit on node IDs.
const maxCIID = 200

// Route implements Router.
func (r OwnerRouter) Route(ctx context.Context, resource string) (string, string, error) {
	if ci := strings.TrimSpace(resource); ci != "" && len(ci) <= maxCIID && r.Owners != nil {
		res, err := r.Owners.GetOwners(ctx, &knowledgev1.GetOwnersRequest{Id: ci})
		switch {
		case status.Code(err) == codes.NotFound, status.Code(err) == codes.InvalidArgument:
			// No such CI, or a resource that cannot name one (a control
			// character, say): the default route takes it.
		case err != nil:
			return "", "", fmt.Errorf("read the owners of %q: %w", ci, err)
		case len(res.GetOwners()) > 0:
			o := res.GetOwners()[0]
			reason := "owner of " + ci
			if o.GetTitle() != "" {
				reason += " (" + o.GetTitle() + ")"
			}
			return o.GetId(), reason, nil
		}
	}
	route, err := r.DefaultRoute(ctx)
	if err != nil {
		return "", "", err
	}
	if route == "" {
		return "", "none", nil
	}
	return route, "default route", nil
}
