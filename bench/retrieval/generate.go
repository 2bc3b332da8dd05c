package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// generateSeed fixes the corpus: the same seed and catalogue always give
// the same files, byte for byte (corpus_test.go checks it).
const generateSeed = 20261129

// Sizes of the generated corpus.
const (
	// failuresPerService is how many of its class's failures each
	// application service has had; the rest it has not.
	failuresPerService = 6
	queryCount         = 70
	changeNotes        = 60
)

// groundTruth is what the generator knows about a document and the judges
// use; it is written to properties, which search does not read.
type groundTruth struct {
	failure, system string
	overview        bool
}

type generator struct {
	r     *rand.Rand
	docs  []Doc
	truth map[string]groundTruth
	inc   int
}

// Generate composes the corpus and the queries from the catalogue.
func Generate() (Corpus, QuerySet) {
	g := &generator{r: rand.New(rand.NewPCG(generateSeed, 7)), truth: map[string]groundTruth{}, inc: 1040}
	pairs := g.pairs()
	for _, s := range systems {
		g.overview(s)
	}
	for _, f := range failures {
		g.genericRunbook(f)
	}
	for _, p := range pairs {
		g.runbook(p.f, p.s)
		if g.r.IntN(10) < 7 {
			g.postmortem(p.f, p.s)
		}
		for range 1 + g.r.IntN(3) {
			id := g.incident(p.f, p.s)
			if g.r.IntN(10) < 8 {
				g.resolution(p.f, p.s, id)
			}
		}
	}
	for i := range changeNotes {
		g.changeNote(i)
	}
	return Corpus{Company: "Larkspur Pay", Seed: generateSeed, Docs: g.docs}, g.queries(pairs)
}

type pair struct {
	f failure
	s system
}

// pairs decides which system has had which failure: every failure of its
// class for infrastructure, failuresPerService of them for applications.
func (g *generator) pairs() []pair {
	var out []pair
	for _, s := range systems {
		var fs []failure
		for _, f := range failures {
			if slices.Contains(f.classes, s.class) {
				fs = append(fs, f)
			}
		}
		if s.class == "svc" {
			g.r.Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
			fs = fs[:failuresPerService]
			slices.SortFunc(fs, func(a, b failure) int { return strings.Compare(a.key, b.key) })
		}
		for _, f := range fs {
			out = append(out, pair{f, s})
		}
	}
	return out
}

func (g *generator) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

// pickN returns n distinct elements of xs in random order.
func (g *generator) pickN(xs []string, n int) []string {
	p := g.r.Perm(len(xs))
	out := make([]string, 0, n)
	for _, i := range p[:min(n, len(xs))] {
		out = append(out, xs[i])
	}
	return out
}

// name is how a document refers to a system: its ID more often than not.
func (g *generator) name(s system) string {
	if g.r.IntN(10) < 6 {
		return s.id
	}
	return g.pick(s.aliases)
}

// fill replaces the placeholders of a catalogue sentence.
func (g *generator) fill(text string, s system) string {
	for strings.Contains(text, "{") {
		i := strings.Index(text, "{")
		j := strings.Index(text[i:], "}")
		if j < 0 {
			break
		}
		var v string
		switch text[i+1 : i+j] {
		case "svc":
			v = g.name(s)
		case "team":
			v = s.team
		case "cluster":
			v = s.cluster
		case "n":
			v = strconv.Itoa(2 + g.r.IntN(58))
		case "dep":
			v = "its dependencies"
			if len(s.deps) > 0 {
				v = g.pick(s.deps)
			}
		default:
			panic("unknown placeholder in " + text)
		}
		text = text[:i] + v + text[i+j+1:]
	}
	return text
}

func (g *generator) add(d Doc, t groundTruth) {
	if d.Properties == nil {
		d.Properties = map[string]string{}
	}
	if t.failure != "" {
		d.Properties["failure"] = t.failure
	}
	if t.system != "" {
		d.Properties["system"] = t.system
	}
	g.truth[d.ID] = t
	g.docs = append(g.docs, d)
}

func systemByID(id string) system {
	for _, s := range systems {
		if s.id == id {
			return s
		}
	}
	panic("unknown system " + id)
}

func (g *generator) overview(s system) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s. It is owned by the %s team and runs in %s.", s.id, s.about, s.team, s.cluster)
	if len(s.deps) > 0 {
		fmt.Fprintf(&b, " It depends on %s.", strings.Join(s.deps, ", "))
	}
	fmt.Fprintf(&b, " Also known as: %s.", strings.Join(s.aliases, ", "))
	fmt.Fprintf(&b, " Dashboards: Grafana folder %q. Pager: #%s-oncall. Deploys go through Argo CD from the %s repository.",
		s.id, s.team, s.id)
	g.add(Doc{ID: "svc-" + s.id, Kind: "document", Type: "service-overview", Title: s.id + " service overview", Body: b.String(),
		Properties: map[string]string{"team": s.team}}, groundTruth{system: s.id, overview: true})
}

var numbered = []string{"1.", "2.", "3.", "4."}

