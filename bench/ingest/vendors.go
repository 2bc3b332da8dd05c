package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/services/ingest/normalise"
)

// A renderer writes one alert as its vendor's webhook delivery. It must be
// deterministic: the same alert gives the same bytes, so a duplicate is a
// byte-for-byte repeat of the first delivery.
type renderer func(a alert) payload

// renderers holds a payload generator per webhook source. The vendor
// formats live in vendors_*.go, one file per vendor family.
var renderers = map[string]renderer{}

// unrenderable names registered sources the benchmark cannot generate
// payloads for, and why.
var unrenderable = map[string]string{}

// defaultWeights is the share of each source in the default mix, roughly
// what a platform team running several tools sees: Prometheus first, then
// the big SaaS monitors, then the long tail. A registered source missing
// here gets weight 2.
var defaultWeights = map[string]int{
	"alertmanager":   30,
	"grafana":        12,
	"datadog":        10,
	"sentry":         8,
	"pagerduty":      5,
	"opsgenie":       5,
	"newrelic":       4,
	"azure-monitor":  4,
	"gcp-monitoring": 4,
	"elastic":        3,
	"zabbix":         3,
	"dynatrace":      3,
	"splunk":         3,
	"cloudevents":    3,
	"generic":        5,
}

func generatorNames() []string {
	names := make([]string, 0, len(renderers))
	for n := range renderers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// defaultMix is every source registered in services/ingest/normalise that
// has a generator whose payloads that normaliser accepts. It also returns
// the registered sources left out, with the reason.
func defaultMix() ([]weightedSource, []string) {
	reg := normalise.Builtin()
	var (
		mix     []weightedSource
		skipped []string
	)
	for _, src := range reg.Sources() {
		if why, ok := unrenderable[src]; ok {
			skipped = append(skipped, src+": "+why)
			continue
		}
		if _, ok := renderers[src]; !ok {
			skipped = append(skipped, src+": no payload generator in bench/ingest")
			continue
		}
		if err := checkRenderer(reg, src); err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", src, err))
			continue
		}
		w, ok := defaultWeights[src]
		if !ok {
			w = 2
		}
		mix = append(mix, weightedSource{name: src, weight: w})
	}
	for _, src := range generatorNames() {
		if _, err := reg.Lookup(src); err != nil {
			skipped = append(skipped, src+": generator ready, but no normaliser is registered under that name yet")
		}
	}
	return mix, skipped
}

// checkMix checks every source of an explicit -mix the same way.
func checkMix(mix []weightedSource) error {
	reg := normalise.Builtin()
	for _, m := range mix {
		if err := checkRenderer(reg, m.name); err != nil {
			return fmt.Errorf("source %s: %w", m.name, err)
		}
	}
	return nil
}

// checkRenderer runs a sample of the source's payloads through the
// normaliser compiled into this benchmark (the same code as the alexus
// binary it builds) and checks what the stream accounting relies on: each
// payload is one firing signal, a repeat of a payload has the same
// fingerprint, and different alerts have different fingerprints.
func checkRenderer(reg *normalise.Registry, src string) error {
	n, err := reg.Lookup(src)
	if err != nil {
		return err
	}
	render := renderers[src]
	g := newGenerator([]weightedSource{{name: src, weight: 1}}, time.Now())
	seen := map[string]int{}
	for seq := range 200 {
		a := g.alert(seq)
		p := render(a)
		if !bytes.Equal(p.body, render(a).body) {
			return fmt.Errorf("generator is not deterministic (alert %d)", seq)
		}
		sigs, err := n.Normalise(p.body, forwarded(p), time.Now())
		if err != nil {
			return fmt.Errorf("normaliser refuses the generated payload: %w", err)
		}
		if len(sigs) != 1 {
			return fmt.Errorf("payload makes %d signals, want 1", len(sigs))
		}
		if st := sigs[0].GetStatus(); st != signalv1.Status_STATUS_FIRING {
			return fmt.Errorf("payload's signal is %s, want FIRING", st)
		}
		fp := sigs[0].GetFingerprint()
		if prev, dup := seen[fp]; dup {
			return fmt.Errorf("alerts %d and %d share fingerprint %q", prev, seq, fp)
		}
		seen[fp] = seq
	}
	return nil
}

// forwarded is the header map ingest would see for p: lower-case names,
// as the gateway forwards them.
func forwarded(p payload) map[string]string {
	out := map[string]string{"content-type": p.mediaType()}
	for k, v := range p.header {
		out[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	return out
}

func (p payload) mediaType() string {
	if p.contentType != "" {
		return p.contentType
	}
	return "application/json"
}

// mustJSON marshals v, whose types are the renderers' own and always
// marshal.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal %T: %v", v, err))
	}
	return b
}

// jsonPayload is the common case: a JSON body and no vendor headers.
func jsonPayload(v any) payload { return payload{body: mustJSON(v)} }

// withHeader returns p with one more vendor header.
func (p payload) withHeader(name, value string) payload {
	if p.header == nil {
		p.header = http.Header{}
	}
	p.header.Set(name, value)
	return p
}
