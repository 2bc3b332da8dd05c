package cmdb

import (
	"regexp"
	"strings"

	"github.com/alexus-platform/alexus/internal/graph"
)

// Node types the importer gives CIs.
const (
	TypeService     = "service"
	TypeApplication = "application"
	TypeHost        = "host"
	TypeDatabase    = "database"
	TypeQueue       = "queue"
	TypeTeam        = "team"
	TypeCluster     = "cluster"
	TypeNetwork     = "network"
	TypeLB          = "load_balancer"
	// TypeCI is the type of a CI whose class the table below does not know;
	// the class is kept in the sys_class_name property.
	TypeCI = "ci"
)

// classExact maps ServiceNow class tables to node types by exact name. It is
// read before classRules.
var classExact = map[string]string{
	"sys_user_group":             TypeTeam,
	"cmdb_ci_service":            TypeService,
	"cmdb_ci_service_auto":       TypeService,
	"cmdb_ci_service_discovered": TypeService,
	"cmdb_ci_service_technical":  TypeService,
	"cmdb_ci_service_business":   TypeService,
	"service_offering":           TypeService,
	"cmdb_ci_business_app":       TypeApplication,
	"cmdb_ci_appl":               TypeApplication,
	"cmdb_ci_database":           TypeDatabase,
	"cmdb_ci_computer":           TypeHost,
	"cmdb_ci_vm_instance":        TypeHost,
	"cmdb_ci_vmware_instance":    TypeHost,
	"cmdb_ci_kubernetes_cluster": TypeCluster,
	"cmdb_ci_cluster":            TypeCluster,
	"cmdb_ci_ip_switch":          TypeNetwork,
	"cmdb_ci_ip_router":          TypeNetwork,
	"cmdb_ci_ip_firewall":        TypeNetwork,
	"cmdb_ci_netgear":            TypeNetwork,
}

// classRules maps class tables to node types by pattern, first match wins.
// Order matters: cmdb_ci_db_mssql_server is a database, not a host, and
// cmdb_ci_app_server_tomcat is software (an application server), not a host.
var classRules = []struct {
	re  *regexp.Regexp
	typ string
}{
	{regexp.MustCompile(`^cmdb_ci_db_`), TypeDatabase},
	{regexp.MustCompile(`^cmdb_ci_(kafka|rabbitmq|rabbit|ibm_mq|mq|queue|jms|activemq|msmq)`), TypeQueue},
	{regexp.MustCompile(`(kafka|rabbit|queue)`), TypeQueue},
	{regexp.MustCompile(`^cmdb_ci_(app_server|appl_|web_server)`), TypeApplication},
	{regexp.MustCompile(`^cmdb_ci_service_`), TypeService},
	{regexp.MustCompile(`^cmdb_ci_lb`), TypeLB},
	{regexp.MustCompile(`^cmdb_ci_.*cluster$`), TypeCluster},
	{regexp.MustCompile(`_server$`), TypeHost},
}

// ClassType returns the node type for a ServiceNow class table
// (sys_class_name), and whether the class is known. Unknown classes are TypeCI.
//
//	sys_user_group                                   team
//	cmdb_ci_service, _auto, _discovered, _technical,
//	  _business, cmdb_ci_service_*, service_offering service
//	cmdb_ci_appl, cmdb_ci_appl_*, cmdb_ci_business_app,
//	  cmdb_ci_app_server*, cmdb_ci_web_server*       application
//	cmdb_ci_database, cmdb_ci_db_*                   database
//	cmdb_ci_kafka*, *rabbit*, *queue*, cmdb_ci_*mq*  queue
//	cmdb_ci_computer, cmdb_ci_vm_instance,
//	  cmdb_ci_vmware_instance, *_server (after the
//	  rules above: linux, win, unix, esx, aix ...)   host
//	cmdb_ci_cluster, cmdb_ci_*cluster,
//	  cmdb_ci_kubernetes_cluster                     cluster
//	cmdb_ci_lb*                                      load_balancer
//	cmdb_ci_ip_switch, _ip_router, _ip_firewall,
//	  cmdb_ci_netgear                                network
//	anything else                                    ci
func ClassType(class string) (string, bool) {
	class = strings.ToLower(strings.TrimSpace(class))
	if t, ok := classExact[class]; ok {
		return t, true
	}
	for _, r := range classRules {
		if r.re.MatchString(class) {
			return r.typ, true
		}
	}
	return TypeCI, false
}

// relation is how one relationship type becomes an edge.
type relation struct {
	typ graph.EdgeType
	// reverse makes the edge run child → parent.
	reverse bool
}

// relationTypes maps ServiceNow relationship types (cmdb_rel_type names,
// "parent descriptor::child descriptor", lower-cased) to edge types. In
// ServiceNow the parent is the subject of the first descriptor: in
// "Depends on::Used by" the parent depends on the child, so the edge runs
// parent → child.
var relationTypes = map[string]relation{
	"depends on::used by":               {graph.DependsOn, false},
	"uses::used by":                     {graph.DependsOn, false},
	"sends data to::receives data from": {graph.DependsOn, false},
	"runs on::runs":                     {graph.RunsOn, false},
	"hosted on::hosts":                  {graph.RunsOn, false},
	"virtualized by::virtualizes":       {graph.RunsOn, false},
	"owned by::owns":                    {graph.OwnedBy, false},
	"managed by::manages":               {graph.OwnedBy, false},
	// The reverse spellings some exports use.
	"used by::depends on": {graph.DependsOn, true},
	"runs::runs on":       {graph.RunsOn, true},
	"hosts::hosted on":    {graph.RunsOn, true},
	"owns::owned by":      {graph.OwnedBy, true},
	// The graph's own names, for the native format.
	"depends_on": {graph.DependsOn, false},
	"runs_on":    {graph.RunsOn, false},
	"owned_by":   {graph.OwnedBy, false},
}

// RelationType returns the edge type for a relationship type name (a
// ServiceNow "Depends on::Used by" or a graph name such as DEPENDS_ON),
// whether the edge runs child → parent (from → to reversed), and whether the
// name is known. Case and spaces around "::" do not matter.
//
//	Depends on::Used by, Uses::Used by,
//	  Sends data to::Receives data from, DEPENDS_ON  DEPENDS_ON parent → child
//	Runs on::Runs, Hosted on::Hosts,
//	  Virtualized by::Virtualizes, RUNS_ON           RUNS_ON    parent → child
//	Owned by::Owns, Managed by::Manages, OWNED_BY    OWNED_BY   parent → child
//	Used by::Depends on, Runs::Runs on,
//	  Hosts::Hosted on, Owns::Owned by               the same types, child → parent
//
// Other types (Contains::Contained by, Connects to::Connected by, Members::
// Member of, ...) have no edge type in the graph and are rejected per row;
// Options.RelationTypes can map them.
func RelationType(name string) (graph.EdgeType, bool, bool) {
	r, ok := relationTypes[normRelation(name)]
	return r.typ, r.reverse, ok
}

func normRelation(name string) string {
	parts := strings.Split(strings.ToLower(strings.TrimSpace(name)), "::")
	for i, p := range parts {
		parts[i] = strings.Join(strings.Fields(p), " ")
	}
	return strings.Join(parts, "::")
}
