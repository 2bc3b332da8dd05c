// Package knowledge serves KnowledgeService (alexus.knowledge.v1) in the
// orchestrator process, over the tenant's knowledge graph (package graph)
// and an embedder (package embed): the handler converts between the API and
// the graph's model, embeds node text and search queries itself, and maps
// the graph's errors to gRPC codes. Its subpackages hold what turns outside
// material into the graph: cmdb (CMDB exports) and chunk (knowledge files).
package knowledge
