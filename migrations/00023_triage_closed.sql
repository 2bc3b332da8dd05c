-- +goose Up
-- A triage item whose incident is resolved before anyone answers it is
-- closed, so the queue stops asking about it; reopening the incident opens
-- it again. closed_at says when, and is set exactly while it is closed.
ALTER TABLE triage_items DROP CONSTRAINT triage_items_state_check;
ALTER TABLE triage_items ADD CONSTRAINT triage_items_state_check CHECK (state IN ('open', 'answered', 'closed'));
ALTER TABLE triage_items ADD COLUMN closed_at timestamptz;
ALTER TABLE triage_items ADD CONSTRAINT triage_items_closed_check CHECK ((state = 'closed') = (closed_at IS NOT NULL));

-- +goose Down
UPDATE triage_items SET state = 'open' WHERE state = 'closed';
ALTER TABLE triage_items DROP CONSTRAINT triage_items_closed_check;
ALTER TABLE triage_items DROP COLUMN closed_at;
ALTER TABLE triage_items DROP CONSTRAINT triage_items_state_check;
ALTER TABLE triage_items ADD CONSTRAINT triage_items_state_check CHECK (state IN ('open', 'answered'));
