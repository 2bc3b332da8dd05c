// Package embed turns text into vectors for the knowledge graph's vector
// search.
//
// Two Embedders are here: Local, a deterministic embedder that needs no
// network or model (hashed word, word-pair and character n-gram features,
// L2-normalised), so search works out of the box; and OpenAI, a client of
// the OpenAI-compatible embeddings API (OpenAI, a LiteLLM proxy, vLLM,
// Ollama) with batching, retries and timeouts. Both produce vectors of a
// fixed dimension that the caller checks against the graph's.
package embed
