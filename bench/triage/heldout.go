package main

// The held-out catalogue: labelled signals that the heuristic's rules were
// NOT written against, so that its score on them is an out-of-sample
// figure. They were written after the in-sample catalogue, without reading
// the reasoning code or its docs (services/orchestrator/reasoning/) and
// without running the classifier on them, from the labelling guide in
// testdata/triage/README.md alone. The alerts are new: other services (a
// video-streaming estate rather than the in-sample shop and bank), other
// wording, other vendor phrasings. Do not tune these labels to what the
// heuristic answers; change one only when it is wrong by the guide, and
// never add a case here after looking at the heuristic's misses on it.
//
// The expected decision follows from the labels by expectedDecision.

// hrb is the held-out runbook site.
const hrb = "https://runbooks.media.acme.example/"

var heldoutAlertmanager = []spec{
	{ID: "h-am-01", Name: "KubeContainerOOMKilled", Title: "Container transcoder in pod media/transcoder-5c8d9-7hq2t was OOMKilled 4 times in the last 30 minutes", Desc: "The container hits its 2Gi memory limit on 4K uploads; jobs are retried from the start and video processing is about 40 minutes behind.", Resource: "transcoder-5c8d9-7hq2t", Sev: "warning", Labels: lbl{"namespace": "media", "pod": "transcoder-5c8d9-7hq2t", "container": "transcoder"},
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "repeated OOM kills with a growing processing delay: failing, though not down"},
	{ID: "h-am-02", Name: "etcdNoLeader", Title: "etcd cluster k8s-prod-ap: member etcd-2 has no leader", Desc: "No etcd leader for 3 minutes; the Kubernetes API server of k8s-prod-ap rejects every write, so nothing can be scheduled, scaled or rolled back in that cluster.", Resource: "etcd-2", Sev: "critical", Labels: lbl{"job": "etcd", "cluster": "k8s-prod-ap"}, Runbook: "https://runbooks.prometheus-operator.dev/runbooks/etcd/etcdnoleader",
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "the cluster's datastore has lost quorum; runbook linked"},
	{ID: "h-am-03", Name: "MySQLReplicaLagging", Title: "Replica lag 45s on mysql-profiles-replica-1", Desc: "Seconds_Behind_Source is 45 and rising; profile pages read from this replica, so recent edits may not show yet.", Resource: "mysql-profiles-replica-1", Sev: "warning", Labels: lbl{"job": "mysqld-exporter", "cluster": "mysql-profiles"},
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "lagging replica: a degradation, nothing failing yet"},
	{ID: "h-am-04", Name: "ReceiverRouteTest", Title: "Testing the new alexus receiver route - please ignore", Desc: "Fired by hand with `amtool alert add` to check the routing tree.", Resource: "sre-laptop", Sev: "critical", Labels: lbl{"fired_by": "k.nowak"},
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "a hand-made routing test; its critical label means nothing"},
	{ID: "h-am-05", Name: "KubeNodeNotReady", Title: "Node ip-10-4-17-201.ec2.internal has been unready for more than 15 minutes", Desc: "The kubelet stopped posting node status; 23 pods were evicted and rescheduled.", Resource: "ip-10-4-17-201.ec2.internal", Sev: "warning", Labels: lbl{"node": "ip-10-4-17-201.ec2.internal", "cluster": "k8s-prod-eu"}, Resolved: true,
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "recovery of a failed node whose pods had to move"},
}

