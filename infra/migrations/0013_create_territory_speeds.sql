-- What the fleet really drives at, per territory and local hour, learned from completed trips.
CREATE TABLE territory_speeds (
    territory_id uuid NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    hour         smallint NOT NULL CHECK (hour BETWEEN 0 AND 23),
    speed_kmh    double precision NOT NULL CHECK (speed_kmh > 0 AND speed_kmh <= 150),
    trips        integer NOT NULL CHECK (trips >= 0),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (territory_id, hour)
);
