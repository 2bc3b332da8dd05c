package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/alexus-platform/alexus/internal/graph"
)

// Doc is one document of the corpus, in the shape of a graph node.
type Doc struct {
	ID         string            `json:"id"`
	Kind       string            `json:"kind"`
	Type       string            `json:"type"`
	Title      string            `json:"title"`
	Body       string            `json:"body"`
	Properties map[string]string `json:"properties,omitempty"`
}

// Node is the document as a graph node, without its embedding.
func (d Doc) Node() graph.Node {
	return graph.Node{ID: d.ID, Kind: graph.Kind(d.Kind), Type: d.Type, Title: d.Title, Body: d.Body, Properties: d.Properties}
}

// Text is what is embedded: the title and the body, as lexical search
// reads them.
func (d Doc) Text() string { return d.Title + "\n" + d.Body }

// Corpus is testdata/retrieval/corpus.json.
type Corpus struct {
	Company string `json:"company"`
	Seed    uint64 `json:"seed"`
	Docs    []Doc  `json:"docs"`
}

// Query is one labelled query: Judgments maps document IDs to grades 1-3;
// unlisted documents are grade 0. Failure and System name the ground truth
// it was written for.
type Query struct {
	ID        string         `json:"id"`
	Text      string         `json:"text"`
	Failure   string         `json:"failure"`
	System    string         `json:"system"`
	Judgments map[string]int `json:"judgments"`
}

// QuerySet is testdata/retrieval/queries.json.
type QuerySet struct {
	Queries []Query `json:"queries"`
}

// The committed files, relative to the repository root.
const (
	corpusFile  = "testdata/retrieval/corpus.json"
	queriesFile = "testdata/retrieval/queries.json"
)

// loadCorpus reads both files from the repository root dir.
func loadCorpus(dir string) (Corpus, QuerySet, error) {
	var c Corpus
	var q QuerySet
	if err := readJSON(filepath.Join(dir, corpusFile), &c); err != nil {
		return c, q, err
	}
	if err := readJSON(filepath.Join(dir, queriesFile), &q); err != nil {
		return c, q, err
	}
	return c, q, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w (run from the repository root, or pass -root)", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// encode is the committed form: indented JSON with sorted map keys and a
// final newline, so a regenerated file diffs cleanly.
func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeCorpus generates the corpus and writes both files under dir.
func writeCorpus(dir string) (Corpus, QuerySet, error) {
	c, q := Generate()
	for path, v := range map[string]any{corpusFile: c, queriesFile: q} {
		b, err := encode(v)
		if err != nil {
			return c, q, err
		}
		if err := os.WriteFile(filepath.Join(dir, path), b, 0o644); err != nil {
			return c, q, err
		}
	}
	return c, q, nil
}
