package cmdb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/graph"
	"github.com/alexus-platform/alexus/internal/graph/postgres"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/orchestrator/knowledge/cmdb"
)

// bundle is one test's graph on its own database, as tenant acme.
type bundle struct {
	db  *store.DB
	g   *postgres.Graph
	ctx context.Context
}

func setup(t testing.TB) *bundle {
	t.Helper()
	db := storetest.New(t).DB
	ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "test"})
	_, err := provision.EnsureTenant(ctx, db, provision.TenantOptions{})
	require.NoError(t, err)
	g, err := postgres.New(db, postgres.Config{Dimension: 4})
	require.NoError(t, err)
	return &bundle{db: db, g: g, ctx: ctx}
}

// counts returns the tenant's node and edge counts.
func (b *bundle) counts(t testing.TB) (nodes, edges int) {
	t.Helper()
	require.NoError(t, b.db.WithTenant(b.ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(b.ctx, `SELECT count(*) FROM kg_nodes`).Scan(&nodes); err != nil {
			return err
		}
		return tx.QueryRow(b.ctx, `SELECT count(*) FROM kg_edges`).Scan(&edges)
	}))
	return nodes, edges
}

// snapshot is every node (without UpdatedAt) and edge of the tenant.
func (b *bundle) snapshot(t testing.TB) string {
	t.Helper()
	var out []string
	require.NoError(t, b.db.WithTenant(b.ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(b.ctx, `SELECT id || '|' || kind || '|' || type || '|' || title || '|' || body || '|' || properties::text FROM kg_nodes
			UNION ALL SELECT src || ' -' || type || '-> ' || dst FROM kg_edges ORDER BY 1`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	}))
	return strings.Join(out, "\n")
}

func parse(t testing.TB, f cmdb.Format, in string) (*cmdb.Batch, []cmdb.RowError) {
	t.Helper()
	b, errs, err := cmdb.Parse(f, strings.NewReader(in))
	require.NoError(t, err)
	return b, errs
}

func ids(ns []graph.Neighbour) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Node.ID
	}
	return out
}

// snowCIs is a Table API export with sysparm_display_value=all: references
// and choices as {"value","display_value"} objects.
const snowCIs = `{"result":[
 {"sys_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01","name":"checkout","sys_class_name":{"value":"cmdb_ci_service","display_value":"Service"},
  "operational_status":{"value":"1","display_value":"Operational"},
  "support_group":{"value":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb01","display_value":"Payments SRE","link":"https://x.service-now.com/api/now/table/sys_user_group/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb01"},
  "short_description":"Takes payments.","ip_address":"","install_status":{"value":"1","display_value":"Installed"}},
 {"sys_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa02","name":"app01","sys_class_name":{"value":"cmdb_ci_app_server_tomcat","display_value":"Tomcat"}},
 {"sys_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa03","name":"lnx01","sys_class_name":{"value":"cmdb_ci_linux_server","display_value":"Linux Server"},"ip_address":{"value":"10.0.0.3","display_value":"10.0.0.3"}},
 {"sys_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa04","name":"orders-pg","sys_class_name":{"value":"cmdb_ci_db_postgresql_instance","display_value":"PostgreSQL Instance"},"port":{"value":5432,"display_value":"5432"}},
 {"sys_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa05","name":"events","sys_class_name":{"value":"cmdb_ci_kafka_cluster","display_value":"Kafka Cluster"}},
 {"sys_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa06","name":"badge reader","sys_class_name":{"value":"cmdb_ci_badge_reader","display_value":"Badge"}}
]}`

// snowRels is a cmdb_rel_ci export in the JSON data retrieval shape
// ({"records":[...]}) with plain string values, plus the display-value
// reference shape in one row.
const snowRels = `{"records":[
 {"sys_id":"r1","parent":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01","child":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa04","type":"Depends on::Used by"},
 {"sys_id":"r2","parent":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01","child":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa02","type":"Runs on::Runs"},
 {"sys_id":"r3","parent":{"value":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa02","display_value":"app01"},"child":{"value":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa03","display_value":"lnx01"},"type":{"value":"5f985e0ec0a8010e00a9714f2a172815","display_value":"Hosted on::Hosts"}},
 {"sys_id":"r4","parent":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01","child":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa05","type":"Depends on :: Used by"},
 {"sys_id":"r5","parent":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa03","child":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa06","type":"Contains::Contained by"},
 {"sys_id":"r6","parent":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01","child":"ffffffffffffffffffffffffffffffff","type":"Depends on::Used by"}
]}`

