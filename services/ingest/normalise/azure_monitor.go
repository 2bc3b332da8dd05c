package normalise

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
	"google.golang.org/protobuf/types/known/timestamppb"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// AzureMonitorSource is the source name of Azure Monitor alerts sent by an
// action group's webhook with the common alert schema.
const AzureMonitorSource = "azure-monitor"

// azureMonitorSchemaID names the common alert schema; an action group
// without "Enable the common alert schema" sends per-alert-type payloads
// this normaliser does not read.
const azureMonitorSchemaID = "azureMonitorCommonAlertSchema"

// AzureMonitor normalises Azure Monitor alert notifications in the common
// alert schema ({"schemaId": "azureMonitorCommonAlertSchema", "data":
// {"essentials", "alertContext", "customProperties"}}), essentials version
// 1.x, for every alert type that uses it (metric, log search, activity log,
// smart detection, ...). A notification is one alert and becomes one
// signal.
//
// Status, from essentials.monitorCondition: Fired → FIRING, Resolved →
// RESOLVED (matched without regard to case). Azure sends no webhook when a
// user changes an alert's user response (New, Acknowledged, Closed), so this
// source never reports ACKNOWLEDGED.
//
// Severity, from essentials.severity (Azure's own scale and names):
//
//	Sev0 (Critical)                  → CRITICAL
//	Sev1 (Error)                     → ERROR
//	Sev2 (Warning)                   → WARNING
//	Sev3 (Informational)             → INFO
//	Sev4 (Verbose)                   → INFO
//	missing, or any other value      → WARNING
//
// Fields:
//
//   - Title: essentials.alertRule (the rule's name); Description:
//     essentials.description.
//   - Resource: the first of essentials.configurationItems (the resource
//     the data came from, e.g. a VM's name), else the first of
//     essentials.alertTargetIDs (the target's Azure Resource Manager id).
//   - Labels: customProperties and alertContext.properties, the dimensions
//     of the alert context (condition.allOf[].dimensions for metric and log
//     search alerts, Dimensions for older log search alerts), then alertRule,
//     alertRuleID, severity, signalType, monitoringService,
//     targetResourceGroup, targetResourceType, configurationItems and
//     alertTargetIDs (lists joined with ","), which win over custom ones of
//     the same name.
//   - Annotations: originAlertId, the metric, operator, threshold and value of
//     the first condition, and the search query of log search alerts.
//   - Link: essentials.investigationLink, else the alert context's link to
//     the (filtered) search results in the portal; absolute http(s) URLs
//     only.
//   - StartsAt: essentials.firedDateTime; EndsAt, for resolved alerts:
//     essentials.resolvedDateTime.
//
// Fingerprint contract (stored in dedup claims and incidents, so it must not
// change without a migration of both): "azmon:" followed by the last path
// segment of essentials.alertId, lower-cased. alertId is the Azure Resource
// Manager id of the alert instance,
// /subscriptions/<sub>/providers/Microsoft.AlertsManagement/alerts/<guid>,
// and its last segment is the instance's GUID (lower-cased because Azure
// treats GUIDs without regard to case). The Fired and Resolved notifications
// of one alert instance carry the same alertId; a later firing of the same
// rule on the same resource is a new instance with a new one.
//
// alertId is used rather than originAlertId because it is present, and of
// one form, for every alert type: originAlertId is whatever the monitoring
// service that raised the alert chose (for metric alerts a rule and
// time-series key, stable across instances; for others an event or search
// id), so it would merge some alert types' instances and not others'.
// originAlertId is kept as an annotation. ExternalId is the whole alertId.
type AzureMonitor struct{}

var azmonRecipe = Recipe{Name: AzureMonitorSource, Prefix: "azmon", Version: 1}

// azmonMessage is the common alert schema's envelope.
type azmonMessage struct {
	SchemaID string `json:"schemaId"`
	Data     *struct {
		Essentials       *azmonEssentials `json:"essentials"`
		AlertContext     json.RawMessage  `json:"alertContext"`
		CustomProperties map[string]any   `json:"customProperties"`
	} `json:"data"`
}

// azmonEssentials is the part every alert type shares. encoding/json
// matches names without regard to case, which also reads the alertRuleId
// spelling some samples use.
type azmonEssentials struct {
	AlertID             string   `json:"alertId"`
	AlertRule           string   `json:"alertRule"`
	AlertRuleID         string   `json:"alertRuleID"`
	Severity            string   `json:"severity"`
	SignalType          string   `json:"signalType"`
	MonitorCondition    string   `json:"monitorCondition"`
	MonitoringService   string   `json:"monitoringService"`
	AlertTargetIDs      []string `json:"alertTargetIDs"`
	ConfigurationItems  []string `json:"configurationItems"`
	OriginAlertID       string   `json:"originAlertId"`
	FiredDateTime       string   `json:"firedDateTime"`
	ResolvedDateTime    string   `json:"resolvedDateTime"`
	Description         string   `json:"description"`
	EssentialsVersion   string   `json:"essentialsVersion"`
	InvestigationLink   string   `json:"investigationLink"`
	TargetResourceGroup string   `json:"targetResourceGroup"`
	TargetResourceType  string   `json:"targetResourceType"`
}

