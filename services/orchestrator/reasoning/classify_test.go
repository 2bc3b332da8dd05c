package reasoning_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/services/orchestrator/reasoning"
)

const (
	incident = reasoningv1.Intent_INTENT_INCIDENT
	noise    = reasoningv1.Intent_INTENT_NOISE
	cmdb     = reasoningv1.Intent_INTENT_CMDB_QUESTION
	change   = reasoningv1.Intent_INTENT_CHANGE_NOTICE

	unspecified = signalv1.Severity_SEVERITY_UNSPECIFIED
	info        = signalv1.Severity_SEVERITY_INFO
	warning     = signalv1.Severity_SEVERITY_WARNING
	errorSev    = signalv1.Severity_SEVERITY_ERROR
	critical    = signalv1.Severity_SEVERITY_CRITICAL

	execute  = reasoningv1.Decision_DECISION_EXECUTE
	clarify  = reasoningv1.Decision_DECISION_CLARIFY
	escalate = reasoningv1.Decision_DECISION_ESCALATE
)

// sig builds a firing signal; desc may be empty.
func sig(sev signalv1.Severity, title, desc, resource string, labels map[string]string) reasoning.Signal {
	return reasoning.Signal{Firing: true, Severity: sev, Title: title, Description: desc, Resource: resource, Labels: labels}
}

func TestIntentRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		sig    reasoning.Signal
		intent reasoningv1.Intent
	}{
		// Test notifications.
		{"[TEST] prefix", sig(critical, "[TEST] Disk usage high on db-9", "", "db-9", nil), noise},
		{"test notification phrase", sig(critical, "Test notification for channel #oncall", "", "", nil), noise},
		{"test word one word apart", sig(critical, "Test webhook notification", "", "", nil), noise},
		{"notification test", sig(warning, "Notification test", "", "", nil), noise},
		{"please ignore", sig(critical, "Ignore me", "Created by hand, please ignore.", "", nil), noise},
		{"sample event label", sig(errorSev, "ValueError: bad input", "", "api", map[string]string{"sample_event": "yes"}), noise},
		{"synthetic test failing is not a test notification", sig(errorSev, "Synthetic test alert: checkout journey failing", "", "checkout", nil), incident},
		{"a failover test is not a test notification", sig(info, "Scheduled maintenance: DB failover test alert window", "", "db", nil), change},
		// Heartbeats.
		{"watchdog", sig(info, "Alerting is up", "", "", map[string]string{"alertname": "Watchdog"}), noise},
		{"dead mans switch name", sig(info, "DMS", "", "", map[string]string{"alertname": "DeadMansSwitch"}), noise},
		{"heartbeat phrase", sig(info, "cron-agent heartbeat", "Periodic heartbeat.", "cron-agent", nil), noise},
		{"missed heartbeat is an incident", sig(errorSev, "Heartbeat missed: backup-runner", "No ping for 30 minutes.", "backup-runner", nil), incident},
		// Questions.
		{"what depends on", sig(info, "what depends on kafka-prod?", "", "", nil), cmdb},
		{"who owns without question mark", sig(warning, "who owns the search cluster", "", "", nil), cmdb},
		{"question mark only", sig(warning, "Blast radius of a redis-cart restart?", "", "", nil), cmdb},
		{"can't is not a question", sig(errorSev, "Can't reach payments-db from api-3", "", "api-3", nil), incident},
		{"a heartbeat that times out is an incident", sig(warning, "Node heartbeat timeout on k8s-node-4", "", "k8s-node-4", nil), incident},
		{"an alert title is not a question", sig(warning, "Which queue is full: orders", "Queue orders is at 98% capacity.", "orders", nil), incident},
		// Changes.
		{"deploy started", sig(info, "Deployment of web 3.1 started", "", "web", nil), change},
		{"maintenance window", sig(warning, "Maintenance window for vpn-gw tonight", "Tunnels will be down during the window.", "vpn-gw", nil), change},
		{"change label", sig(info, "Firewall rule updated", "", "fw-1", map[string]string{"category": "change"}), change},
		{"feature flag", sig(info, "Feature flag dark-mode enabled for 10% of users", "", "web", nil), change},
		{"failed deploy is an incident", sig(info, "Deploy of api 2.0 failed", "Pods crash looping; rolled back.", "api", nil), incident},
		{"a deployment object in a bad state is an incident", sig(warning, "Deployment prod/api has not matched the expected number of replicas", "",
			"api", map[string]string{"alertname": "KubeDeploymentReplicasMismatch"}), incident},
		{"a lock not released is not a change", sig(warning, "Advisory lock not released on orders", "", "orders-db", nil), incident},
		{"rollback with errors is an incident", sig(info, "Rollout of billing 7 rolled back", "Error rate 9% on new pods.", "billing", nil), incident},
		// Other noise.
		{"routine report", sig(info, "Weekly backup summary report", "", "backup", nil), noise},
		{"printer", sig(warning, "Printer 2F paper jam", "", "printer-2f", nil), noise},
		{"expected flapping", sig(warning, "Disk latency flapping on ci-7", "Flapping is expected during nightly builds.", "ci-7", nil), noise},
		{"unexplained flapping is an incident", sig(warning, "VPN tunnel flapping", "Re-established 5 times.", "vpn", nil), incident},
		{"deprecation warning", sig(warning, "DeprecationWarning: pkg_resources is deprecated", "", "etl", nil), noise},
		{"insufficient data", sig(info, "lambda errors", "Insufficient Data: 1 datapoint was unknown.", "fn", nil), noise},
		{"non-production environment", sig(errorSev, "NullPointerException in Checkout", "", "checkout", map[string]string{"environment": "dev"}), noise},
		// Explicit label wins.
		{"explicit label", sig(critical, "Checkout is down", "", "", map[string]string{reasoning.IntentLabel: "noise"}), noise},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := reasoning.Classify(tc.sig)
			require.Equal(t, tc.intent, c.Intent, "rationale: %s", c.Rationale)
			if tc.intent != incident {
				require.Equal(t, info, c.Severity, "non-incidents are info")
			}
		})
	}
}

func TestSeverityRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sig  reasoning.Signal
		want signalv1.Severity
	}{
		// Outage evidence raises any prior.
		{"kernel panic beats a low vendor severity", sig(info, "Kernel panic on db-host-4", "", "db-host-4", nil), critical},
		{"service is down", sig(warning, "Service is down: billing-api", "", "billing-api", nil), critical},
		{"hyphenated name", sig(errorSev, "kafka-broker-down", "", "kafka", nil), critical},
		{"users blocked", sig(errorSev, "Login errors", "Users cannot log in from the mobile app.", "auth", nil), critical},
		{"all locations failing", sig(errorSev, "Health check failing from all locations", "", "api", nil), critical},
		{"data loss", sig(warning, "Replication broken", "Risk of data loss: WAL not shipped for 3h.", "pg", nil), critical},
		// Guards on "down" and "unavailable".
		{"hedged down", sig(warning, "No logs from cluster eu-1", "The log agent may be down.", "eu-1", nil), warning},
		{"monitoring unavailable", sig(critical, "Monitoring unavailable", "Agent lost connection.", "host-3", nil), warning},
		{"traffic down by a percentage", sig(warning, "Traffic down 30% on web", "", "web", nil), warning},
		{"slowed down is not an outage", sig(warning, "Checkout slowed down", "p99 latency 3s.", "checkout", nil), warning},
		{"back to normal clause is skipped", sig(warning, "search-api p99 latency 2s", "Latency is high; error rate is normal.", "search-api", nil), warning},
		// Failures.
		{"failure in headline raises warning", sig(warning, "Job nightly-export failed", "", "export", nil), errorSev},
		{"crash looping raises warning", sig(warning, "KubePodCrashLooping", "Pod x is crash looping.", "x", map[string]string{"alertname": "KubePodCrashLooping"}), errorSev},
		{"failure in detail raises info", sig(info, "Failover completed for orders-db", "Primary crashed; 30s of write errors.", "orders-db", nil), errorSev},
		{"failure in detail does not raise a warning risk", sig(warning, "TLS certificate expires in 5 days", "Renewal failed.", "api", nil), warning},
		{"spike reads a critical as error", sig(critical, "5xx spike on gateway", "", "gw", nil), errorSev},
		{"security event", sig(unspecified, "Malware detected on laptop-7", "", "laptop-7", nil), errorSev},
		// Degradation and pressure.
		{"latency raises info", sig(info, "blob-latency", "Storage latency above 400ms; uploads are slow.", "st1", nil), warning},
		{"hedged slowdown stays info", sig(info, "CPU throttling 30% on report-worker", "The worker may run slower than usual.", "rw", nil), info},
		{"resource pressure lowers error", sig(errorSev, "Heap usage above 92% on pricing", "Old gen at 93%.", "pricing", nil), warning},
		{"resource pressure with a failure keeps error", sig(errorSev, "Memory usage high on mq-1", "Publishers are blocked.", "mq-1", nil), errorSev},
		// Expiry horizon and reports.
		{"expiry within two weeks", sig(info, "Certificate for shop expires in 9 days", "", "shop", nil), warning},
		{"expiry weeks ahead", sig(warning, "Certificate for shop expires in 30 days", "", "shop", nil), info},
		{"cost report", sig(warning, "Budget alert: spend at 85% of forecast", "", "", nil), info},
		// Recoveries keep the fault's severity.
		{"recovery sent as info with a P2 label", reasoning.Signal{Severity: info, Title: "[Recovered] Elevated 5xx on api", Resource: "api",
			Labels: map[string]string{"priority": "P2"}}, errorSev},
		{"recovery sent as info reads the headline", reasoning.Signal{Severity: info, Title: "Checkout error burst", Description: "Resolved.", Resource: "checkout"}, errorSev},
		// Urgency is not a severity.
		{"urgency alone is no severity", sig(errorSev, "Alert", "", "svc", map[string]string{"urgency": "high"}), warning},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := reasoning.Classify(tc.sig)
			require.Equal(t, incident, c.Intent, "rationale: %s", c.Rationale)
			require.Equal(t, tc.want, c.Severity, "rationale: %s", c.Rationale)
		})
	}
}