func TestServiceNowJSON(t *testing.T) {
	t.Parallel()
	b := setup(t)
	batch, errs := parse(t, cmdb.ServiceNowCIJSON, snowCIs)
	require.Empty(t, errs)
	rels, errs := parse(t, cmdb.ServiceNowRelJSON, snowRels)
	require.Len(t, errs, 1)
	require.Equal(t, cmdb.RowError{Source: "cmdb_rel_ci", Row: 5, ID: "r5", Err: errs[0].Err}, errs[0])
	require.Contains(t, errs[0].Err, `unknown relationship type "Contains::Contained by"`)
	batch.Merge(rels)

	rep, err := cmdb.Import(b.ctx, b.g, batch, cmdb.Options{})
	require.NoError(t, err)
	require.Equal(t, 6, rep.NodesUpserted)
	require.Equal(t, 1, rep.TeamsCreated)
	require.Equal(t, 5, rep.EdgesUpserted) // r1-r4 and checkout OWNED_BY the team
	require.Len(t, rep.Rejected, 1)
	require.Equal(t, "r6", rep.Rejected[0].ID)
	require.Contains(t, rep.Rejected[0].Err, `no CI "ffffffffffffffffffffffffffffffff"`)

	svc, err := b.g.Node(b.ctx, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01")
	require.NoError(t, err)
	require.Equal(t, graph.KindCI, svc.Kind)
	require.Equal(t, "service", svc.Type)
	require.Equal(t, "checkout", svc.Title)
	require.Equal(t, "Takes payments.", svc.Body)
	require.Equal(t, map[string]string{
		"sys_id": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01", "sys_class_name": "Service", "operational_status": "Operational",
		"install_status": "Installed", "support_group": "Payments SRE",
	}, svc.Properties)

	for id, typ := range map[string]string{"02": "application", "03": "host", "04": "database", "05": "queue", "06": "ci"} {
		n, err := b.g.Node(b.ctx, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"+id)
		require.NoError(t, err)
		require.Equal(t, typ, n.Type, id)
	}
	team, err := b.g.Node(b.ctx, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb01")
	require.NoError(t, err)
	require.Equal(t, "team", team.Type)
	require.Equal(t, "Payments SRE", team.Title)

	// The database's and the host's blast radius reach the service.
	br, err := graph.BlastRadius(b.ctx, b.g, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa04", 3)
	require.NoError(t, err)
	require.Equal(t, []string{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01"}, ids(br))
	br, err = graph.BlastRadius(b.ctx, b.g, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa03", 3)
	require.NoError(t, err)
	require.Equal(t, []string{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa02", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01"}, ids(br))
	owners, err := graph.Owners(b.ctx, b.g, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01")
	require.NoError(t, err)
	require.Len(t, owners, 1)
	require.Equal(t, "Payments SRE", owners[0].Title)
}

func TestServiceNowLegacyDisplayValues(t *testing.T) {
	t.Parallel()
	// The JSONv2 processor with displayvalue=all: a bare array, references
	// as sys_ids with their display values in dv_ fields.
	batch, errs := parse(t, cmdb.ServiceNowCIJSON, `[
		{"sys_id":"c1","name":"db1","sys_class_name":"cmdb_ci_db_mysql_instance","support_group":"0123456789abcdef0123456789abcdef","dv_support_group":"DBA"},
		{"sys_id":"c2","name":"web","sys_class_name":"cmdb_ci_win_server","owned_by":"Jane Doe"}]`)
	require.Empty(t, errs)
	require.Len(t, batch.Nodes, 2)
	require.Equal(t, "database", batch.Nodes[0].Type)
	require.Equal(t, "DBA", batch.Nodes[0].Properties["support_group"])
	require.Equal(t, "host", batch.Nodes[1].Type)
	require.Equal(t, []graph.Edge{
		{From: "c1", To: "0123456789abcdef0123456789abcdef", Type: graph.OwnedBy},
		{From: "c2", To: "team:Jane Doe", Type: graph.OwnedBy},
	}, batch.Edges)
	require.Equal(t, []string{"DBA", "Jane Doe"}, []string{batch.Teams[0].Title, batch.Teams[1].Title})
}

func TestServiceNowCSV(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cis, errs := parse(t, cmdb.ServiceNowCICSV, "\ufeffsys_id,name,sys_class_name,operational_status,support_group,short_description,u_custom field\n"+
		"s1,api,cmdb_ci_service_discovered,1,Platform,\"The API, public\",x\n"+
		"h1,node-1,cmdb_ci_esx_server,1,,,\n"+
		"q1,rabbit,cmdb_ci_rabbitmq_node,1,,,\n"+
		"g1,Platform Team,sys_user_group,,,,\n")
	require.Empty(t, errs)
	require.Equal(t, "api", cis.Nodes[0].Title)
	require.Equal(t, "The API, public", cis.Nodes[0].Body)
	require.Equal(t, "x", cis.Nodes[0].Properties["u_custom_field"])
	require.Equal(t, []string{"service", "host", "queue", "team"}, []string{cis.Nodes[0].Type, cis.Nodes[1].Type, cis.Nodes[2].Type, cis.Nodes[3].Type})
	rels, errs := parse(t, cmdb.ServiceNowRelCSV, "sys_id,parent,child,type,parent.sys_id\n"+
		"r1,api,h1,Runs on::Runs,s1\n"+
		"r2,s1,q1,Depends on::Used by,\n"+
		"r3,q1,,Depends on::Used by,\n")
	require.Len(t, errs, 1)
	require.Equal(t, cmdb.RowError{Source: "cmdb_rel_ci", Row: 4, ID: "r3", Err: "relation needs both ends (parent and child)"}, errs[0])
	cis.Merge(rels)
	rep, err := cmdb.Import(b.ctx, b.g, cis, cmdb.Options{})
	require.NoError(t, err)
	require.Equal(t, cmdb.Report{NodesUpserted: 4, TeamsCreated: 1, EdgesUpserted: 3}, rep)
	br, err := graph.BlastRadius(b.ctx, b.g, "h1", 2)
	require.NoError(t, err)
	require.Equal(t, []string{"s1"}, ids(br))
}

const nativeJSON = `{
 "cis":[
  {"id":"svc/checkout","type":"service","name":"Checkout","description":"Takes payments.","properties":{"env":"prod","tier":1,"owner":"payments"}},
  {"id":"db/orders","type":"cmdb_ci_db_postgresql_instance","name":"orders"},
  {"id":"host/a","type":"host","name":"a","rack":"r12"},
  {"id":"team:payments","type":"team","name":"Payments (full record)"}],
 "relations":[
  {"from":"svc/checkout","to":"db/orders","type":"DEPENDS_ON"},
  {"from":"db/orders","to":"host/a","type":"runs_on"},
  {"from":"svc/checkout","to":"host/a","type":"AFFECTS"}]}`

func TestNativeJSON(t *testing.T) {
	t.Parallel()
	b := setup(t)
	batch, errs := parse(t, cmdb.NativeJSON, nativeJSON)
	require.Len(t, errs, 1)
	require.Equal(t, "relations", errs[0].Source)
	require.Equal(t, 3, errs[0].Row)
	require.Contains(t, errs[0].Err, `unknown relationship type "AFFECTS"`)
	rep, err := cmdb.Import(b.ctx, b.g, batch, cmdb.Options{})
	require.NoError(t, err)
	// The team named by the checkout's owner is in the batch, so no stub.
	require.Equal(t, cmdb.Report{NodesUpserted: 4, EdgesUpserted: 3}, rep)

	svc, err := b.g.Node(b.ctx, "svc/checkout")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"env": "prod", "tier": "1", "owner": "payments"}, svc.Properties)
	db, err := b.g.Node(b.ctx, "db/orders")
	require.NoError(t, err)
	require.Equal(t, "database", db.Type)
	require.Equal(t, "cmdb_ci_db_postgresql_instance", db.Properties["sys_class_name"])
	host, err := b.g.Node(b.ctx, "host/a")
	require.NoError(t, err)
	require.Equal(t, "r12", host.Properties["rack"])
	team, err := b.g.Node(b.ctx, "team:payments")
	require.NoError(t, err)
	require.Equal(t, "Payments (full record)", team.Title)

	br, err := graph.BlastRadius(b.ctx, b.g, "host/a", 3)
	require.NoError(t, err)
	require.Equal(t, []string{"db/orders", "svc/checkout"}, ids(br))
}

func TestNativeCSV(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cis, errs := parse(t, cmdb.NativeCIsCSV, "id,type,name,description,env,support_group\n"+
		"svc/a,service,A,,prod,sre\n"+
		"svc/b,service,B,,prod,\n"+
		"bad\x01id,service,C,,,\n"+
		"svc/c,Not A Type,C,,,\n"+
		"svc/d,service\n")
	require.Len(t, errs, 3)
	require.Equal(t, cmdb.RowError{Source: "cis.csv", Row: 4, ID: "bad\x01id", Err: errs[0].Err}, errs[0])
	require.Contains(t, errs[0].Err, "bad id")
	require.Equal(t, 5, errs[1].Row)
	require.Contains(t, errs[1].Err, `type "not a type"`)
	require.Equal(t, "2 fields, the header has 6", errs[2].Err)
	rels, errs := parse(t, cmdb.NativeRelationsCSV, "from,to,type\nsvc/a,svc/b,DEPENDS_ON\nsvc/a,svc/a,DEPENDS_ON\nsvc/b,svc/zz,DEPENDS_ON\n")
	require.Len(t, errs, 1)
	require.Contains(t, errs[0].Err, "to itself")
	cis.Merge(rels)
	rep, err := cmdb.Import(b.ctx, b.g, cis, cmdb.Options{})
	require.NoError(t, err)
	require.Equal(t, 2, rep.NodesUpserted)
	require.Equal(t, 1, rep.TeamsCreated)
	require.Equal(t, 2, rep.EdgesUpserted)
	require.Len(t, rep.Rejected, 1)
	require.Equal(t, cmdb.RowError{Source: "relations.csv", Row: 4, ID: "svc/b->svc/zz", Err: `DEPENDS_ON edge svc/b → svc/zz: no CI "svc/zz" in the import or the graph`}, rep.Rejected[0])
	owners, err := graph.Owners(b.ctx, b.g, "svc/a")
	require.NoError(t, err)
	require.Equal(t, "team:sre", owners[0].ID)
}

func TestReimportIsIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	load := func() cmdb.Report {
		batch, _ := parse(t, cmdb.ServiceNowCIJSON, snowCIs)
		rels, _ := parse(t, cmdb.ServiceNowRelJSON, snowRels)
		batch.Merge(rels)
		rep, err := cmdb.Import(b.ctx, b.g, batch, cmdb.Options{ChunkSize: 2})
		require.NoError(t, err)
		return rep
	}
	first := load()
	nodes, edges := b.counts(t)
	snap := b.snapshot(t)
	second := load()
	// The team exists now, so it is not created again; nothing else moves.
	require.Equal(t, 1, first.TeamsCreated)
	first.TeamsCreated = 0
	require.Equal(t, first, second)
	n2, e2 := b.counts(t)
	require.Equal(t, []int{nodes, edges}, []int{n2, e2})
	require.Equal(t, 7, nodes)
	require.Equal(t, 5, edges)
	require.Equal(t, snap, b.snapshot(t))
}

func TestImportAgainstExistingGraph(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.g.UpsertNodes(b.ctx, []graph.Node{
		{ID: "db", Kind: graph.KindCI, Type: "database", Title: "db"},
		{ID: "team:dba", Kind: graph.KindCI, Type: "team", Title: "DBAs", Body: "Full team record."},
		{ID: "doc", Kind: graph.KindDocument, Type: "runbook", Title: "doc"},
	}))
	// A relations-only batch whose ends are in the graph, not the batch.
	batch, errs := parse(t, cmdb.NativeJSON, `{"cis":[{"id":"svc","type":"service","name":"svc","properties":{"support_group":"dba"}}],
		"relations":[{"from":"svc","to":"db","type":"Depends on::Used by"},{"from":"svc","to":"doc","type":"DEPENDS_ON"},{"from":"db","to":"nowhere","type":"RUNS_ON"}]}`)
	require.Empty(t, errs)
	rep, err := cmdb.Import(b.ctx, b.g, batch, cmdb.Options{LookupWorkers: 2})
	require.NoError(t, err)
	require.Equal(t, 1, rep.NodesUpserted)
	require.Equal(t, 0, rep.TeamsCreated) // team:dba exists and is left alone
	require.Equal(t, 2, rep.EdgesUpserted)
	require.Len(t, rep.Rejected, 2)
	require.Contains(t, rep.Rejected[0].Err, `"doc" is a document, not a CI`)
	require.Contains(t, rep.Rejected[1].Err, `no CI "nowhere"`)
	team, err := b.g.Node(b.ctx, "team:dba")
	require.NoError(t, err)
	require.Equal(t, "Full team record.", team.Body)
	br, err := graph.BlastRadius(b.ctx, b.g, "db", 1)
	require.NoError(t, err)
	require.Equal(t, []string{"svc"}, ids(br))
}

func TestRowErrors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", graph.MaxTitleLen+1)
	big := strings.Repeat("y", 4097)
	for _, tc := range []struct {
		name   string
		format cmdb.Format
		in     string
		want   string
	}{
		{"missing id", cmdb.ServiceNowCIJSON, `{"result":[{"name":"x"}]}`, "bad id"},
		{"id too long", cmdb.NativeJSON, `{"cis":[{"id":"` + strings.Repeat("i", 201) + `"}]}`, "bad id"},
		{"duplicate id", cmdb.NativeJSON, `{"cis":[{"id":"a"},{"id":"a"}]}`, "duplicate id, first seen at row 1"},
		{"name too long", cmdb.NativeJSON, `{"cis":[{"id":"a","name":"` + long + `"}]}`, "name is 1001 bytes"},
		{"property too long", cmdb.ServiceNowCIJSON, `{"result":[{"sys_id":"a","comments":"` + big + `"}]}`, `field "comments" is 4097 bytes`},
		{"not an object", cmdb.ServiceNowCIJSON, `{"result":[42]}`, "record is not a JSON object"},
		{"bad properties", cmdb.NativeJSON, `{"cis":[{"id":"a","properties":"nope"}]}`, "properties must be an object"},
		{"unknown rel type", cmdb.ServiceNowRelJSON, `{"result":[{"parent":"a","child":"b","type":"Connects to::Connected by"}]}`, "unknown relationship type"},
		{"rel type as sys_id", cmdb.ServiceNowRelJSON, `{"result":[{"parent":"a","child":"b","type":"1a9cb166f1571100a92eb60da2bce5c5"}]}`, "sysparm_display_value=all"},
		{"parent by name only", cmdb.ServiceNowRelJSON, `{"result":[{"parent":{"display_value":"api"},"child":"b","type":"Runs on::Runs"}]}`, "display value only"},
		{"bad end", cmdb.NativeRelationsCSV, "from,to,type\na,\x01,DEPENDS_ON\n", "bad end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, errs := parse(t, tc.format, tc.in)
			require.Len(t, errs, 1)
			require.Contains(t, errs[0].Err, tc.want)
			require.Contains(t, errs[0].Error(), tc.want)
		})
	}
}

func TestRelationTypesOption(t *testing.T) {
	t.Parallel()
	b, errs, err := cmdb.ParseWith(cmdb.ServiceNowRelJSON, strings.NewReader(
		`{"result":[{"parent":"a","child":"b","type":"Contains::Contained by"},{"parent":"a","child":"b","type":"1a9cb166f1571100a92eb60da2bce5c5"}]}`),
		cmdb.ParseOptions{RelationTypes: map[string]graph.EdgeType{"contains::contained by": graph.DependsOn, "1a9cb166f1571100a92eb60da2bce5c5": graph.DependsOn}})
	require.NoError(t, err)
	require.Empty(t, errs)
	require.Equal(t, []graph.Edge{{From: "a", To: "b", Type: graph.DependsOn}, {From: "a", To: "b", Type: graph.DependsOn}}, b.Edges)
}

func TestPropertiesCapped(t *testing.T) {
	t.Parallel()
	rec := map[string]string{"sys_id": "a", "name": "a", "sys_class_name": "cmdb_ci_linux_server", "ip_address": "10.0.0.1"}
	for i := range 100 {
		rec[fmt.Sprintf("u_field_%03d", i)] = "v"
	}
	raw, err := json.Marshal(map[string]any{"result": []any{rec}})
	require.NoError(t, err)
	b, errs := parse(t, cmdb.ServiceNowCIJSON, string(raw))
	require.Empty(t, errs)
	p := b.Nodes[0].Properties
	require.Len(t, p, graph.MaxProperties)
	require.Equal(t, "10.0.0.1", p["ip_address"]) // well-known fields first
	require.Equal(t, "cmdb_ci_linux_server", p["sys_class_name"])
	require.Equal(t, 100+3-graph.MaxProperties, b.DroppedProperties)
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		format cmdb.Format
		in     string
		want   string
	}{
		{"unknown format", "xml", "<a/>", "unknown format"},
		{"not json", cmdb.NativeJSON, "id,type\n", "not JSON"},
		{"truncated json", cmdb.ServiceNowCIJSON, `{"result":[{"sys_id":"a"}`, "JSON ends early"},
		{"no records", cmdb.ServiceNowCIJSON, `{"foo":[]}`, "no records or result array"},
		{"records not array", cmdb.ServiceNowCIJSON, `{"result":{"sys_id":"a"}}`, "must be an array"},
		{"scalar", cmdb.NativeJSON, `"hello"`, "want a JSON object"},
		{"trailing", cmdb.NativeJSON, `{"cis":[]} {}`, "data after the JSON document"},
		{"empty csv", cmdb.NativeCIsCSV, "", "empty file"},
		{"wrong header", cmdb.NativeRelationsCSV, "source,target,type\na,b,DEPENDS_ON\n", `lacks the column "from"`},
		{"duplicate header", cmdb.NativeCIsCSV, "id,name,ID\n", "appears twice"},
		{"json given as csv", cmdb.ServiceNowCICSV, `{"result":[]}`, `not CSV`},
		{"csv without sys_id", cmdb.ServiceNowCICSV, "name,sys_class_name\na,b\n", `lacks the column "sys_id"`},
		{"bad quoting", cmdb.NativeCIsCSV, "id,name\na,\"b\n", "line 2"},
		{"empty header column", cmdb.NativeCIsCSV, "id,,name\n", "empty or not UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, errs, err := cmdb.Parse(tc.format, strings.NewReader(tc.in))
			require.ErrorIs(t, err, cmdb.ErrInput)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, b)
			require.Nil(t, errs)
		})
	}
	_, _, err := cmdb.ParseWith(cmdb.NativeJSON, strings.NewReader(`{"cis":[{"id":"`+strings.Repeat("a", 2000)+`"}]}`), cmdb.ParseOptions{MaxBytes: 1000})
	require.ErrorContains(t, err, "input over 1000 bytes")
	_, _, err = cmdb.ParseWith(cmdb.NativeRelationsCSV, strings.NewReader("from,to,type\na,b,RUNS_ON\na,c,RUNS_ON\n"), cmdb.ParseOptions{MaxRows: 1})
	require.ErrorContains(t, err, "more than 1 records")
}

