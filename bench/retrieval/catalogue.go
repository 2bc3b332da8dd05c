package main

// This file is the hand-written material the corpus is composed from: the
// fictional company's systems and the failures they have had, each failure
// with several ways on-call engineers name it, describe it, explain it and
// fix it. Documents pick among the paraphrases, so two write-ups of the
// same failure rarely share all their words, as in a real wiki.
//
// Placeholders: {svc} is the system's name or one of its aliases, {team}
// its owning team, {cluster} the Kubernetes cluster it runs in, {n} a
// number, {dep} a system it depends on.

// system is one component of Larkspur Pay.
type system struct {
	id      string
	aliases []string
	class   string // svc, pg, kafka, redis, proxy, k8s
	team    string
	cluster string
	deps    []string
	about   string
}

var systems = []system{
	{"checkout-api", []string{"checkout API", "checkout service", "the checkout backend"}, "svc", "payments-core", "k8s-prod-eu",
		[]string{"ledger-db", "fraud-scorer", "redis-sessions", "kafka-payments"},
		"serves the hosted checkout page and the /v2/payments API that merchants call to authorise and capture card payments"},
	{"payments-gateway", []string{"payment gateway", "PSP gateway", "acquirer gateway"}, "svc", "payments-core", "k8s-prod-eu",
		[]string{"edge-proxy", "kafka-payments"},
		"talks to the card acquirers and alternative payment providers; every authorisation leaves Larkspur through it"},
	{"fraud-scorer", []string{"fraud scoring service", "risk scorer", "the fraud model service"}, "svc", "risk", "k8s-prod-eu",
		[]string{"redis-ratelimit", "kafka-payments"},
		"scores every payment attempt with the risk model before authorisation; checkout fails open after 300 ms"},
	{"payout-worker", []string{"payouts worker", "settlement worker", "the payout batch"}, "svc", "treasury", "k8s-prod-us",
		[]string{"ledger-db", "kafka-payments"},
		"computes merchant balances every night and sends payout files to the partner banks"},
	{"merchant-portal", []string{"merchant dashboard", "the portal", "merchant web app"}, "svc", "merchant-experience", "k8s-prod-us",
		[]string{"merchants-db", "auth-service", "redis-sessions"},
		"is the web dashboard where merchants see transactions, refunds, disputes and payouts"},
	{"auth-service", []string{"login service", "identity service", "SSO service"}, "svc", "identity", "k8s-prod-us",
		[]string{"merchants-db", "redis-sessions"},
		"issues session tokens and API keys for merchants and staff, and handles SSO logins"},
	{"notification-service", []string{"notifier", "webhook dispatcher", "merchant webhooks service"}, "svc", "merchant-experience", "k8s-prod-eu",
		[]string{"kafka-payments", "merchants-db"},
		"delivers payment events to merchants' webhook endpoints and sends receipts by email"},
	{"ledger-db", []string{"ledger database", "ledger Postgres", "the ledger cluster"}, "pg", "data-platform", "k8s-prod-eu",
		nil, "is the Postgres 16 cluster (one primary, two streaming standbys) holding the double-entry ledger"},
	{"merchants-db", []string{"merchant database", "merchants Postgres", "the accounts DB"}, "pg", "data-platform", "k8s-prod-us",
		nil, "is the Postgres cluster with merchant accounts, API keys and webhook settings"},
	{"kafka-payments", []string{"payments Kafka cluster", "the event bus", "payments brokers"}, "kafka", "streaming", "k8s-prod-eu",
		nil, "is the six-broker Kafka cluster carrying payment, refund and ledger events"},
	{"kafka-analytics", []string{"analytics Kafka", "the analytics event bus", "reporting brokers"}, "kafka", "streaming", "k8s-prod-us",
		nil, "is the Kafka cluster feeding the data warehouse and merchant reports"},
	{"redis-sessions", []string{"session cache", "session Redis", "sessions store"}, "redis", "identity", "k8s-prod-us",
		nil, "is the Redis cluster holding login sessions and checkout carts"},
	{"redis-ratelimit", []string{"rate-limit Redis", "rate limiter store", "throttling cache"}, "redis", "platform", "k8s-prod-eu",
		nil, "is the Redis cluster behind API rate limits and the fraud velocity counters"},
	{"edge-proxy", []string{"edge TLS proxy", "Envoy edge", "ingress proxy", "the edge"}, "proxy", "platform", "k8s-prod-eu",
		[]string{"checkout-api", "merchant-portal"},
		"terminates TLS for api.larkspurpay.com and dashboard.larkspurpay.com and routes to the clusters"},
	{"k8s-prod-eu", []string{"EU production cluster", "prod-eu", "the Frankfurt cluster"}, "k8s", "platform", "k8s-prod-eu",
		nil, "is the Kubernetes cluster in eu-central-1 running checkout, the gateway and fraud scoring"},
	{"k8s-prod-us", []string{"US production cluster", "prod-us", "the Virginia cluster"}, "k8s", "platform", "k8s-prod-us",
		nil, "is the Kubernetes cluster in us-east-1 running the portal, payouts and identity"},
}