var heldoutGrafana = []spec{
	{ID: "h-gf-01", Name: "Playback start failures", Title: "Video playback start failure rate 18% (threshold 5%)", Desc: "playback-api answers 504 on /v1/manifest for 18% of sessions across the EU; those viewers get a spinner and then an error.", Resource: "playback-api", Sev: "critical", Labels: lbl{"team": "playback", "service": "playback-api"}, Runbook: hrb + "playback/start-failures",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "almost a fifth of playbacks fail: a partial failure, whatever the rule's critical label"},
	{ID: "h-gf-02", Name: "Live ingest reachability", Title: "Live ingest endpoint rtmp-ingest-eu unreachable from all probes", Desc: "Blackbox TCP probe to rtmp-ingest-eu:1935 fails from 4 of 4 locations; broadcasters in Europe cannot start live streams.", Resource: "rtmp-ingest-eu", Sev: "critical", Labels: lbl{"team": "live", "probe": "blackbox-tcp"},
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "regional outage of live ingest, no runbook"},
	{ID: "h-gf-03", Name: "DatasourceError", Title: "DatasourceError", Desc: "failed to execute query A: Post \"http://loki-gateway.logging:80/loki/api/v1/query_range\": context deadline exceeded", Labels: lbl{"rulename": "Ingest 5xx by region", "datasource_uid": "loki-prod", "ref_id": "A"},
		Intent: "incident", Severity: "warning", Clarity: "partial", Why: "the rule cannot query Loki: lost visibility, the ingest itself may be fine"},
	{ID: "h-gf-04", Name: "Alerting heartbeat", Title: "Heartbeat from grafana-alerting-eu (always firing)", Desc: "This rule fires permanently; if the receiver stops getting it, the alerting pipeline is broken.", Sev: "none", Labels: lbl{"purpose": "heartbeat"},
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "an always-firing pipeline heartbeat, arriving as it should"},
	{ID: "h-gf-05", Name: "Redis evictions", Title: "recs-cache evicting 3.2k keys/s, hit ratio down to 61%", Desc: "maxmemory reached on recs-cache; recommendation requests fall back to the slower model server.", Resource: "recs-cache", Sev: "warning", Labels: lbl{"service": "recs-cache", "team": "personalisation"},
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "memory pressure with a slower fallback; nothing failing"},
}

var heldoutDatadog = []spec{
	{ID: "h-dd-01", Name: "[P1] subscriptions-api available replicas", Title: "subscriptions-api has no available pods in us-east-1", Desc: "%%%\nkubernetes_state.deployment.replicas_available is 0 for subscriptions-api (desired 12). Sign-ups and plan changes fail with 503.\n@slack-subs-oncall @pagerduty-subscriptions\n%%%", Resource: "subscriptions-api", Sev: "error/P1", Labels: lbl{"env": "prod", "service": "subscriptions-api", "region": "us-east-1"},
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "customer-facing service down in a region; no runbook"},
	{ID: "h-dd-02", Name: "Postgres connection saturation", Title: "profiles-pg connections at 92% of max_connections", Desc: "postgresql.percent_usage_connections is 0.92 on profiles-pg-primary. New connections will be refused at 100%.", Resource: "profiles-pg-primary", Sev: "warning/P3", Labels: lbl{"env": "prod", "service": "profiles-pg"},
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "close to a limit, not over it"},
	{ID: "h-dd-03", Name: "Downtime started", Title: "Scheduled downtime started for service:recsys until 03:00 UTC", Desc: "Downtime 'recsys index rebuild' created by priya@acme.example; monitors scoped to service:recsys are muted.", Resource: "recsys", Sev: "info", Labels: lbl{"env": "prod", "service": "recsys"},
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "a maintenance downtime beginning"},
	{ID: "h-dd-04", Name: "Log outliers", Title: "Outlier: media-worker-14 logs 6x more warnings than its peers", Desc: "Outlier detection (DBSCAN) on logs.warn.count by host.", Resource: "media-worker-14", Sev: "warning/P4", Labels: lbl{"env": "prod"},
		Intent: "incident", Severity: "warning", Clarity: "unclear", Why: "a statistical outlier with no word on what the warnings are"},
	{ID: "h-dd-05", Name: "Admin console lockout", Title: "5 consecutive failed logins for admin@acme.example on the billing console", Desc: "The account was locked after 5 failed attempts from 198.51.100.23 (a commercial VPN exit). No successful login followed.", Resource: "billing-console", Sev: "warning/P3", Labels: lbl{"env": "prod", "security": "true"},
		Intent: "incident", Severity: "warning", Clarity: "partial", Why: "the lockout held; a forgotten password or a probe, a person must say which"},
}

