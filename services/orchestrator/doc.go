// Package orchestrator is the orchestrator plane: one gRPC server serving
// alexus.reasoning.v1.ReasoningService (the heuristic stages, package
// reasoning) and alexus.orchestrator.v1.OrchestratorService (incident
// queries and the live transition feed, package incident), plus the
// consumer that drives every tenant's signal stream through those stages
// (package pipeline), the quality gate that checks each resolution a
// while after it (package gate), and the ticket sync that opens, moves and
// comments on incidents' Jira or ServiceNow tickets through the action
// plane (package ticketsync); both run as River jobs on the plane's own
// queues.
//
// New builds a Service from a Config and its Deps; Run serves until its
// context is done and then stops the consumer (letting the entries already
// running finish and leaving the rest pending), stops the gate and ticket
// jobs, ends the watch streams and stops the server.
package orchestrator