// failure is one kind of failure with the words people use for it.
type failure struct {
	key     string
	classes []string
	// names are paraphrases of the failure's name, used in titles and text.
	names    []string
	symptoms []string
	causes   []string
	fixes    []string
	detects  []string
	// queries are how an on-call engineer or an alert would put it.
	queries []string
	// related are failures that often come with this one.
	related []string
}

var failures = []failure{
	{
		key: "replica-lag", classes: []string{"pg"},
		names: []string{"replica lag", "replication delay", "standby falling behind", "WAL replay lag", "stale read replica"},
		symptoms: []string{
			"Reads from the standby returned balances that were {n} seconds old.",
			"The streaming standby of {svc} stopped keeping up with the primary and the gap kept growing.",
			"Reporting queries routed to the replica showed transactions missing that were committed minutes earlier.",
			"pg_stat_replication showed replay_lag climbing past {n}s while write_lag stayed small.",
		},
		causes: []string{
			"A long-running analytics query on the standby held back WAL replay because hot_standby_feedback and max_standby_streaming_delay let it.",
			"A bulk backfill wrote several hundred GB of WAL in an hour, more than the standby's disk could apply.",
			"The replica's EBS volume was throttled after its burst credits ran out, so replay could not keep up.",
		},
		fixes: []string{
			"Cancel the long query on the standby with pg_cancel_backend and lower max_standby_streaming_delay.",
			"Route reads back to the primary by setting READ_REPLICA_ENABLED=false until the lag is under 5 seconds.",
			"Throttle the backfill job to 500 rows per batch and let replication catch up.",
			"Move the standby to a gp3 volume with provisioned IOPS.",
		},
		detects: []string{
			"The alert PostgresReplicationLagHigh fired for {svc}.",
			"Merchants reported balances in the dashboard that did not include today's payments.",
		},
		queries: []string{
			"[FIRING] PostgresReplicationLagHigh {svc} replay lag {n}s",
			"{svc} standby is {n} seconds behind the primary, reads are stale — what do we do?",
			"replication delay on {svc} keeps growing during the backfill",
		},
		related: []string{"disk-full", "slow-queries"},
	},
	{
		key: "conn-exhaustion", classes: []string{"pg", "svc", "redis"},
		names: []string{"connection pool exhaustion", "too many connections", "connection slots exhausted", "pool saturation", "connection storm"},
		symptoms: []string{
			"Requests failed with \"FATAL: remaining connection slots are reserved for non-replication superuser connections\".",
			"The client pool of {svc} had all {n} connections checked out and requests queued until they timed out.",
			"Latency rose sharply and the logs filled with \"timeout acquiring connection from pool\".",
			"Every new pod opened its own connections and the server refused them at max_connections.",
		},
		causes: []string{
			"A deploy doubled the replica count while each pod kept a pool of 50, so the total passed the server's limit.",
			"Slow queries held connections for seconds, so the pool drained and callers piled up behind it.",
			"Connections leaked on an error path that returned before releasing them to the pool.",
		},
		fixes: []string{
			"Put PgBouncer in transaction mode between the pods and the database.",
			"Lower the per-pod pool size and scale the deployment back to its usual replicas.",
			"Restart the pods holding idle-in-transaction sessions and kill those sessions with pg_terminate_backend.",
			"Fix the leak so the connection is released in a defer on every path.",
		},
		detects: []string{
			"The alert ConnectionPoolSaturated fired for {svc}.",
			"Error rate on {svc} jumped to {n}% with database connection errors.",
		},
		queries: []string{
			"{svc}: FATAL remaining connection slots are reserved",
			"{svc} pool exhausted, requests waiting for a connection and timing out",
			"why does {svc} run out of DB connections after scaling up?",
		},
		related: []string{"slow-queries", "bad-deploy"},
	},
	{
		key: "disk-full", classes: []string{"pg", "kafka"},
		names: []string{"disk full", "no space left on device", "volume out of space", "storage exhaustion", "disk usage at 100%"},
		symptoms: []string{
			"Writes failed with \"could not extend file: No space left on device\".",
			"The data volume of {svc} reached 100% and the process stopped accepting writes.",
			"Disk usage grew by {n} GB overnight and the node went read-only.",
			"Log segments were not deleted and the mount point filled up.",
		},
		causes: []string{
			"An inactive replication slot retained WAL for days, so pg_wal grew until the disk was full.",
			"Retention was set to 30 days on a new high-volume topic, so segments piled up.",
			"Nobody resized the volume after traffic doubled; the capacity alert threshold was set at 98%.",
		},
		fixes: []string{
			"Drop the unused replication slot and checkpoint so old WAL is recycled.",
			"Expand the persistent volume online and grow the filesystem.",
			"Lower retention.ms on the topic and wait for the log cleaner.",
			"Add a disk usage alert at 80% with a forecast of days until full.",
		},
		detects: []string{
			"The alert DiskSpaceCritical fired on {svc}.",
			"Writes to {svc} started failing at {n}:14 UTC.",
		},
		queries: []string{
			"[CRITICAL] {svc} data volume 97% used, filling fast",
			"no space left on device on {svc}",
			"{svc} disk full, writes failing",
		},
		related: []string{"replica-lag", "under-replicated"},
	},
	{
		key: "deadlock", classes: []string{"pg"},
		names: []string{"deadlocks", "lock contention", "blocked queries", "lock waits", "row lock pile-up"},
		symptoms: []string{
			"The log showed \"ERROR: deadlock detected\" several times a minute.",
			"Queries on the accounts table waited on locks and pg_locks showed a chain of {n} blocked sessions.",
			"Transfers timed out while one transaction held a row lock for minutes.",
			"An ALTER TABLE waited for an ACCESS EXCLUSIVE lock and queued every query behind it.",
		},
		causes: []string{
			"Two code paths updated the same pair of ledger accounts in opposite order.",
			"A migration ran ALTER TABLE without lock_timeout during peak traffic.",
			"A batch job updated thousands of rows in one transaction and held the locks until commit.",
		},
		fixes: []string{
			"Order the updates by account id so every transaction takes locks in the same order.",
			"Set lock_timeout = '3s' for migrations and retry them off peak.",
			"Find the blocking pid with pg_blocking_pids and terminate it.",
			"Split the batch into transactions of 1,000 rows.",
		},
		detects: []string{
			"The alert PostgresDeadlocksHigh fired on {svc}.",
			"Payment confirmations on {svc} slowed down and some failed with a serialization error.",
		},
		queries: []string{
			"deadlock detected errors spiking on {svc}",
			"queries stuck waiting for locks on {svc}, how do I find the blocker?",
			"{svc}: transactions blocked behind ALTER TABLE",
		},
		related: []string{"slow-queries", "conn-exhaustion"},
	},
	{
		key: "vacuum-bloat", classes: []string{"pg"},
		names: []string{"table bloat", "autovacuum falling behind", "dead tuples piling up", "transaction ID wraparound risk", "vacuum backlog"},
		symptoms: []string{
			"The payments table grew to {n} GB although the live rows fit in a tenth of that.",
			"Autovacuum workers ran for hours on the same table and never finished.",
			"age(datfrozenxid) passed 1.5 billion and Postgres logged wraparound warnings.",
			"Sequential scans got slower every day while row counts stayed flat.",
		},
		causes: []string{
			"An idle-in-transaction session left open for two days kept the xmin horizon from advancing.",
			"autovacuum_vacuum_cost_limit was left at the default on a table updated a million times an hour.",
			"An abandoned prepared transaction held back cleanup.",
		},
		fixes: []string{
			"Terminate the old session and run VACUUM (VERBOSE) on the table.",
			"Raise autovacuum_vacuum_cost_limit and lower the scale factor for the hot tables.",
			"Use pg_repack to rebuild the bloated table without a long lock.",
			"Set idle_in_transaction_session_timeout to 10 minutes.",
		},
		detects: []string{
			"The alert PostgresXidAgeHigh fired on {svc}.",
			"Storage of {svc} grew without a matching growth in traffic.",
		},
		queries: []string{
			"autovacuum not keeping up on {svc}, dead tuples growing",
			"{svc} xid age warning, wraparound in {n} million transactions",
			"why is the payments table on {svc} so bloated?",
		},
		related: []string{"slow-queries", "disk-full"},
	},
	{
		key: "slow-queries", classes: []string{"pg"},
		names: []string{"slow queries", "query plan regression", "missing index", "sequential scans", "query latency spike"},
		symptoms: []string{
			"The p99 of the balance lookup went from 8 ms to {n} ms.",
			"pg_stat_statements showed one query taking most of the database's time.",
			"EXPLAIN showed a sequential scan over the whole transactions table.",
			"CPU on the primary sat at 95% with no change in traffic.",
		},
		causes: []string{
			"A new query filtered on merchant_id and created_at, and no index covered both.",
			"Statistics were stale after a bulk load, so the planner chose a nested loop over millions of rows.",
			"An ORM upgrade stopped using prepared statements and sent a different plan shape.",
		},
		fixes: []string{
			"Create the index CONCURRENTLY on (merchant_id, created_at).",
			"Run ANALYZE on the tables after bulk loads.",
			"Pin the old plan by rewriting the query and ship it as a hotfix.",
			"Add the query to the slow query dashboard with a 100 ms budget.",
		},
		detects: []string{
			"The alert PostgresSlowQueries fired for {svc}.",
			"The dashboard of {svc} showed query time per call up {n}x.",
		},
		queries: []string{
			"{svc} CPU at 95% and queries slow, no traffic increase",
			"query latency regression on {svc} after the release, seq scan on transactions",
			"how to find which query is hammering {svc}",
		},
		related: []string{"vacuum-bloat", "conn-exhaustion"},
	},
	{
		key: "failover", classes: []string{"pg", "redis"},
		names: []string{"primary failover", "unplanned switchover", "leader election", "primary promotion", "master failover"},
		symptoms: []string{
			"The primary of {svc} became unreachable and a standby was promoted after {n} seconds.",
			"Clients kept writing to the old primary's address and got read-only errors.",
			"For about a minute every write failed with \"cannot execute INSERT in a read-only transaction\".",
			"Two nodes briefly both believed they were the leader.",
		},
		causes: []string{
			"The host running the primary lost its network during an availability-zone incident.",
			"The health check timeout was shorter than a routine fsync stall, so the manager failed over needlessly.",
			"A kernel upgrade rebooted the primary's node without draining it first.",
		},
		fixes: []string{
			"Point clients at the service name managed by the operator instead of a pod IP.",
			"Raise the failover health check to three failures over 30 seconds.",
			"Rebuild the old primary as a standby with pg_rewind.",
			"Restart the clients whose DNS cache still held the old address.",
		},
		detects: []string{
			"The alert PrimaryChanged fired for {svc}.",
			"Writes to {svc} failed for {n} seconds.",
		},
		queries: []string{
			"{svc} primary went down, standby promoted, apps still writing to old node",
			"read-only transaction errors after {svc} switchover",
			"unexpected failover of {svc} at night",
		},
		related: []string{"replica-lag", "dns-failure"},
	},
	{
		key: "oom", classes: []string{"svc", "redis"},
		names: []string{"OOMKilled", "out of memory", "memory limit exceeded", "memory leak", "exit code 137"},
		symptoms: []string{
			"Pods of {svc} were killed with reason OOMKilled every few minutes.",
			"The container's memory climbed steadily to its {n}Mi limit and the kernel killed it.",
			"kubectl describe showed Last State: Terminated, Reason: OOMKilled, Exit Code: 137.",
			"Resident memory grew with every request and never came back down.",
		},
		causes: []string{
			"A cache of merchant settings had no size bound and grew with every merchant seen.",
			"A new report loaded a whole day of transactions into memory instead of streaming them.",
			"The memory limit was copied from a smaller service and was too low for the JVM heap plus metaspace.",
		},
		fixes: []string{
			"Raise the memory limit to 2Gi as a stopgap and roll the deployment.",
			"Bound the cache with an LRU of 10,000 entries.",
			"Take a heap profile with pprof from a pod before it dies and find the growing allocation.",
			"Stream the report rows instead of building a slice.",
		},
		detects: []string{
			"The alert KubePodOOMKilled fired for {svc}.",
			"Restarts of {svc} went from zero to {n} an hour.",
		},
		queries: []string{
			"[FIRING] KubePodOOMKilled {svc} container killed exit 137",
			"{svc} keeps running out of memory and restarting",
			"memory of {svc} grows until the pod dies, leak?",
		},
		related: []string{"crashloop", "gc-pause"},
	},
	{
		key: "crashloop", classes: []string{"svc"},
		names: []string{"CrashLoopBackOff", "crash loop", "pods restarting repeatedly", "startup failure", "failing readiness"},
		symptoms: []string{
			"Pods of {svc} went into CrashLoopBackOff right after start.",
			"The container exited with code 1 within seconds and Kubernetes kept restarting it with growing back-off.",
			"No pod of {svc} became ready, so the service had no endpoints.",
			"The logs showed a panic during configuration loading on every start.",
		},
		causes: []string{
			"A required environment variable was removed from the Helm values.",
			"The secret with the database password was rotated but the new key name did not match.",
			"The liveness probe hit an endpoint that needed the database, so a slow database killed healthy pods.",
		},
		fixes: []string{
			"Roll back the Helm release with helm rollback to the last good revision.",
			"Restore the missing variable and redeploy.",
			"Point the liveness probe at /healthz, which does not touch dependencies.",
			"Read the previous container's logs with kubectl logs --previous.",
		},
		detects: []string{
			"The alert KubePodCrashLooping fired for {svc}.",
			"The deployment of {svc} stalled with 0 of {n} replicas available.",
		},
		queries: []string{
			"{svc} pods in CrashLoopBackOff after deploy",
			"[FIRING] KubePodCrashLooping {svc}",
			"{svc} container exits immediately on startup",
		},
		related: []string{"bad-deploy", "oom"},
	},
	{
		key: "cert-expiry", classes: []string{"svc", "proxy"},
		names: []string{"certificate expired", "TLS handshake failure", "x509 certificate has expired", "expired TLS cert", "mTLS certificate rotation failure"},
		symptoms: []string{
			"Clients failed with \"x509: certificate has expired or is not yet valid\".",
			"Every TLS handshake to {svc} failed and browsers showed NET::ERR_CERT_DATE_INVALID.",
			"Calls between services failed with \"remote error: tls: bad certificate\".",
			"Partner banks rejected connections because the client certificate had lapsed.",
		},
		causes: []string{
			"cert-manager could not renew because the ACME DNS-01 challenge lacked permission on the new hosted zone.",
			"The client certificate for the acquirer was issued by hand a year ago and nobody tracked its expiry.",
			"The intermediate CA bundle in the image was outdated after the CA rotated.",
		},
		fixes: []string{
			"Issue a new certificate, load it into the secret and reload the proxy.",
			"Fix the IAM policy so cert-manager can answer the DNS-01 challenge, then force a renewal.",
			"Add an alert on certificate expiry 21 days ahead for every endpoint.",
			"Move the acquirer's client certificate into Vault with automatic rotation.",
		},
		detects: []string{
			"The alert CertificateExpiringSoon had been firing for days and was silenced.",
			"Synthetic checks against {svc} failed with handshake errors at {n}:00 UTC.",
		},
		queries: []string{
			"x509: certificate has expired calling {svc}",
			"TLS handshake errors on {svc}, browsers say cert invalid",
			"{svc} cert expired, how do we renew it fast?",
		},
		related: []string{"dns-failure", "upstream-errors"},
	},
	{
		key: "bad-deploy", classes: []string{"svc"},
		names: []string{"bad deploy", "release regression", "faulty rollout", "error spike after release", "broken canary"},
		symptoms: []string{
			"The error rate of {svc} rose to {n}% minutes after version 4.{n} rolled out.",
			"The canary returned 500s on the refund endpoint and the rollout went on anyway.",
			"A new build changed the response format and merchants' integrations broke.",
			"Only pods on the new version logged nil pointer dereferences.",
		},
		causes: []string{
			"A feature flag defaulted to on in the new release and exercised an untested code path.",
			"The canary analysis only looked at latency, not at error rate, so it passed a broken build.",
			"A dependency upgrade changed the default JSON encoding of amounts.",
		},
		fixes: []string{
			"Roll back to the previous version with argo rollouts undo.",
			"Turn the feature flag off in the flag service.",
			"Add error rate to the canary analysis template.",
			"Freeze deploys of {svc} until the fix is reviewed.",
		},
		detects: []string{
			"The alert HighErrorRate fired for {svc} right after a deploy.",
			"Merchants opened {n} support tickets about failed requests within half an hour.",
		},
		queries: []string{
			"{svc} 5xx rate jumped after today's release",
			"should we roll back {svc}? errors started with the new version",
			"canary of {svc} failing with 500s",
		},
		related: []string{"crashloop", "upstream-errors"},
	},
	{
		key: "gc-pause", classes: []string{"svc"},
		names: []string{"GC pauses", "garbage collection stalls", "stop-the-world pauses", "heap pressure", "latency from GC"},
		symptoms: []string{
			"p99 latency of {svc} spiked to {n} ms in regular saw-tooth waves.",
			"GC logs showed full collections lasting over a second.",
			"Throughput dropped while CPU was busy in the garbage collector.",
			"Requests timed out in bursts every few minutes and recovered on their own.",
		},
		causes: []string{
			"The heap was sized at 90% of the container limit, leaving the collector no headroom.",
			"A change allocated a large buffer per request for response compression.",
			"GOGC was set to 400 in a tuning attempt and the heap grew until the pauses were long.",
		},
		fixes: []string{
			"Set the heap to 70% of the limit and switch to G1 with a 200 ms pause target.",
			"Reuse buffers with a pool instead of allocating per request.",
			"Set GOMEMLIMIT to 80% of the container limit and GOGC back to 100.",
			"Scale out so each pod carries less live heap.",
		},
		detects: []string{
			"The alert LatencyP99High fired for {svc} in waves.",
			"The client timeouts on {svc} lined up with GC events in the logs.",
		},
		queries: []string{
			"{svc} p99 latency spikes every few minutes, saw-tooth pattern",
			"long garbage collection pauses on {svc}",
			"{svc} timeouts in bursts, CPU busy in GC",
		},
		related: []string{"oom", "cpu-throttling"},
	},
	{
		key: "upstream-errors", classes: []string{"svc", "proxy"},
		names: []string{"upstream throttling", "429 Too Many Requests", "upstream 503s", "dependency outage", "rate limited by provider"},
		symptoms: []string{
			"Calls from {svc} to the acquirer returned 429 Too Many Requests for {n}% of authorisations.",
			"The proxy answered 503 upstream connect error or disconnect/reset before headers.",
			"Retries multiplied the traffic to the provider and made it worse.",
			"Authorisation success rate dropped from 97% to {n}%.",
		},
		causes: []string{
			"The acquirer lowered our rate limit during their maintenance without notice.",
			"Retries without jitter synchronised every pod into bursts.",
			"A circuit breaker was missing, so slow responses tied up every worker.",
		},
		fixes: []string{
			"Enable exponential backoff with full jitter and cap retries at two.",
			"Fail over to the secondary acquirer for card brands it supports.",
			"Configure outlier detection and a circuit breaker on the upstream cluster.",
			"Ask the provider's support to restore the contracted limit.",
		},
		detects: []string{
			"The alert UpstreamErrorRateHigh fired for {svc}.",
			"Authorisation success rate on {svc} fell below the SLO for {n} minutes.",
		},
		queries: []string{
			"acquirer returning 429 to {svc}, authorisations failing",
			"{svc}: upstream connect error or disconnect/reset before headers",
			"provider throttling us, success rate down on {svc}",
		},
		related: []string{"bad-deploy", "cert-expiry"},
	},
	{
		key: "dns-failure", classes: []string{"svc", "k8s", "proxy"},
		names: []string{"DNS resolution failures", "NXDOMAIN errors", "CoreDNS overload", "name lookup timeouts", "could not resolve host"},
		symptoms: []string{
			"Requests from {svc} failed with \"dial tcp: lookup ledger-db on 10.0.0.10:53: no such host\".",
			"Lookups took five seconds and then timed out, in bursts.",
			"CoreDNS pods used all their CPU and dropped queries.",
			"Some pods resolved the old address of the service for {n} minutes.",
		},
		causes: []string{
			"ndots:5 made every external lookup try four cluster suffixes first, multiplying the queries.",
			"CoreDNS ran two replicas for a cluster that had grown to 400 nodes.",
			"A conntrack race in the kernel dropped UDP packets to the DNS service.",
		},
		fixes: []string{
			"Scale CoreDNS with the cluster-proportional autoscaler.",
			"Deploy NodeLocal DNSCache on every node.",
			"Use fully qualified names with a trailing dot for external hosts.",
			"Restart CoreDNS and flush the stale records.",
		},
		detects: []string{
			"The alert CoreDNSErrorsHigh fired in {cluster}.",
			"{svc} logged \"no such host\" for {n} minutes.",
		},
		queries: []string{
			"{svc}: dial tcp lookup no such host",
			"DNS lookups timing out intermittently in {svc}",
			"NXDOMAIN for internal services from {svc}",
		},
		related: []string{"failover", "node-notready"},
	},
	{
		key: "clock-skew", classes: []string{"svc"},
		names: []string{"clock skew", "time drift", "NTP sync failure", "token not yet valid", "system clock offset"},
		symptoms: []string{
			"Tokens issued by {svc} were rejected with \"token used before issued\".",
			"Signed webhook requests failed verification because the timestamp was {n} seconds off.",
			"Logs from one node were stamped minutes in the future.",
			"TOTP codes for staff logins were refused although they were typed correctly.",
		},
		causes: []string{
			"chrony on a group of nodes could not reach the NTP servers after a firewall change.",
			"A VM was restored from a snapshot and kept its old clock.",
			"The hypervisor paused the instance for maintenance and the clock drifted.",
		},
		fixes: []string{
			"Allow UDP 123 to the NTP servers and restart chronyd.",
			"Cordon and drain the drifting nodes.",
			"Accept a leeway of 30 seconds when validating iat and nbf.",
			"Alert on node_timex_offset_seconds above 0.5.",
		},
		detects: []string{
			"The alert NodeClockSkewDetected fired in {cluster}.",
			"Login failures on {svc} rose to {n}% from a few nodes only.",
		},
		queries: []string{
			"{svc} rejects JWTs as not yet valid, iat in the future",
			"clock drift on nodes running {svc}",
			"webhook signature timestamp outside tolerance from {svc}",
		},
		related: []string{"node-notready", "cert-expiry"},
	},
	{
		key: "cpu-throttling", classes: []string{"svc"},
		names: []string{"CPU throttling", "CPU saturation", "CFS quota throttling", "autoscaler not scaling", "HPA stuck at max replicas"},
		symptoms: []string{
			"container_cpu_cfs_throttled_periods showed {svc} throttled in {n}% of periods.",
			"Latency rose while CPU usage looked well under the limit on average.",
			"The HorizontalPodAutoscaler sat at its maximum replicas and could not add more.",
			"Pods were slow at startup and failed readiness under load.",
		},
		causes: []string{
			"The CPU limit of 500m was far below the bursts each request needed.",
			"maxReplicas was still 10 from launch, although traffic had tripled.",
			"The autoscaler scaled on memory, which never moved, instead of CPU.",
		},
		fixes: []string{
			"Remove the CPU limit and keep a request sized from the p95 usage.",
			"Raise maxReplicas and scale on requests per second.",
			"Give the pods a startup probe so a slow start does not fail readiness.",
			"Add more nodes to the pool so the scheduler has room.",
		},
		detects: []string{
			"The alert CPUThrottlingHigh fired for {svc}.",
			"The latency SLO of {svc} burned {n}% of its monthly budget in an hour.",
		},
		queries: []string{
			"[FIRING] CPUThrottlingHigh {svc}",
			"{svc} slow under load but CPU usage looks low",
			"HPA for {svc} stuck at max replicas",
		},
		related: []string{"gc-pause", "node-notready"},
	},
	{
		key: "consumer-lag", classes: []string{"kafka"},
		names: []string{"consumer lag", "consumer group falling behind", "backlog growing on the topic", "slow consumers", "offset lag"},
		symptoms: []string{
			"The lag of the ledger-writer group on {svc} reached {n} million messages.",
			"Events arrived at the consumers minutes late and merchants saw payments appear slowly.",
			"The consumer group kept rebalancing and no member made progress.",
			"Burrow marked the group as STALLED.",
		},
		causes: []string{
			"One partition was hot because the partition key was the merchant id of the largest merchant.",
			"Processing each message called a slow service synchronously.",
			"max.poll.interval.ms was shorter than a batch took, so consumers were kicked out and rebalanced in a loop.",
		},
		fixes: []string{
			"Scale the consumer deployment up to the partition count.",
			"Raise max.poll.interval.ms and lower max.poll.records.",
			"Repartition the topic with a key that spreads the largest merchants.",
			"Skip the poison message by committing its offset after parking it in the dead-letter topic.",
		},
		detects: []string{
			"The alert KafkaConsumerLagHigh fired for a group on {svc}.",
			"Ledger entries lagged behind payments by {n} minutes.",
		},
		queries: []string{
			"[FIRING] KafkaConsumerLagHigh on {svc}, lag {n}M",
			"consumer group on {svc} keeps rebalancing and not making progress",
			"events on {svc} delayed, backlog growing",
		},
		related: []string{"under-replicated", "disk-full"},
	},
	{
		key: "under-replicated", classes: []string{"kafka"},
		names: []string{"under-replicated partitions", "ISR shrinking", "broker down", "offline partitions", "leader imbalance"},
		symptoms: []string{
			"{n} partitions on {svc} were under-replicated and producers with acks=all stalled.",
			"The in-sync replica set shrank to one for the payments topic.",
			"A broker left the cluster and its partitions had no leader for a minute.",
			"Producers logged NOT_ENOUGH_REPLICAS errors.",
		},
		causes: []string{
			"A broker's disk was slow and it fell out of the ISR repeatedly.",
			"A rolling restart moved on before the previous broker had caught up.",
			"The broker's JVM paused for long GCs and lost its ZooKeeper session.",
		},
		fixes: []string{
			"Replace the broker's volume and let it re-replicate.",
			"Wait for UnderReplicatedPartitions to reach zero between restarts.",
			"Run a preferred leader election to rebalance leaders.",
			"Throttle reassignment traffic so producers are not starved.",
		},
		detects: []string{
			"The alert KafkaUnderReplicatedPartitions fired on {svc}.",
			"Producers to {svc} timed out for {n} minutes.",
		},
		queries: []string{
			"[FIRING] KafkaUnderReplicatedPartitions {svc}",
			"ISR shrinking on {svc}, producers getting NOT_ENOUGH_REPLICAS",
			"{svc} broker dropped out, partitions offline",
		},
		related: []string{"consumer-lag", "disk-full"},
	},
	{
		key: "redis-eviction", classes: []string{"redis"},
		names: []string{"key evictions", "maxmemory reached", "cache hit ratio drop", "cache memory pressure", "sessions evicted"},
		symptoms: []string{
			"evicted_keys on {svc} rose to {n} per second.",
			"Users were logged out at random because their sessions vanished.",
			"The cache hit ratio fell from 98% to {n}% and the database took the load.",
			"Writes failed with \"OOM command not allowed when used memory > 'maxmemory'\".",
		},
		causes: []string{
			"Keys were written without a TTL, so memory only grew.",
			"The eviction policy was noeviction on a cache, so writes failed when memory was full.",
			"A new feature stored whole carts of {n} KB per key.",
		},
		fixes: []string{
			"Set a TTL on every session key and switch the policy to volatile-lru.",
			"Scale the cluster to larger nodes or add shards.",
			"Find the biggest keys with redis-cli --bigkeys and shrink them.",
			"Alert on used_memory above 80% of maxmemory.",
		},
		detects: []string{
			"The alert RedisMemoryHigh fired for {svc}.",
			"Support got {n} complaints about random logouts.",
		},
		queries: []string{
			"users randomly logged out, {svc} evicting keys",
			"OOM command not allowed when used memory > maxmemory on {svc}",
			"cache hit rate dropped on {svc}, database load up",
		},
		related: []string{"oom", "failover"},
	},
	{
		key: "node-notready", classes: []string{"k8s"},
		names: []string{"nodes NotReady", "kubelet unhealthy", "node pressure evictions", "node lost", "disk pressure on nodes"},
		symptoms: []string{
			"{n} nodes of {svc} went NotReady and their pods were evicted.",
			"Pods were evicted with \"The node was low on resource: ephemeral-storage\".",
			"The kubelet stopped posting status and the node controller tainted the node.",
			"Workloads rescheduled all at once and the remaining nodes ran out of room.",
		},
		causes: []string{
			"Container logs filled the root disk because log rotation was misconfigured.",
			"A kernel bug in the new AMI hung the container runtime.",
			"The kubelet lost its connection to the API server during a control plane upgrade.",
		},
		fixes: []string{
			"Cordon and drain the broken nodes, then replace them from the node group.",
			"Roll the node group back to the previous AMI.",
			"Set containerLogMaxSize and clean /var/log/pods.",
			"Keep a PodDisruptionBudget on every critical deployment so evictions stay gradual.",
		},
		detects: []string{
			"The alert KubeNodeNotReady fired in {svc}.",
			"Pods pending for lack of capacity rose to {n}.",
		},
		queries: []string{
			"[FIRING] KubeNodeNotReady {svc}",
			"nodes in {svc} under disk pressure, pods evicted",
			"kubelet stopped reporting on several {svc} nodes",
		},
		related: []string{"image-pull", "dns-failure"},
	},
	{
		key: "image-pull", classes: []string{"k8s"},
		names: []string{"image pull failures", "ImagePullBackOff", "registry rate limit", "ErrImagePull", "container registry outage"},
		symptoms: []string{
			"New pods in {svc} stayed in ImagePullBackOff.",
			"Pulls failed with \"toomanyrequests: You have reached your pull rate limit\".",
			"Scaling up did nothing because no new pod could fetch its image.",
			"The registry answered 401 unauthorized to {n} nodes.",
		},
		causes: []string{
			"The image pull secret expired after the registry token rotation.",
			"Public base images were pulled anonymously and hit the Docker Hub limit.",
			"The registry's regional endpoint was down.",
		},
		fixes: []string{
			"Refresh the pull secret and restart the pending pods.",
			"Mirror the base images into the private registry.",
			"Pre-pull critical images on the node AMI.",
			"Point the nodes at the registry's other region.",
		},
		detects: []string{
			"The alert KubePodNotReady fired for new pods in {svc}.",
			"A deploy in {svc} stalled for {n} minutes.",
		},
		queries: []string{
			"pods in {svc} stuck in ImagePullBackOff",
			"toomanyrequests pull rate limit in {svc}",
			"{svc} cannot pull images from the registry, 401",
		},
		related: []string{"node-notready", "crashloop"},
	},
}
