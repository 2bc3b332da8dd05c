package harness

import (
	"regexp"
	"strings"
)

// Setting is one flag of `alexus <role> --help` that an ALEXUS_* variable
// sets.
type Setting struct {
	// Flag is the flag's name without the dashes.
	Flag string
	// Type is pflag's name of its type: int, int64, float, float64,
	// duration or string.
	Type string
	// Env is the variable the usage names at its end.
	Env string
	// Default is the default as printed. pflag prints none for a zero
	// value, and Default is then empty.
	Default string
}

// helpFlag matches a flag line of `alexus <role> --help`: name, type, the
// variable named at the end of its usage, and its default.
var helpFlag = regexp.MustCompile(`--([a-z0-9-]+) (int|int64|float|float64|duration|string)\s.*\((ALEXUS_[A-Z0-9_]+)\)(?: \(default ([^)]*)\))?`)

// ParseHelp returns the settings a help text lists, in its order. A flag
// without a variable, or of another type (bool, lists), is left out.
func ParseHelp(help string) []Setting {
	var out []Setting
	for _, line := range strings.Split(help, "\n") {
		if m := helpFlag.FindStringSubmatch(line); m != nil {
			out = append(out, Setting{Flag: m[1], Type: m[2], Env: m[3], Default: m[4]})
		}
	}
	return out
}
