package neo4j

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/alexus-platform/alexus/internal/graph"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// MaxDimension bounds Config.Dimension: the largest vector index Neo4j 5
// creates.
const MaxDimension = 4096

// Config configures the adapter.
type Config struct {
	// Database is the Neo4j database to use; empty means the user's home
	// database.
	Database string
	// Dimension is the embedding dimension; 0 means graph.DefaultDimension.
	Dimension int
}

// databasePattern is Neo4j's rule for database names: 3 to 63 characters of
// ASCII letters, digits, dots and dashes, starting with a letter.
var databasePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9.-]{2,62}$`)

func (c Config) withDefaults() Config {
	if c.Dimension == 0 {
		c.Dimension = graph.DefaultDimension
	}
	return c
}

// Validate names the first bad field.
func (c Config) Validate() error {
	if c.Database != "" && !databasePattern.MatchString(c.Database) {
		return fmt.Errorf("graph neo4j: database %q must be 3-63 characters of letters, digits, '.' or '-', starting with a letter (empty means the home database)", c.Database)
	}
	if c.Dimension < 0 || c.Dimension > MaxDimension {
		return fmt.Errorf("graph neo4j: dimension %d must be between 1 and %d (0 means %d)", c.Dimension, MaxDimension, graph.DefaultDimension)
	}
	return nil
}

// Graph is the Neo4j knowledge graph. It is safe for concurrent use.
type Graph struct {
	driver   neo4j.DriverWithContext
	database string
	dim      int
}

var _ graph.Graph = (*Graph)(nil)

// Open connects to the Neo4j server at url (neo4j://, bolt:// or their +s
// forms) with basic authentication and checks that it answers. The caller
// closes the driver.
func Open(ctx context.Context, url, user, password string) (neo4j.DriverWithContext, error) {
	d, err := neo4j.NewDriverWithContext(url, neo4j.BasicAuth(user, password, ""))
	if err != nil {
		return nil, fmt.Errorf("graph neo4j: open %s: %w", url, err)
	}
	if err := d.VerifyConnectivity(ctx); err != nil {
		_ = d.Close(ctx)
		return nil, fmt.Errorf("graph neo4j: connect to %s: %w", url, err)
	}
	return d, nil
}

// New returns a graph on driver, which the caller keeps and closes, after
// making sure the schema exists (EnsureSchema).
func New(ctx context.Context, driver neo4j.DriverWithContext, cfg Config) (*Graph, error) {
	if driver == nil {
		return nil, errors.New("graph neo4j: nil driver")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	g := &Graph{driver: driver, database: cfg.Database, dim: cfg.Dimension}
	if err := g.EnsureSchema(ctx); err != nil {
		return nil, err
	}
	return g, nil
}

// Dimension is the embedding dimension every vector must have.
func (g *Graph) Dimension() int { return g.dim }

// The schema's names.
const (
	label          = "KGNode"
	constraintName = "kg_node_id"
	tenantIndex    = "kg_tenant"
	textIndex      = "kg_text"
	vectorIndex    = "kg_embedding"
)

// schemaStatements create the schema, each idempotently. The dimension is
// formatted in (a validated integer) because index options are literals.
func schemaStatements(dim int) []string {
	return []string{
		`CREATE CONSTRAINT ` + constraintName + ` IF NOT EXISTS FOR (n:` + label + `) REQUIRE (n.tenant_id, n.id) IS UNIQUE`,
		`CREATE INDEX ` + tenantIndex + ` IF NOT EXISTS FOR (n:` + label + `) ON (n.tenant_id)`,
		`CREATE FULLTEXT INDEX ` + textIndex + ` IF NOT EXISTS FOR (n:` + label + `) ON EACH [n.title, n.body]
		 OPTIONS {indexConfig: {` + "`fulltext.analyzer`" + `: 'english', ` + "`fulltext.eventually_consistent`" + `: false}}`,
		fmt.Sprintf(`CREATE VECTOR INDEX `+vectorIndex+` IF NOT EXISTS FOR (n:`+label+`) ON n.embedding
		 OPTIONS {indexConfig: {`+"`vector.dimensions`"+`: %d, `+"`vector.similarity_function`"+`: 'cosine'}}`, dim),
	}
}

// EnsureSchema creates the constraint and indexes the adapter needs when
// they are missing, waits until they are online, and checks that the
// vector index has the graph's dimension. It is idempotent; concurrent
// first runs against an empty database may race, so run it from one
// process (New does) before serving.
func (g *Graph) EnsureSchema(ctx context.Context) error {
	// Each statement runs in a transaction of its own: Neo4j refuses schema
	// and data changes, or several schema changes, in one transaction.
	for _, stmt := range schemaStatements(g.dim) {
		if _, err := g.schemaQuery(ctx, stmt); err != nil {
			return fmt.Errorf("graph neo4j: schema: %w", err)
		}
	}
	recs, err := g.schemaQuery(ctx, `SHOW INDEXES YIELD name, options WHERE name = '`+vectorIndex+`' RETURN options`)
	if err != nil {
		return fmt.Errorf("graph neo4j: schema: read %s: %w", vectorIndex, err)
	}
	if len(recs) != 1 {
		return fmt.Errorf("graph neo4j: schema: vector index %s missing after creation", vectorIndex)
	}
	dim, err := indexDimension(recs[0])
	if err != nil {
		return fmt.Errorf("graph neo4j: schema: %w", err)
	}
	if dim != g.dim {
		return fmt.Errorf("graph neo4j: vector index %s has dimension %d, the graph's is %d: drop the index (and re-embed) to change it", vectorIndex, dim, g.dim)
	}
	if _, err := g.schemaQuery(ctx, `CALL db.awaitIndexes(300)`); err != nil {
		return fmt.Errorf("graph neo4j: schema: wait for indexes: %w", err)
	}
	return nil
}

// indexDimension reads `vector.dimensions` from a SHOW INDEXES options map.
func indexDimension(rec *neo4j.Record) (int, error) {
	v, _ := rec.Get("options")
	options, _ := v.(map[string]any)
	config, _ := options["indexConfig"].(map[string]any)
	switch d := config["vector.dimensions"].(type) {
	case int64:
		return int(d), nil
	case float64:
		return int(d), nil
	}
	return 0, fmt.Errorf("vector index %s has no dimension in %v", vectorIndex, options)
}

// schemaQuery runs one statement of the schema step: the only Cypher in
// this package that does not pass through the tenant filter, because it
// reads and writes no tenant's data.
func (g *Graph) schemaQuery(ctx context.Context, cypher string) ([]*neo4j.Record, error) {
	res, err := neo4j.ExecuteQuery(ctx, g.driver, cypher, nil, neo4j.EagerResultTransformer,
		neo4j.ExecuteQueryWithDatabase(g.database), neo4j.ExecuteQueryWithWritersRouting())
	if err != nil {
		return nil, err
	}
	return res.Records, nil
}

// tx is one transaction of one tenant: every Cypher statement a method of
// Graph runs goes through its run.
type tx struct {
	ctx    context.Context
	mtx    neo4j.ManagedTransaction
	tenant tenant.ID
}

// run checks that cypher is scoped to the tenant (checkScoped), binds the
// tenant as $tenant and returns every record.
func (t *tx) run(cypher string, params map[string]any) ([]*neo4j.Record, error) {
	if err := checkScoped(cypher); err != nil {
		return nil, err
	}
	if _, ok := params["tenant"]; ok {
		return nil, errors.New("graph neo4j: a query may not bind $tenant itself")
	}
	if t.tenant == "" {
		return nil, errors.New("graph neo4j: a query needs a tenant")
	}
	p := maps.Clone(params)
	if p == nil {
		p = map[string]any{}
	}
	p["tenant"] = string(t.tenant)
	res, err := t.mtx.Run(t.ctx, cypher, p)
	if err != nil {
		return nil, err
	}
	return res.Collect(t.ctx)
}

var (
	tenantParam = regexp.MustCompile(`\$tenant\b`)
	labelUse    = regexp.MustCompile(`:` + label + `\b`)
	scopedLabel = regexp.MustCompile(`:` + label + ` \{tenant_id: \$tenant\b`)
)

// checkScoped refuses a statement that does not bind $tenant, that has no
// :KGNode pattern, or that has one not opening with {tenant_id: $tenant}.
func checkScoped(cypher string) error {
	if !tenantParam.MatchString(cypher) {
		return fmt.Errorf("graph neo4j: refusing a query without $tenant: %.80q", cypher)
	}
	uses := len(labelUse.FindAllStringIndex(cypher, -1))
	if uses == 0 {
		return fmt.Errorf("graph neo4j: refusing a query that matches no :%s {tenant_id: $tenant} node: %.80q", label, cypher)
	}
	if scoped := len(scopedLabel.FindAllStringIndex(cypher, -1)); scoped != uses {
		return fmt.Errorf("graph neo4j: refusing a query with %d of %d :%s patterns not scoped by {tenant_id: $tenant}: %.80q", uses-scoped, uses, label, cypher)
	}
	return nil
}

// read runs fn in a read transaction of the context's tenant.
func (g *Graph) read(ctx context.Context, fn func(*tx) error) error {
	return g.inTenant(ctx, neo4j.AccessModeRead, fn)
}

// write runs fn in a write transaction of the context's tenant: all of it
// commits or none.
func (g *Graph) write(ctx context.Context, fn func(*tx) error) error {
	return g.inTenant(ctx, neo4j.AccessModeWrite, fn)
}

// inTenant is the one tenant filter: it reads the tenant from the context
// and gives fn a tx bound to it. The driver retries fn on transient errors
// (deadlocks, leader changes), so fn must be safe to run again.
func (g *Graph) inTenant(ctx context.Context, mode neo4j.AccessMode, fn func(*tx) error) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	session := g.driver.NewSession(ctx, neo4j.SessionConfig{DatabaseName: g.database, AccessMode: mode})
	defer func() { _ = session.Close(ctx) }()
	work := func(mtx neo4j.ManagedTransaction) (any, error) {
		return nil, fn(&tx{ctx: ctx, mtx: mtx, tenant: t})
	}
	if mode == neo4j.AccessModeRead {
		_, err = session.ExecuteRead(ctx, work)
	} else {
		_, err = session.ExecuteWrite(ctx, work)
	}
	return err
}
