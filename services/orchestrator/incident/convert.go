package incident

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
)

// IncidentToProto converts inc for the API.
func IncidentToProto(inc Incident) *orchestratorv1.Incident {
	out := &orchestratorv1.Incident{
		Id:                inc.ID,
		SignalId:          inc.SignalID,
		Fingerprint:       inc.Fingerprint,
		Source:            inc.Source,
		Title:             inc.Title,
		Resource:          inc.Resource,
		Status:            inc.Status.Proto(),
		Severity:          inc.Severity,
		Intent:            inc.Intent,
		Decision:          inc.Decision,
		Stage:             inc.Stage.Proto(),
		OccurrenceCount:   inc.OccurrenceCount,
		CreatedAt:         timestamppb.New(inc.CreatedAt),
		LastSeenAt:        timestamppb.New(inc.LastSeenAt),
		ResolutionQuality: inc.ResolutionQuality.Proto(),
	}
	if inc.ResolvedAt != nil {
		out.ResolvedAt = timestamppb.New(*inc.ResolvedAt)
	}
	return out
}

// TransitionToProto converts tr for the API.
func TransitionToProto(tr Transition) *orchestratorv1.Transition {
	return &orchestratorv1.Transition{
		IncidentId: tr.IncidentID,
		Sequence:   tr.Sequence,
		Stage:      tr.Stage.Proto(),
		Summary:    tr.Summary,
		Details:    tr.Details,
		At:         timestamppb.New(tr.At),
	}
}

// WatchResponse is the live-feed message for r.
func WatchResponse(r Result) *orchestratorv1.WatchIncidentsResponse {
	return &orchestratorv1.WatchIncidentsResponse{
		Transition: TransitionToProto(r.Transition),
		Incident:   IncidentToProto(r.Incident),
	}
}
