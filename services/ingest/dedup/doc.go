// Package dedup claims alert fingerprints in Redis and appends signal events
// to the tenant's signal stream, both in one Lua script per alert so that an
// alert is either fully recorded (claim and stream entry) or not at all.
//
// Keys, all built by rediskey.Space.Tenant from the verified tenant:
//
//	<ns>:{<tenant>}:dedup:<fingerprint>  the claim: the first signal's ID, expiring after the dedup window
//	<ns>:{<tenant>}:signals              the stream; entry field "event" is a marshalled signalv1.SignalEvent
//
// and the global set <ns>:streams of tenants that have a stream, which the
// orchestrator reads to find the streams to consume.
package dedup
