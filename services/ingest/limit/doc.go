// Package limit holds the ingestion plane's admission limits, each a small
// type the plane consults before it does any work for a call:
//
//   - ExceedsDepth bounds how deeply a JSON payload nests, with one pass
//     over its bytes and no parse, so a hostile payload cannot make a
//     normaliser's decoder recurse without end;
//   - RateLimiter bounds how many payloads per second each tenant sends, with
//     GCRA in Redis (github.com/go-redis/redis_rate), so the limit holds
//     across every ingest replica; the plane's Ingest path charges the same
//     GCRA state inside its record script (package dedup), and a fresh
//     refusal is remembered until its retry delay;
//   - Dispatcher bounds how many calls one replica works on at once, in all
//     and per tenant, so one tenant flooding cannot take every slot.
//
// A limit that turns a call away returns a *Refusal naming the reason and
// when to retry; the plane's RPC edge turns it into RESOURCE_EXHAUSTED with
// google.rpc.ErrorInfo and google.rpc.RetryInfo. Nothing here queues without
// bound: a refusal is immediate, or after a short wait the caller chose.
package limit
