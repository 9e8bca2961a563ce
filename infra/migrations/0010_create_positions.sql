-- Technicians' positions: a time-partitioned log (one partition per day, made ahead and dropped
-- after the retention period by the maintenance routine), and the latest fix per technician.
CREATE TABLE technician_positions (
    technician_id uuid NOT NULL REFERENCES technicians (id) ON DELETE CASCADE,
    recorded_at   timestamptz NOT NULL,  -- the phone's clock
    latitude      double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude     double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    accuracy_m    real CHECK (accuracy_m >= 0),
    speed_mps     real CHECK (speed_mps >= 0),
    heading_deg   real CHECK (heading_deg >= 0 AND heading_deg < 360),
    flagged       text,  -- why this fix is not believed (an impossible jump), else NULL
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (technician_id, recorded_at)
) PARTITION BY RANGE (recorded_at);

-- Whatever falls outside the daily partitions (a very old backlog) still has a home.
CREATE TABLE technician_positions_default PARTITION OF technician_positions DEFAULT;

CREATE TABLE technician_latest_positions (
    technician_id uuid PRIMARY KEY REFERENCES technicians (id) ON DELETE CASCADE,
    recorded_at   timestamptz NOT NULL,
    latitude      double precision NOT NULL,
    longitude     double precision NOT NULL,
    accuracy_m    real,
    speed_mps     real,
    heading_deg   real,
    received_at   timestamptz NOT NULL DEFAULT now()
);
