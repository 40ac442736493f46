# Shared helpers of the integration suites: a temp area owned by postgres, PostgreSQL clusters
# on Unix sockets only, assertions that count, and cleanup that stops every server it started.
# Source it, set SUITE, call it_setup, then assertions; the EXIT trap reports and cleans up.

PGBIN=${PGBIN:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}
PASSED=0
FAILED=0
IT_SERVERS=()

# Commands the database side runs (initdb, pg_ctl, psql, backrest) run as postgres when we are root.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Runs as postgres without forking, so that $! of a background job is the command itself
# (kill -9 must reach it): "${PG_EXEC[@]}" cmd &
PG_EXEC=()
[ "$(id -u)" -eq 0 ] && PG_EXEC=(setpriv --reuid=postgres --regid=postgres --init-groups)

pass() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
fail() {
    FAILED=$((FAILED + 1))
    echo "not ok - $1"
    [ -n "${2:-}" ] && printf '%s\n' "$2" | head -40 | sed 's/^/    # /'
    return 0
}

# Setup steps: a failure ends the suite (counted as one failure).
must() {
    local out
    if ! out=$("$@" 2>&1); then
        fail "setup: $*" "$out"
        exit 1
    fi
    [ -n "${IT_VERBOSE:-}" ] && printf '%s\n' "$out"
    return 0
}

expect_eq() {  # name actual expected
    if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "expected: $3
actual:   $2"; fi
}

expect_contains() {  # name haystack needle
    if [[ "$2" == *"$3"* ]]; then pass "$1"; else fail "$1" "expected to contain: $3
actual: $2"; fi
}

# Runs a command (as postgres), keeps its combined output in OUT and its status in RC,
# and asserts the status.
expect_exit() {  # name expected-status command...
    local name=$1 want=$2
    shift 2
    OUT=$(as_pg "$@" 2>&1)
    RC=$?
    if [ "$RC" -eq "$want" ]; then pass "$name (exit $RC)"; else fail "$name" "expected exit $want, got $RC: $OUT"; fi
}

it_setup() {
    IT_TMP=$(mktemp -d /tmp/backrest-it.XXXXXX)
    chmod 0755 "$IT_TMP"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$IT_TMP"
    # The binary is copied where postgres can run it whatever the permissions of the checkout.
    as_pg mkdir -p "$IT_TMP/bin"
    cp "$TEST_BACKREST_BIN" "$IT_TMP/bin/backrest"
    chmod 0755 "$IT_TMP/bin/backrest"
    BR="$IT_TMP/bin/backrest"
    trap it_finish EXIT
}