func (g *generator) genericRunbook(f failure) {
	var b strings.Builder
	fmt.Fprintf(&b, "General guidance for %s on any Larkspur system. Typical signs: %s %s ",
		f.names[0], f.symptoms[0], f.symptoms[2])
	fmt.Fprintf(&b, "Common causes: %s %s Steps: ", f.causes[0], f.causes[1])
	for i, fix := range f.fixes {
		fmt.Fprintf(&b, "%s %s ", numbered[i], fix)
	}
	b.WriteString("Then open an incident and page the owning team.")
	body := strings.ReplaceAll(g.fill(b.String(), system{id: "the affected system", aliases: []string{"the affected system"}, cluster: "the cluster"}), "  ", " ")
	g.add(Doc{ID: "rb-general-" + f.key, Kind: "document", Type: "runbook",
		Title: "Runbook: " + f.names[0] + " (" + f.names[1] + ")", Body: body}, groundTruth{failure: f.key})
}

var runbookTitles = []string{
	"Runbook: %[2]s on %[1]s",
	"%[1]s — %[2]s",
	"Playbook for %[2]s (%[1]s)",
	"%[1]s: handling %[2]s",
}

func (g *generator) runbook(f failure, s system) {
	var b strings.Builder
	fmt.Fprintf(&b, "When to use: %s ", g.fill(g.pick(f.detects), s))
	fmt.Fprintf(&b, "What you will see: %s ", strings.Join(g.fillAll(g.pickN(f.symptoms, 2), s), " "))
	fmt.Fprintf(&b, "Check first: the %s dashboard and recent deploys in Argo CD. Usual causes here: %s ",
		s.id, g.fill(g.pick(f.causes), s))
	b.WriteString("Mitigation: ")
	for i, fix := range g.pickN(f.fixes, 3) {
		fmt.Fprintf(&b, "%s %s ", numbered[i], g.fill(fix, s))
	}
	fmt.Fprintf(&b, "Escalate to #%s-oncall if it is not resolved within 30 minutes.", s.team)
	title := fmt.Sprintf(g.pick(runbookTitles), g.name(s), g.pick(f.names))
	g.add(Doc{ID: "rb-" + s.id + "-" + f.key, Kind: "document", Type: "runbook", Title: title, Body: b.String(),
		Properties: map[string]string{"team": s.team}}, groundTruth{failure: f.key, system: s.id})
}

func (g *generator) fillAll(xs []string, s system) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = g.fill(x, s)
	}
	return out
}

var months = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}

func (g *generator) date() string {
	return fmt.Sprintf("%d %s %d", 1+g.r.IntN(28), months[g.r.IntN(12)], 2023+g.r.IntN(3))
}

func (g *generator) postmortem(f failure, s system) {
	var b strings.Builder
	fmt.Fprintf(&b, "Summary: on %s %s had %s for %d minutes. ", g.date(), g.name(s), g.pick(f.names), 12+g.r.IntN(150))
	fmt.Fprintf(&b, "Impact: %s ", g.fill(g.pick(f.symptoms), s))
	fmt.Fprintf(&b, "Detection: %s ", g.fill(g.pick(f.detects), s))
	fmt.Fprintf(&b, "Root cause: %s ", g.fill(g.pick(f.causes), s))
	fmt.Fprintf(&b, "What went well: the on-call engineer from %s found the cause quickly. ", s.team)
	b.WriteString("Action items: ")
	for _, fix := range g.pickN(f.fixes, 2) {
		fmt.Fprintf(&b, "- %s ", g.fill(fix, s))
	}
	g.add(Doc{ID: "pm-" + s.id + "-" + f.key, Kind: "document", Type: "postmortem",
		Title: fmt.Sprintf("Postmortem: %s %s", g.name(s), g.pick(f.names)), Body: strings.TrimSpace(b.String()),
		Properties: map[string]string{"team": s.team}}, groundTruth{failure: f.key, system: s.id})
}

var incidentTitles = []string{
	"%[1]s %[2]s",
	"Sev%[3]d: %[1]s degraded (%[2]s)",
	"%[2]s on %[1]s",
	"%[1]s: %[2]s during peak traffic",
}

// incident writes one past incident and returns its ID.
func (g *generator) incident(f failure, s system) string {
	g.inc += 1 + g.r.IntN(37)
	id := fmt.Sprintf("INC-%d", g.inc)
	h, m := g.r.IntN(24), g.r.IntN(50)
	at := func(plus int) string { t := h*60 + m + plus; return fmt.Sprintf("%02d:%02d", (t/60)%24, t%60) }
	symptoms := g.fillAll(g.pickN(f.symptoms, 2), s)
	var b strings.Builder
	fmt.Fprintf(&b, "%s Timeline (UTC): %s %s ", symptoms[0], at(0), g.fill(g.pick(f.detects), s))
	fmt.Fprintf(&b, "%s on-call acknowledged and opened #inc-%d. ", at(4), g.inc)
	fmt.Fprintf(&b, "%s %s ", at(11+g.r.IntN(20)), symptoms[1])
	fmt.Fprintf(&b, "%s Found the cause: %s ", at(35+g.r.IntN(30)), g.fill(g.pick(f.causes), s))
	fmt.Fprintf(&b, "%s %s ", at(70+g.r.IntN(30)), g.fill(g.pick(f.fixes), s))
	fmt.Fprintf(&b, "%s Resolved; metrics back to normal.", at(110+g.r.IntN(60)))
	body := b.String()
	sev := 1 + g.r.IntN(3)
	title := id + " " + fmt.Sprintf(g.pick(incidentTitles), g.name(s), g.pick(f.names), sev)
	docID := "inc-" + strconv.Itoa(g.inc)
	g.add(Doc{ID: docID, Kind: "issue", Type: "incident", Title: title, Body: body,
		Properties: map[string]string{"severity": "sev" + strconv.Itoa(sev), "team": s.team, "opened": g.date()}}, groundTruth{failure: f.key, system: s.id})
	return docID
}

