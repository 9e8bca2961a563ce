-- The problem catalogue: what a customer can report about each kind of asset, what fixing it
-- needs, and how the customer's choice (repair or replace) changes that. Admins edit it.

CREATE TABLE problems (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,63}$'),
    asset_kind  text NOT NULL REFERENCES asset_kinds (code),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- Words a caller uses for it ("spring", "bang"), so free text maps to a code.
    keywords    text[] NOT NULL DEFAULT '{}',
    -- The choice taken when the customer makes none (NULL when the problem offers none).
    default_choice text CHECK (default_choice ~ '^[a-z][a-z0-9_]{1,63}$'),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX problems_asset_kind_idx ON problems (asset_kind);

CREATE TABLE problem_variants (
    problem_code    text NOT NULL REFERENCES problems (code) ON DELETE CASCADE,
    -- '' is the variant of a problem without a choice.
    choice          text NOT NULL DEFAULT '' CHECK (choice = '' OR choice ~ '^[a-z][a-z0-9_]{1,63}$'),
    required_skills jsonb NOT NULL CHECK (valid_skill_levels(required_skills)),
    -- Extra skills when the asset has an attribute set to true, e.g. {"adas_camera": {"adas_calibration": 2}}.
    skills_if       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(skills_if) = 'object'),
    duration_s      integer NOT NULL CHECK (duration_s BETWEEN 60 AND 12 * 3600),
    -- Part families this fix usually takes; prediction learns the rest from history.
    part_families   text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (problem_code, choice)
);

ALTER TABLE jobs ADD COLUMN duration_reason text NOT NULL DEFAULT '' CHECK (length(duration_reason) <= 500);

INSERT INTO problems (code, asset_kind, name, keywords, default_choice) VALUES
    ('broken_spring', 'garage_door', 'Broken torsion spring',
     '{spring,springs,bang,"won''t open","will not open",heavy}', NULL),
    ('cable_snapped', 'garage_door', 'Snapped lift cable', '{cable,cables,crooked,hanging}', NULL),
    ('door_off_track', 'garage_door', 'Door off its track', '{track,"off track",jammed,stuck,crooked}', NULL),
    ('noisy_door', 'garage_door', 'Noisy door', '{noise,noisy,squeak,squeaks,grinding,loud}', NULL),
    ('opener_not_working', 'garage_door_opener', 'Opener does not open the door',
     '{opener,remote,motor,"does not open",clicks,keypad}', NULL),
    ('windshield_chip', 'vehicle_glass', 'Chip in the windshield', '{chip,ding,rock,pit,star}', 'repair'),
    ('windshield_crack', 'vehicle_glass', 'Crack across the windshield', '{crack,cracked,split,line}', 'replace'),
    ('no_cooling', 'hvac_unit', 'Air conditioner runs but does not cool', '{cooling,cool,"air conditioner",ac,warm,hot}', NULL),
    ('no_heat', 'hvac_unit', 'Furnace does not heat', '{heat,heating,furnace,cold,igniter}', NULL),
    ('annual_maintenance', 'hvac_unit', 'Yearly tune-up', '{maintenance,tune,"tune-up",service,filter,checkup}', NULL);

INSERT INTO problem_variants (problem_code, choice, required_skills, skills_if, duration_s, part_families) VALUES
    ('broken_spring', '', '{"garage_door_springs": 3}', '{}', 4500, '{torsion_spring,lift_cable,end_bearing}'),
    ('cable_snapped', '', '{"garage_door": 2}', '{}', 3600, '{lift_cable,roller}'),
    ('door_off_track', '', '{"garage_door": 3}', '{}', 5400, '{roller,lift_cable}'),
    ('noisy_door', '', '{"garage_door": 1}', '{}', 2700, '{roller}'),
    ('opener_not_working', '', '{"garage_door_opener": 2}', '{}', 3600, '{logic_board,safety_sensor,drive_gear}'),
    ('windshield_chip', 'repair', '{"auto_glass_repair": 1}', '{}', 1800, '{resin_kit}'),
    ('windshield_chip', 'replace', '{"auto_glass_replace": 2}', '{"adas_camera": {"adas_calibration": 2}}', 7200,
     '{windshield,urethane_kit}'),
    ('windshield_crack', 'repair', '{"auto_glass_repair": 3}', '{}', 2700, '{resin_kit}'),
    ('windshield_crack', 'replace', '{"auto_glass_replace": 2}', '{"adas_camera": {"adas_calibration": 2}}', 7200,
     '{windshield,urethane_kit}'),
    ('no_cooling', '', '{"hvac": 2, "hvac_refrigerant": 1}', '{}', 5400, '{capacitor,contactor}'),
    ('no_heat', '', '{"hvac": 2}', '{}', 4500, '{igniter,flame_sensor}'),
    ('annual_maintenance', '', '{"hvac": 1}', '{}', 3600, '{air_filter}');
