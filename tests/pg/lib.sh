# tests/pg/lib.sh -- sourced by tests/scripts/pg.sh and bench/pg.sh: a
# throwaway PostgreSQL cluster for one script.
#
#   pg_start        initdb + pg_ctl start into a temporary folder, on a free
#                   loopback port (127.0.0.1 only; the unix socket in the
#                   folder).  The caller stops and removes it with pg_stop
#                   from its EXIT trap (trap 'pg_stop; ...' EXIT), so it
#                   goes also when the script fails.  Sets PGHOST PGPORT PGUSER PGDATABASE
#                   (exported, so psql and mekong reach it) and PG_DIR.
#   pg_have_server  0 when server binaries are installed (else say why)
#   pg_script_begin NAME   the start of a test script NAME ($BUILD and
#                   $MEKONG set): "# skip" and exit 0 without the postgres
#                   plugin or server binaries; else a temporary folder $work,
#                   a started cluster, and an EXIT trap that stops it, removes
#                   $work (kept with KEEP=1) and says "not ok" unless the
#                   script set finished=1 (one that dies half-way must not
#                   look like fewer checks).  A cluster that does not start
#                   is one "not ok".
#   pg_psql SQL     psql -X -q -v ON_ERROR_STOP=1 -At -c SQL
#   pg_restart_limited KB   the same server again, its files limited to KB
#                   kilobytes (a disk-full-like failure; see below)
#
# As root, the server runs as an unprivileged user (postgres when it
# exists, else one made with useradd), since PostgreSQL refuses to run as
# root.  Nothing is installed at test time: contrib/quickstart.sh test
# installs the packages.  Authentication: trust for the superuser "mk" on
# the socket and on 127.0.0.1; the role "etl" needs its password
# (scram-sha-256) so tests can refuse a wrong one.

pg_bindir() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
    done
    command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
    return 1
}

pg_have_server() {
    PG_BIN=$(pg_bindir) || { echo "no PostgreSQL server binaries (initdb, pg_ctl): install the Debian package postgresql"; return 1; }
    command -v psql >/dev/null 2>&1 || { echo "no psql: install the Debian package postgresql-client"; return 1; }
    return 0
}

pg_script_begin() {
    PG_SCRIPT=$1
    if ! [ -f "$BUILD/plugins/postgres/.libs/postgres.so" ] &&
        ! "$MEKONG" plugins 2>/dev/null | grep -q '^postgres '; then
        echo "# skip: $1: the postgres plugin is not built (install libpq-dev and configure again)"
        exit 0
    fi
    local why
    if ! why=$(pg_have_server); then
        echo "# skip: $1: $why"
        exit 0
    fi
    work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-$1.XXXXXX")
    finished=0
    trap 'pg_stop; [ -n "${KEEP:-}" ] || rm -rf "$work"; [ $finished = 1 ] || echo "not ok - $PG_SCRIPT: the script stopped before its last check"' EXIT
    if ! pg_start 2> "$work/start.err"; then
        echo "not ok - $1: cannot start a throwaway PostgreSQL cluster:"
        sed 's/^/    /' "$work/start.err" | tail -20
        finished=1
        exit 0
    fi
}

pg_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# pg_as_server CMD...: run CMD as the user the server runs as.
pg_as_server() {
    if [ -n "${PG_RUNAS:-}" ]; then
        runuser -u "$PG_RUNAS" -- "$@"
    else
        "$@"
    fi
}

pg_stop() {
    if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ]; then
        pg_as_server "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
        rm -rf "$PG_DIR"
    fi
    PG_DIR=
}

pg_server_start() {
    pg_as_server "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PG_DIR -c fsync=${PG_FSYNC:-off} -c max_connections=40 ${PG_SERVER_OPTIONS:-}" \
        start >/dev/null 2>&1 || { cat "$PG_DIR/server.log" >&2; return 1; }
}

# pg_restart_limited KB: restart the server with no file it writes allowed
# past KB kilobytes (ulimit -f; the server ignores SIGXFSZ, so a write
# past it fails with EFBIG, like a full disk).  More than a WAL segment
# (16 MB) is needed for the server to run at all.  pg_restart_limited
# unlimited lifts it.
pg_restart_limited() {
    pg_as_server "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || return 1
    (ulimit -f "$1" && pg_server_start)
}

pg_start() {
    pg_have_server >/dev/null || return 1
    PG_RUNAS=
    if [ "$(id -u)" -eq 0 ]; then
        if id postgres >/dev/null 2>&1; then
            PG_RUNAS=postgres
        else
            id mekong-pg >/dev/null 2>&1 || useradd --system --no-create-home mekong-pg || return 1
            PG_RUNAS=mekong-pg
        fi
    fi
    # in /tmp, whatever TMPDIR says: the server's user must reach it, and a
    # unix socket path must stay under 108 bytes
    PG_DIR=$(mktemp -d /tmp/mekong-pg.XXXXXX) || return 1
    chmod 755 "$PG_DIR"
    [ -n "$PG_RUNAS" ] && chown "$PG_RUNAS" "$PG_DIR"
    local pw="$PG_DIR/pw"
    echo mk > "$pw"
    [ -n "$PG_RUNAS" ] && chown "$PG_RUNAS" "$pw"
    pg_as_server "$PG_BIN/initdb" -D "$PG_DIR/data" -U mk --pwfile="$pw" -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >"$PG_DIR/initdb.log" 2>&1 ||
        { cat "$PG_DIR/initdb.log" >&2; return 1; }
    # the superuser is trusted on loopback; other roles give their password
    { echo "host all mk 127.0.0.1/32 trust"; cat "$PG_DIR/data/pg_hba.conf"; } > "$PG_DIR/hba"
    pg_as_server cp "$PG_DIR/hba" "$PG_DIR/data/pg_hba.conf"
    PGPORT=$(pg_free_port)
    pg_server_start || return 1
    export PGHOST=127.0.0.1 PGPORT PGUSER=mk PGDATABASE=postgres
    unset PGPASSWORD PGSERVICE PGOPTIONS
    export PGPASSFILE="$PG_DIR/no-pgpass"
    pg_psql "CREATE ROLE etl LOGIN PASSWORD 'etl-secret-pw'" >/dev/null || return 1
}

pg_psql() {
    psql -X -q -v ON_ERROR_STOP=1 -At -c "$1"
}
