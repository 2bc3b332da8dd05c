package enumpair_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/enumpair"
)

type color int32

func TestMapsBothWays(t *testing.T) {
	m := enumpair.New(map[color]string{1: "red", 2: "green"})
	w, ok := m.Word(2)
	require.True(t, ok)
	require.Equal(t, "green", w)
	_, ok = m.Word(0)
	require.False(t, ok, "UNSPECIFIED has no word")
	require.Equal(t, color(1), m.Enum("red"))
	require.Equal(t, color(0), m.Enum("blue"), "an unknown word is UNSPECIFIED")
}

func TestAWordPairedTwicePanics(t *testing.T) {
	require.Panics(t, func() { enumpair.New(map[color]string{1: "red", 2: "red"}) })
}
