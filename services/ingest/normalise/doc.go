// Package normalise turns raw vendor payloads into Alexus signals.
//
// Each source has one Normaliser in a file of its own, registered under its
// source name in builtin (registry.go):
//
//	alertmanager    Prometheus Alertmanager webhooks        alertmanager.go
//	grafana         Grafana alerting webhooks               grafana.go
//	datadog         Datadog webhooks                        datadog.go
//	pagerduty       PagerDuty V3 webhooks                   pagerduty.go
//	opsgenie        Opsgenie outgoing webhooks              opsgenie.go
//	sentry          Sentry integration-platform webhooks    sentry.go
//	sns             AWS SNS HTTP(S) deliveries              sns.go
//	azure-monitor   Azure Monitor common alert schema       azure_monitor.go
//	gcp-monitoring  Google Cloud Monitoring webhooks        gcp_monitoring.go
//	newrelic        New Relic workflow webhooks             newrelic.go
//	cloudevents     CloudEvents 1.0 over HTTP               cloudevents.go
//	generic         Alexus's generic JSON format            generic.go
//	zabbix          Zabbix webhook media type               zabbix.go
//	elastic         Kibana alerting webhook connector       elastic.go
//	dynatrace       Dynatrace problem notifications         dynatrace.go
//	splunk          Splunk webhook alert action             splunk.go
//
// A normaliser is pure: it reads bytes and returns signals, touching no
// store, so it can be tested and fuzzed on its own. It never sets a
// signal's ID or tenant: the ingest plane assigns IDs when it claims the
// fingerprint, and the tenant comes only from the verified caller. A
// signal's link is always an absolute http(s) URL or empty.
//
// What more than one source needs lives in shared files, not in a source's
// own: fields.go reads payload fields (JSON scalars sent quoted or bare,
// epoch and RFC 3339 times, vendor ids, links, severity words and P1..P5
// priorities), labels.go builds labels and annotations (non-empty values,
// "key:value" tags, flattened JSON), and fingerprint.go holds the recipe
// every fingerprint is made with. A source file keeps only what is
// particular to its vendor. The tests share normalise_test.go likewise,
// whose requireStorableSignals every fuzz target asserts.
//
// Payloads are decoded with github.com/segmentio/encoding/json, which keeps
// encoding/json's behaviour and types (RawMessage, Number and Unmarshaler
// are the standard library's) but parses in one pass instead of validating
// first and decoding after: decoding is most of a normaliser's time, and
// BenchmarkNormalise measures each source's.
package normalise
