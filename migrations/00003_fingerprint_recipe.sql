-- +goose Up

-- Every signal records which fingerprint recipe (and which version of it)
-- computed its fingerprint, next to the vendor's own ID (external_id), so a
-- changed recipe never silently splits or merges history.
ALTER TABLE signals
  ADD COLUMN fingerprint_recipe text NOT NULL DEFAULT '',
  ADD COLUMN fingerprint_recipe_version integer NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE signals DROP COLUMN fingerprint_recipe, DROP COLUMN fingerprint_recipe_version;
