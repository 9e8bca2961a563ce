#!/bin/sh
# Run once by the postgres image on an empty volume (docker-entrypoint-initdb.d): the app gets a
# role of its own that owns its database and schema and is not a superuser, so a flaw in the app
# cannot run programs on the database host, read its files or make roles.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE truckroll LOGIN PASSWORD '${TRUCKROLL_DB_PASSWORD}';
CREATE DATABASE truckroll OWNER truckroll;
SQL
# The import turns per-row reference checks off and checks them once at the end (owning the
# tables already lets the role drop their foreign keys, so this adds no power).
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname truckroll <<SQL
ALTER SCHEMA public OWNER TO truckroll;
GRANT SET ON PARAMETER session_replication_role TO truckroll;
SQL
