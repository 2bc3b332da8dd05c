package main

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// alert is one vendor-neutral alert. Every field is a pure function of its
// sequence number, so the generator can rebuild the exact payload of an
// earlier alert to send it again as a duplicate without keeping it.
type alert struct {
	// Seq numbers the distinct alerts of a run from 0.
	Seq int
	// hash is the mixed sequence number every other field comes from.
	hash uint64
	// Source is the webhook source the alert is sent as.
	Source string
	// ID is 16 lower-case hex digits, unique within a run: the vendor's own
	// alert, incident or event id wherever a format has one.
	ID       string
	Name     string // rule or monitor name, e.g. HighLatency
	Summary  string // one-line human title
	Severity string // critical, error, warning or info
	Service  string
	Host     string
	// Pod makes the label set unique per alert, as a pod's random suffix
	// does in a real cluster; label-hashing recipes then keep alerts apart.
	Pod    string
	Env    string
	Value  float64
	Starts time.Time
}

// Labels are the alert's identifying dimensions as Prometheus-style labels.
func (a alert) Labels() map[string]string {
	return map[string]string{
		"alertname": a.Name,
		"severity":  a.Severity,
		"service":   a.Service,
		"instance":  a.Host + ":9100",
		"pod":       a.Pod,
		"env":       a.Env,
	}
}

// UUID is a version-4-shaped UUID unique to the alert, for vendors whose
// ids are UUIDs.
func (a alert) UUID() string {
	lo := splitmix64(a.hash ^ 0x5bd1e995)
	// All 64 bits of hash are in it, so distinct alerts never share one.
	return fmt.Sprintf("%08x-%04x-4%03x-a%x%02x-%012x",
		a.hash>>32, (a.hash>>16)&0xffff, (a.hash>>4)&0xfff, a.hash&0xf, lo>>56, lo&0xffffffffffff)
}

// Number is a decimal id unique to the alert, for vendors whose ids are
// numbers.
func (a alert) Number() string { return strconv.FormatUint(a.hash, 10) }

// payload is one rendered webhook delivery.
type payload struct {
	body []byte
	// header holds vendor headers sent besides Content-Type.
	header http.Header
	// contentType defaults to application/json.
	contentType string
}

// alertKind is one entry of the catalogue alerts are drawn from.
type alertKind struct {
	name, summary, service, severity string
}

// kinds is a small catalogue of the alerts platform teams see most.
var kinds = []alertKind{
	{"HighLatency", "p99 latency above 2s on %s", "api", "critical"},
	{"HighErrorRate", "5xx ratio above 5%% on %s", "checkout", "critical"},
	{"NodeDiskAlmostFull", "disk on %s is 91%% full", "node", "warning"},
	{"CPUThrottlingHigh", "CPU throttled 40%% on %s", "payments", "warning"},
	{"KubePodCrashLooping", "pod %s is crash looping", "orders", "error"},
	{"MemoryPressure", "memory pressure on %s", "search", "warning"},
	{"CertificateExpiringSoon", "TLS certificate of %s expires in 7 days", "ingress", "info"},
	{"PostgresReplicationLag", "replication lag above 30s on %s", "postgres", "error"},
	{"QueueBacklogGrowing", "queue backlog growing on %s", "worker", "warning"},
	{"KubeNodeNotReady", "node %s is not ready", "node", "critical"},
}

var envs = []string{"prod", "prod", "prod", "staging"}

// weightedSource is one source of the mix and its share.
type weightedSource struct {
	name   string
	weight int
}

// generator makes the run's alerts.
type generator struct {
	mix   []weightedSource
	total int
	base  time.Time
}

func newGenerator(mix []weightedSource, base time.Time) *generator {
	g := &generator{mix: mix, base: base.Truncate(time.Second)}
	for _, m := range mix {
		g.total += m.weight
	}
	return g
}

// splitmix64 is a bijective mixer: distinct inputs give distinct outputs,
// which makes the IDs unique without a set.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// alert returns the alert numbered seq.
func (g *generator) alert(seq int) alert {
	h := splitmix64(uint64(seq))
	pick := int(h % uint64(g.total))
	src := g.mix[len(g.mix)-1].name
	for _, m := range g.mix {
		if pick < m.weight {
			src = m.name
			break
		}
		pick -= m.weight
	}
	k := kinds[(h>>20)%uint64(len(kinds))]
	host := fmt.Sprintf("%s-%d", k.service, (h>>28)%40)
	id := fmt.Sprintf("%016x", h)
	return alert{
		Seq:      seq,
		hash:     h,
		Source:   src,
		ID:       id,
		Name:     k.name,
		Summary:  fmt.Sprintf(k.summary, host),
		Severity: k.severity,
		Service:  k.service,
		Host:     host,
		Pod:      k.service + "-" + id[:8] + "-" + id[8:],
		Env:      envs[(h>>36)%uint64(len(envs))],
		Value:    float64(50+(h>>40)%50) + 0.5,
		// Alerts started within the hour before the run.
		Starts: g.base.Add(-time.Duration(1+(h>>44)%3600) * time.Second),
	}
}

// parseMix reads -mix: "alertmanager,generic" (equal shares) or
// "alertmanager=5,generic=1". Only sources with a generator are accepted.
func parseMix(s string) ([]weightedSource, error) {
	var out []weightedSource
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, hasWeight := strings.Cut(part, "=")
		weight := 1
		if hasWeight {
			n, err := strconv.Atoi(w)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("-mix: weight of %q must be a positive integer", name)
			}
			weight = n
		}
		if _, ok := renderers[name]; !ok {
			return nil, fmt.Errorf("-mix: no payload generator for source %q (have %s)", name, strings.Join(generatorNames(), ", "))
		}
		if slices.ContainsFunc(out, func(m weightedSource) bool { return m.name == name }) {
			return nil, fmt.Errorf("-mix: source %q given twice", name)
		}
		out = append(out, weightedSource{name: name, weight: weight})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-mix is empty")
	}
	return out, nil
}

func formatMix(mix []weightedSource) string {
	parts := make([]string, len(mix))
	for i, m := range mix {
		parts[i] = fmt.Sprintf("%s=%d", m.name, m.weight)
	}
	return strings.Join(parts, ",")
}
