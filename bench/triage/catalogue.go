package main

// The catalogue of labelled signals. Each entry is written from what an
// on-call engineer would conclude reading the alert, following the guide in
// testdata/triage/README.md, never from what the heuristic answers. The
// expected decision is not written here: it follows from intent, severity,
// status, runbook and clarity by the guide's rule (expectedDecision).

type lbl = map[string]string

const rb = "https://runbooks.acme.example/"

var alertmanagerCases = []spec{
	{ID: "am-01", Name: "APIHighErrorRate", Title: "payments-api 5xx ratio is 23% over the last 5 minutes", Desc: "More than a fifth of requests to payments-api return 5xx; card payments are failing for customers.", Resource: "payments-api", Sev: "critical", Labels: lbl{"service": "payments-api", "namespace": "payments", "team": "payments"}, Runbook: rb + "payments-api/high-error-rate",
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "customer-facing payment failures at 23%, runbook attached"},
	{ID: "am-02", Name: "KubePodCrashLooping", Title: "Pod checkout/checkout-api-7d9f8b-x2kq is crash looping", Desc: "Pod checkout/checkout-api-7d9f8b-x2kq (checkout-api) is in waiting state (reason: CrashLoopBackOff), restarted 9 times in 10 minutes.", Resource: "checkout-api-7d9f8b-x2kq", Sev: "warning", Labels: lbl{"namespace": "checkout", "pod": "checkout-api-7d9f8b-x2kq", "container": "checkout-api"}, Runbook: "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "one pod crash looping is a failure (error), though the vendor label says warning"},
	{ID: "am-03", Name: "Watchdog", Title: "An alert that should always be firing to certify that Alertmanager is working properly.", Desc: "This is an alert meant to ensure that the entire alerting pipeline is functional.", Sev: "none", Labels: lbl{"prometheus": "monitoring/k8s"},
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "the kube-prometheus Watchdog heartbeat"},
	{ID: "am-04", Name: "NodeFilesystemAlmostOutOfSpace", Title: "Filesystem on /dev/nvme1n1 at db-replica-2:9100 has only 4.8% available space left.", Desc: "Filesystem /var/lib/postgresql is 95.2% full and growing about 2% an hour.", Resource: "db-replica-2:9100", Sev: "warning", Labels: lbl{"device": "/dev/nvme1n1", "mountpoint": "/var/lib/postgresql", "job": "node-exporter"}, Runbook: "https://runbooks.prometheus-operator.dev/runbooks/node/nodefilesystemalmostoutofspace",
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "disk nearly full but not yet failing"},
	{ID: "am-05", Name: "PostgresPrimaryDown", Title: "ledger-db primary is down", Desc: "pg_up has been 0 for ledger-db-0 for 2 minutes; writes to the ledger are failing and no replica has been promoted.", Resource: "ledger-db-0", Sev: "critical", Labels: lbl{"cluster": "ledger-db", "team": "core-banking"},
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "primary database down, writes failing; no runbook so a person must lead"},
	{ID: "am-06", Name: "HighRequestLatency", Title: "search-api p99 latency is 2.4s (SLO 800ms)", Desc: "p99 latency for search-api has exceeded the SLO for 15 minutes; error rate is normal.", Resource: "search-api", Sev: "warning", Labels: lbl{"service": "search-api", "slo": "latency"},
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "latency SLO breach with no errors is a degradation"},
	{ID: "am-07", Name: "DeploymentRolloutStarted", Title: "Deployment of api v2.3 started", Desc: "Argo CD started syncing api to revision v2.3.0 (3 replicas, rolling update).", Resource: "api", Sev: "info", Labels: lbl{"namespace": "prod", "app": "api"},
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "a deploy announcement, not a fault"},
	{ID: "am-08", Name: "KubeJobFailed", Title: "Job billing/nightly-invoice-export failed to complete", Desc: "Job billing/nightly-invoice-export failed; 0 of 1 completions after 3 retries. Invoices for 2026-02-28 were not exported.", Resource: "nightly-invoice-export", Sev: "warning", Labels: lbl{"namespace": "billing", "job_name": "nightly-invoice-export"},
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "a batch job failed and its output is missing"},
	{ID: "am-09", Name: "TargetDown", Title: "100% of the redis-sessions/redis-sessions targets in cache namespace are down.", Desc: "All scrape targets of redis-sessions are unreachable; session lookups time out.", Resource: "redis-sessions", Sev: "critical", Labels: lbl{"job": "redis-sessions", "namespace": "cache"}, Resolved: true,
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "recovery of a critical outage; nothing left to do"},
	{ID: "am-10", Name: "CPUThrottlingHigh", Title: "27% throttling of CPU in namespace reporting for container report-worker", Desc: "Throttling is above 25%; the report worker may run slower than usual.", Resource: "report-worker", Sev: "info", Labels: lbl{"namespace": "reporting", "container": "report-worker"},
		Intent: "incident", Severity: "info", Clarity: "clear", Why: "informational resource hint; nothing to act on now"},
	{ID: "am-11", Name: "InfoInhibitor", Title: "Info-level alert inhibition.", Desc: "This alert is used to inhibit info alerts; by itself it is not very useful.", Sev: "none", Labels: lbl{"namespace": "monitoring"},
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "the kube-prometheus inhibitor alert"},
}

var grafanaCases = []spec{
	{ID: "gf-01", Name: "Checkout availability", Title: "Checkout is unavailable: success rate 41% over 5m", Desc: "Synthetic and real checkouts fail with 503 from the edge; customers cannot pay.", Resource: "checkout-web", Sev: "critical", Labels: lbl{"team": "storefront", "service": "checkout-web"}, Runbook: rb + "checkout/unavailable",
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "customer-facing outage with runbook"},
	{ID: "gf-02", Name: "TestAlert", Title: "Notification test", Desc: "", Sev: "", Labels: lbl{"instance": "Grafana"},
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "Grafana contact point 'Test' button payload"},
	{ID: "gf-03", Name: "Kafka consumer lag", Title: "Consumer group ledger-writer lag is 1.2M messages and rising", Desc: "ledger-writer has fallen behind by 1.2M messages on topic payments.events; balances shown to customers are up to 20 minutes stale.", Resource: "ledger-writer", Sev: "warning", Labels: lbl{"topic": "payments.events", "consumergroup": "ledger-writer"},
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "stale customer balances is a functional failure, beyond a warning"},
	{ID: "gf-04", Name: "Memory usage high", Title: "Memory usage on grafana-renderer-1 above 85%", Desc: "Memory at 87% for 10 minutes.", Resource: "grafana-renderer-1", Sev: "warning", Labels: lbl{"host": "grafana-renderer-1"},
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "resource pressure on an internal tool"},
	{ID: "gf-05", Name: "Disk IO flapping", Title: "Disk IO wait on build-agent-4 above 30%", Desc: "Flapping: this alert fired and resolved 14 times in the last hour, each time for under a minute. Build agents are known to spike during cache warm-up.", Resource: "build-agent-4", Sev: "warning", Labels: lbl{"host": "build-agent-4", "env": "ci"},
		Intent: "noise", Severity: "info", Clarity: "partial", Why: "flapping short spikes on a CI agent, expected behaviour"},
	{ID: "gf-06", Name: "Auth error rate", Title: "auth-service errors: 12% of logins failing with 500", Desc: "Login attempts fail with HTTP 500 (upstream LDAP timeout).", Resource: "auth-service", Sev: "error", Labels: lbl{"service": "auth-service"}, Runbook: rb + "auth/login-errors",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "partial login failures"},
	{ID: "gf-07", Name: "Certificate expiry", Title: "TLS certificate for api.acme.example expires in 6 days", Desc: "cert-manager failed to renew; the certificate expires on 2026-03-07.", Resource: "api.acme.example", Sev: "warning", Labels: lbl{"issuer": "letsencrypt-prod"},
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "a risk with days of lead time"},
	{ID: "gf-08", Name: "Release annotation", Title: "Release 2026.03.01 rolled out to production", Desc: "Grafana annotation from CI: web, api and worker updated to 2026.03.01.", Resource: "production", Sev: "info", Labels: lbl{"type": "annotation"},
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "release notice"},
	{ID: "gf-09", Name: "Auth error rate", Title: "auth-service errors: 12% of logins failing with 500", Desc: "Error rate back under 1%.", Resource: "auth-service", Sev: "error", Labels: lbl{"service": "auth-service"}, Resolved: true,
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "recovery of the login errors"},
	{ID: "gf-10", Name: "DatasourceNoData", Title: "DatasourceNoData", Desc: "", Resource: "", Sev: "", Labels: lbl{"datasource_uid": "P1809F7CD0C75ACF3", "ref_id": "A", "rulename": "Queue depth"},
		Intent: "incident", Severity: "warning", Clarity: "unclear", Why: "no data from a datasource: could be monitoring or the queue, nothing says which"},
}

var datadogCases = []spec{
	{ID: "dd-01", Name: "Payments API is down", Title: "Payments API health check failing in all regions", Desc: "%%%\nHTTP check on https://api.acme.example/payments/health has failed from 6/6 locations for 3 minutes.\n@pagerduty-payments\n%%%", Resource: "payments-api-prod", Sev: "error/P1", Labels: lbl{"env": "prod", "service": "payments-api", "team": "payments"},
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "global health check failure of payments: outage"},
	{ID: "dd-02", Name: "[TEST] High CPU on web hosts", Title: "[TEST] High CPU on web hosts", Desc: "This is a test notification sent from the monitor's 'Test Notifications' button.", Resource: "web-1", Sev: "error/P2", Labels: lbl{"env": "prod"},
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "Datadog test notification; vendor severity is meaningless"},
	{ID: "dd-03", Name: "Elevated 5xx on checkout", Title: "Elevated 5xx on checkout-api", Desc: "5xx rate is 4.2% (threshold 2%) on checkout-api over the last 10 minutes.", Resource: "checkout-api", Sev: "error/P2", Labels: lbl{"env": "prod", "service": "checkout-api"},
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "elevated errors, not total failure"},
	{ID: "dd-04", Name: "Disk usage high", Title: "Disk usage above 80% on es-data-3", Desc: "system.disk.in_use is 0.83 on /data.", Resource: "es-data-3", Sev: "warning/P3", Labels: lbl{"env": "prod", "role": "elasticsearch"},
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "capacity warning"},
	{ID: "dd-05", Name: "Deployment tracking", Title: "Deployment of cart-service v5.8.2 started by github-actions", Desc: "Deployment event: cart-service v5.8.2 canary at 10%.", Resource: "cart-service", Sev: "info", Labels: lbl{"env": "prod", "service": "cart-service", "deploy": "v5.8.2"},
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "deploy event forwarded as an alert"},
	{ID: "dd-06", Name: "Orders DB replication lag", Title: "Replication lag on orders-db-replica-1 is 340s", Desc: "Read replica is 5+ minutes behind; order history pages show stale data.", Resource: "orders-db-replica-1", Sev: "info", Labels: lbl{"env": "prod", "service": "orders-db"},
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "vendor type says info but stale reads are a real degradation"},
	{ID: "dd-07", Name: "Elevated 5xx on checkout", Title: "Elevated 5xx on checkout-api", Desc: "5xx rate back to 0.3%.", Resource: "checkout-api", Sev: "error/P2", Labels: lbl{"env": "prod", "service": "checkout-api"}, Resolved: true,
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "recovery notification"},
	{ID: "dd-08", Name: "No data: log ingestion", Title: "No data from log pipeline for cluster k8s-prod-eu", Desc: "No logs have been received from k8s-prod-eu for 15 minutes; the agent DaemonSet may be down.", Resource: "k8s-prod-eu", Sev: "warning/P3", Labels: lbl{"env": "prod", "kube_cluster_name": "k8s-prod-eu"},
		Intent: "incident", Severity: "warning", Clarity: "partial", Why: "observability gap, cause uncertain"},
	{ID: "dd-09", Name: "Anomalous login volume", Title: "Anomaly: login volume 4x the usual for this hour", Desc: "Possible credential stuffing; failed logins 12k/min from 300 IPs.", Resource: "auth-service", Sev: "error/P2", Labels: lbl{"env": "prod", "service": "auth-service", "security": "true"},
		Intent: "incident", Severity: "error", Clarity: "partial", Why: "suspected attack, needs a person to confirm"},
	{ID: "dd-10", Name: "Synthetic check: status page", Title: "Status page synthetic check slow", Desc: "Response time 1.9s (threshold 1.5s).", Resource: "status.acme.example", Sev: "warning/P4", Labels: lbl{"env": "prod"},
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "slow but working"},
}

var pagerdutyCases = []spec{
	{ID: "pd-01", Title: "[FIRING:1] Card authorisation failing for all issuers", Desc: "Authorisation requests to all card issuers time out; no card payments succeed since 11:47 UTC.", Resource: "Card Payments", Sev: "P1",
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "total payment outage"},
	{ID: "pd-02", Title: "Test incident - please ignore", Desc: "Created by Dana to test the new escalation policy.", Resource: "Platform Sandbox", Sev: "P1",
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "a test incident, vendor P1 notwithstanding"},
	{ID: "pd-03", Title: "Elevated error rate on notification-service (7% of pushes failing)", Resource: "Notification Service", Sev: "P2",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "partial failure of push notifications"},
	{ID: "pd-04", Title: "Search indexing delayed by 25 minutes", Desc: "Product search results lag catalogue updates.", Resource: "Search", Sev: "P3",
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "degradation with no data loss"},
	{ID: "pd-05", Title: "Scheduled maintenance: orders-db failover test 02:00-02:30 UTC", Desc: "Planned change CHG-20931; brief write pause expected.", Resource: "Orders DB", Sev: "P4",
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "planned maintenance window"},
	{ID: "pd-06", Title: "Website down: www.acme.example returns 502", Resource: "Website", Sev: "low",
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "site down, despite low urgency on the service"},
	{ID: "pd-07", Title: "Elevated error rate on notification-service (7% of pushes failing)", Resource: "Notification Service", Sev: "P2", Resolved: true,
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "resolution of pd-03's incident"},
	{ID: "pd-08", Title: "Backup job for ledger-db failed", Desc: "pgBackRest full backup exited 1 (archive-push timeout).", Resource: "Core Banking", Sev: "high",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "failed backup is an error with no immediate customer impact"},
	{ID: "pd-09", Title: "Alert", Resource: "Default Service", Sev: "",
		Intent: "incident", Severity: "warning", Clarity: "unclear", Why: "a title with no content; nothing to go on"},
	{ID: "pd-10", Title: "Queue depth on email-sender above 10k", Desc: "Outgoing emails are delayed by about 10 minutes.", Resource: "Email", Sev: "P3", Variant: "incident.acknowledged",
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "acknowledged degradation; someone already owns it"},
}

var opsgenieCases = []spec{
	{ID: "og-01", Title: "Checkout is down for all customers - HTTP 503 on every request", Desc: "Load balancer reports 0 healthy targets for checkout-web.", Resource: "checkout-web", Sev: "P3",
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "text says full outage though priority is the default P3"},
	{ID: "og-02", Title: "Test alert", Desc: "This is a test alert created from the Opsgenie integration page.", Resource: "", Sev: "P3",
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "integration test alert"},
	{ID: "og-03", Title: "Heartbeat expired: prod-cron-runner", Desc: "The heartbeat prod-cron-runner has not been pinged for 10 minutes.", Resource: "prod-cron-runner", Sev: "P2",
		Intent: "incident", Severity: "error", Clarity: "partial", Why: "an expired heartbeat means the cron runner stopped; not the pipeline self-test"},
	{ID: "og-04", Title: "RabbitMQ node rabbit@mq-2 memory alarm", Desc: "Memory high watermark reached; publishers on mq-2 are blocked.", Resource: "mq-2", Sev: "P2",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "blocked publishers are a functional failure"},
	{ID: "og-05", Title: "SSL certificate for shop.acme.example expires in 20 days", Resource: "shop.acme.example", Sev: "P4",
		Intent: "incident", Severity: "info", Clarity: "clear", Why: "early reminder, no action needed yet"},
	{ID: "og-06", Title: "Kubernetes upgrade of cluster k8s-prod-us to 1.31 begins at 14:00 UTC", Desc: "Node pools will be drained one at a time; change CHG-21077.", Resource: "k8s-prod-us", Sev: "P5",
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "announced upgrade"},
	{ID: "og-07", Title: "Redis latency above 50ms on cache-sessions", Desc: "GET p99 at 63ms; app response times slightly up.", Resource: "cache-sessions", Sev: "P3",
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "latency degradation"},
	{ID: "og-08", Title: "Data loss risk: ledger WAL archiving failing for 2h", Desc: "WAL segments are not being archived; point-in-time recovery is impossible beyond 09:50 UTC.", Resource: "ledger-db", Sev: "P1",
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "recoverability of the ledger is lost"},
	{ID: "og-09", Title: "RabbitMQ node rabbit@mq-2 memory alarm", Desc: "Memory back below watermark.", Resource: "mq-2", Sev: "P2", Resolved: true,
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "closed alert"},
	{ID: "og-10", Title: "API gateway 429s increased", Desc: "Partner X is hitting rate limits; 429 responses at 8% of their traffic.", Resource: "api-gateway", Sev: "P3", Labels: lbl{"partner": "x-corp"},
		Intent: "incident", Severity: "warning", Clarity: "partial", Why: "may be expected throttling of one partner"},
}

var sentryCases = []spec{
	{ID: "se-01", Title: "KeyError: 'cart_id'", Desc: "checkout.views.pay", Resource: "checkout-api", Sev: "error", Labels: lbl{"server_name": "web-7", "release": "checkout@2.4.1"},
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "new exception in the payment view"},
	{ID: "se-02", Title: "Exception: This is an example Python exception", Desc: "raven.scripts.runner in main", Resource: "internal-tools", Sev: "error", Labels: lbl{"sample_event": "yes"},
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "Sentry's sample event for testing an alert rule"},
	{ID: "se-03", Name: "Checkout error burst", Title: "Checkout error burst", Desc: "312 events in the last 5 minutes\nFilter: level:error", Resource: "checkout-api", Sev: "critical", Variant: "metric",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "burst of errors; not a full outage"},
	{ID: "se-04", Title: "OperationalError: could not connect to server: Connection refused", Desc: "ledger.db.pool in acquire", Resource: "ledger-api", Sev: "fatal", Labels: lbl{"server_name": "ledger-api-2"},
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "API cannot reach its database"},
	{ID: "se-05", Title: "DeprecationWarning: datetime.utcnow() is deprecated", Desc: "reports.export in build_csv", Resource: "reporting", Sev: "warning", Variant: "issue",
		Intent: "noise", Severity: "info", Clarity: "partial", Why: "a deprecation warning is not an incident"},
	{ID: "se-06", Title: "TimeoutError: upstream fraud-scorer did not answer in 2000ms", Desc: "payments.fraud.client in score", Resource: "payments-api", Sev: "error", Variant: "issue",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "failing calls to a dependency"},
	{ID: "se-07", Name: "Slow transactions /api/search", Title: "Slow transactions /api/search", Desc: "p95(transaction.duration) is 3.1s over 10 minutes", Resource: "search-api", Sev: "warning", Variant: "metric",
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "latency degradation"},
	{ID: "se-08", Title: "TypeError: Cannot read properties of undefined (reading 'price')", Desc: "app/components/CartSummary", Resource: "storefront-web", Sev: "error", Labels: lbl{"browser": "Chrome 133", "release": "web@7.12.0"},
		Intent: "incident", Severity: "error", Clarity: "partial", Why: "frontend exception; impact unknown"},
	{ID: "se-09", Name: "Checkout error burst", Title: "Checkout error burst", Desc: "Resolved: 4 events in the last 5 minutes", Resource: "checkout-api", Sev: "critical", Variant: "metric", Resolved: true,
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "the burst of se-03 is over"},
	{ID: "se-10", Title: "Release checkout@2.5.0 deployed to production", Desc: "sentry-cli releases deploys checkout@2.5.0 new -e production", Resource: "checkout-api", Sev: "info", Variant: "issue",
		Intent: "change_notice", Severity: "info", Clarity: "partial", Why: "a release marker sent as an info issue"},
}

var snsCases = []spec{
	{ID: "sns-01", Name: "orders-db CPU high", Title: "orders-db CPU above 90%", Desc: "Threshold Crossed: 2 out of the last 2 datapoints [96.4, 94.2] were greater than the threshold (90.0).", Resource: "orders-db", Labels: lbl{"dimension": "DBInstanceIdentifier", "namespace": "AWS/RDS"},
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "high CPU on a database, no failure yet"},
	{ID: "sns-02", Name: "checkout-alb 5xx", Title: "checkout ALB target 5xx above 5%", Desc: "Threshold Crossed: 1 datapoint [0.31] was greater than the threshold (0.05). Checkout requests are failing.", Resource: "app/checkout-alb/50dc6c495c0c9188", Labels: lbl{"dimension": "LoadBalancer", "namespace": "AWS/ApplicationELB", "metric": "HTTPCode_Target_5XX_Count"},
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "31% 5xx on checkout"},
	{ID: "sns-03", Name: "orders-db CPU high", Title: "orders-db CPU above 90%", Desc: "Threshold Crossed: 2 datapoints [41.0, 39.8] were not greater than the threshold (90.0).", Resource: "orders-db", Labels: lbl{"dimension": "DBInstanceIdentifier", "namespace": "AWS/RDS"}, Resolved: true,
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "alarm back to OK"},
	{ID: "sns-04", Name: "payments-lambda heartbeat", Title: "Synthetic heartbeat for the alerting path", Desc: "Canary alarm that toggles hourly to prove SNS delivery works.", Resource: "alerting-canary", Labels: lbl{"dimension": "FunctionName", "namespace": "AWS/Lambda", "metric": "Invocations"},
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "deliberate canary alarm"},
	{ID: "sns-05", Name: "orders queue backlog", Title: "orders SQS backlog above 1000", Desc: "Threshold Crossed: 1 datapoint (18250.0) was greater than or equal to the threshold (1000.0). Order confirmation emails are delayed over an hour.", Resource: "orders", Labels: lbl{"dimension": "QueueName", "namespace": "AWS/SQS", "metric": "ApproximateNumberOfMessagesVisible"},
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "large backlog with visible customer delay"},
	{ID: "sns-06", Variant: "plain", Title: "AWS Health Event: Scheduled maintenance for RDS instance orders-db", Desc: "Amazon RDS will apply a required operating system update to orders-db during your maintenance window Sun 03:00-03:30 UTC. The instance will be unavailable for about 5 minutes during a Multi-AZ failover.",
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "scheduled AWS maintenance"},
	{ID: "sns-07", Name: "api-prod unhealthy hosts", Title: "api-prod has 0 healthy hosts", Desc: "Threshold Crossed: 1 datapoint [0.0] was less than the threshold (1.0). The API is unreachable.", Resource: "api-prod", Labels: lbl{"dimension": "TargetGroup", "namespace": "AWS/ApplicationELB", "metric": "HealthyHostCount"},
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "no healthy targets: outage"},
	{ID: "sns-08", Name: "ingest-lambda errors", Title: "ingest-lambda error count", Sev: "INSUFFICIENT_DATA", Desc: "Insufficient Data: 1 datapoint was unknown.", Resource: "ingest-lambda", Labels: lbl{"dimension": "FunctionName", "namespace": "AWS/Lambda", "metric": "Errors"},
		Intent: "noise", Severity: "info", Clarity: "partial", Why: "a lambda that was not invoked has no data; nothing is wrong"},
	{ID: "sns-09", Variant: "generic", Title: "Terraform apply finished for vpc-prod", Desc: "Change CHG-21102 applied 3 resources (route tables).", Resource: "vpc-prod", Sev: "info", Labels: lbl{"pipeline": "infra-prod", "type": "change"},
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "infrastructure change notice in the generic format over SNS"},
	{ID: "sns-10", Variant: "plain", Title: "Budget alert: monthly AWS spend at 92% of forecast", Desc: "AWS Budgets: your account 123456789012 has reached 92% of the monthly budget of USD 40,000.",
		Intent: "incident", Severity: "info", Clarity: "partial", Why: "a cost notice, informational"},
}

var azureCases = []spec{
	{ID: "az-01", Name: "vm-cpu-high", Title: "CPU above 85% for 5 minutes", Resource: "shop-web-02", Sev: "Sev2", Labels: lbl{"team": "storefront"},
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "CPU pressure on one web VM"},
	{ID: "az-02", Name: "sql-db-unavailable", Title: "Azure SQL database shop-orders is unavailable", Desc: "Availability 0% for 5 minutes; connections fail with error 40613.", Resource: "shop-orders", Sev: "Sev0", Labels: lbl{"resourceType": "microsoft.sql/servers/databases", "team": "orders"}, Runbook: rb + "azure-sql/unavailable",
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "database unavailable, runbook attached"},
	{ID: "az-03", Name: "test-notification-ag-oncall", Title: "Test notification from action group ag-oncall", Desc: "This is a test; please ignore.", Resource: "ag-oncall", Sev: "Sev0", Labels: lbl{"resourceType": "microsoft.insights/actiongroups"},
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "action group test, vendor Sev0 notwithstanding"},
	{ID: "az-04", Name: "appgw-5xx", Title: "Application Gateway 5xx responses above 3%", Desc: "Backend pool shop-api returns 502 for 6% of requests.", Resource: "agw-shop-prod", Sev: "Sev1", Labels: lbl{"resourceType": "microsoft.network/applicationgateways"},
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "partial error rate"},
	{ID: "az-05", Name: "storage-latency", Title: "Blob storage E2E latency above 500ms", Desc: "Image uploads are slow.", Resource: "stshopmedia", Sev: "Sev3", Labels: lbl{"resourceType": "microsoft.storage/storageaccounts"},
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "vendor Sev3 (informational) but slow uploads are a degradation"},
	{ID: "az-06", Name: "aks-upgrade", Title: "AKS cluster aks-shop-prod upgrade to 1.31.2 started", Desc: "Planned node image upgrade, change CHG-20877.", Resource: "aks-shop-prod", Sev: "Sev4", Labels: lbl{"resourceType": "microsoft.containerservice/managedclusters"},
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "planned upgrade notice"},
	{ID: "az-07", Name: "vm-cpu-high", Title: "CPU above 85% for 5 minutes", Resource: "shop-web-02", Sev: "Sev2", Resolved: true, Labels: lbl{"team": "storefront"},
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "recovery"},
	{ID: "az-08", Name: "func-failures", Title: "Function app fn-invoice failed executions", Desc: "214 failed executions in 15 minutes; invoices are not generated.", Resource: "fn-invoice", Sev: "Sev1", Labels: lbl{"resourceType": "microsoft.web/sites"},
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "function failing consistently"},
	{ID: "az-09", Name: "keyvault-throttling", Title: "Key Vault kv-shop-prod requests throttled", Desc: "A few 429s from Key Vault; retries succeed.", Resource: "kv-shop-prod", Sev: "Sev2", Labels: lbl{"resourceType": "microsoft.keyvault/vaults"},
		Intent: "incident", Severity: "warning", Clarity: "partial", Why: "throttling absorbed by retries"},
	{ID: "az-10", Name: "frontdoor-origin-down", Title: "Front Door origin health 0% for shop-eu", Desc: "All origins of origin group shop-eu are unhealthy; EU customers cannot reach the shop.", Resource: "afd-shop", Sev: "Sev1", Labels: lbl{"resourceType": "microsoft.cdn/profiles"},
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "regional outage; vendor Sev1 understates it"},
}

var gcpCases = []spec{
	{ID: "gcp-01", Name: "VM Instance - CPU utilization", Title: "Web CPU high", Desc: "CPU utilization for shop-prod-4821 web-3 with metric labels {instance_name=web-3} is above the threshold of 0.800 with a value of 0.934.", Resource: "web-3", Sev: "Warning",
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "CPU pressure"},
	{ID: "gcp-02", Name: "Uptime check - shop.acme.example", Title: "Storefront uptime check failing", Desc: "Uptime check for shop.acme.example is failing from 6 of 6 regions. The storefront is unreachable.", Resource: "shop.acme.example", Sev: "Critical", Runbook: rb + "storefront/unreachable",
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "storefront unreachable, runbook in documentation"},
	{ID: "gcp-03", Name: "Cloud SQL - disk utilization", Title: "Cloud SQL disk utilization high", Desc: "Disk utilization for shop-prod-4821:orders-pg is above the threshold of 0.850 with a value of 0.870.", Resource: "orders-pg", Sev: "No severity",
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "capacity warning"},
	{ID: "gcp-04", Name: "Test", Title: "Test notification for policy Pub/Sub backlog", Desc: "This is a test notification sent from the notification channel settings.", Resource: "test", Sev: "Critical",
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "notification channel test"},
	{ID: "gcp-05", Name: "GKE container restarts", Title: "inventory-sync restarting repeatedly", Desc: "Restart count for container inventory-sync is above the threshold of 5 with a value of 17. Stock levels are not being updated.", Resource: "inventory-sync", Sev: "Error",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "crash-looping worker with functional impact"},
	{ID: "gcp-06", Name: "Pub/Sub oldest unacked message age", Title: "Pub/Sub backlog on order-events", Desc: "Oldest unacked message age for subscription order-events-fulfilment is above the threshold of 600s with a value of 4320s.", Resource: "order-events-fulfilment", Sev: "Warning",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "72-minute-old unprocessed orders: fulfilment is failing"},
	{ID: "gcp-07", Name: "Load balancer 5xx", Title: "HTTPS LB 5xx ratio", Desc: "5xx ratio for url map shop-lb is above the threshold of 0.020 with a value of 0.061.", Resource: "shop-lb", Sev: "Error", Resolved: true,
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "incident closed"},
	{ID: "gcp-08", Name: "Log match - deploy", Title: "Cloud Deploy rollout of checkout to prod started", Desc: "Log-based alert: release checkout-2026-03-01-1 rollout to target prod began.", Resource: "checkout", Sev: "No severity", Labels: lbl{"category": "deploy"},
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "deployment notice from a log-based policy"},
	{ID: "gcp-09", Name: "BigQuery slot usage", Title: "BigQuery slot utilisation above 90%", Desc: "Reservation analytics-prod is using 92% of its slots. Queries may queue.", Resource: "analytics-prod", Sev: "Warning",
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "capacity warning on analytics"},
	{ID: "gcp-10", Name: "Memorystore unavailable", Title: "Memorystore redis cart-cache down", Desc: "Instance cart-cache is unavailable; carts cannot be loaded.", Resource: "cart-cache", Sev: "Error",
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "cache outage breaking carts; policy severity understates it"},
}

var newrelicCases = []spec{
	{ID: "nr-01", Name: "Error percentage > 5%", Title: "checkout-service error percentage above 5%", Desc: "Error rate 9.8% for 5 minutes at least once.", Resource: "checkout-service", Sev: "HIGH",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "elevated errors"},
	{ID: "nr-02", Name: "Apdex < 0.7", Title: "Apdex score below 0.7 for storefront", Desc: "Apdex 0.62; response time 1.8s.", Resource: "storefront", Sev: "MEDIUM",
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "slow user experience"},
	{ID: "nr-03", Name: "Host not reporting", Title: "Host not reporting: batch-07", Desc: "No data from the infrastructure agent on batch-07 for 10 minutes.", Resource: "batch-07", Sev: "CRITICAL",
		Intent: "incident", Severity: "warning", Clarity: "partial", Why: "one batch host silent; could be the agent; vendor CRITICAL overstates it"},
	{ID: "nr-04", Name: "Synthetic monitor failed", Title: "Login synthetic failing from all locations", Desc: "Scripted browser check 'Login flow' failed from 5/5 locations: login page returns 500. Users cannot log in.", Resource: "Login flow", Sev: "CRITICAL",
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "login broken for everyone"},
	{ID: "nr-05", Name: "Deployment marker", Title: "Deployment recorded for checkout-service: revision 9f3c2a1", Desc: "Change tracking: deployed by ci-bot.", Resource: "checkout-service", Sev: "LOW",
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "change-tracking marker"},
	{ID: "nr-06", Name: "Error percentage > 5%", Title: "checkout-service error percentage above 5%", Desc: "Error rate back to 0.4%.", Resource: "checkout-service", Sev: "HIGH", Resolved: true,
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "issue closed"},
	{ID: "nr-07", Name: "Test condition", Title: "Test workflow notification", Desc: "Sent by 'Send test notification' in the workflow editor.", Resource: "Alexus", Sev: "CRITICAL",
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "workflow test button"},
	{ID: "nr-08", Name: "JVM heap > 90%", Title: "JVM heap usage above 90% on pricing-engine", Desc: "Old gen at 94%; GC pauses up to 1.2s.", Resource: "pricing-engine", Sev: "HIGH",
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "memory pressure causing pauses, no errors reported"},
	{ID: "nr-09", Name: "Transaction errors", Title: "OrderController/submit throwing NullPointerException", Desc: "1,240 errors in 10 minutes; order submission fails for about 30% of attempts.", Resource: "order-service", Sev: "HIGH", Labels: lbl{"team": "orders"},
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "a third of orders failing"},
	{ID: "nr-10", Name: "Mobile crash rate", Title: "iOS crash rate 0.9% (threshold 0.5%)", Desc: "Crashes concentrated on app version 8.4.0.", Resource: "Acme iOS", Sev: "MEDIUM",
		Intent: "incident", Severity: "warning", Clarity: "partial", Why: "elevated crash rate on one version"},
}

var zabbixCases = []spec{
	{ID: "zbx-01", Title: "Unavailable by ICMP ping", Desc: "Last three attempts returned timeout. Please check device connectivity.", Resource: "core-switch-01", Sev: "High", Labels: lbl{"component": "network", "scope": "availability"},
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "core switch unreachable takes the rack down"},
	{ID: "zbx-02", Title: "Zabbix agent is not available (for 3m)", Desc: "For passive checks only the availability of the agents is monitored.", Resource: "legacy-app-03", Sev: "Average", Labels: lbl{"component": "system"},
		Intent: "incident", Severity: "warning", Clarity: "partial", Why: "monitoring agent down, host may be fine"},
	{ID: "zbx-03", Title: "High CPU utilization (over 90% for 5m)", Desc: "CPU utilization is too high. The system might be slow to respond.", Resource: "erp-app-01", Sev: "Warning", Labels: lbl{"component": "cpu"},
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "CPU pressure"},
	{ID: "zbx-04", Title: "MySQL: Service is down", Desc: "MySQL is not running on erp-db-01; the ERP cannot read or write.", Resource: "erp-db-01", Sev: "Disaster", Labels: lbl{"component": "application", "service": "mysql"},
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "database down"},
	{ID: "zbx-05", Title: "/var: Disk space is low (used > 80%)", Desc: "Two conditions should match: the space utilization is above the threshold and the free space is below the critical threshold.", Resource: "fileserver-02", Sev: "Warning", Labels: lbl{"component": "storage", "filesystem": "/var"},
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "disk filling"},
	{ID: "zbx-06", Title: "System time is out of sync (diff with Zabbix server > 60s)", Resource: "pos-gw-04", Sev: "Warning", Labels: lbl{"component": "system"},
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "clock drift on a gateway"},
	{ID: "zbx-07", Title: "MySQL: Service is down", Desc: "MySQL is running again.", Resource: "erp-db-01", Sev: "Disaster", Resolved: true, Labels: lbl{"component": "application", "service": "mysql"},
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "recovery of zbx-04"},
	{ID: "zbx-08", Title: "Maintenance period started for host group ERP", Desc: "Maintenance 'ERP patch night' (with data collection) until 04:00.", Resource: "erp-app-01", Sev: "Information", Labels: lbl{"component": "maintenance"},
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "maintenance window notice"},
	{ID: "zbx-09", Title: "Zabbix server: heartbeat item test", Desc: "Trigger used to test the webhook media type.", Resource: "Zabbix server", Sev: "Not classified", Labels: lbl{"component": "test"},
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "media type test trigger"},
	{ID: "zbx-10", Title: "Interface Gi0/1: High error rate (>2 for 5m)", Desc: "CRC errors on the uplink; packet loss 3%.", Resource: "edge-router-02", Sev: "Warning", Labels: lbl{"component": "network", "interface": "Gi0/1"},
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "packet loss on an uplink is a failure"},
}

var elasticCases = []spec{
	{ID: "es-01", Name: "Failed SSH logins", Title: "Brute force: 480 failed SSH logins on bastion-1", Desc: "480 failed logins in 5 minutes from 12 IPs.", Resource: "bastion-1", Sev: "high", Labels: lbl{"team": "security"},
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "likely attack on a bastion"},
	{ID: "es-02", Name: "Log threshold - payment errors", Title: "payment-service ERROR logs above 100/min", Desc: "count of log.level:ERROR is 1,412 in the last 5 minutes for service.name payment-service.", Resource: "payment-service", Sev: "medium",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "burst of payment errors"},
	{ID: "es-03", Name: "APM latency", Title: "Latency threshold breached for search", Desc: "Avg. latency is 1,840 ms in the last 5 mins for service: search, env: production. Alert when > 800 ms.", Resource: "search", Sev: "",
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "latency degradation"},
	{ID: "es-04", Name: "Uptime monitor", Title: "Monitor status down: api.acme.example/health", Desc: "Monitor api-health is down from 3 locations; connection refused.", Resource: "api-health", Sev: "critical",
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "API unreachable"},
	{ID: "es-05", Name: "Index threshold - test", Title: "[test] index threshold rule", Desc: "Testing the webhook connector; count 1 > 0.", Resource: "test-group", Sev: "",
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "connector test rule"},
	{ID: "es-06", Name: "Inventory host CPU", Title: "CPU usage above 85% on inventory-2", Desc: "Flapping: crossed the threshold 9 times in 30 minutes.", Resource: "inventory-2", Sev: "medium",
		Intent: "incident", Severity: "warning", Clarity: "partial", Why: "flapping CPU alert; may be noise, may be real"},
	{ID: "es-07", Name: "Log threshold - payment errors", Title: "payment-service ERROR logs above 100/min", Desc: "Recovered: 4 errors in the last 5 minutes.", Resource: "payment-service", Sev: "medium", Resolved: true,
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "recovery of es-02"},
	{ID: "es-08", Name: "Deploy log match", Title: "Rollout of pricing-engine 3.2.0 started on prod", Desc: "Log match: 'helm upgrade pricing-engine --version 3.2.0'.", Resource: "pricing-engine", Sev: "low", Labels: lbl{"type": "deploy"},
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "deployment log"},
	{ID: "es-09", Name: "ES cluster health", Title: "Elasticsearch cluster logs-prod health is RED", Desc: "3 primary shards unassigned; some indices cannot be searched or written.", Resource: "logs-prod", Sev: "high",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "red cluster: writes failing for some indices"},
	{ID: "es-10", Name: "Anomaly detection", Title: "Unusual network activity detected on pos-terminal-118", Desc: "ML job network_anomaly score 78.", Resource: "pos-terminal-118", Sev: "low",
		Intent: "incident", Severity: "warning", Clarity: "unclear", Why: "anomaly score alone; unclear if anything is wrong"},
}

var dynatraceCases = []spec{
	{ID: "dt-01", Title: "Service unavailable: payment-gateway", Desc: "Service payment-gateway is unavailable: 100% of requests fail since 11:48.", Resource: "payment-gateway", Sev: "AVAILABILITY", Labels: lbl{"impact": "APPLICATION", "team": "payments"},
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "service fully unavailable"},
	{ID: "dt-02", Title: "Failure rate increase", Desc: "Failure rate increased to 8.2% on web request /api/cart (baseline 0.4%).", Resource: "cart-service", Sev: "ERROR",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "elevated failures"},
	{ID: "dt-03", Title: "Response time degradation", Desc: "Response time degraded to 2.3s on /api/catalog (baseline 310ms).", Resource: "catalog-service", Sev: "PERFORMANCE",
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "slow responses"},
	{ID: "dt-04", Title: "Memory saturation", Desc: "Memory usage 97% on host app-host-12; process java is swapping.", Resource: "app-host-12", Sev: "RESOURCE_CONTENTION", Labels: lbl{"impact": "INFRASTRUCTURE"},
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "resource contention"},
	{ID: "dt-05", Title: "Test problem notification", Desc: "This is a test notification from Dynatrace. Problem details are sample values.", Resource: "Sample entity", Sev: "AVAILABILITY",
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "integration test button"},
	{ID: "dt-06", Title: "Service unavailable: payment-gateway", Desc: "Problem closed: requests succeed again.", Resource: "payment-gateway", Sev: "AVAILABILITY", Resolved: true, Labels: lbl{"impact": "APPLICATION"},
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "recovery of dt-01"},
	{ID: "dt-07", Title: "Deployment change event: checkout 4.12.0", Desc: "Custom deployment event pushed by Jenkins: checkout 4.12.0 rolled out to prod.", Resource: "checkout", Sev: "INFO",
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "deployment event"},
	{ID: "dt-08", Title: "Synthetic monitor 'Checkout journey' failed", Desc: "Browser monitor failed at step 4 (Pay) from 4 locations: button not found.", Resource: "Checkout journey", Sev: "AVAILABILITY",
		Intent: "incident", Severity: "critical", Clarity: "partial", Why: "synthetic says checkout broken; could be a script issue"},
	{ID: "dt-09", Title: "Monitoring unavailable", Desc: "OneAgent on db-host-3 lost connection.", Resource: "db-host-3", Sev: "MONITORING_UNAVAILABLE", Labels: lbl{"impact": "INFRASTRUCTURE"},
		Intent: "incident", Severity: "warning", Clarity: "partial", Why: "lost visibility, host state unknown"},
	{ID: "dt-10", Title: "Custom alert: Nightly export job failed", Desc: "Exit code 137 (OOM killed) for export-job.", Resource: "export-job", Sev: "CUSTOM_ALERT",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "job failure"},
}

var splunkCases = []spec{
	{ID: "sp-01", Title: "Failed logins above threshold", Desc: "Mar  1 11:49:58 vpn-1 sshd[2231]: Failed password for invalid user admin from 203.0.113.7 port 51122 ssh2", Resource: "vpn-1", Sev: "high", Labels: lbl{"src_ip": "203.0.113.7"},
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "brute-force attempt on the VPN"},
	{ID: "sp-02", Title: "Payment errors in app logs", Desc: "{\"level\":\"ERROR\",\"msg\":\"card charge failed\",\"code\":\"gateway_timeout\"}", Resource: "pay-app-3", Sev: "4",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "payment charge failures"},
	{ID: "sp-03", Title: "Splunk test alert", Desc: "Test alert triggered to validate the webhook action.", Resource: "splunk-sh-1", Sev: "",
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "webhook test search"},
	{ID: "sp-04", Title: "Disk full errors on log forwarders", Desc: "No space left on device writing /opt/splunkforwarder/var/spool; events are being dropped.", Resource: "fwd-07", Sev: "",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "log loss from a full disk"},
	{ID: "sp-05", Title: "Change audit: firewall rule modified", Desc: "Palo Alto config commit by netadmin: rule allow-partner-x updated (change CHG-21011).", Resource: "pa-fw-01", Sev: "informational", Labels: lbl{"category": "change"},
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "audited approved change"},
	{ID: "sp-06", Title: "Slow database queries", Desc: "duration_ms=4210 query=SELECT * FROM orders WHERE ...", Resource: "orders-db", Sev: "3",
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "slow queries"},
	{ID: "sp-07", Title: "Kernel panic on hypervisor", Desc: "Kernel panic - not syncing: Fatal exception in interrupt. 14 VMs on hv-22 are down.", Resource: "hv-22", Sev: "2",
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "host crash taking VMs down; Splunk severity 2 (info) is wrong"},
	{ID: "sp-08", Title: "Daily license usage report", Desc: "License usage 61% of 500 GB.", Resource: "splunk-lm", Sev: "low",
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "a routine report, not an alert"},
	{ID: "sp-09", Title: "Notable: malware detected on endpoint", Desc: "EDR quarantined Trojan.GenericKD on laptop-4411 (finance).", Resource: "laptop-4411", Sev: "", Labels: lbl{"urgency": "high"},
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "contained malware detection"},
	{ID: "sp-10", Title: "5xx spike on edge", Desc: "status=503 count=2280 in 5m on nginx edge", Resource: "edge-nginx-2", Sev: "critical",
		Intent: "incident", Severity: "error", Clarity: "partial", Why: "503 spike on one edge node; unclear share of traffic"},
}

var cloudeventsCases = []spec{
	{ID: "ce-01", Name: "com.acme.checks.http", Title: "orders-api health check failing", Desc: "GET /health returns 503 from all probes; orders cannot be placed.", Resource: "orders-api", Sev: "critical", Runbook: rb + "orders-api/health",
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "orders outage with runbook"},
	{ID: "ce-02", Name: "com.acme.checks.http", Title: "orders-api health check failing", Desc: "Probes succeed again.", Resource: "orders-api", Sev: "critical", Resolved: true, Variant: "binary",
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "recovery event"},
	{ID: "ce-03", Name: "com.acme.ci.deployment", Title: "Deployment of ledger-api 1.19.0 to production succeeded", Desc: "Argo Rollouts: ledger-api promoted to 100%.", Resource: "ledger-api", Sev: "info", Variant: "binary",
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "deployment event"},
	{ID: "ce-04", Name: "com.acme.ci.deployment", Title: "Deployment of payments v5.1 failed; automatic rollback in progress", Desc: "Canary analysis failed: 5xx 12% on canary pods. Rolling back to v5.0.9.", Resource: "payments", Sev: "info",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "a failed deploy causing errors is an incident despite the info severity"},
	{ID: "ce-05", Name: "com.acme.heartbeat", Title: "heartbeat", Desc: "Periodic heartbeat from edge-agent-eu-3.", Resource: "edge-agent-eu-3", Sev: "info", Variant: "binary",
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "periodic heartbeat"},
	{ID: "ce-06", Name: "com.acme.batch", Title: "Reconciliation job found 37 mismatched ledger entries", Desc: "Daily ledger vs bank statement reconciliation: 37 entries differ (total EUR 12,450).", Resource: "recon-job", Sev: "error",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "financial data mismatch needs investigation"},
	{ID: "ce-07", Name: "com.acme.queue", Title: "Queue fulfilment.orders depth 5200", Desc: "Consumers keeping up slowly; depth growing 50/min.", Resource: "fulfilment.orders", Sev: "warning", Variant: "binary",
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "backlog building"},
	{ID: "ce-08", Name: "com.acme.iot", Title: "Temperature sensor DC2-R14 reports 41C", Desc: "Rack inlet temperature above 35C for 10 minutes.", Resource: "dc2-r14", Sev: "",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "overheating rack risks hardware failure"},
	{ID: "ce-09", Name: "com.acme.chatops.question", Title: "which services use the fraud-scorer model?", Resource: "fraud-scorer", Sev: "info", Labels: lbl{"channel": "#ask-ops"},
		Intent: "cmdb_question", Severity: "info", Clarity: "clear", Why: "a dependency question from chat"},
	{ID: "ce-10", Name: "com.acme.feature", Title: "Feature flag new-checkout-flow enabled for 50% of users", Desc: "Changed by pm-alice in LaunchDarkly.", Resource: "checkout-web", Sev: "info",
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "flag change"},
}

var genericCases = []spec{
	{ID: "gen-01", Title: "what depends on ledger-db?", Sev: "info", Labels: lbl{"channel": "#ops", "user": "sam"},
		Intent: "cmdb_question", Severity: "info", Clarity: "clear", Why: "dependency question"},
	{ID: "gen-02", Title: "who owns payments-api?", Sev: "info", Labels: lbl{"channel": "#ops"},
		Intent: "cmdb_question", Severity: "info", Clarity: "clear", Why: "ownership question"},
	{ID: "gen-03", Title: "What runs on k8s-prod-7?", Labels: lbl{"channel": "#platform"},
		Intent: "cmdb_question", Severity: "info", Clarity: "clear", Why: "placement question"},
	{ID: "gen-04", Title: "Can someone tell me which team is on call for the checkout service?", Labels: lbl{"channel": "#help"},
		Intent: "cmdb_question", Severity: "info", Clarity: "partial", Why: "an ownership question phrased conversationally"},
	{ID: "gen-05", Title: "Is orders-db a dependency of the invoice exporter?", Labels: lbl{"channel": "#ops"},
		Intent: "cmdb_question", Severity: "info", Clarity: "clear", Why: "dependency question phrased as yes/no"},
	{ID: "gen-06", Title: "where does the ledger service store its backups", Labels: lbl{"alexus_intent": "cmdb_question"},
		Intent: "cmdb_question", Severity: "info", Clarity: "clear", Why: "explicit intent label from the chat bridge"},
	{ID: "gen-07", Title: "Blast radius if redis-sessions goes down?", Labels: lbl{"channel": "#sre"},
		Intent: "cmdb_question", Severity: "info", Clarity: "partial", Why: "an impact question about dependencies, not a report that it is down"},
	{ID: "gen-08", Title: "Checkout API returning 500 for all requests", Desc: "Every request to /v2/checkout fails with 500 since 11:47 UTC; customers cannot check out.", Resource: "checkout-api", Sev: "critical", Runbook: rb + "checkout-api/500s", Labels: lbl{"env": "prod"},
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "outage with runbook"},
	{ID: "gen-09", Title: "Nightly ETL to warehouse failed", Desc: "dbt run exited with 2 model failures; dashboards will show yesterday's data.", Resource: "etl-warehouse", Sev: "error",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "job failure"},
	{ID: "gen-10", Title: "Scheduled maintenance: DNS provider migration 22:00-23:00 UTC", Desc: "Change CHG-21150: moving acme.example zone to the new provider; TTLs lowered.", Resource: "dns", Sev: "info",
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "announced maintenance"},
	{ID: "gen-11", Title: "test notification", Desc: "Testing the Alexus webhook from our legacy monitor.", Sev: "critical",
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "a test, despite critical severity"},
	{ID: "gen-12", Title: "Backup storage 70% used", Desc: "Capacity report: backup bucket at 70% of quota.", Resource: "backup-bucket", Sev: "low",
		Intent: "incident", Severity: "info", Clarity: "clear", Why: "informational capacity report"},
	{ID: "gen-13", Title: "VPN tunnel to partner-bank flapping", Desc: "IPsec tunnel re-established 6 times in 20 minutes; settlement file transfers retried.", Resource: "vpn-partner-bank", Sev: "warning",
		Intent: "incident", Severity: "warning", Clarity: "partial", Why: "unstable link with retries succeeding"},
	{ID: "gen-14", Title: "Checkout API returning 500 for all requests", Desc: "Back to normal.", Resource: "checkout-api", Sev: "critical", Resolved: true, Labels: lbl{"env": "prod"},
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "recovery"},
	{ID: "gen-15", Title: "Printer on floor 3 out of toner", Resource: "printer-f3", Sev: "warning",
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "office printer, not a production system"},
	{ID: "gen-16", Title: "Database failover completed for orders-db", Desc: "Unplanned failover: primary orders-db-a crashed, orders-db-b promoted. 40 seconds of write errors.", Resource: "orders-db", Sev: "info",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "an unplanned crash with write errors, though sent as info"},
}

// catalogue returns every case spec, with its source filled in.
func catalogue() []spec {
	groups := []struct {
		source string
		cases  []spec
	}{
		{"alertmanager", alertmanagerCases},
		{"grafana", grafanaCases},
		{"datadog", datadogCases},
		{"pagerduty", pagerdutyCases},
		{"opsgenie", opsgenieCases},
		{"sentry", sentryCases},
		{"sns", snsCases},
		{"azure-monitor", azureCases},
		{"gcp-monitoring", gcpCases},
		{"newrelic", newrelicCases},
		{"zabbix", zabbixCases},
		{"elastic", elasticCases},
		{"dynatrace", dynatraceCases},
		{"splunk", splunkCases},
		{"cloudevents", cloudeventsCases},
		{"generic", genericCases},
	}
	var out []spec
	for _, g := range groups {
		for _, c := range g.cases {
			c.Source = g.source
			out = append(out, c)
		}
	}
	return out
}

// expectedDecision applies the guide's decision rule (README.md, "Decision").
func expectedDecision(s spec) string {
	// An acknowledged alert (PagerDuty's incident.acknowledged, Opsgenie's
	// Acknowledge action) already has a person on it: nothing to run.
	acknowledged := s.Variant == "incident.acknowledged" || (s.Source == "opsgenie" && s.Variant == "Acknowledge")
	action := s.Intent == "incident" && !s.Resolved && !acknowledged && s.Severity != "info"
	switch {
	case action && s.Severity == "critical" && s.Runbook == "":
		return "escalate"
	case s.Clarity == "unclear":
		return "escalate"
	case s.Clarity == "partial":
		return "clarify"
	case action:
		return "execute"
	default:
		return "escalate"
	}
}