func TestClassType(t *testing.T) {
	t.Parallel()
	for class, want := range map[string]string{
		"cmdb_ci_service": "service", "cmdb_ci_service_discovered": "service", "service_offering": "service",
		"cmdb_ci_app_server": "application", "cmdb_ci_app_server_tomcat": "application", "cmdb_ci_appl": "application",
		"cmdb_ci_linux_server": "host", "cmdb_ci_win_server": "host", "cmdb_ci_server": "host", "cmdb_ci_vmware_instance": "host",
		"cmdb_ci_db_postgresql_instance": "database", "cmdb_ci_db_mssql_server": "database", "cmdb_ci_database": "database",
		"cmdb_ci_kafka_cluster": "queue", "cmdb_ci_rabbitmq_node": "queue", "u_cmdb_ci_message_queue": "queue",
		"sys_user_group": "team", "cmdb_ci_kubernetes_cluster": "cluster", "cmdb_ci_lb_bigip": "load_balancer",
		"cmdb_ci_ip_switch": "network", "CMDB_CI_LINUX_SERVER ": "host", "cmdb_ci_badge_reader": "ci", "": "ci",
	} {
		got, known := cmdb.ClassType(class)
		require.Equal(t, want, got, class)
		require.Equal(t, want != "ci", known, class)
	}
}

