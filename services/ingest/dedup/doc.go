// Package dedup claims alert fingerprints in Redis and appends signal events
// to the tenant's signal stream, in one Lua script per call so that a
// call's alerts are either fully recorded (claims and stream entries) or not
// at all. The same script can first charge the call to the tenant's rate,
// so that the rate check and the records cost one command.
//
// Keys, all built by rediskey.Space.Tenant from the verified tenant:
//
//	<ns>:{<tenant>}:dedup:<fingerprint>  the claim: the first signal's ID, expiring after the dedup window
//	<ns>:{<tenant>}:signals              the stream; entry field "event" is a marshalled signalv1.SignalEvent
//	<ns>:{<tenant>}:ratelimit            the rate's GCRA state, when a call is charged (the key is the caller's)
//
// and the global set <ns>:streams of tenants that have a stream, which the
// orchestrator reads to find the streams to consume.
package dedup
