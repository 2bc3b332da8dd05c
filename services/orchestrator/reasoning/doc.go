// Package reasoning is the orchestrator's ReasoningService: the three typed
// stages (classify, diagnose, check confidence) that the pipeline calls for
// every signal.
//
// This release has no model behind it. Every stage is a heuristic over what
// the signal itself says (labels, annotations, title, severity), written as
// plain functions over plain values (Classify, Diagnose, Decide) so they can
// be tested without a server; Handler only converts proto messages to and
// from those values. When a model is added, it sits in front of these
// functions and falls back to them, and every answer keeps saying which path
// produced it.
package reasoning