func TestRelationType(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		typ     graph.EdgeType
		reverse bool
		known   bool
	}{
		{"Depends on::Used by", graph.DependsOn, false, true},
		{"depends ON :: used  by", graph.DependsOn, false, true},
		{"Runs on::Runs", graph.RunsOn, false, true},
		{"Hosted on::Hosts", graph.RunsOn, false, true},
		{"Virtualized by::Virtualizes", graph.RunsOn, false, true},
		{"Owned by::Owns", graph.OwnedBy, false, true},
		{"Used by::Depends on", graph.DependsOn, true, true},
		{"DEPENDS_ON", graph.DependsOn, false, true},
		{"Contains::Contained by", "", false, false},
		{"AFFECTS", "", false, false},
	} {
		typ, rev, known := cmdb.RelationType(tc.name)
		require.Equal(t, []any{tc.typ, tc.reverse, tc.known}, []any{typ, rev, known}, tc.name)
	}
	// Reverse names flip the edge.
	b, errs := parse(t, cmdb.ServiceNowRelJSON, `[{"parent":"host","child":"app","type":"Hosts::Hosted on"}]`)
	require.Empty(t, errs)
	require.Equal(t, []graph.Edge{{From: "app", To: "host", Type: graph.RunsOn}}, b.Edges)
}