var heldoutPagerduty = []spec{
	{ID: "h-pd-01", Title: "CDN origin shield returning 5xx for all video segments in APAC", Desc: "Segment requests to origin-shield-sg fail with 503; playback fails for every viewer in APAC since 03:12 UTC.", Resource: "Video Delivery", Sev: "P1",
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "regional playback outage"},
	{ID: "h-pd-02", Title: "geo-lookup p95 latency breached SLO (1.4s vs 400ms)", Resource: "Geo Lookup", Sev: "P3",
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "latency SLO breach, no errors reported"},
	{ID: "h-pd-03", Title: "Transcoding backlog: 14k jobs queued, oldest 52 minutes", Desc: "Uploads are published late; creators see 'processing' for close to an hour.", Resource: "Media Pipeline", Sev: "P2", Variant: "incident.acknowledged",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "user-visible publishing delay, already acknowledged by the on-call"},
	{ID: "h-pd-04", Title: "[Maintenance] billing-pg major upgrade Postgres 15 -> 16 tonight 01:00-03:00 UTC", Desc: "CHG-33410. Billing writes pause for up to 20 minutes; the invoice worker is stopped first.", Resource: "Billing", Sev: "P5",
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "announced maintenance window"},
	{ID: "h-pd-05", Title: "CHECK_FAILED svc-17", Resource: "Default Service", Sev: "",
		Intent: "incident", Severity: "warning", Clarity: "unclear", Why: "an opaque check id; nothing says what failed"},
}

var heldoutOpsgenie = []spec{
	{ID: "h-og-01", Title: "Kafka broker kafka-3 offline: 214 partitions under-replicated", Desc: "kafka-3 left the cluster after a disk failure; producers using acks=all on those partitions time out.", Resource: "kafka-3", Sev: "P2",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "some writes failing after a broker loss"},
	{ID: "h-og-02", Title: "vault-1 came back sealed after restart", Desc: "vault-0 and vault-2 are unsealed and serving; the cluster runs without a standby.", Resource: "vault-1", Sev: "P3", Variant: "Acknowledge",
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "lost redundancy, no failure; acknowledged, so nothing for Alexus to do"},
	{ID: "h-og-03", Title: "TLS cert for sso.acme.example: 3 days left, renewal failing", Desc: "ACM auto-renewal failed: the DNS validation CNAME is missing from the zone.", Resource: "sso.acme.example", Sev: "P3",
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "certificate expiring within days"},
	{ID: "h-og-04", Title: "Kafka broker kafka-3 offline: 214 partitions under-replicated", Desc: "Broker replaced; all partitions back in sync.", Resource: "kafka-3", Sev: "P2", Resolved: true,
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "close of h-og-01"},
	{ID: "h-og-05", Title: "Change window open: controller firmware update on storage array na-prod-02 (CHG-33502)", Desc: "Controllers are updated one at a time; paths fail over, no downtime expected.", Resource: "na-prod-02", Sev: "P5",
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "planned firmware change"},
}

var heldoutSentry = []spec{
	{ID: "h-se-01", Title: "IntegrityError: duplicate key value violates unique constraint \"subscriptions_user_id_key\"", Desc: "subscriptions.services.create_subscription", Resource: "subscriptions-api", Sev: "error", Labels: lbl{"server_name": "subs-api-4", "release": "subscriptions@3.8.0"},
		Intent: "incident", Severity: "error", Clarity: "partial", Why: "a sign-up error; one event, how many users it hits is unknown"},
	{ID: "h-se-02", Name: "Crash-free sessions below 97% (Android)", Title: "Crash-free sessions below 97% (Android)", Desc: "crash_free_rate(session) is 94.1% for release android@5.2.0 over the last hour", Resource: "acme-android", Sev: "critical", Variant: "metric",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "about 6% of app sessions crash: failing for some users"},
	{ID: "h-se-03", Title: "cache warmed in 412ms", Desc: "recs.cache in warm", Resource: "recs-api", Sev: "info", Variant: "issue",
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "an info log line captured as an issue"},
	{ID: "h-se-04", Title: "ConnectionError: Error 111 connecting to recs-cache:6379. Connection refused.", Desc: "recs.store in get_client", Resource: "recs-api", Sev: "fatal", Labels: lbl{"server_name": "recs-api-7"},
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "the service cannot reach its cache; a dependency failure, not a datastore outage"},
	{ID: "h-se-05", Name: "Crash-free sessions below 97% (Android)", Title: "Crash-free sessions below 97% (Android)", Desc: "Resolved: crash_free_rate(session) is 99.6%", Resource: "acme-android", Sev: "critical", Variant: "metric", Resolved: true,
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "the crash rate of h-se-02 is back to normal"},
}