// azmonContext is the part of the type-specific alert context we use. The
// context's shape differs between alert types and versions, so it is read
// on a best-effort basis: one that does not decode into this shape adds
// nothing to the signal instead of refusing an alert whose essentials are
// fine.
type azmonContext struct {
	Properties map[string]any `json:"properties"`
	Condition  struct {
		AllOf []azmonCondition `json:"allOf"`
	} `json:"condition"`
	// Log search alerts before API version 2021-08-01 put these at the top.
	Dimensions                    []azmonDimension `json:"Dimensions"`
	SearchQuery                   string           `json:"SearchQuery"`
	LinkToFilteredSearchResultsUI string           `json:"LinkToFilteredSearchResultsUI"`
	LinkToSearchResults           string           `json:"LinkToSearchResults"`
}

// azmonCondition is one criterion of a metric or log search alert rule.
// Names match without regard to case, so linkToSearchResultsUI also reads
// the capitalised spelling.
type azmonCondition struct {
	MetricName                    string           `json:"metricName"`
	SearchQuery                   string           `json:"searchQuery"`
	Operator                      jsonText         `json:"operator"`
	Threshold                     jsonText         `json:"threshold"`
	MetricValue                   jsonText         `json:"metricValue"`
	Dimensions                    []azmonDimension `json:"dimensions"`
	LinkToFilteredSearchResultsUI string           `json:"linkToFilteredSearchResultsUI"`
	LinkToSearchResultsUI         string           `json:"linkToSearchResultsUI"`
}

// azmonDimension is one name/value pair of the time series that fired.
type azmonDimension struct {
	Name  jsonText `json:"name"`
	Value jsonText `json:"value"`
}

// Normalise implements Normaliser. Headers are not used.
func (AzureMonitor) Normalise(payload []byte, _ map[string]string, received time.Time) ([]*signalv1.Signal, error) {
	var msg azmonMessage
	if err := decodeJSONNumbers(payload, &msg); err != nil {
		return nil, fmt.Errorf("%w: not a JSON Azure Monitor alert: %v", ErrInvalidPayload, err)
	}
	if msg.SchemaID != azureMonitorSchemaID {
		if msg.SchemaID == "" {
			return nil, fmt.Errorf("%w: Azure Monitor alert has no schemaId; enable the common alert schema in the action group", ErrInvalidPayload)
		}
		return nil, fmt.Errorf("%w: Azure Monitor schemaId %.40q is not supported, want %q (enable the common alert schema in the action group)", ErrInvalidPayload, msg.SchemaID, azureMonitorSchemaID)
	}
	if msg.Data == nil || msg.Data.Essentials == nil {
		return nil, fmt.Errorf("%w: Azure Monitor alert has no data.essentials", ErrInvalidPayload)
	}
	sig, err := azmonSignal(msg.Data.Essentials, azmonReadContext(msg.Data.AlertContext), msg.Data.CustomProperties)
	if err != nil {
		return nil, fmt.Errorf("%w: Azure Monitor alert: %v", ErrInvalidPayload, err)
	}
	sig.ReceivedAt = timestamppb.New(received)
	sig.RawPayload = bytes.Clone(payload)
	return []*signalv1.Signal{sig}, nil
}

// azmonReadContext decodes the alert context, or returns an empty one (see
// azmonContext for why a mismatch is not an error).
func azmonReadContext(raw json.RawMessage) azmonContext {
	var ctx azmonContext
	if len(raw) == 0 || decodeJSONNumbers(raw, &ctx) != nil {
		return azmonContext{}
	}
	return ctx
}

