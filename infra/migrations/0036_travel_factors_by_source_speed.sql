-- A factor per band of the source's own straight-line speed (metres over its seconds, in km/h):
-- which roads the source means to take. A router's fast legs run on motorways and arterials that
-- lose most at the rush hour and wait at signals; its slow ones on side streets. Empty means
-- nothing learned by speed yet (every band x1.0), as for what was learned before.
ALTER TABLE travel_factors
    ADD COLUMN speed_factors double precision[] NOT NULL DEFAULT '{}'
        CHECK (0 < ALL (speed_factors) AND 10 >= ALL (speed_factors));

-- A technician's own pace against each source, over and above their territory's factors: some
-- drive faster than the fleet, some slower, and the ETAs of their customers should know it. A
-- technician without a row drives as the fleet does.
CREATE TABLE technician_travel_factors (
    technician_id uuid NOT NULL REFERENCES technicians (id) ON DELETE CASCADE,
    source        text NOT NULL CHECK (source IN ('straight_line', 'road_router')),
    factor        double precision NOT NULL CHECK (factor > 0 AND factor <= 10),
    trips         integer NOT NULL CHECK (trips >= 0),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (technician_id, source)
);