var heldoutSNS = []spec{
	{ID: "h-sns-01", Name: "transcode-dlq-not-empty", Title: "Transcode dead-letter queue has messages", Desc: "Threshold Crossed: 1 datapoint [37.0] was greater than the threshold (0.0).", Resource: "transcode-jobs-dlq", Labels: lbl{"dimension": "QueueName", "namespace": "AWS/SQS", "metric": "ApproximateNumberOfMessagesVisible"},
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "37 transcode jobs failed for good"},
	{ID: "h-sns-02", Variant: "plain", Title: "GuardDuty finding: UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", Desc: "Credentials of role media-worker-role were used from 192.0.2.44, outside AWS. Finding severity 8.0 (High). Account 123456789012, us-east-1.",
		Intent: "incident", Severity: "error", Clarity: "partial", Why: "a likely credential leak; a person must confirm it is not a known caller"},
	{ID: "h-sns-03", Name: "geo-router-p99-latency", Title: "geo-router p99 latency above 500ms", Desc: "Threshold Crossed: 3 datapoints [212.4 (01/03/26 12:05:00), 198.0 (01/03/26 12:00:00), 187.5 (01/03/26 11:55:00)] were not greater than the threshold (500.0).", Resource: "app/geo-router-alb/8f1c2d3e4a5b6c7d", Labels: lbl{"dimension": "LoadBalancer", "namespace": "AWS/ApplicationELB", "metric": "TargetResponseTime"}, Resolved: true,
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "latency alarm back to OK"},
	{ID: "h-sns-04", Variant: "generic", Title: "Canary deploy v2.3.1 of geo-router started (5% of traffic)", Desc: "CodeDeploy deployment d-7KQ2M1X9Z, linear 5% every 10 minutes.", Resource: "geo-router", Sev: "info", Labels: lbl{"pipeline": "geo-router-prod"},
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "a canary deploy starting"},
	{ID: "h-sns-05", Name: "sessions-table-write-throttles", Title: "DynamoDB sessions table write throttling", Desc: "Threshold Crossed: 2 datapoints [1840.0, 2210.0] were greater than the threshold (100.0). Logins fail intermittently with ProvisionedThroughputExceededException.", Resource: "sessions", Labels: lbl{"dimension": "TableName", "namespace": "AWS/DynamoDB", "metric": "WriteThrottleEvents"},
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "throttled writes make some logins fail"},
}

var heldoutAzure = []spec{
	{ID: "h-az-01", Name: "cosmos-profiles-availability", Title: "Cosmos DB account cosmos-profiles availability 0% in West Europe", Desc: "All requests to container profiles return 503 ServiceUnavailable; sign-in and profile pages fail for EU users.", Resource: "cosmos-profiles", Sev: "Sev0", Labels: lbl{"resourceType": "microsoft.documentdb/databaseaccounts", "team": "identity"}, Runbook: hrb + "cosmos/regional-outage",
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "primary store down for a region, runbook attached"},
	{ID: "h-az-02", Name: "sb-payouts-deadletter", Title: "Service Bus queue payouts has 1,204 dead-lettered messages", Desc: "Reason MaxDeliveryCountExceeded; 1,204 creator payout transfers were not sent.", Resource: "sb-media-prod", Sev: "Sev2", Labels: lbl{"resourceType": "microsoft.servicebus/namespaces"},
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "payouts failing: a functional failure people will notice"},
	{ID: "h-az-03", Name: "service-health-planned-maintenance", Title: "Service Health: planned maintenance for Azure Cache for Redis in West Europe", Desc: "Tracking ID 7T4K-1QZ. Patching on 2026-03-04 between 22:00 and 06:00 UTC; connections may drop briefly during failover.", Resource: "redis-recs-weu", Sev: "Sev4", Labels: lbl{"resourceType": "microsoft.cache/redis"},
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "provider maintenance announced ahead"},
	{ID: "h-az-04", Name: "vm-heartbeat-missing", Title: "No heartbeat from the Log Analytics agent on vm-ftp-legacy-01 for 15 minutes", Resource: "vm-ftp-legacy-01", Sev: "Sev3",
		Intent: "incident", Severity: "warning", Clarity: "partial", Why: "the agent or the VM stopped; which is unknown"},
	{ID: "h-az-05", Name: "sqlmi-royalties-failover", Title: "SQL Managed Instance sqlmi-royalties is unavailable: failover to the secondary failed", Desc: "Failover group fog-royalties could not promote the secondary; the royalties database accepts no connections.", Resource: "sqlmi-royalties", Sev: "Sev1", Labels: lbl{"resourceType": "microsoft.sql/managedinstances"},
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "primary database down with no failover and no runbook"},
}

