-- Deliveries: one row per X-GitHub-Delivery, written in the transaction that queues its jobs.
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    outcome TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX deliveries_received_at ON deliveries (received_at);
-- Jobs: state is queued | running | done | dead | cancelled | superseded. Times are Unix ms.
CREATE TABLE jobs (
    id {{ID}},
    job_key TEXT NOT NULL,
    installation_id BIGINT NOT NULL,
    payload TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    note TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- Coalescing: at most one queued and one running job per key.
CREATE UNIQUE INDEX jobs_one_queued_per_key ON jobs (job_key) WHERE state = 'queued';
CREATE UNIQUE INDEX jobs_one_running_per_key ON jobs (job_key) WHERE state = 'running';
CREATE INDEX jobs_state_run_at ON jobs (state, run_at);
-- The shared rate-limit budget per installation.
CREATE TABLE rate_limits (
    installation_id BIGINT PRIMARY KEY,
    remaining BIGINT,
    reset_at BIGINT,
    blocked_until BIGINT,
    updated_at BIGINT NOT NULL
);
-- Leader leases (the scheduler's).
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
)
