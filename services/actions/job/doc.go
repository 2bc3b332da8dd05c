// Package job is what the action plane's executors share about River jobs:
// the reference every action job carries (Ref), how a job is inserted in
// the transaction that records its action (one queue per action kind, at
// most one job per tenant and idempotency key, ever), and how an executor
// records an outcome so that neither a shutdown nor River discarding the
// job can leave an action pending for good.
package job