func TestImportNilAndCancelled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rep, err := cmdb.Import(b.ctx, b.g, nil, cmdb.Options{})
	require.NoError(t, err)
	require.Equal(t, cmdb.Report{}, rep)
	batch, _ := parse(t, cmdb.NativeJSON, nativeJSON)
	ctx, cancel := context.WithCancel(b.ctx)
	cancel()
	_, err = cmdb.Import(ctx, b.g, batch, cmdb.Options{})
	require.ErrorIs(t, err, context.Canceled)
}

// gen50k writes a ServiceNow-shaped export: 50,000 CIs (services, hosts,
// databases, queues) and 100,000 relations among them.
func gen50k() (cis, rels string) {
	const n = 50_000
	classes := []string{"cmdb_ci_service", "cmdb_ci_linux_server", "cmdb_ci_db_postgresql_instance", "cmdb_ci_kafka_cluster", "cmdb_ci_app_server_tomcat"}
	var c, r strings.Builder
	c.WriteString(`{"result":[`)
	for i := range n {
		if i > 0 {
			c.WriteByte(',')
		}
		fmt.Fprintf(&c, `{"sys_id":"ci%08d","name":"ci-%d","sys_class_name":{"value":"%s","display_value":"x"},"operational_status":"1","support_group":{"value":"grp%03d","display_value":"Group %d"},"short_description":"generated ci %d","ip_address":"10.%d.%d.%d"}`,
			i, i, classes[i%len(classes)], i%100, i%100, i, i>>16&255, i>>8&255, i&255)
	}
	c.WriteString(`]}`)
	r.WriteString(`{"result":[`)
	types := []string{"Depends on::Used by", "Runs on::Runs"}
	for i := range 2 * n {
		if i > 0 {
			r.WriteByte(',')
		}
		from := i % n
		to := (from + 1 + (i/n)*7 + i%13) % n
		fmt.Fprintf(&r, `{"sys_id":"rel%08d","parent":{"value":"ci%08d"},"child":{"value":"ci%08d"},"type":{"display_value":"%s"}}`, i, from, to, types[i%2])
	}
	r.WriteString(`]}`)
	return c.String(), r.String()
}

