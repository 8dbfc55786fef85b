#!/bin/sh
# Runs once, as the superuser, when the pgdata volume is first initialised
# (/docker-entrypoint-initdb.d). Creates what deploy/runbook.md ("Database roles") creates:
#   mcx_owner      owns the schema and runs the migrations (the one-shot `migrate` service);
#                  CREATEROLE because the first migration creates mcx_app (PostgreSQL checks
#                  that right even when the role already exists)
#   mcx_app        the application role (NOLOGIN); the migrations give it its grants
#   mcx_<f>_node   each node's login: a member of mcx_app and nothing else, CONNECT on its
#                  own force's database only
# and one database per force, owned by mcx_owner. Passwords come from the environment and
# are passed to psql as variables, never written into a file.
set -eu

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$MCX_OWNER_PASSWORD" \
  -v wmp_password="$MCX_WMP_DB_PASSWORD" \
  -v gmp_password="$MCX_GMP_DB_PASSWORD" \
  -v mps_password="$MCX_MPS_DB_PASSWORD" <<'SQL'
CREATE ROLE mcx_owner LOGIN CREATEROLE PASSWORD :'owner_password';
CREATE ROLE mcx_app NOLOGIN;

CREATE ROLE mcx_wmp_node LOGIN IN ROLE mcx_app PASSWORD :'wmp_password';
CREATE DATABASE mcx_wmp OWNER mcx_owner;
REVOKE CONNECT ON DATABASE mcx_wmp FROM PUBLIC;
GRANT CONNECT ON DATABASE mcx_wmp TO mcx_wmp_node;

CREATE ROLE mcx_gmp_node LOGIN IN ROLE mcx_app PASSWORD :'gmp_password';
CREATE DATABASE mcx_gmp OWNER mcx_owner;
REVOKE CONNECT ON DATABASE mcx_gmp FROM PUBLIC;
GRANT CONNECT ON DATABASE mcx_gmp TO mcx_gmp_node;

CREATE ROLE mcx_mps_node LOGIN IN ROLE mcx_app PASSWORD :'mps_password';
CREATE DATABASE mcx_mps OWNER mcx_owner;
REVOKE CONNECT ON DATABASE mcx_mps FROM PUBLIC;
GRANT CONNECT ON DATABASE mcx_mps TO mcx_mps_node;
SQL
