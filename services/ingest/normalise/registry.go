package normalise

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// Normaliser converts one raw payload of its source into signals, one per
// alert it contains, in payload order. A payload it cannot read is an error
// wrapping ErrInvalidPayload whose text says what is wrong with it (never
// the payload itself).
type Normaliser interface {
	Normalise(payload []byte, headers map[string]string, received time.Time) ([]*signalv1.Signal, error)
}

// ErrInvalidPayload wraps every reason a normaliser refuses a payload.
var ErrInvalidPayload = errors.New("invalid payload")

// ErrUnknownSource reports a source name no normaliser is registered for.
var ErrUnknownSource = errors.New("unknown source")

// builtin lists the sources Alexus understands. Adding a source is one file
// with its Normaliser and one line here.
var builtin = map[string]Normaliser{
	AlertmanagerSource:  Alertmanager{},
	GrafanaSource:       Grafana{},
	DatadogSource:       Datadog{},
	PagerDutySource:     PagerDuty{},
	OpsgenieSource:      Opsgenie{},
	SentrySource:        Sentry{},
	SNSSource:           SNS{},
	AzureMonitorSource:  AzureMonitor{},
	GCPMonitoringSource: GCPMonitoring{},
	NewRelicSource:      NewRelic{},
	CloudEventsSource:   CloudEvents{},
	GenericSource:       Generic{},
	ZabbixSource:        Zabbix{},
	ElasticSource:       Elastic{},
	DynatraceSource:     Dynatrace{},
	SplunkSource:        Splunk{},
}

// Registry finds the normaliser for a source name.
type Registry struct {
	byName map[string]Normaliser
}

// Builtin returns a registry of every source Alexus ships with.
func Builtin() *Registry {
	return &Registry{byName: builtin}
}

// Lookup returns the normaliser for source, or an error wrapping
// ErrUnknownSource that names the known sources.
func (r *Registry) Lookup(source string) (Normaliser, error) {
	n, ok := r.byName[source]
	if !ok {
		return nil, fmt.Errorf("%w %q: known sources are %s", ErrUnknownSource, source, strings.Join(r.Sources(), ", "))
	}
	return n, nil
}

// Sources returns the registered source names in sorted order.
func (r *Registry) Sources() []string {
	names := make([]string, 0, len(r.byName))
	for name := range r.byName {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