func TestSeverityLabelConventions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		labels map[string]string
		want   signalv1.Severity
	}{
		{map[string]string{"severity": "Critical"}, critical},
		{map[string]string{"severity": "disaster"}, critical},
		{map[string]string{"priority": "P1"}, critical},
		{map[string]string{"sev": "SEV1"}, critical},
		{map[string]string{"level": "fatal"}, critical},
		{map[string]string{"severity": "major"}, errorSev},
		{map[string]string{"priority": "p2"}, errorSev},
		{map[string]string{"sev": "sev2"}, errorSev},
		{map[string]string{"severity": "4"}, errorSev},
		{map[string]string{"severity": "average"}, warning},
		{map[string]string{"priority": "P3"}, warning},
		{map[string]string{"level": "warning"}, warning},
		{map[string]string{"priority": "P5"}, info},
		{map[string]string{"severity": "not classified"}, info},
		{map[string]string{"sev": "SEV4"}, info},
	}
	for _, tc := range tests {
		t.Run(tc.want.String()+"/"+first(tc.labels), func(t *testing.T) {
			t.Parallel()
			// The title carries no severity words, so the label decides.
			c := reasoning.Classify(sig(unspecified, "Check payments-reconciler", "", "payments", tc.labels))
			require.Equal(t, tc.want, c.Severity, "rationale: %s", c.Rationale)
		})
	}
}

func TestConfidenceRules(t *testing.T) {
	t.Parallel()
	full := func(s reasoning.Signal) reasoning.Signal {
		s.Link = "https://monitor.example/alert/1"
		return s
	}
	tests := []struct {
		name     string
		sig      reasoning.Signal
		min, max float64
	}{
		{"a well-described alert without Alertmanager labels is confident",
			full(sig(errorSev, "Nightly ETL failed", "dbt exited with 2 failures.", "etl", nil)), 0.8, 0.95},
		{"an opsgenie-style alert with title, detail and resource is confident",
			sig(warning, "Redis latency above 50ms on cache-1", "GET p99 at 63ms.", "cache-1", nil), 0.8, 0.95},
		{"a bare title with no detail is unclear",
			sig(errorSev, "Alert", "", "", map[string]string{"urgency": "high"}), 0, 0.49},
		{"a bare rule name with no detail is unclear",
			sig(warning, "DatasourceNoData", "", "", map[string]string{"alertname": "DatasourceNoData"}), 0, 0.49},
		{"flapping is partial", sig(warning, "VPN tunnel flapping", "Re-established 5 times.", "vpn", nil), 0.5, 0.7},
		{"suspected attack is partial", sig(errorSev, "Login volume 5x normal", "Possible credential stuffing.", "auth", nil), 0.5, 0.7},
		{"lost monitoring is partial", sig(critical, "Host not reporting: batch-3", "No data for 10 minutes.", "batch-3", nil), 0.5, 0.7},
		{"an anomaly score alone is unclear", sig(info, "Unusual traffic on pos-12", "ML job anomaly score 81.", "pos-12", nil), 0, 0.49},
		{"a synthetic failure with no user impact is partial",
			sig(critical, "Synthetic monitor 'Signup' failed", "Step 3 failed: element not found.", "signup", nil), 0.5, 0.7},
		{"a conversational question is partial", sig(warning, "Can someone tell me who owns ledger-db?", "", "", nil), 0.5, 0.7},
		{"a plain cmdb question is clear", sig(warning, "What depends on ledger-db?", "", "", nil), 0.8, 0.95},
		{"a vendor test notification is clear", sig(critical, "Test notification", "", "", nil), 0.8, 0.95},
		{"a change that says nothing of what changed is partial", sig(info, "DeploymentStarted", "", "", nil), 0.5, 0.7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := reasoning.Classify(tc.sig)
			require.GreaterOrEqual(t, c.Confidence, tc.min, "rationale: %s", c.Rationale)
			require.LessOrEqual(t, c.Confidence, tc.max, "rationale: %s", c.Rationale)
		})
	}
}

