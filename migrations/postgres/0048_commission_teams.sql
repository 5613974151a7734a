-- Commission plans assigned to teams (issue 18 §1). A team is a name and its member reps; a rep
-- belongs to at most one team at a time (membership is current only: leaving a team stops its
-- plan for invoices issued afterwards, lines already accrued stay). An assignment names a rep or
-- a team, exactly one; a rep's own assignment in force on a day wins over their team's
-- (domain::commissions::plan_in_force). Keep in lock-step with migrations/sqlite/0048_commission_teams.sql.
CREATE TABLE commission_teams (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE commission_team_members (
    team_id    TEXT NOT NULL REFERENCES commission_teams (id),
    rep_id     TEXT NOT NULL UNIQUE REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, rep_id)
);

ALTER TABLE commission_assignments ALTER COLUMN rep_id DROP NOT NULL;
ALTER TABLE commission_assignments ADD COLUMN team_id TEXT REFERENCES commission_teams (id);
ALTER TABLE commission_assignments ADD CONSTRAINT commission_assignments_rep_or_team
    CHECK ((rep_id IS NULL) <> (team_id IS NULL));
CREATE INDEX commission_assignments_team ON commission_assignments (team_id, effective_from);
