-- The whole field-service domain. Core PostgreSQL 15 only (no extensions), so the schema runs on
-- any server, including embedded ones without contrib.

CREATE TABLE territories (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    timezone        text NOT NULL DEFAULT 'UTC',
    -- Travel model: road distance ~ geodesic x circuity; time = distance / speed + stop overhead.
    circuity_factor double precision NOT NULL DEFAULT 1.3 CHECK (circuity_factor BETWEEN 1 AND 3),
    speed_kmh       double precision NOT NULL DEFAULT 35 CHECK (speed_kmh > 0 AND speed_kmh <= 150),
    stop_overhead_s integer NOT NULL DEFAULT 120 CHECK (stop_overhead_s BETWEEN 0 AND 3600),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX territories_name_key ON territories (lower(name));

CREATE TABLE skills (
    code text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,63}$'),
    name text NOT NULL
);

CREATE TABLE asset_kinds (
    code text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,63}$'),
    name text NOT NULL
);

INSERT INTO skills (code, name) VALUES
    ('garage_door', 'Garage doors: panels, tracks, rollers'),
    ('garage_door_springs', 'Garage door torsion and extension springs'),
    ('garage_door_opener', 'Garage door openers'),
    ('auto_glass_repair', 'Windshield chip and crack repair'),
    ('auto_glass_replace', 'Windshield replacement'),
    ('adas_calibration', 'Driver-assistance camera calibration'),
    ('hvac', 'Heating, ventilation and air conditioning'),
    ('hvac_refrigerant', 'Refrigerant handling (certified)'),
    ('appliance', 'Household appliances'),
    ('electrical', 'Electrical work');

INSERT INTO asset_kinds (code, name) VALUES
    ('garage_door', 'Garage door'),
    ('garage_door_opener', 'Garage door opener'),
    ('vehicle_glass', 'Vehicle windshield'),
    ('hvac_unit', 'HVAC unit'),
    ('water_heater', 'Water heater'),
    ('appliance', 'Household appliance');

