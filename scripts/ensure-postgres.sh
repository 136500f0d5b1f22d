#!/usr/bin/env bash
# Make sure the PostgreSQL server the tests use answers on 127.0.0.1:5432; start it if it is
# installed here but stopped. The tests themselves create (and drop) their own schemas.
set -u
host=${KNOTWORK_TEST_POSTGRES_HOST:-127.0.0.1}
port=${KNOTWORK_TEST_POSTGRES_PORT:-5432}
ready() { pg_isready -q -h "$host" -p "$port" 2>/dev/null; }
if ! command -v pg_isready >/dev/null 2>&1; then
  echo "ensure-postgres: pg_isready not found; installing the PostgreSQL client" >&2
  (apt-get update -qq && apt-get install -y -qq postgresql-client) >/dev/null 2>&1 || true
fi
ready && exit 0
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  for version in $(ls /etc/postgresql); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  done
fi
for _ in $(seq 1 30); do ready && exit 0; sleep 1; done
echo "ensure-postgres: no PostgreSQL server answers on $host:$port; the PostgreSQL tests will fail" >&2
exit 1
