-- One alert per job and risk, so several API processes scanning at once raise it once.
CREATE TABLE job_alerts (
    job_id      uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    risk        text NOT NULL CHECK (risk ~ '^[a-z][a-z_]{1,63}$'),
    raised_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, risk)
);

-- What a technician reports of their own day: shift started or ended, break taken, running
-- late, sick.
CREATE TABLE shift_reports (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    technician_id uuid NOT NULL REFERENCES technicians (id) ON DELETE CASCADE,
    shift_id      uuid REFERENCES shifts (id) ON DELETE SET NULL,
    kind          text NOT NULL CHECK (kind IN ('shift_start', 'shift_end', 'break_start', 'break_end',
                                                 'running_late', 'sick')),
    minutes       integer CHECK (minutes BETWEEN 1 AND 600),
    reason        text NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    client_at     timestamptz,
    occurred_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shift_reports_technician_idx ON shift_reports (technician_id, occurred_at);
