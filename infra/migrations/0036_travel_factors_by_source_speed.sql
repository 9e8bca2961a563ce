-- A factor per band of the source's own straight-line speed (metres over its seconds, in km/h):
-- which roads the source means to take. A router's fast legs run on motorways and arterials that
-- lose most at the rush hour and wait at signals; its slow ones on side streets. Empty means
-- nothing learned by speed yet (every band x1.0), as for what was learned before.
ALTER TABLE travel_factors
    ADD COLUMN speed_factors double precision[] NOT NULL DEFAULT '{}'
        CHECK (0 < ALL (speed_factors) AND 10 >= ALL (speed_factors));