func (g *generator) resolution(f failure, s system, incident string) {
	fixes := g.fillAll(g.pickN(f.fixes, 2), s)
	body := fmt.Sprintf("Mitigated on %s: %s Follow-up done later: %s Verified by watching the %s dashboard for an hour.",
		g.name(s), fixes[0], fixes[1], s.id)
	g.add(Doc{ID: "res-" + strings.TrimPrefix(incident, "inc-"), Kind: "resolution", Type: "resolution",
		Title: "Resolution of " + strings.ToUpper(incident), Body: body,
		Properties: map[string]string{"incident": incident}}, groundTruth{failure: f.key, system: s.id})
}

// changes are routine change notes: they share the systems' names and
// much of the vocabulary but describe no failure.
var changes = []string{
	"Upgrade {svc} to the next minor version. Rolling restart, one replica at a time; no downtime expected.",
	"Rotate the TLS certificates and API credentials used by {svc} ahead of their yearly renewal.",
	"Increase the replica count of {svc} from {n} to {n} for the holiday peak.",
	"Enable the feature flag new-3ds-flow for {n}% of merchants on {svc}.",
	"Move {svc} to Graviton nodes in {cluster}; memory and CPU requests unchanged.",
	"Raise the connection pool of {svc} from 20 to 40 after load testing.",
	"Add a read replica for {svc} reporting traffic.",
	"Change the log retention of {svc} from 30 to 14 days to save disk.",
	"Migrate {svc} secrets from Kubernetes secrets to Vault.",
	"Schedule a game day: fail over {svc} on purpose and measure recovery.",
	"Lower the alert threshold for latency on {svc} to 400 ms p99.",
	"Update the Kafka client library of {svc} and switch to cooperative rebalancing.",
}

func (g *generator) changeNote(i int) {
	s := systems[g.r.IntN(len(systems))]
	text := g.fill(g.pick(changes), s)
	id := fmt.Sprintf("CHG-%d", 3100+i*7)
	body := fmt.Sprintf("%s Owner: %s. Window: %s, 09:00-11:00 UTC. Rollback plan: revert the change in Argo CD.", text, s.team, g.date())
	g.add(Doc{ID: strings.ToLower(id), Kind: "document", Type: "change", Title: id + " " + strings.SplitN(text, ".", 2)[0],
		Body: body, Properties: map[string]string{"team": s.team}}, groundTruth{system: s.id})
}

// queries writes queryCount queries, each about one (failure, system) pair
// that has documents, and judges every document against the ground truth:
//
//	3: the same failure on the same system (runbook, postmortem, incidents,
//	   resolutions);
//	2: the same failure on another system, the failure's general runbook,
//	   or a related failure on the same system;
//	1: a related failure on another system of the same class, or the
//	   system's overview.
func (g *generator) queries(pairs []pair) QuerySet {
	order := g.r.Perm(len(pairs))
	// Cover every failure before repeating one.
	var chosen []pair
	seen := map[string]bool{}
	for _, pass := range []bool{true, false} {
		for _, i := range order {
			p := pairs[i]
			k := p.f.key + "/" + p.s.id
			if len(chosen) == queryCount || seen[k] || (pass && slices.ContainsFunc(chosen, func(c pair) bool { return c.f.key == p.f.key })) {
				continue
			}
			seen[k] = true
			chosen = append(chosen, p)
		}
	}
	var qs QuerySet
	for i, p := range chosen {
		text := g.fill(g.pick(p.f.queries), p.s)
		j := map[string]int{}
		for _, d := range g.docs {
			if grade := judge(p, g.truth[d.ID]); grade > 0 {
				j[d.ID] = grade
			}
		}
		qs.Queries = append(qs.Queries, Query{ID: fmt.Sprintf("q%02d", i+1), Text: text, Failure: p.f.key, System: p.s.id, Judgments: j})
	}
	return qs
}

func judge(p pair, t groundTruth) int {
	sameSystem := t.system == p.s.id
	related := slices.Contains(p.f.related, t.failure)
	switch {
	case t.failure == "":
		if t.overview && sameSystem {
			return 1
		}
		return 0
	case t.failure == p.f.key && sameSystem:
		return 3
	case t.failure == p.f.key:
		return 2
	case related && sameSystem:
		return 2
	case related && t.system != "" && systemByID(t.system).class == p.s.class:
		return 1
	}
	return 0
}
