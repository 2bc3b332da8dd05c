// Package modelsettings keeps each tenant's own settings of the reasoning
// plane's model path, and its token use, in Postgres.
//
// A tenant may name its own chat model, give its own API key (a LiteLLM
// virtual key carrying its spend limits, say), shorten or lengthen the time
// allowed for one model request, and set a monthly token budget. Empty and
// zero values mean the deployment's settings and no budget. The rows live
// in tenant_llm_settings under row-level security; the key is sealed with
// internal/secretbox, bound to the tenant and to KeyPurpose, so a blob
// copied to another tenant's row does not open, and it is never returned by
// the API. Without a key ring (ALEXUS_SECRET_KEYS) a key cannot be stored.
//
// A Store is also the model client's llm.Meter and llm.Budgeter: every
// call that got an answer adds its prompt and completion tokens to the
// tenant's row of tenant_llm_usage for the calendar month (UTC), and a call
// of a tenant whose month's tokens have reached its budget is refused
// before anything is sent, so the stage falls back to the heuristic. The
// budget is soft: calls already in flight when it is reached still finish
// and are counted.
//
// Get serves the model path, which reads a tenant's settings before every
// model call, so each replica keeps them for CacheTTL: a change made
// through this replica applies at once, one made through another within
// CacheTTL. Only the budget check reads Postgres on every call, and only
// for a tenant that has a budget.
package modelsettings
