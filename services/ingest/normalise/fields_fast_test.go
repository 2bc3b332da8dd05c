package normalise

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// scalarText's and optionalString's fast paths give what json.Unmarshal
// gives, and leave everything else to it.
func TestScalarFastPathsMatchJSONDecoding(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`"plain"`, `""`, `"with space and ünïcödé"`, `"tab\tescaped"`, `"quote \" inside"`, `"\u00e9"`,
		"\"raw\x01control\"", "\"bad \xff utf8\"", `"unterminated`, `"a"b"`, `"` + "\u2028" + `"`, "\"del\x7f\"",
		`0`, `-1`, `12345678901234567890`, `1.5e-7`, `-`, `01`, `1 2`, `-0.0`, `1.`,
	} {
		v := json.RawMessage(in)

		// scalarText: the slow path, as it was.
		var want string
		var wantErr bool
		if in[0] == '"' {
			wantErr = json.Unmarshal(v, &want) != nil
		} else {
			var n json.Number
			wantErr = json.Unmarshal(v, &n) != nil
			want = n.String()
		}
		got, err := scalarText(v)
		if wantErr {
			require.Error(t, err, in)
		} else {
			require.NoError(t, err, in)
			require.Equal(t, want, got, in)
		}

		if in[0] == '"' {
			got, err := optionalString(v)
			if wantErr {
				require.Error(t, err, in)
			} else {
				require.NoError(t, err, in)
				require.Equal(t, want, got, in)
			}
		}
	}
}