var heldoutGCP = []spec{
	{ID: "h-gcp-01", Name: "Cloud Run - request latencies", Title: "thumbnailer p95 latency breached SLO", Desc: "Request latency (p95) for Cloud Run revision thumbnailer-00042-xuv is above the threshold of 2000ms with a value of 5310ms.", Resource: "thumbnailer", Sev: "Warning",
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "slow, not failing"},
	{ID: "h-gcp-02", Name: "Cloud SQL - instance state", Title: "Cloud SQL instance catalog-pg is down", Desc: "Primary instance catalog-pg is not RUNNABLE; every connection fails and the catalogue API cannot read titles.", Resource: "catalog-pg", Sev: "Critical", Runbook: hrb + "cloudsql/instance-down",
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "primary datastore down, runbook in the policy documentation"},
	{ID: "h-gcp-03", Name: "Log match - firewall patch", Title: "Firewall rule allow-ingest-rtmp changed in VPC media-prod", Desc: "Log-based alert: compute.firewalls.patch by terraform@media-prod.iam.gserviceaccount.com; source ranges updated.", Resource: "allow-ingest-rtmp", Sev: "No severity", Labels: lbl{"category": "audit"},
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "a configuration change by the IaC pipeline"},
	{ID: "h-gcp-04", Name: "Uptime check - api.media", Title: "Uptime check api.media.acme.example failing in 1 of 6 regions", Desc: "The check times out from asia-southeast1 only; the other five regions succeed.", Resource: "api.media.acme.example", Sev: "Error",
		Intent: "incident", Severity: "warning", Clarity: "partial", Why: "one probe region failing may be the probe or a local network path"},
	{ID: "h-gcp-05", Name: "Dataflow - system lag", Title: "Dataflow job events-to-bq system lag above 10 min", Desc: "System lag for job events-to-bq is below the threshold of 600s with a value of 45s.", Resource: "events-to-bq", Sev: "Warning", Resolved: true,
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "pipeline lag over"},
}

var heldoutNewRelic = []spec{
	{ID: "h-nr-01", Name: "Synthetic: Sign-up flow", Title: "Sign-up synthetic failing from 2 of 6 locations", Desc: "Step 3 'Submit payment details' timed out waiting for #card-iframe.", Resource: "Sign-up flow", Sev: "HIGH",
		Intent: "incident", Severity: "error", Clarity: "partial", Why: "sign-up may be broken for some users, or the script may be flaky"},
	{ID: "h-nr-02", Name: "Throughput drop", Title: "playback-api throughput down 85% vs same hour last week", Desc: "1.2k rpm now, 8.1k rpm last week; error rate and latency are normal.", Resource: "playback-api", Sev: "MEDIUM",
		Intent: "incident", Severity: "warning", Clarity: "partial", Why: "traffic vanished upstream or for a benign reason; unclear which"},
	{ID: "h-nr-03", Name: "Weekly SLO digest", Title: "Weekly SLO report: playback availability 99.97%, 71% of error budget left", Resource: "playback-api", Sev: "LOW",
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "a routine report"},
	{ID: "h-nr-04", Name: "GraphQL error rate", Title: "gateway-graphql: every query failing with 'schema not loaded'", Desc: "100% of GraphQL requests return 500 since 04:10 UTC after the schema registry became unreachable; web and TV apps show an empty home screen.", Resource: "gateway-graphql", Sev: "HIGH",
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "the API gateway is down for everyone; HIGH understates it"},
	{ID: "h-nr-05", Name: "GraphQL error rate", Title: "gateway-graphql: every query failing with 'schema not loaded'", Desc: "Error rate back to 0.1%.", Resource: "gateway-graphql", Sev: "HIGH", Resolved: true,
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "recovery of h-nr-04's outage"},
}

