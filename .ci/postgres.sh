#!/usr/bin/env bash
# A throw-away PostgreSQL cluster on loopback for the tests (Debian's postgresql package).
#   eval "$(bash .ci/postgres.sh start)"   # prints `export HOMEVISIT_TEST_POSTGRES=…; export HOMEVISIT_PG_DIR=…`
#   bash .ci/postgres.sh stop              # stops the cluster in $HOMEVISIT_PG_DIR and removes it
# The cluster runs as the `postgres` user (initdb refuses root), in a temporary directory, on a
# free port (HOMEVISIT_PG_PORT to choose one), trusting local connections of the role `hv`.
set -euo pipefail
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
case "${1:-}" in
  start)
    [ -x "$BIN/initdb" ] || { echo "echo 'postgresql is not installed (apt-get install postgresql)' >&2; false"; exit 1; }
    PORT=${HOMEVISIT_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
    D=$(mktemp -d /tmp/homevisit-pg.XXXXXX)
    chmod 755 "$D"
    run() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
    [ "$(id -u)" = 0 ] && chown postgres "$D"
    run "'$BIN/initdb' -D '$D/db' -A trust -U hv >'$D/initdb.log' 2>&1"
    run "'$BIN/pg_ctl' -D '$D/db' -l '$D/log' -w -o \"-p $PORT -k $D -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on\" start >'$D/start.log' 2>&1"
    echo "export HOMEVISIT_TEST_POSTGRES=postgres://hv@127.0.0.1:$PORT/postgres; export HOMEVISIT_PG_DIR=$D"
    ;;
  stop)
    D=${HOMEVISIT_PG_DIR:?HOMEVISIT_PG_DIR is not set}
    if [ "$(id -u)" = 0 ]; then
      su postgres -s /bin/sh -c "'$BIN/pg_ctl' -D '$D/db' -m fast -w stop" >/dev/null 2>&1 || true
    else
      "$BIN/pg_ctl" -D "$D/db" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$D"
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
