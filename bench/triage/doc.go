// Command triage is Alexus's triage evaluation. It reads a labelled set of
// raw vendor webhooks (testdata/triage/cases.json, composed by this
// program's -generate mode from the catalogue in catalogue.go), normalises
// each with the ingest plane's normaliser registry, runs the orchestrator's
// reasoning stages on the first signal exactly as the pipeline calls them
// (ClassifyIncident, Diagnose, CheckConfidence, in process, under a tenant
// identity), and reports how often intent, severity and decision match the
// labels, overall and per source, with confusion matrices and the misses.
//
// See README.md beside this file for the flags and the figures, and
// testdata/triage/README.md for the labelling guide.
package main
