// Package job is what the action plane's executors share about River jobs:
// the reference every action job carries (Ref), how a job is inserted in
// the transaction that records its action (one queue per action kind, at
// most one job per tenant and idempotency key, ever), and how an executor
// records an outcome so that neither a shutdown nor River discarding the
// job can leave an action pending for good.
//
// Worker is the River worker every executor embeds: it loads the job's
// action, skips one already finished, reads its target, sends once and
// records what the answer (an Answer and its Verdict) means, including
// waiting out a rate limit. An executor adds only its Executor: how it
// reads its target and how it writes, sends and reads one request, with
// the helpers for answers here (RetryAfter, Clip, Describe).
package job
