-- What a territory's trips really take against each travel source's own estimate, learned from
-- completed trips by `truckroll calibrate`: the straight-line model and a road router are both
-- wrong in their own ways (one guesses the roads, the other drives them empty), so each gets its
-- own factors. The time of a trip is the source's time x the factor for its local hour x the
-- factor for its straight-line distance band (short trips wind more and wait at more junctions
-- per kilometre). `factor` is the all-hours value, for travel whose hour is not known.
CREATE TABLE travel_factors (
    territory_id uuid NOT NULL REFERENCES territories (id) ON DELETE CASCADE,
    source       text NOT NULL CHECK (source IN ('straight_line', 'road_router')),
    factor       double precision NOT NULL CHECK (factor > 0 AND factor <= 10),
    hour_factors double precision[] NOT NULL
        CHECK (cardinality(hour_factors) = 24 AND 0 < ALL (hour_factors) AND 10 >= ALL (hour_factors)),
    band_factors double precision[] NOT NULL
        CHECK (0 < ALL (band_factors) AND 10 >= ALL (band_factors)),
    trips        integer NOT NULL CHECK (trips >= 0),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (territory_id, source)
);

-- The speeds learned before are the same knowledge for the straight-line model: a territory's
-- configured speed over the speed learned for an hour is that hour's factor.
INSERT INTO travel_factors (territory_id, source, factor, hour_factors, band_factors, trips)
SELECT t.id, 'straight_line',
       least(10, sum(coalesce(t.speed_kmh, 35) / ts.speed_kmh * ts.trips) / sum(ts.trips)),
       array(SELECT coalesce((SELECT least(10, coalesce(t.speed_kmh, 35) / s.speed_kmh) FROM territory_speeds s
                               WHERE s.territory_id = t.id AND s.hour = h), 1.0)
             FROM generate_series(0, 23) AS h ORDER BY h),
       '{}', sum(ts.trips)
FROM territories t JOIN territory_speeds ts ON ts.territory_id = t.id
GROUP BY t.id, t.speed_kmh
HAVING sum(ts.trips) > 0;

DROP TABLE territory_speeds;
