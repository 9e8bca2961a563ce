-- A day released to the technicians' phones: once a dispatcher publishes a technician's day, or a
-- whole territory's, every job on it is dispatched, and so is any job put on it later. Kept per
-- territory as well as per technician so that a technician who joins the territory after its day
-- was published gets the same rule as everyone else in it. Who published and when is the record
-- of the act; publishing again keeps the first.
CREATE TABLE published_territory_days (
    territory_id uuid NOT NULL REFERENCES territories (id),
    day          date NOT NULL,
    published_by uuid REFERENCES users (id),
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (territory_id, day)
);

CREATE TABLE published_technician_days (
    technician_id uuid NOT NULL REFERENCES technicians (id),
    day           date NOT NULL,
    published_by  uuid REFERENCES users (id),
    published_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (technician_id, day)
);
