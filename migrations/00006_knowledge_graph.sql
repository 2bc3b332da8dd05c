-- +goose Up

-- The knowledge graph of internal/graph/postgres: nodes (CIs, issues,
-- documents, resolutions) and typed, directed edges between them, per
-- tenant, under the same row-level security as every other tenant table.

CREATE TABLE kg_nodes (
  tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id         text NOT NULL CHECK (octet_length(id) BETWEEN 1 AND 200),
  kind       text NOT NULL CHECK (kind IN ('ci', 'issue', 'document', 'resolution')),
  type       text NOT NULL CHECK (type ~ '^[a-z][a-z0-9_-]{0,63}$'),
  title      text NOT NULL DEFAULT '' CHECK (octet_length(title) <= 1000),
  body       text NOT NULL DEFAULT '' CHECK (octet_length(body) <= 1048576),
  properties jsonb NOT NULL DEFAULT '{}',
  -- The embedding as written, little-endian float32s; NULL when the node
  -- has none. The adapter checks the dimension; the search index
  -- normalises the vectors in memory, so cosine similarity is a dot
  -- product there.
  embedding  bytea CHECK (octet_length(embedding) % 4 = 0 AND octet_length(embedding) > 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- What lexical search reads: the title weighs more (A) than the body (B).
  search     tsvector GENERATED ALWAYS AS (
               setweight(to_tsvector('english', title), 'A') ||
               setweight(to_tsvector('english', body), 'B')) STORED,
  PRIMARY KEY (tenant_id, id)
);
-- Float32 vectors do not compress; storing them out of line without trying
-- saves the compression attempt on every write.
ALTER TABLE kg_nodes ALTER COLUMN embedding SET STORAGE EXTERNAL;
-- The full-text index leads with the tenant (btree_gin lets a GIN index hold
-- a plain column), so a search reads only its own tenant's postings: one
-- tenant's common words never make another's searches walk its rows.
-- fastupdate is off: the pending list it would keep is scanned linearly by
-- every search until a vacuum merges it, which after a bulk import made
-- searches several times slower; writes pay instead (about 0.2 ms a
-- document of 45 words).
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX kg_nodes_search ON kg_nodes USING gin (tenant_id, search) WITH (fastupdate = off);

CREATE TABLE kg_edges (
  tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  src        text NOT NULL,
  type       text NOT NULL CHECK (type IN ('DEPENDS_ON', 'RUNS_ON', 'OWNED_BY', 'AFFECTS', 'RESOLVED_BY', 'SIMILAR_TO')),
  dst        text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, src, type, dst),
  CHECK (src <> dst),
  -- Deleting a node deletes its edges; the tenant is part of both keys, so
  -- an edge can never join two tenants' nodes.
  FOREIGN KEY (tenant_id, src) REFERENCES kg_nodes (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, dst) REFERENCES kg_nodes (tenant_id, id) ON DELETE CASCADE
);
-- Incoming traversals and the cascade from dst.
CREATE INDEX kg_edges_incoming ON kg_edges (tenant_id, dst, type, src);

-- A counter per tenant, bumped in the transaction of every node write or
-- delete, so a process holding the tenant's vectors in memory can tell
-- whether they are still current with one cheap read.
CREATE TABLE kg_versions (
  tenant_id text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  version   bigint NOT NULL CHECK (version >= 0)
);

-- +goose StatementBegin
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['kg_nodes', 'kg_edges', 'kg_versions'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = alexus_current_tenant()) WITH CHECK (tenant_id = alexus_current_tenant())', t);
  END LOOP;
END
$$;
-- +goose StatementEnd

GRANT SELECT, INSERT, UPDATE, DELETE ON kg_nodes, kg_edges, kg_versions TO alexus_app;

