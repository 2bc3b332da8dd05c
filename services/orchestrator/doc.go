// Package orchestrator is the orchestrator plane: one gRPC server serving
// alexus.reasoning.v1.ReasoningService (the heuristic stages, package
// reasoning) and alexus.orchestrator.v1.OrchestratorService (incident
// queries and the live transition feed, package incident), plus the
// consumer that drives every tenant's signal stream through those stages
// (package pipeline), and the quality gate that checks each resolution a
// while after it (package gate, River jobs on the plane's own queue).
//
// New builds a Service from a Config and its Deps; Run serves until its
// context is done and then stops the consumer (letting the entries already
// running finish and leaving the rest pending), ends the watch streams and
// stops the server.
package orchestrator
