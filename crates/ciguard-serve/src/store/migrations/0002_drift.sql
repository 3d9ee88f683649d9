-- Settings drift: the issue kept for each (subject, check). subject is `repo:<id>` or
-- `org:<login>`. state is open, closed or disabled (the repository has issues turned off: a
-- recorded skip, tried again after the ping interval). body_hash is the SHA-256 of the last
-- body written, so the same result writes nothing. Times are Unix ms. (No semicolons in these
-- comments: the migration runner splits statements on them.)
CREATE TABLE drift_issues (
    subject TEXT NOT NULL,
    check_id TEXT NOT NULL,
    issue_repo TEXT NOT NULL,
    issue_number BIGINT NOT NULL,
    body_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    written_at BIGINT NOT NULL,
    PRIMARY KEY (subject, check_id)
)
