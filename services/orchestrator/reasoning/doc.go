// Package reasoning is the orchestrator's ReasoningService: the three typed
// stages (classify, diagnose, check confidence) that the pipeline calls for
// every signal.
//
// Every stage has two paths, and every answer says which one produced it
// (Path), why it fell back when it did (fallback_reason) and what a model
// call cost (ModelCall):
//
//   - The model path (when ALEXUS_LLM_BASE_URL is set): ClassifyIncident
//     asks an OpenAI-compatible model for structured output against a JSON
//     schema; Diagnose runs the incident agent, which retrieves from the
//     tenant's knowledge graph (hybrid search for similar issues, documents
//     and resolutions, the validated resolutions of the issues found, the
//     affected CI and its neighbours) and asks for a probable cause whose
//     every piece of evidence cites a retrieved document ID, and an action
//     from the tenant's action catalogue. An answer that is not JSON, does
//     not fit the schema, cites an ID that was not retrieved, names a runbook
//     that was not retrieved or recommends an action outside the catalogue
//     is refused, as is a model that times out, is rate limited past its
//     retries or is busy; the stage then takes the heuristic path. A stage's
//     whole model time is bounded (StageBudget) so a slow model never holds
//     an entry past its deadline.
//   - The heuristic path: plain functions over plain values (Classify,
//     Diagnose, Decide), testable without a server, described below.
//
// CMDB questions go to the CMDB agent whatever the path: it finds the CI
// the question names and answers by graph traversal (owners, dependents,
// dependencies, recent changes, neighbours); a model only rewords the
// answer from the facts found.
//
// CheckConfidence applies the tenant's most specific threshold rule for
// the classification's severity and the recommended action's kind (see
// package thresholds), and a critical incident without a runbook always
// escalates.
//
// # What Classify reads
//
// The rules read text, not vendors: ingest has already mapped each vendor's
// payload onto a signal. The headline is the title, the summary annotation
// and the name of the rule that fired (alertname, rule_name, search_name,
// alert_rule, alarm_name, alertRule, policy_name, condition_name,
// alertConditionNames, rulename). The detail is the description and the
// vendors' free-text annotations (message, reason, _raw, alert_message,
// trigger_description, alarm_description, state_reason, alert_title,
// description_title, impacted_entity). CamelCase and dashed names are split
// into words first, so "KubePodCrashLooping" and "frontdoor-origin-down"
// match the same patterns as prose.
//
// # Intent
//
// The first rule that matches decides, in this order:
//
//	| # | rule                         | matches                                                             | intent        |
//	|---|------------------------------|---------------------------------------------------------------------|---------------|
//	| 0 | explicit label               | alexus_intent=incident|cmdb_question|change_notice|noise             | as labelled   |
//	| 1 | test notification            | label sample_event/test/is_test=yes|true|1; "[TEST]"; "test         | noise         |
//	|   |                              | notification|alert|incident|problem|event|webhook…" (one word may    |               |
//	|   |                              | sit between: "Test workflow notification"); "Notification test";     |               |
//	|   |                              | "please ignore"; "this is a test"; "example … exception"; a title    |               |
//	|   |                              | that is just "test". Not when the test is a check of a real system:  |               |
//	|   |                              | synthetic, smoke, load, integration, e2e, canary, failover, DR tests |               |
//	| 2 | heartbeat / dead man's switch| rule named Watchdog, InfoInhibitor, DeadMansSwitch, AlwaysFiring,    | noise         |
//	|   |                              | Heartbeat; "heartbeat", "should always be firing", "canary alarm",   |               |
//	|   |                              | "alerting pipeline is functional", "used to inhibit"                 |               |
//	|   |  … but the beat stopped      | "expired", "missed", "not received", "has not been pinged", "overdue"| incident      |
//	|   |                              | or any failure word ("heartbeat timeout")                            |               |
//	| 3 | question                     | the title ends in "?", or opens with what, which, who, whose, where, | cmdb_question |
//	|   |                              | why, how and there is no description                                 |               |
//	| 4 | change                       | type/category/component/kind/event_type label naming a change,       | change_notice |
//	|   |                              | deploy or maintenance; or the headline says deploy, release,         |               |
//	|   |                              | rollout, rolled out, maintenance, upgrade, feature flag, config      |               |
//	|   |                              | change, change window/audit/request, terraform apply, helm upgrade   |               |
//	|   |  … but it failed             | failed, failing, failure, error(s), 5xx, crash, outage, broke,       | incident      |
//	|   |                              | aborted, degraded (outside "back to normal" clauses); or the headline|               |
//	|   |                              | reports a deployed object's state: mismatch, stuck, not ready,       |               |
//	|   |                              | unhealthy, unavailable, down, replicas (KubeDeploymentReplicasMismatch)|             |
//	| 5 | routine report               | title: daily|weekly|monthly|nightly|hourly … report|digest|summary;  | noise         |
//	|   |                              | "usage report"                                                       |               |
//	| 6 | outside production           | printer, toner, paper jam                                            | noise         |
//	| 7 | expected flapping            | "flapping" and "expected", "known to", "benign", "by design"          | noise (weak)  |
//	| 8 | deprecation                  | headline says deprecated / DeprecationWarning                        | noise (weak)  |
//	| 9 | insufficient data            | CloudWatch INSUFFICIENT_DATA state or "Insufficient Data"            | noise (weak)  |
//	|10 | non-production environment   | env/environment label dev, test, ci, sandbox, qa, lab                | noise (weak)  |
//	|   | otherwise                    |                                                                      | incident      |
//
// A question is a strong match when its title names a configuration topic
// (depends, owns/owner, on call, team, runs on, hosted, uses, used by,
// upstream/downstream, blast radius, impact, stored, where, version, what
// changed); it is weak when it has none, when it opens conversationally
// ("can someone", "does anyone") or when it mentions an outage ("blast
// radius if X goes down?"), because it may be an incident report in
// question form. A change notice that names neither a resource nor any
// detail is weak: it does not say what changed.
//
// # Severity
//
// Noise, change notices and CMDB questions are always info. For incidents
// the source's severity is the prior, and the text overrides it where it is
// clear, first rule first:
//
//	| # | rule                    | when                                                                      | severity          |
//	|---|-------------------------|---------------------------------------------------------------------------|-------------------|
//	| 1 | lost monitoring         | headline: no data, not reporting, monitoring unavailable, agent (is) not  | warning           |
//	|   |                         | available, lost connection                                                |                   |
//	| 2 | outage or loss          | outage, data loss, kernel panic, unreachable, no/0 healthy, recovery is    | critical          |
//	|   |                         | impossible; "down", "unavailable", "not running" unless hedged ("may be   |                   |
//	|   |                         | down", "will be unavailable"), about monitoring ("monitoring unavailable",|                   |
//	|   |                         | "agent … down"), in maintenance, or not an outage ("slowed down", "down   |                   |
//	|   |                         | 30%"); users blocked ("customers cannot", "cannot pay/log in/check out"); |                   |
//	|   |                         | a failure in all regions/locations/probes or N/N locations                 |                   |
//	| 3 | expiry horizon          | "expires in N days": within 14 days                                        | warning           |
//	|   |                         | further ahead (a reminder)                                                 | info              |
//	| 4 | cost report             | budget, spend, cost/capacity report, license usage, with no failure        | info              |
//	| 5 | no usable prior         | no severity at all, or only PagerDuty-style urgency: failure words →      | error / warning / |
//	|   |                         | error, degradation words or resource pressure → warning, else warning      | warning           |
//	| 6 | critical but partial    | prior critical, headline says spike, burst, elevated, increase             | error             |
//	| 7 | failure in the headline | prior warning or info, headline has failure words (error(s), 5xx,          | error             |
//	|   |                         | exception, failed/failing, crash loop, OOM, timeout, dropped, blocked,    |                   |
//	|   |                         | mismatch, malware, brute force …)                                          |                   |
//	| 8 | failure in the detail   | prior info, detail has failure words                                       | error             |
//	| 9 | degradation             | prior info, unhedged latency, slow, lag, backlog, delayed, saturation,     | warning           |
//	|   |                         | stale, anomaly, unusual, rate limits …                                     |                   |
//	|10 | resource pressure       | prior above warning, headline is CPU/memory/heap/disk/slot usage or        | warning           |
//	|   |                         | utilisation, and no failure words anywhere                                 |                   |
//	|   | otherwise               |                                                                            | the prior         |
//
// The prior is the severity ingest mapped from the source. Where it is
// missing, and for recoveries (vendors often send recoveries as info, but a
// recovery keeps the severity of the fault it ends), the label conventions
// below are read from labels or annotations: severity, priority, sev, level,
// alert_priority.
//
//	| value                                                                 | severity |
//	|-----------------------------------------------------------------------|----------|
//	| critical, crit, page, emergency, fatal, disaster, P1, SEV0, SEV1, 5, 6 | critical |
//	| error, high, major, severe, P2, SEV2, 4                                | error    |
//	| warning, warn, medium, minor, average, moderate, P3, SEV3, 3           | warning  |
//	| info, low, none, informational, information, not classified, P4, P5,  | info     |
//	| SEV4, 1, 2                                                             |          |
//
// Clauses that report the condition as over ("error rate is normal", "back
// to 0.3%", "recovered") are skipped by the word rules.
//
// # Confidence
//
// Confidence adds up the evidence the signal carries, from whichever source
// sent it, and is capped at 0.95:
//
//	| evidence                                                                   | weight |
//	|----------------------------------------------------------------------------|--------|
//	| base                                                                       | 0.50   |
//	| explicit alexus_intent label / strong intent rule / weak intent rule       | +0.30 / +0.30 / +0.10 |
//	| a title that says something (not one token or generic words like "Alert")   | +0.10  |
//	| detail text beyond the title                                               | +0.10  |
//	| a resource                                                                 | +0.10  |
//	| a severity a label states, the text supports, or the source states and     | +0.10  |
//	| the rules kept                                                             |        |
//	| the name of the rule that fired                                            | +0.05  |
//	| a link back to the alert, or a runbook                                     | +0.05  |
//	| an incident where nothing says what is wrong (bare title, no detail)       | -0.25  |
//
// Then caps apply. Below ExecuteAt (at most 0.70), so a person confirms: an
// incident that is flapping, suspected ("possible", "anomaly", "unusual"),
// rate limiting, a synthetic check that failed with no stated user impact,
// lost monitoring, a missed heartbeat, a vendor critical the text reads as a
// spike, and every weak intent rule. Below ClarifyAt (0.45): an anomaly
// score with nothing else to go on.
//
// Decide is unchanged by these rules. The triage set's labelling guide adds
// a product rule, "critical incidents without a runbook always escalate";
// it is not applied here, because the pipeline's own end-to-end contract
// executes a critical alert that carries no runbook (see e2e), and
// CheckConfidence sees only the classification and diagnosis, which carry
// no structured runbook field.
package reasoning