var heldoutZabbix = []spec{
	{ID: "h-zbx-01", Title: "Cert: SSL certificate expires soon (less than 3 days)", Desc: "The TLS certificate of portal.acme.example expires on 2026-03-04. This host is renewed by hand.", Resource: "portal.acme.example", Sev: "Warning", Labels: lbl{"component": "certificate"},
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "certificate expiring within days"},
	{ID: "h-zbx-02", Title: "UPS ups-dc1-a: on battery (runtime left 18 minutes)", Desc: "Input voltage 0 V; racks A1-A4 run on battery. Generator start not confirmed.", Resource: "ups-dc1-a", Sev: "High", Labels: lbl{"component": "power"},
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "mains power has failed; racks will go down if nothing changes"},
	{ID: "h-zbx-03", Title: "RAID: array md0 is degraded (1 of 2 disks failed)", Resource: "backup-nas-03", Sev: "Average", Labels: lbl{"component": "storage"},
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "redundancy lost; the array still serves"},
	{ID: "h-zbx-04", Title: "UPS ups-dc1-a: on battery (runtime left 18 minutes)", Desc: "Mains power restored; battery charging.", Resource: "ups-dc1-a", Sev: "High", Resolved: true, Labels: lbl{"component": "power"},
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "recovery of h-zbx-02"},
	{ID: "h-zbx-05", Title: "Guest Wi-Fi AP wap-lobby-2: high number of clients (>60)", Desc: "62 associated clients.", Resource: "wap-lobby-2", Sev: "Warning", Labels: lbl{"component": "wifi"},
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "an office guest access point, not production"},
}

var heldoutElastic = []spec{
	{ID: "h-es-01", Name: "Privileged group membership change", Title: "User svc-backup2 added to Domain Admins", Desc: "Event 4728 on dc-01 by j.smith at 02:14; no change ticket mentions this account.", Resource: "dc-01", Sev: "high", Labels: lbl{"team": "security"},
		Intent: "incident", Severity: "error", Clarity: "partial", Why: "possible privilege escalation; could be undocumented admin work"},
	{ID: "h-es-02", Name: "Write thread pool rejections", Title: "Elasticsearch write rejections on es-media-hot-2", Desc: "thread_pool.write.rejected rose by 4,310 in 5 minutes; bulk indexing from the catalogue sync is failing and being retried.", Resource: "es-media-hot-2", Sev: "medium",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "indexing partly failing"},
	{ID: "h-es-03", Name: "APM failed transaction rate", Title: "Failed transaction rate above 10% for geo-router", Desc: "Recovered: the failed transaction rate is 0.8% in the last 5 mins for service: geo-router, env: production.", Resource: "geo-router", Sev: "high", Resolved: true,
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "recovery of an error-rate alert"},
	{ID: "h-es-04", Name: "Log match - flag change", Title: "Feature flag hls-low-latency turned on for 10% of viewers", Desc: "Log match: flagd config reload, rollout=10, changed by release-bot.", Resource: "playback-web", Sev: "low", Labels: lbl{"type": "flag"},
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "a feature-flag rollout"},
	{ID: "h-es-05", Name: "logs-count-check", Title: "Rule logs-count-check is active", Desc: "Document count is 0 in the last 15 minutes for index pattern logs-*.", Resource: "logs-*", Sev: "",
		Intent: "incident", Severity: "warning", Clarity: "partial", Why: "logs stopped arriving: lost visibility, cause unknown"},
}

