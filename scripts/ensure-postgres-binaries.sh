#!/bin/sh
# The PostgreSQL tests use a running server when one answers, else start a
# throwaway cluster with initdb/pg_ctl. Make sure one of the two is possible.
set -eu
if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
    exit 0
fi
if command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
    exit 0
fi
echo "error: no PostgreSQL at 127.0.0.1:5432 and no initdb; install PostgreSQL or set CRM_TEST_DATABASE_URL" >&2
exit 1