# Stops every cluster this suite started (immediate: we are cleaning up), removes the temp area,
# and prints the suite's count line that test/run-all.sh sums.
it_finish() {
    local d
    for d in "${IT_SERVERS[@]}"; do
        [ -f "$d/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1
    done
    if [ -n "${IT_KEEP:-}" ]; then echo "# kept $IT_TMP"; else rm -rf "$IT_TMP"; fi
    echo "$SUITE: $PASSED passed, $FAILED failed"
    [ -n "${IT_RESULTS:-}" ] && echo "$PASSED $FAILED" >>"$IT_RESULTS"
    [ "$FAILED" -eq 0 ]
}

# initdb with data checksums and a configuration for tests: Unix socket only, in IT_TMP.
pg_init() {  # datadir port [extra initdb args]
    local dir=$1 port=$2
    shift 2
    must as_pg "$PGBIN/initdb" -D "$dir" --data-checksums -A trust -U postgres "$@"
    cat >>"$dir/postgresql.conf" <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$IT_TMP'
fsync = on
max_wal_senders = 2
log_min_messages = warning
CONF
}

pg_start() {  # datadir
    IT_SERVERS+=("$1")
    must as_pg "$PGBIN/pg_ctl" -D "$1" -l "$1.log" -w -t 120 start
}

pg_stop() {  # datadir
    as_pg "$PGBIN/pg_ctl" -D "$1" -m fast -w -t 120 stop >/dev/null 2>&1
}

psql_at() {  # port sql
    as_pg "$PGBIN/psql" -X -h "$IT_TMP" -p "$1" -U postgres -d postgres -Atq -v ON_ERROR_STOP=1 -c "$2"
}

# A cluster archiving with `archive_command`, started: pg_init, archiving on, then any more
# postgresql.conf lines the suite needs (autovacuum = off, ...).
pg_archiving() {  # datadir port archive-command [postgresql.conf line ...]
    local dir=$1 port=$2 command=$3 line
    shift 3
    pg_init "$dir" "$port"
    {
        printf "archive_mode = on\narchive_command = '%s'\n" "$command"
        for line in "$@"; do printf '%s\n' "$line"; done
    } >>"$dir/postgresql.conf"
    pg_start "$dir"
}

# An archive_command pushing each segment with `bin` into every stanza given, in order: the first
# that fails fails it, and PostgreSQL retries the segment. `bin` is $BR unless a suite archives
# with another binary.
archive_push_to() {  # bin config stanza...
    local bin=$1 conf=$2 stanza command=""
    shift 2
    for stanza in "$@"; do command="$command${command:+ && }$bin --config=$conf --stanza=$stanza archive-push %p"; done
    printf '%s' "$command"
}

# The pg1 lines of the suite's cluster ($DATA on port $PORT): in a stanza section or in [global]
# when several stanzas back up the same cluster.
pg1_lines() { printf 'pg1-path=%s\npg1-socket-path=%s\npg1-port=%s\n' "$DATA" "$IT_TMP" "$PORT"; }
# The stanza 'main' of the suite's cluster, after a blank line: what ends most config files.
pg1_stanza() {
    printf '\n[main]\n'
    pg1_lines
}

# Writes a config file from stdin, owned by postgres (who runs every command) with `mode`: 0600
# or 0640 for one that holds a secret, which backrest refuses to read from a file others can.
it_conf() {  # file mode <text
    cat >"$1"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$1"
    chmod "$2" "$1"
}

# A primary cluster archiving into a backrest repository, with its stanza 'main' created: sets
# PORT, DATA and CONF. Extra arguments are more [global] lines of the config file.
it_primary() {  # port [global option line ...]
    it_primary_without_stanza "$@"
    must br stanza-create
}
# The same before stanza-create, for suites whose first assertions are about it. A repo1-path
# line among the extra ones replaces the default repository, $IT_TMP/repo.
it_primary_without_stanza() {  # port [global option line ...]
    PORT=$1
    shift
    DATA=$IT_TMP/primary
    CONF=$IT_TMP/backrest.conf
    local repo="repo1-path=$IT_TMP/repo" line
    for line in "$@"; do [[ $line == repo1-path=* ]] && repo=$line; done
    {
        printf '[global]\n%s\nlock-path=%s\n' "$repo" "$IT_TMP/lock"
        for line in "$@"; do [[ $line == repo1-path=* ]] || printf '%s\n' "$line"; done
        pg1_stanza
    } >"$CONF"
    chmod 0644 "$CONF"
    pg_archiving "$DATA" "$PORT" "$(archive_push_to "$BR" "$CONF" main)"
}

# The CLI on the suite's config and stanza, as postgres.
br() { as_pg "$BR" --config="$CONF" --stanza=main "$@"; }

# A restore of the suite's stanza into $IT_TMP/restore-<name>: status in RC, output in OUT.
restore() {  # name expected-exit args...
    local name=$1 want=$2
    shift 2
    expect_exit "restore $name" "$want" "$BR" --config="$CONF" --stanza=main --pg1-path="$IT_TMP/restore-$name" \
        restore "$@"
    [ -n "${IT_VERBOSE:-}" ] && printf '%s\n' "$OUT" | sed 's/^/    # /'
    return 0
}
absent() {  # name
    expect_eq "restore $1: nothing written (target directory not created)" \
        "$(test -e "$IT_TMP/restore-$1" && echo exists || echo absent)" "absent"
}

# Waits until a restored cluster has finished recovery (promoted), up to 120 s.
wait_promoted() {  # port
    local i
    for i in $(seq 1 240); do
        [ "$(psql_at "$1" 'SELECT pg_is_in_recovery()' 2>/dev/null)" == "f" ] && return 0
        sleep 0.5
    done
    return 1
}

# Waits (up to 20 s) until a process holds the stanza lock `file`. The holder writes its pid
# into the file once it has the flock and empties it on release; reading that is the only
# probe that cannot take the lock itself for an instant and make a backup starting at that
# moment fail with "unable to acquire backup lock" (exit 29), as `flock -n` once did in CI.
# Call clear_stanza_lock before starting the holder: a process killed with -9 leaves its pid.
wait_stanza_lock_held() {  # file
    local i
    for i in $(seq 1 200); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    return 1
}
# Empties a stanza lock file nobody holds, so that wait_stanza_lock_held sees only the next holder.
clear_stanza_lock() {  # file
    if [ -e "$1" ]; then
        flock -n "$1" truncate -s 0 "$1" || fail "setup: nobody holds $1 yet"
    fi
}

# The postgresql.conf lines of a cluster that preloads the extension and archives through it
# (archive_library) into `stanza` of backrest config `config`, its daemon's socket in
# `socket-dir`; then any more lines the suite needs. Call between pg_init and pg_start.
ext_conf() {  # datadir stanza config socket-dir [postgresql.conf line ...]
    local dir=$1 stanza=$2 conf=$3 sock=$4 line
    shift 4
    {
        printf "shared_preload_libraries = 'backrest'\narchive_mode = on\narchive_library = 'backrest'\n"
        printf "backrest.stanza = '%s'\nbackrest.config = '%s'\n" "$stanza" "$conf"
        printf "backrest.worker_path = '%s'\nbackrest.socket_directory = '%s'\n" "$BR" "$sock"
        for line in "$@"; do printf '%s\n' "$line"; done
    } >>"$dir/postgresql.conf"
}

# Suites that preload the extension: it is installed machine-wide from this tree, so they run as
# root, and the install is skipped when the installed library is as new as this tree's.
ext_install() {  # suite
    if [ "$(id -u)" -ne 0 ]; then
        fail "setup: the $1 suite runs as root (it installs the extension into the server)"
        exit 1
    fi
    local pkglib
    pkglib=$(pg_config --pkglibdir)
    if [ ! -f "$pkglib/backrest.so" ] || [ "$ROOT/extension/backrest.so" -nt "$pkglib/backrest.so" ]; then
        must make --no-print-directory -C "$ROOT/extension" install
    fi
}

# For a cleanup trap: every server the suite started, stopped at once, then any daemon still
# serving a socket under `socket-dir` (it exits by itself once its postmaster is gone; this only
# guarantees it).
ext_stop_all() {  # socket-dir
    local d pid
    for d in "${IT_SERVERS[@]}"; do
        [ -f "$d/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1
    done
    for _ in $(seq 1 20); do [ -z "$(pgrep -f "backrest serve .*--socket-path=$1")" ] && break; sleep 0.1; done
    for pid in $(pgrep -f "backrest serve .*--socket-path=$1"); do kill -9 "$pid" 2>/dev/null; done
}