func azmonSignal(es *azmonEssentials, ctx azmonContext, custom map[string]any) (*signalv1.Signal, error) {
	if v := es.EssentialsVersion; v != "" && !strings.HasPrefix(v, "1.") {
		return nil, fmt.Errorf("essentialsVersion %.16q is not supported, want 1.x", v)
	}
	instance, err := azmonInstanceID(es.AlertID)
	if err != nil {
		return nil, err
	}
	var status signalv1.Status
	switch strings.ToLower(es.MonitorCondition) {
	case "fired":
		status = signalv1.Status_STATUS_FIRING
	case "resolved":
		status = signalv1.Status_STATUS_RESOLVED
	default:
		return nil, fmt.Errorf("monitorCondition %.16q is neither \"Fired\" nor \"Resolved\"", es.MonitorCondition)
	}
	startsAt, err := rfc3339Time(es.FiredDateTime)
	if err != nil {
		return nil, fmt.Errorf("firedDateTime: %w", err)
	}
	endsAt, err := rfc3339Time(es.ResolvedDateTime)
	if err != nil {
		return nil, fmt.Errorf("resolvedDateTime: %w", err)
	}
	sig := &signalv1.Signal{
		Source:      AzureMonitorSource,
		Status:      status,
		Severity:    azmonSeverity(es.Severity),
		Title:       cmp.Or(es.AlertRule, "Azure Monitor alert "+instance),
		Description: es.Description,
		Resource:    cmp.Or(cmp.Or(es.ConfigurationItems...), cmp.Or(es.AlertTargetIDs...)),
		Labels:      azmonLabels(es, ctx, custom),
		Annotations: azmonAnnotations(es, ctx),
		StartsAt:    startsAt,
		ExternalId:  es.AlertID,
		Link:        cmp.Or(httpLink(es.InvestigationLink), azmonSearchLink(ctx)),
	}
	if status == signalv1.Status_STATUS_RESOLVED {
		sig.EndsAt = endsAt
	}
	azmonRecipe.Apply(sig, instance)
	return sig, nil
}

// azmonInstanceID is the alert instance's GUID, the last segment of
// alertId.
func azmonInstanceID(alertID string) (string, error) {
	if alertID == "" {
		return "", errors.New("essentials.alertId is missing")
	}
	last := alertID[strings.LastIndex(alertID, "/")+1:]
	if !ownAlertIDPattern.MatchString(last) {
		return "", errors.New("essentials.alertId does not end in an alert instance id")
	}
	return strings.ToLower(last), nil
}

// azmonSeverity maps Azure's Sev0-Sev4 (see AzureMonitor for the table).
func azmonSeverity(sev string) signalv1.Severity {
	switch strings.ToLower(strings.TrimSpace(sev)) {
	case "sev0":
		return signalv1.Severity_SEVERITY_CRITICAL
	case "sev1":
		return signalv1.Severity_SEVERITY_ERROR
	case "sev3", "sev4":
		return signalv1.Severity_SEVERITY_INFO
	default:
		return signalv1.Severity_SEVERITY_WARNING
	}
}

func azmonLabels(es *azmonEssentials, ctx azmonContext, custom map[string]any) map[string]string {
	labels := map[string]string{}
	addJSONLabels(labels, "", custom)
	addJSONLabels(labels, "", ctx.Properties)
	for _, d := range azmonDimensions(ctx) {
		setLabel(labels, string(d.Name), string(d.Value))
	}
	setLabel(labels, "alertRule", es.AlertRule)
	setLabel(labels, "alertRuleID", es.AlertRuleID)
	setLabel(labels, "severity", es.Severity)
	setLabel(labels, "signalType", es.SignalType)
	setLabel(labels, "monitoringService", es.MonitoringService)
	setLabel(labels, "targetResourceGroup", es.TargetResourceGroup)
	setLabel(labels, "targetResourceType", es.TargetResourceType)
	setLabel(labels, "configurationItems", strings.Join(es.ConfigurationItems, ","))
	setLabel(labels, "alertTargetIDs", strings.Join(es.AlertTargetIDs, ","))
	return labels
}

// azmonDimensions lists the dimensions of every condition, and of older
// log search alerts' top-level list.
func azmonDimensions(ctx azmonContext) []azmonDimension {
	dims := append([]azmonDimension(nil), ctx.Dimensions...)
	for _, c := range ctx.Condition.AllOf {
		dims = append(dims, c.Dimensions...)
	}
	return dims
}

func azmonAnnotations(es *azmonEssentials, ctx azmonContext) map[string]string {
	annotations := map[string]string{}
	setLabel(annotations, "originAlertId", es.OriginAlertID)
	setLabel(annotations, "searchQuery", ctx.SearchQuery)
	if len(ctx.Condition.AllOf) > 0 {
		c := ctx.Condition.AllOf[0]
		setLabel(annotations, "metricName", c.MetricName)
		setLabel(annotations, "operator", string(c.Operator))
		setLabel(annotations, "threshold", string(c.Threshold))
		setLabel(annotations, "metricValue", string(c.MetricValue))
		setLabel(annotations, "searchQuery", c.SearchQuery)
	}
	return annotations
}

// azmonSearchLink is the portal link to the search results behind a log
// search alert, the closest thing to the alert's own page that log search
// payloads carry: the first absolute http(s) URL among them.
func azmonSearchLink(ctx azmonContext) string {
	for _, c := range ctx.Condition.AllOf {
		if l := cmp.Or(httpLink(c.LinkToFilteredSearchResultsUI), httpLink(c.LinkToSearchResultsUI)); l != "" {
			return l
		}
	}
	return cmp.Or(httpLink(ctx.LinkToFilteredSearchResultsUI), httpLink(ctx.LinkToSearchResults))
}
