package normalise

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// Recipe names one source's fingerprint rule. The rule itself is written in
// the doc comment of the source's Normaliser; Name and Version are stored
// with every signal (signals.fingerprint_recipe, _version), so a rule whose
// output changes must get a new Version, never a silent edit.
type Recipe struct {
	// Name is the recipe's name, by convention the source name.
	Name string
	// Prefix starts every fingerprint the recipe makes, so fingerprints of
	// different sources (or branches of one recipe) can never collide.
	Prefix string
	// Version counts changes of the rule's output, from 1.
	Version uint32
}

// Apply sets sig's fingerprint to Prefix + ":" + value and records the
// recipe on it.
func (r Recipe) Apply(sig *signalv1.Signal, value string) {
	sig.Fingerprint = r.Prefix + ":" + value
	sig.FingerprintRecipe = r.Name
	sig.FingerprintRecipeVersion = r.Version
}

// HashFields is the hash half of most recipes: the lower-case hex SHA-256
// of the fields in byte-wise order of name, each written as the name, a
// 0x00 byte, the value and a 0x00 byte. Equal field sets hash equally,
// whatever order they arrived in; the separators keep ("ab","c") and
// ("a","bc") apart.
func HashFields(fields map[string]string) string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	slices.Sort(names)
	h := sha256.New()
	for _, name := range names {
		h.Write([]byte(name))
		h.Write([]byte{0})
		h.Write([]byte(fields[name]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
