// Package llm is the reasoning plane's client of the OpenAI-compatible chat
// completions API: OpenAI itself, a LiteLLM proxy, vLLM or Ollama, at any
// base URL.
//
// A Client holds one provider's settings and, per tenant, overrides of the
// model, key, timeout, token budget and concurrency; a Request may also
// carry its own model, key and timeout, for per-tenant settings the caller
// keeps elsewhere (the reasoning plane's, in Postgres). Each call reads its
// tenant from the context, waits briefly for one of that tenant's slots
// (ErrBusy rather than an unbounded queue, so one tenant's burst cannot
// stall another's calls), retries 408, 429, 5xx, timeouts and broken
// connections with backoff that honours Retry-After, and reports the
// tokens used to a Meter.
//
// CompleteJSON asks for structured output against a JSON schema and checks
// the answer against that schema after parsing, with a small validator for
// the subset of JSON Schema the planes use. Every failure has a typed cause
// (ErrMalformed, ErrSchema, ErrRefused, ErrTimeout, ErrBusy, ErrBudget,
// *APIError), so a caller that falls back to rules can record why.
package llm