// TestNewSignals runs ten realistic signals written for these rules, none
// of them from the triage set, through all three stages.
func TestNewSignals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		sig      reasoning.Signal
		intent   reasoningv1.Intent
		severity signalv1.Severity
		decision reasoningv1.Decision
	}{
		{
			name: "alertmanager redis down labelled warning is critical",
			sig: reasoning.Signal{Firing: true, Severity: warning, Title: "Redis instance cache-2 is down", Resource: "cache-2:6379",
				Description: "redis_up has been 0 for 5 minutes; session reads fail for every user.",
				Labels:      map[string]string{"alertname": "RedisDown", "severity": "warning", "instance": "cache-2:6379"},
				Annotations: map[string]string{"summary": "Redis instance cache-2 is down", "runbook_url": "https://runbooks.example/redis-down"}},
			intent: incident, severity: critical, decision: execute,
		},
		{
			name: "grafana test sent as critical is noise",
			sig: reasoning.Signal{Firing: true, Severity: critical, Title: "[TEST] Disk alert - please ignore", Resource: "grafana",
				Labels: map[string]string{"alertname": "Disk alert", "severity": "critical"}, Link: "https://grafana.example/alerting/1"},
			intent: noise, severity: info, decision: escalate,
		},
		{
			name:   "chat question about ownership",
			sig:    reasoning.Signal{Firing: true, Severity: warning, Title: "who owns the billing-api repo?", Labels: map[string]string{"channel": "#platform"}},
			intent: cmdb, severity: info, decision: escalate,
		},
		{
			name: "cloudevents failed deploy with crash loops",
			sig: reasoning.Signal{Firing: true, Severity: info, Title: "Deploy of search-api 4.2 failed", Resource: "search-api",
				Description: "New pods are crash looping; Argo rolled back to 4.1.", Labels: map[string]string{"ce_type": "com.example.ci.deploy"}},
			intent: incident, severity: errorSev, decision: execute,
		},
		{
			name: "aws maintenance notice that says the database will be unavailable",
			sig: reasoning.Signal{Firing: true, Severity: warning, Title: "AWS Health Event: Scheduled maintenance for RDS payments-db",
				Description: "payments-db will be unavailable for about 10 minutes during the maintenance window Sat 02:00 UTC."},
			intent: change, severity: info, decision: escalate,
		},
		{
			name: "datadog consumer lag sent as info is a warning",
			sig: reasoning.Signal{Firing: true, Severity: info, Title: "[Triggered on host:kafka-3] Consumer lag on orders-consumer rising", Resource: "kafka-3",
				Description: "orders-consumer is 90k messages behind.", Labels: map[string]string{"env": "prod"}},
			intent: incident, severity: warning, decision: execute,
		},
		{
			name: "new relic host not reporting sent as critical",
			sig: reasoning.Signal{Firing: true, Severity: critical, Title: "Host not reporting: worker-12", Resource: "worker-12",
				Description: "No data from the infrastructure agent for 10 minutes.", Labels: map[string]string{"priority": "CRITICAL"}},
			intent: incident, severity: warning, decision: clarify,
		},
		{
			name: "splunk weekly report is noise",
			sig: reasoning.Signal{Firing: true, Severity: info, Title: "Weekly firewall usage report", Resource: "splunk-sh-2",
				Labels: map[string]string{"search_name": "Weekly firewall usage report", "severity": "low"}, Annotations: map[string]string{"_raw": "Top talkers attached."}},
			intent: noise, severity: info, decision: escalate,
		},
		{
			name: "cloudwatch latency alarm with the default severity executes",
			sig: reasoning.Signal{Firing: true, Severity: warning, Title: "api-latency-p99", Resource: "api-alb",
				Description: "p99 latency 2.3s is above the threshold of 1s.", Labels: map[string]string{"alarm_name": "api-latency-p99"}},
			intent: incident, severity: warning, decision: execute,
		},
		{
			name: "zabbix recovery keeps the disaster severity",
			sig: reasoning.Signal{Firing: false, Severity: critical, Title: "PostgreSQL: Service is down", Resource: "pg-01",
				Description: "PostgreSQL is running again.", Labels: map[string]string{"severity": "Disaster"}},
			intent: incident, severity: critical, decision: escalate,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := reasoning.Classify(tc.sig)
			require.Equal(t, tc.intent, c.Intent, "intent; rationale: %s", c.Rationale)
			require.Equal(t, tc.severity, c.Severity, "severity; rationale: %s", c.Rationale)
			d := reasoning.Diagnose(tc.sig, c)
			dec := reasoning.Decide(c, d, defaultThresholds)
			require.Equal(t, tc.decision, dec.Decision, "decision; reason: %s; rationale: %s", dec.Reason, c.Rationale)
		})
	}
}

func first(m map[string]string) string {
	for k, v := range m {
		return k + "=" + v
	}
	return ""
}