var heldoutDynatrace = []spec{
	{ID: "h-dt-01", Title: "Process crash: java (recs-model-server) crashed 6 times", Desc: "Process java on host ml-host-04 exited with SIGSEGV 6 times in 20 minutes; the recommendations service fails over to ml-host-05.", Resource: "recs-model-server", Sev: "ERROR",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "crash-looping process with a working failover"},
	{ID: "h-dt-02", Title: "Connectivity problem: profile-svc cannot reach cassandra-profiles", Desc: "Connections from all 8 profile-svc instances to cassandra-profiles:9042 are refused; 100% of GET /profile calls fail and users cannot sign in to the TV apps.", Resource: "profile-svc", Sev: "AVAILABILITY", Labels: lbl{"impact": "APPLICATION"},
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "sign-in down for all users"},
	{ID: "h-dt-03", Title: "CPU saturation on batch-etl-02 (frequent issue)", Desc: "Detected 31 times in the past week, each during the 02:00 ETL window; Davis marked it a frequent issue.", Resource: "batch-etl-02", Sev: "RESOURCE_CONTENTION", Labels: lbl{"impact": "INFRASTRUCTURE"},
		Intent: "noise", Severity: "info", Clarity: "partial", Why: "a recurring, expected spike during the batch window"},
	{ID: "h-dt-04", Title: "Maintenance window 'CDN vendor switch' started", Desc: "Active until 05:00 UTC; problem detection suppressed for entities tagged cdn.", Resource: "cdn", Sev: "INFO",
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "maintenance window start"},
	{ID: "h-dt-05", Title: "Slowdown: response time of /api/v2/subtitles +340%", Desc: "Median response time 1.9s (baseline 430ms) on subtitle-svc; affects 12% of service calls.", Resource: "subtitle-svc", Sev: "PERFORMANCE",
		Intent: "incident", Severity: "warning", Clarity: "clear", Why: "latency degradation"},
}

var heldoutSplunk = []spec{
	{ID: "h-sp-01", Title: "Impossible travel: m.ortega signed in from Lisbon and Jakarta 39 minutes apart", Desc: "Okta system log: user.session.start SUCCESS from 203.0.113.44 (PT) at 10:02 and from 198.51.100.9 (ID) at 10:41.", Resource: "okta", Sev: "high", Labels: lbl{"user": "m.ortega"},
		Intent: "incident", Severity: "error", Clarity: "partial", Why: "possible account takeover, or a VPN; needs a person"},
	{ID: "h-sp-02", Title: "Settlement file from partner bank not received by 06:00", Desc: "No file matching SETTLE_*.csv arrived on sftp-in-01 today (yesterday 05:12). Reconciliation cannot start.", Resource: "sftp-in-01", Sev: "medium",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "a daily input missing; a downstream job is blocked"},
	{ID: "h-sp-03", Title: "Scheduled report: top 10 sourcetypes by ingest volume (daily)", Desc: "access_combined 142 GB, kube:container 98 GB, aws:cloudtrail 41 GB, ...", Resource: "splunk-sh-2", Sev: "",
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "a routine report"},
	{ID: "h-sp-04", Title: "Segfault in haproxy on lb-edge-03", Desc: "kernel: haproxy[8812]: segfault at 0 ip 000055d2c1a4 sp 00007ffd error 4 in haproxy; systemd restarted haproxy.service (restart 1)", Resource: "lb-edge-03", Sev: "3",
		Intent: "incident", Severity: "error", Clarity: "partial", Why: "one crash, restarted at once; impact and recurrence unknown"},
	{ID: "h-sp-05", Title: "Indexer idx-04 down: search results incomplete", Desc: "Peer idx-04 is Down on the cluster manager; replication factor not met for 1,102 buckets; searches return partial results.", Resource: "idx-04", Sev: "high",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "search returns partial data and redundancy is lost"},
}

var heldoutCloudEvents = []spec{
	{ID: "h-ce-01", Name: "com.acme.media.pipeline", Title: "Transcode pipeline stalled: 0 jobs completed in 30 minutes", Desc: "Workers report 'GPU device lost' on every node of pool gpu-a; 2,140 jobs queued. No new upload can be published.", Resource: "transcode-pipeline", Sev: "critical", Runbook: hrb + "transcode/stalled",
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "publishing is completely stopped; runbook attached"},
	{ID: "h-ce-02", Name: "com.acme.chatops.question", Title: "if we take kafka-media down for the broker upgrade, which consumers stop?", Resource: "kafka-media", Sev: "info", Labels: lbl{"channel": "#platform-eng"}, Variant: "binary",
		Intent: "cmdb_question", Severity: "info", Clarity: "clear", Why: "an impact question about consumers, asked before a change"},
	{ID: "h-ce-03", Name: "com.acme.ci.deployment", Title: "Rollout of recs-api 7.4.0 paused at 25%: waiting for manual promotion", Desc: "Argo Rollouts step 3 of 6; the analysis run passed.", Resource: "recs-api", Sev: "info", Variant: "binary",
		Intent: "change_notice", Severity: "info", Clarity: "clear", Why: "a healthy staged rollout waiting for a person"},
	{ID: "h-ce-04", Name: "com.acme.backup", Title: "Nightly snapshot of catalog-pg failed: snapshot quota exceeded", Desc: "Job catalog-pg-nightly exited with QUOTA_EXCEEDED; the last good snapshot is 26 hours old.", Resource: "catalog-pg", Sev: "warning",
		Intent: "incident", Severity: "error", Clarity: "clear", Why: "a failed backup"},
	{ID: "h-ce-05", Title: "threshold exceeded", Sev: "",
		Intent: "incident", Severity: "warning", Clarity: "unclear", Why: "no resource, no metric, no value"},
}