CREATE TABLE customers (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    external_id text UNIQUE CHECK (length(external_id) BETWEEN 1 AND 200),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email       text CHECK (length(email) <= 320),
    phone       text CHECK (length(phone) <= 50),
    notes       text NOT NULL DEFAULT '' CHECK (length(notes) <= 4000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_name_idx ON customers (lower(name));

CREATE TABLE sites (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    external_id   text UNIQUE CHECK (length(external_id) BETWEEN 1 AND 200),
    territory_id  uuid REFERENCES territories (id),
    address_line  text NOT NULL CHECK (length(address_line) BETWEEN 1 AND 300),
    city          text NOT NULL DEFAULT '' CHECK (length(city) <= 200),
    postal_code   text NOT NULL DEFAULT '' CHECK (length(postal_code) <= 20),
    country       text NOT NULL DEFAULT 'US' CHECK (country ~ '^[A-Z]{2}$'),
    -- Normalised address ("12 oak street|springfield|62701") so intake finds the site however it is typed.
    address_key   text NOT NULL,
    latitude      double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude     double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    access_notes  text NOT NULL DEFAULT '' CHECK (length(access_notes) <= 2000),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sites_address_key_idx ON sites (address_key);
CREATE INDEX sites_territory_idx ON sites (territory_id);
CREATE INDEX sites_latitude_idx ON sites (latitude, longitude);

-- Who lived at a site when. Asset history belongs to the site; the occupant changes.
CREATE TABLE site_occupancies (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id     uuid NOT NULL REFERENCES sites (id),
    customer_id uuid NOT NULL REFERENCES customers (id),
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz,
    CHECK (ended_at IS NULL OR ended_at > started_at)
);
CREATE UNIQUE INDEX site_occupancies_one_current ON site_occupancies (site_id) WHERE ended_at IS NULL;
CREATE INDEX site_occupancies_customer_idx ON site_occupancies (customer_id);

CREATE TABLE technicians (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    external_id    text UNIQUE CHECK (length(external_id) BETWEEN 1 AND 200),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email          text CHECK (length(email) <= 320),
    phone          text CHECK (length(phone) <= 50),
    territory_id   uuid NOT NULL REFERENCES territories (id),
    home_latitude  double precision NOT NULL CHECK (home_latitude BETWEEN -90 AND 90),
    home_longitude double precision NOT NULL CHECK (home_longitude BETWEEN -180 AND 180),
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX technicians_territory_idx ON technicians (territory_id) WHERE active;

CREATE TABLE technician_skills (
    technician_id uuid NOT NULL REFERENCES technicians (id) ON DELETE CASCADE,
    skill         text NOT NULL REFERENCES skills (code),
    level         smallint NOT NULL CHECK (level BETWEEN 1 AND 5),
    PRIMARY KEY (technician_id, skill)
);

-- A customer may ask for, or refuse, a particular technician.
CREATE TABLE customer_technician_preferences (
    customer_id   uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    technician_id uuid NOT NULL REFERENCES technicians (id) ON DELETE CASCADE,
    preference    text NOT NULL CHECK (preference IN ('preferred', 'excluded')),
    reason        text NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
    PRIMARY KEY (customer_id, technician_id)
);

CREATE TABLE shifts (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    technician_id   uuid NOT NULL REFERENCES technicians (id) ON DELETE CASCADE,
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    start_latitude  double precision NOT NULL CHECK (start_latitude BETWEEN -90 AND 90),
    start_longitude double precision NOT NULL CHECK (start_longitude BETWEEN -180 AND 180),
    end_latitude    double precision NOT NULL CHECK (end_latitude BETWEEN -90 AND 90),
    end_longitude   double precision NOT NULL CHECK (end_longitude BETWEEN -180 AND 180),
    overtime_limit_s integer NOT NULL DEFAULT 0 CHECK (overtime_limit_s BETWEEN 0 AND 8 * 3600),
    CHECK (ends_at > starts_at),
    CHECK (ends_at - starts_at <= interval '24 hours')
);
CREATE INDEX shifts_technician_time_idx ON shifts (technician_id, starts_at);

-- A break must be taken somewhere inside [earliest_start_at, latest_end_at].
CREATE TABLE shift_breaks (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    shift_id          uuid NOT NULL REFERENCES shifts (id) ON DELETE CASCADE,
    earliest_start_at timestamptz NOT NULL,
    latest_end_at     timestamptz NOT NULL,
    duration_s        integer NOT NULL CHECK (duration_s BETWEEN 60 AND 4 * 3600),
    CHECK (latest_end_at >= earliest_start_at + make_interval(secs => duration_s))
);
CREATE INDEX shift_breaks_shift_idx ON shift_breaks (shift_id);

CREATE TABLE parts (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    sku             text NOT NULL UNIQUE CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$'),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    unit_cost_cents integer NOT NULL DEFAULT 0 CHECK (unit_cost_cents >= 0),
    -- Springs come in pairs: a quantity of this part is always a multiple of sold_in_multiples_of.
    sold_in_multiples_of smallint NOT NULL DEFAULT 1 CHECK (sold_in_multiples_of BETWEEN 1 AND 100),
    attributes      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Which part fits which asset: by kind, optionally make and model, and attribute conditions
-- (e.g. {"spring_size": "218"}) that must all equal the asset's attributes.
CREATE TABLE fitments (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    part_id     uuid NOT NULL REFERENCES parts (id) ON DELETE CASCADE,
    asset_kind  text NOT NULL REFERENCES asset_kinds (code),
    make        text CHECK (length(make) BETWEEN 1 AND 100),
    model       text CHECK (length(model) BETWEEN 1 AND 100),
    conditions  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(conditions) = 'object'),
    quantity    smallint NOT NULL DEFAULT 1 CHECK (quantity BETWEEN 1 AND 100),
    CHECK (model IS NULL OR make IS NOT NULL)
);
CREATE UNIQUE INDEX fitments_unique ON fitments (part_id, asset_kind, coalesce(make, ''), coalesce(model, ''), conditions);
CREATE INDEX fitments_lookup_idx ON fitments (asset_kind, make, model);

CREATE TABLE assets (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    external_id    text UNIQUE CHECK (length(external_id) BETWEEN 1 AND 200),
    site_id        uuid NOT NULL REFERENCES sites (id),
    kind           text NOT NULL REFERENCES asset_kinds (code),
    make           text NOT NULL DEFAULT '' CHECK (length(make) <= 100),
    model          text NOT NULL DEFAULT '' CHECK (length(model) <= 100),
    serial         text CHECK (length(serial) <= 100),
    installed_at   timestamptz,
    warranty_until date,
    attributes     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
    removed_at     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (removed_at IS NULL OR installed_at IS NULL OR removed_at >= installed_at)
);
CREATE INDEX assets_site_idx ON assets (site_id);
CREATE INDEX assets_make_model_idx ON assets (kind, make, model);

CREATE TABLE stock_locations (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind          text NOT NULL CHECK (kind IN ('van', 'depot')),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    territory_id  uuid REFERENCES territories (id),
    technician_id uuid UNIQUE REFERENCES technicians (id) ON DELETE CASCADE,
    latitude      double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude     double precision CHECK (longitude BETWEEN -180 AND 180),
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- A van belongs to a technician and moves with them; a depot stands at a fixed point.
    CHECK ((kind = 'van') = (technician_id IS NOT NULL)),
    CHECK (kind = 'van' OR (latitude IS NOT NULL AND longitude IS NOT NULL AND territory_id IS NOT NULL))
);

CREATE TABLE stock_levels (
    location_id uuid NOT NULL REFERENCES stock_locations (id) ON DELETE CASCADE,
    part_id     uuid NOT NULL REFERENCES parts (id),
    quantity    integer NOT NULL CHECK (quantity >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (location_id, part_id)
);
CREATE INDEX stock_levels_part_idx ON stock_levels (part_id) WHERE quantity > 0;

-- CHECK cannot iterate a JSON object, so an immutable function does it.
CREATE FUNCTION valid_skill_levels(levels jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_typeof(levels) = 'object' AND NOT EXISTS (
        SELECT 1 FROM jsonb_each(levels) AS e(skill, level)
        WHERE jsonb_typeof(e.level) <> 'number' OR (e.level)::numeric NOT IN (1, 2, 3, 4, 5)
    )
$$;

CREATE TABLE jobs (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    external_id         text UNIQUE CHECK (length(external_id) BETWEEN 1 AND 200),
    site_id             uuid NOT NULL REFERENCES sites (id),
    asset_id            uuid REFERENCES assets (id),
    customer_id         uuid REFERENCES customers (id),
    parent_job_id       uuid REFERENCES jobs (id),
    problem_code        text NOT NULL CHECK (problem_code ~ '^[a-z][a-z0-9_]{1,63}$'),
    problem_description text NOT NULL DEFAULT '' CHECK (length(problem_description) <= 2000),
    customer_choice     text CHECK (customer_choice ~ '^[a-z][a-z0-9_]{1,63}$'),
    -- {"garage_door_springs": 3}: skill -> minimum level 1..5.
    required_skills     jsonb NOT NULL DEFAULT '{}' CHECK (valid_skill_levels(required_skills)),
    duration_s          integer NOT NULL CHECK (duration_s BETWEEN 60 AND 12 * 3600),
    duration_source     text NOT NULL DEFAULT 'manual' CHECK (duration_source IN ('manual', 'catalogue', 'history')),
    window_start_at     timestamptz NOT NULL,
    window_end_at       timestamptz NOT NULL,
    priority            smallint NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5),
    status              text NOT NULL DEFAULT 'new' CHECK (status IN
                            ('new', 'scheduled', 'dispatched', 'en_route', 'on_site', 'completed', 'incomplete', 'cancelled')),
    technician_id       uuid REFERENCES technicians (id),
    planned_start_at    timestamptz,
    eta_at              timestamptz,
    pinned              boolean NOT NULL DEFAULT false,
    pinned_start_at     timestamptz,
    started_at          timestamptz,
    finished_at         timestamptz,
    version             integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (window_end_at > window_start_at),
    CHECK (status NOT IN ('scheduled', 'dispatched', 'en_route', 'on_site') OR technician_id IS NOT NULL),
    CHECK (NOT pinned OR technician_id IS NOT NULL),
    CHECK (pinned_start_at IS NULL OR pinned)
);
CREATE INDEX jobs_status_window_idx ON jobs (status, window_start_at);
CREATE INDEX jobs_technician_day_idx ON jobs (technician_id, planned_start_at) WHERE technician_id IS NOT NULL;
CREATE INDEX jobs_site_idx ON jobs (site_id);
CREATE INDEX jobs_asset_idx ON jobs (asset_id) WHERE asset_id IS NOT NULL;

-- Parts a job needs: predicted (with probability and reasons) or set by a dispatcher.
CREATE TABLE job_parts (
    job_id      uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    part_id     uuid NOT NULL REFERENCES parts (id),
    quantity    smallint NOT NULL CHECK (quantity BETWEEN 1 AND 100),
    probability double precision NOT NULL DEFAULT 1 CHECK (probability > 0 AND probability <= 1),
    source      text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'predicted')),
    reasons     text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (job_id, part_id)
);

-- The service history of an asset: what was done to it, with which parts, by which job.
CREATE TABLE asset_events (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    external_id   text UNIQUE CHECK (length(external_id) BETWEEN 1 AND 200),
    asset_id      uuid NOT NULL REFERENCES assets (id),
    job_id        uuid REFERENCES jobs (id),
    technician_id uuid REFERENCES technicians (id),
    kind          text NOT NULL CHECK (kind IN ('install', 'repair', 'replace', 'inspection', 'maintenance', 'removal')),
    problem_code  text CHECK (problem_code ~ '^[a-z][a-z0-9_]{1,63}$'),
    summary       text NOT NULL DEFAULT '' CHECK (length(summary) <= 2000),
    occurred_at   timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX asset_events_asset_time_idx ON asset_events (asset_id, occurred_at DESC);

CREATE TABLE asset_event_parts (
    asset_event_id uuid NOT NULL REFERENCES asset_events (id) ON DELETE CASCADE,
    part_id        uuid NOT NULL REFERENCES parts (id),
    quantity       smallint NOT NULL CHECK (quantity BETWEEN 1 AND 100),
    PRIMARY KEY (asset_event_id, part_id)
);

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 320),
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'dispatcher', 'technician')),
    technician_id uuid UNIQUE REFERENCES technicians (id),
    -- A dispatcher may be limited to one territory; NULL sees every territory.
    territory_id  uuid REFERENCES territories (id),
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'technician') = (technician_id IS NOT NULL))
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Every status change and override of a job: the audit trail.
CREATE TABLE job_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id        uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind ~ '^[a-z][a-z_]{1,63}$'),
    from_status   text,
    to_status     text,
    actor_user_id uuid REFERENCES users (id),
    actor         text NOT NULL DEFAULT 'system' CHECK (length(actor) <= 320),
    reason        text NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    data          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    client_at     timestamptz,
    occurred_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_events_job_idx ON job_events (job_id, id);
CREATE INDEX job_events_actor_idx ON job_events (actor_user_id, occurred_at);

-- A customer's tracking link: the token is random, shown once, stored only as its SHA-256.
CREATE TABLE tracking_tokens (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_id      uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (expires_at > created_at)
);
CREATE INDEX tracking_tokens_job_idx ON tracking_tokens (job_id);
