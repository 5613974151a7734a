-- Commission plans assigned to teams (issue 18 §1). A team is a name and its member reps; a rep
-- belongs to at most one team at a time (membership is current only: leaving a team stops its
-- plan for invoices issued afterwards, lines already accrued stay). An assignment names a rep or
-- a team, exactly one; a rep's own assignment in force on a day wins over their team's
-- (domain::commissions::plan_in_force). Keep in lock-step with migrations/postgres/0048_commission_teams.sql.
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

-- SQLite cannot drop NOT NULL with ALTER: the table is rebuilt, keeping its rows and index.
CREATE TABLE commission_assignments_teams (
    id             TEXT PRIMARY KEY,
    rep_id         TEXT REFERENCES users (id),
    team_id        TEXT REFERENCES commission_teams (id),
    plan_id        TEXT NOT NULL REFERENCES commission_plans (id),
    effective_from TEXT NOT NULL,
    effective_to   TEXT,
    created_at     BIGINT NOT NULL,
    CHECK ((rep_id IS NULL) <> (team_id IS NULL))
);
INSERT INTO commission_assignments_teams (id, rep_id, team_id, plan_id, effective_from, effective_to, created_at)
    SELECT id, rep_id, NULL, plan_id, effective_from, effective_to, created_at FROM commission_assignments;
DROP TABLE commission_assignments;
ALTER TABLE commission_assignments_teams RENAME TO commission_assignments;
CREATE INDEX commission_assignments_rep ON commission_assignments (rep_id, effective_from);
CREATE INDEX commission_assignments_team ON commission_assignments (team_id, effective_from);
