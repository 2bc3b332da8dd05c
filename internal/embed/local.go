package embed

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"unicode"
)

// Embedder turns texts into vectors of Dimension, one per text, in order.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	// Dimension is the length of every vector.
	Dimension() int
	// Model names the model, stored with what it embedded.
	Model() string
}

// Local is the built-in embedder: each text becomes a bag of hashed
// features, so texts that share words (and, less, word stems and pairs)
// point the same way. It is deterministic and fast, and it knows no
// synonyms: it is lexical similarity in vector form, a floor that works
// with no model configured.
type Local struct {
	dim int
}

// LocalModel is the Model of Local, with its feature version: vectors from
// another version are not comparable.
const LocalModel = "alexus-local-hash-v1"

// NewLocal returns a Local embedder of dimension dim (at least 64).
func NewLocal(dim int) (*Local, error) {
	if dim < 64 {
		return nil, fmt.Errorf("local embedder: dimension %d must be at least 64", dim)
	}
	return &Local{dim: dim}, nil
}

// Dimension implements Embedder.
func (l *Local) Dimension() int { return l.dim }

// Model implements Embedder.
func (l *Local) Model() string { return LocalModel }

// Feature weights: whole words carry most of the meaning, word pairs keep
// some order, character trigrams catch inflections ("restart", "restarted")
// and typos.
const (
	wordWeight    = 1.0
	pairWeight    = 0.5
	trigramWeight = 0.25
)

// Embed implements Embedder.
func (l *Local) Embed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = l.embedOne(t)
	}
	return out, nil
}

func (l *Local) embedOne(text string) []float32 {
	v := make([]float64, l.dim)
	words := tokens(text)
	for i, w := range words {
		l.add(v, "w:"+w, wordWeight)
		if i > 0 {
			l.add(v, "p:"+words[i-1]+" "+w, pairWeight)
		}
		padded := "^" + w + "$"
		if len(padded) > 3 {
			for j := 0; j+3 <= len(padded); j++ {
				l.add(v, "c:"+padded[j:j+3], trigramWeight)
			}
		}
	}
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	out := make([]float32, l.dim)
	if norm == 0 {
		return out
	}
	norm = math.Sqrt(norm)
	for i, x := range v {
		out[i] = float32(x / norm)
	}
	return out
}

// add hashes feature into one bucket with a hashed sign, so collisions
// cancel out on average instead of adding up.
func (l *Local) add(v []float64, feature string, weight float64) {
	h := fnv.New64a()
	h.Write([]byte(feature))
	sum := h.Sum64()
	idx := int(sum % uint64(l.dim))
	if sum>>63 == 1 {
		weight = -weight
	}
	v[idx] += weight
}

// tokens lower-cases text and splits it into words of letters and digits,
// dropping a few words too common to mean anything.
func tokens(text string) []string {
	fields := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	out := fields[:0]
	for _, f := range fields {
		if !stopwords[f] {
			out = append(out, f)
		}
	}
	return out
}

var stopwords = map[string]bool{
	"a": true, "an": true, "the": true, "and": true, "or": true, "of": true, "to": true, "in": true,
	"on": true, "for": true, "is": true, "are": true, "was": true, "be": true, "it": true, "this": true,
	"that": true, "with": true, "as": true, "at": true, "by": true, "from": true, "we": true, "if": true,
}
