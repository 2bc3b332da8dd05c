// Package mapping lets a tenant ingest alerts from any tool Alexus has no
// native normaliser for, by writing one CEL expression per signal field.
//
// A Rule is compiled once (Compile), which type-checks every expression and
// names the field and expression that is wrong; the compiled Rule is an
// ordinary normalise.Normaliser, so the ingest plane runs it exactly like a
// native source. Expressions see three variables:
//
//	payload  the request body parsed as JSON
//	headers  the forwarded request headers, lower-case names (map(string, string))
//	alert    the alert being mapped: one element of the Alerts list, or payload
//
// Evaluation is bounded by a CEL cost limit, so a hostile or careless rule
// cannot stall intake.
package mapping
