-- A road router's time learned road class by road class (dispatch.road_classes): per local hour,
-- a factor on its free-flow seconds in each class of segment speed and a wait per junction
-- crossed, after the same values over all hours; 25 x 8 values, flat. Motorways
-- and arterials lose most at the rush hour and wait at signals, side streets little: one factor
-- on a whole leg cannot tell them apart. Empty means nothing learned that way yet.
ALTER TABLE travel_factors
    ADD COLUMN class_factors double precision[] NOT NULL DEFAULT '{}'
        CHECK (cardinality(class_factors) IN (0, 200) AND 0 <= ALL (class_factors)
               AND 120 >= ALL (class_factors));