var heldoutGeneric = []spec{
	{ID: "h-gen-01", Title: "which hosts does transcode-pipeline run on?", Labels: lbl{"channel": "#media-eng", "user": "lea"},
		Intent: "cmdb_question", Severity: "info", Clarity: "clear", Why: "a placement question"},
	{ID: "h-gen-02", Title: "hey, does anything still call the old geo-lookup-v1 endpoint? want to decommission it friday", Labels: lbl{"channel": "#sre"},
		Intent: "cmdb_question", Severity: "info", Clarity: "partial", Why: "a dependency question, conversational and about a future change"},
	{ID: "h-gen-03", Title: "DNS resolution failing for media.acme.example", Desc: "The authoritative nameservers answer SERVFAIL for every record in media.acme.example since 07:32 UTC (DNSSEC signatures expired); apps and the website cannot be reached by name.", Resource: "media.acme.example", Sev: "critical", Runbook: hrb + "dns/servfail", Labels: lbl{"env": "prod"},
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "everything under the zone unreachable; runbook attached"},
	{ID: "h-gen-04", Title: "Object storage cluster minio-media lost quorum", Desc: "3 of 6 nodes offline after a top-of-rack switch failure; uploads and image reads fail with 503.", Resource: "minio-media", Sev: "high", Labels: lbl{"env": "prod"},
		Intent: "incident", Severity: "critical", Clarity: "clear", Why: "primary object store down; no runbook"},
	{ID: "h-gen-05", Title: "heartbeat ok: backup-verifier", Desc: "Scheduled ping received on time (every 60m).", Resource: "backup-verifier", Sev: "info",
		Intent: "noise", Severity: "info", Clarity: "clear", Why: "a heartbeat arriving on time"},
	{ID: "h-gen-06", Title: "Reminder: domain acme-media.tv expires in 40 days, auto-renew is off", Resource: "acme-media.tv", Sev: "low",
		Intent: "incident", Severity: "info", Clarity: "clear", Why: "a reminder weeks ahead; nothing to do today"},
}

// heldoutCatalogue returns every held-out case spec, with its source filled in.
func heldoutCatalogue() []spec {
	groups := []struct {
		source string
		cases  []spec
	}{
		{"alertmanager", heldoutAlertmanager},
		{"grafana", heldoutGrafana},
		{"datadog", heldoutDatadog},
		{"pagerduty", heldoutPagerduty},
		{"opsgenie", heldoutOpsgenie},
		{"sentry", heldoutSentry},
		{"sns", heldoutSNS},
		{"azure-monitor", heldoutAzure},
		{"gcp-monitoring", heldoutGCP},
		{"newrelic", heldoutNewRelic},
		{"zabbix", heldoutZabbix},
		{"elastic", heldoutElastic},
		{"dynatrace", heldoutDynatrace},
		{"splunk", heldoutSplunk},
		{"cloudevents", heldoutCloudEvents},
		{"generic", heldoutGeneric},
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

// generateHeldout composes the held-out set from heldoutCatalogue.
func generateHeldout() (Set, error) {
	return compose(heldoutCatalogue(), "Held-out labelled triage set for bench/triage, written without looking at the classifier's rules. Generated by `go run ./bench/triage -generate` from bench/triage/heldout.go; see testdata/triage/README.md for the labelling guide.", expectedDecision)
}
