// Command retrieval is Alexus's retrieval evaluation. It loads a labelled
// corpus of a fictional payments company's incidents, runbooks,
// postmortems and resolutions (testdata/retrieval, composed by this
// program's -generate mode) into a throw-away database through the
// knowledge graph's Postgres adapter, runs every labelled query lexically,
// by vector and hybrid, and reports nDCG@10 and recall@10 for each mode and
// embedder. It then measures HybridSearch's latency at 20,000 documents for
// one tenant among ten, and checks the vector list against a brute-force
// top-k.
//
// See README.md beside this file for the flags, the corpus and the figures.
package main