func BenchmarkImport50k(b *testing.B) {
	bb := setup(b)
	cis, rels := gen50k()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		batch, errs, err := cmdb.Parse(cmdb.ServiceNowCIJSON, strings.NewReader(cis))
		require.NoError(b, err)
		require.Empty(b, errs)
		rb, errs, err := cmdb.Parse(cmdb.ServiceNowRelJSON, strings.NewReader(rels))
		require.NoError(b, err)
		require.Empty(b, errs)
		batch.Merge(rb)
		parsed := time.Since(start)
		rep, err := cmdb.Import(bb.ctx, bb.g, batch, cmdb.Options{})
		require.NoError(b, err)
		require.Empty(b, rep.Rejected)
		require.Equal(b, 50_000, rep.NodesUpserted)
		require.Greater(b, rep.EdgesUpserted, 140_000) // relations plus one owner edge per CI, less duplicates
		total := time.Since(start)
		b.ReportMetric(total.Seconds(), "s/import")
		b.ReportMetric(parsed.Seconds(), "s/parse")
		b.Logf("50k CIs + 100k relations: parse %v, total %v, report %+v", parsed, total, struct{ N, T, E int }{rep.NodesUpserted, rep.TeamsCreated, rep.EdgesUpserted})
		require.Less(b, total, 60*time.Second)
	}
	nodes, edges := bb.counts(b)
	b.Logf("graph holds %d nodes, %d edges", nodes, edges)
}
