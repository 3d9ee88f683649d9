-- The release gate's audit log: append-only, one row before each review (intent) and one after
-- (outcome), or one for a refused callback URL. `hash` is sha256 over a canonical encoding of
-- the row and the previous row's hash (`ciguard serve audit-log verify` checks the chain).
CREATE TABLE gate_audit_log (
    seq {{ID}},
    recorded_at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    repository TEXT NOT NULL,
    run_id BIGINT NOT NULL,
    environment TEXT NOT NULL,
    record TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
-- No fork of the chain: two rows cannot follow the same one.
CREATE UNIQUE INDEX gate_audit_log_prev ON gate_audit_log (prev_hash);
-- One review per (run, environment, deployment): redeliveries find it reviewed.
CREATE TABLE gate_reviews (
    repository_id BIGINT NOT NULL,
    run_id BIGINT NOT NULL,
    environment TEXT NOT NULL,
    deployment_id BIGINT NOT NULL,
    state TEXT NOT NULL,
    decision TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (repository_id, run_id, environment, deployment_id)
)