-- kg_any_word is the lexical search's recall query: the OR of the English
-- lexemes of q, leaving out words negated with a leading '-' (websearch
-- syntax), or NULL when q has none. websearch_to_tsquery alone would demand
-- every word, and a diagnosis query ("checkout latency after deploy of
-- payments db") rarely finds a document holding all of them. The lexemes
-- come from to_tsvector, so they are stemmed exactly as the documents are,
-- and are quoted into the tsquery literally.
CREATE FUNCTION kg_any_word(q text) RETURNS tsquery
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$
    SELECT string_agg('''' || replace(replace(l, '\', '\\'), '''', '\''') || '''', ' | ')::tsquery
    FROM unnest(tsvector_to_array(to_tsvector('english',
           regexp_replace(q, '(^|\s)-("[^"]*"|\S+)', ' ', 'g')))) AS l
  $$;
GRANT EXECUTE ON FUNCTION kg_any_word(text) TO alexus_app;

-- kg_lexical is the lexical search of the transaction's tenant: the IDs
-- and scores of its best lim nodes holding any word of q and passing the
-- kind and type filters (empty arrays keep all). With every_word it returns
-- the first tier, the nodes that also match q as websearch_to_tsquery reads
-- it (score 1 + rank); without, the second, those that do not (score rank).
-- Ranks are ts_rank over q's words, normalised by document length (1) and
-- into [0, 1) (32).
--
-- Why a SECURITY DEFINER function: @@ is not leakproof, so under row-level
-- security the planner may not evaluate it inside an index scan before the
-- policy, and every search would read all of the tenant's rows. Run as its
-- owner (the migrating role, which bypasses RLS when it is a superuser, as
-- alexus_resolve_integration_token also needs), the fixed query below
-- applies the policy's own filter itself, tenant_id =
-- alexus_current_tenant(), and can use the GIN index; a caller cannot add
-- a predicate to it, so nothing can be evaluated on another tenant's rows.
-- Were the owner subject to RLS, the function would still be correct
-- (the policy applies too), only slower.
-- +goose StatementBegin
CREATE FUNCTION kg_lexical(q text, kinds text[], types text[], lim integer, every_word boolean)
  RETURNS TABLE (id text, score double precision)
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
  BEGIN
    -- Two statements, not one with a flag in its WHERE clause, so the
    -- first tier's index scan intersects the whole query's postings.
    IF every_word THEN
      RETURN QUERY
        SELECT n.id, 1 + ts_rank(n.search, (SELECT public.kg_any_word(q)), 33)::double precision
        FROM public.kg_nodes n
        WHERE n.tenant_id = public.alexus_current_tenant()
          AND n.search @@ (SELECT public.kg_any_word(q))
          AND n.search @@ (SELECT websearch_to_tsquery('english', q))
          AND (cardinality(kinds) = 0 OR n.kind = ANY (kinds))
          AND (cardinality(types) = 0 OR n.type = ANY (types))
        ORDER BY 2 DESC, 1
        LIMIT lim;
    ELSE
      RETURN QUERY
        SELECT n.id, ts_rank(n.search, (SELECT public.kg_any_word(q)), 33)::double precision
        FROM public.kg_nodes n
        WHERE n.tenant_id = public.alexus_current_tenant()
          AND n.search @@ (SELECT public.kg_any_word(q))
          AND NOT n.search @@ (SELECT websearch_to_tsquery('english', q))
          AND (cardinality(kinds) = 0 OR n.kind = ANY (kinds))
          AND (cardinality(types) = 0 OR n.type = ANY (types))
        ORDER BY 2 DESC, 1
        LIMIT lim;
    END IF;
  END
  $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION kg_lexical(text, text[], text[], integer, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kg_lexical(text, text[], text[], integer, boolean) TO alexus_app;

-- +goose Down
DROP FUNCTION IF EXISTS kg_lexical(text, text[], text[], integer, boolean);
DROP FUNCTION IF EXISTS kg_any_word(text);
DROP TABLE IF EXISTS kg_versions, kg_edges, kg_nodes;
