package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/alexus-platform/alexus/services/orchestrator/reasoning"
)

// Targets of the heuristic path (issue: bench/triage).
const (
	intentTarget   = 0.85
	severityTarget = 0.80
)

func pct(t Tally) string {
	return fmt.Sprintf("%.1f%% (%d/%d)", 100*t.Accuracy(), t.Hits, t.Total)
}

// modelRun is the model path's run over the set.
type modelRun struct {
	url, model string
	results    []Result
	scores     Scores
}

// writeReport prints the Markdown report of a heuristic run, and of the
// model path's when model is not nil.
func writeReport(w io.Writer, set Set, file string, s Scores, th reasoning.Thresholds, model *modelRun) {
	fmt.Fprintln(w, "# bench/triage")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%d labelled signals from %d sources (%s). Thresholds: execute at %.2f, clarify at %.2f.\n\n",
		len(set.Cases), len(s.Sources), file, th.ExecuteAt, th.ClarifyAt)

	fmt.Fprintln(w, "## Heuristic path")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| field | accuracy |")
	fmt.Fprintln(w, "| --- | --- |")
	for _, f := range fields {
		fmt.Fprintf(w, "| %s | %s |\n", f, pct(s.Overall[f]))
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "### Per source")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| source | cases | intent | severity | decision |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: |")
	for _, src := range s.Sources {
		b := s.BySource[src]
		fmt.Fprintf(w, "| %s | %d | %.0f%% | %.0f%% | %.0f%% |\n", src, b["intent"].Total,
			100*b["intent"].Accuracy(), 100*b["severity"].Accuracy(), 100*b["decision"].Accuracy())
	}
	fmt.Fprintln(w)

	for _, f := range []struct {
		name   string
		values []string
	}{{"intent", intents}, {"severity", severities}, {"decision", decisions}} {
		writeConfusion(w, f.name, f.values, s.Confusion[f.name])
	}

	fmt.Fprintf(w, "### Misses (%d)\n\n", len(s.Misses))
	if len(s.Misses) == 0 {
		fmt.Fprintln(w, "None.")
	} else {
		fmt.Fprintln(w, "| id | source | field | expected | got |")
		fmt.Fprintln(w, "| --- | --- | --- | --- | --- |")
		for _, m := range s.Misses {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", m.ID, m.Source, m.Field, m.Expected, m.Got)
		}
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "## Model path")
	fmt.Fprintln(w)
	if model != nil {
		writeModel(w, s, model)
	} else {
		fmt.Fprintln(w, "ALEXUS_LLM_BASE_URL is not set; the model path is not run.")
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "## Targets")
	fmt.Fprintln(w)
	fmt.Fprintln(w, targetLine("intent", s.Overall["intent"], intentTarget))
	fmt.Fprintln(w, targetLine("severity", s.Overall["severity"], severityTarget))
}

func targetLine(field string, t Tally, target float64) string {
	verdict := "not met"
	if t.Accuracy() >= target {
		verdict = "met"
	}
	return fmt.Sprintf("- heuristic %s accuracy %.1f%% (target ≥ %.0f%%): %s", field, 100*t.Accuracy(), 100*target, verdict)
}

// writeConfusion prints rows = expected, columns = got; a got value
// outside values (e.g. unspecified) gets its own column.
func writeConfusion(w io.Writer, name string, values []string, m map[[2]string]int) {
	cols := slices.Clone(values)
	for k := range m {
		if !slices.Contains(cols, k[1]) {
			cols = append(cols, k[1])
		}
	}
	fmt.Fprintf(w, "### Confusion matrix: %s (rows expected, columns got)\n\n", name)
	fmt.Fprintf(w, "| expected \\ got | %s |\n", strings.Join(cols, " | "))
	fmt.Fprintf(w, "| --- |%s\n", strings.Repeat(" ---: |", len(cols)))
	for _, want := range values {
		cells := make([]string, len(cols))
		for i, got := range cols {
			cells[i] = fmt.Sprint(m[[2]string{want, got}])
		}
		fmt.Fprintf(w, "| **%s** | %s |\n", want, strings.Join(cells, " | "))
	}
	fmt.Fprintln(w)
}

// writeModel prints the model path's accuracy next to the heuristic's, how
// often each stage stayed on the model path, why it fell back, and the
// tokens used.
func writeModel(w io.Writer, heuristic Scores, m *modelRun) {
	fmt.Fprintf(w, "Model %q at %s.\n\n", m.model, m.url)
	fmt.Fprintln(w, "| field | model path | heuristic path |")
	fmt.Fprintln(w, "| --- | --- | --- |")
	for _, f := range fields {
		fmt.Fprintf(w, "| %s | %s | %s |\n", f, pct(m.scores.Overall[f]), pct(heuristic.Overall[f]))
	}
	fmt.Fprintln(w)
	var onModel [2]int
	reasons := map[string]int{}
	prompt, completion := 0, 0
	for _, r := range m.results {
		for i, p := range r.Got.Paths {
			if p == "model" {
				onModel[i]++
			} else if fb := r.Got.Fallbacks[i]; fb != "" {
				reasons[fb]++
			}
		}
		prompt += r.Got.PromptTokens
		completion += r.Got.CompletionTokens
	}
	n := len(m.results)
	fmt.Fprintf(w, "Answered on the model path: classify %d/%d, diagnose %d/%d. Tokens: %d prompt, %d completion (%.0f per case).\n\n",
		onModel[0], n, onModel[1], n, prompt, completion, float64(prompt+completion)/float64(max(n, 1)))
	if len(reasons) > 0 {
		fmt.Fprintln(w, "| fallback reason | stages |")
		fmt.Fprintln(w, "| --- | ---: |")
		keys := make([]string, 0, len(reasons))
		for k := range reasons {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int { return reasons[b] - reasons[a] })
		for _, k := range keys {
			fmt.Fprintf(w, "| %s | %d |\n", strings.ReplaceAll(k, "|", "/"), reasons[k])
		}
	}
}
