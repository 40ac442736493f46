#!/usr/bin/env bash
# Metrics (issue 23): a cluster archiving through archive_library into two repositories, with the
# daemon's WAL stream; a full and an incremental backup, WAL archived. The daemon's endpoint
# (metrics-listen, off until set) is scraped with curl and `backrest metrics` run; both parse as
# Prometheus text and match `backrest info --output=json` (counts, sizes, timestamps, ages within
# the scrape, the newest segment). An unreadable repository is backrest_repo_up 0 beside the
# other's series and counted in archive failures; none readable fails the CLI. A bad
# metrics-listen is refused naming it; a 1 MB header and a slow client do not stop archiving; a
# daemon that does not answer is backrest_daemon_up 0; after kill -9 the new daemon listens again;
# a port another process holds is a warning and archiving goes on.
set -u
SUITE=metrics
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$(dirname "$0")/lib.sh"
it_setup

PORT=57380
HTTP=57381
URL=http://127.0.0.1:$HTTP/metrics
DATA=$IT_TMP/primary
CONF=$IT_TMP/backrest.conf
SOCKDIR=$IT_TMP/sock
CHECK=$ROOT/test/integration/metrics_check.py
# Debian's python3 (its python3-prometheus-client), not another one first on PATH.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
SLOW_PID=
TAKEN_PID=

daemon_pids() { pgrep -f "backrest serve .*--socket-path=$SOCKDIR( |\$)"; }

cleanup() {
    [ -n "$SLOW_PID" ] && kill "$SLOW_PID" 2>/dev/null
    [ -n "$TAKEN_PID" ] && kill "$TAKEN_PID" 2>/dev/null
    chmod 0750 "$IT_TMP/repo" "$IT_TMP/repo2" 2>/dev/null
    ext_stop_all "$SOCKDIR"
    it_finish
}
trap cleanup EXIT

if ! "$PY" -c 'import prometheus_client' 2>/dev/null; then
    fail "setup: python3-prometheus-client is missing (scripts/install-deps.sh installs it)"
    exit 1
fi
ext_install metrics

write_conf() {  # [extra [main] line]
    cat >"$CONF" <<CONF
[global]
repo1-path=$IT_TMP/repo
repo2-path=$IT_TMP/repo2
lock-path=$IT_TMP/lock
spool-path=$IT_TMP/spool
process-max=2

[main]
pg1-path=$DATA
pg1-socket-path=$IT_TMP
pg1-port=$PORT
${1:-}
CONF
    chmod 0644 "$CONF"
}
write_conf

pg_init "$DATA" $PORT
ext_conf "$DATA" main "$CONF" "$SOCKDIR" \
    'backrest.archive_async = on' \
    'autovacuum = off'
pg_start "$DATA"
must psql_at $PORT "CREATE EXTENSION backrest"
must psql_at $PORT "SELECT backrest_stanza_create()"

# The segment a switch just finished, once PostgreSQL reports it archived (up to 60 s).
switch_and_wait() {
    local seg i
    psql_at $PORT "INSERT INTO t SELECT g FROM generate_series(1, 1000) g" >/dev/null
    seg=$(psql_at $PORT "SELECT pg_walfile_name(pg_switch_wal())")
    for i in $(seq 1 120); do
        [ "$(psql_at $PORT "SELECT last_archived_wal FROM pg_stat_archiver")" == "$seg" ] && { echo "$seg"; return 0; }
        sleep 0.5
    done
    echo "$seg not archived"
    return 1
}
wait_scrape() {  # until the endpoint answers (up to 30 s)
    for _ in $(seq 1 60); do curl -sf -o /dev/null "$URL" && return 0; sleep 0.5; done
    return 1
}
scrape() {  # file: the endpoint's text, with the epoch seconds before and after in file.t
    local before after
    before=$(date +%s)
    curl -sf "$URL" >"$1"
    after=$(date +%s)
    echo "$before $after" >"$1.t"
}

# ---- off by default: the daemon listens on no TCP port -------------------------------------------
DPID=$(daemon_pids | head -1)
expect_eq "the daemon runs" "$([ -n "$DPID" ] && echo yes)" "yes"
expect_eq "metrics-listen unset: the daemon listens on no TCP port" \
    "$(ss -Hltnp | grep -c "pid=$DPID,")" "0"
expect_exit "metrics-listen unset: nothing answers on $HTTP" 7 curl -s -o /dev/null "$URL"

# ---- a bad metrics-listen is refused, naming it ------------------------------------------------
for bad in "127.0.0.1:99999" "nohost" "::1:57382"; do
    expect_exit "serve --metrics-listen=$bad refused" 21 "$BR" --config="$CONF" --stanza=main \
        --socket-path="$IT_TMP/badsock" --metrics-listen="$bad" serve
    expect_contains "its message names metrics-listen and the value" "$OUT" "option 'metrics-listen': '$bad'"
done

# ---- the endpoint: set in the config, the restarted daemon listens -----------------------------
write_conf "metrics-listen=127.0.0.1:$HTTP"
kill "$DPID"  # the launcher starts it again, reading the config
if wait_scrape; then pass "metrics-listen set: the restarted daemon answers on 127.0.0.1:$HTTP"; else
    fail "metrics-listen set: no answer" "$(tail -5 "$DATA.log")"; fi
DPID=$(daemon_pids | head -1)

must psql_at $PORT "CREATE TABLE t (id int)"
must psql_at $PORT "SELECT backrest_backup('full', wait => true)"
SEG=$(switch_and_wait) && pass "a segment archived ($SEG)" || fail "archiving" "$SEG"
must psql_at $PORT "SELECT backrest_backup('incr', wait => true)"
must as_pg "$BR" --config="$CONF" --stanza=main --repo=2 backup --type=full
SEG=$(switch_and_wait) && pass "another segment archived ($SEG)" || fail "archiving" "$SEG"

# ---- both say what info says --------------------------------------------------------------------
scrape "$IT_TMP/scrape"
read -r S0 S1 <"$IT_TMP/scrape.t"
T0=$(date +%s)
as_pg "$BR" --config="$CONF" --stanza=main --socket-path="$SOCKDIR" metrics >"$IT_TMP/cli" 2>"$IT_TMP/cli.err"
expect_eq "backrest metrics exits 0" "$?" "0"
T1=$(date +%s)
as_pg "$BR" --config="$CONF" --stanza=main info --output=json >"$IT_TMP/info.json"

expect_eq "the endpoint's text parses as Prometheus text" "$("$PY" "$CHECK" format "$IT_TMP/scrape")" "ok"
expect_eq "the CLI's text parses as Prometheus text" "$("$PY" "$CHECK" format "$IT_TMP/cli")" "ok"
expect_eq "the endpoint's values match info (counts, sizes, times, ages, newest segment)" \
    "$("$PY" "$CHECK" info "$IT_TMP/scrape" "$IT_TMP/info.json" "$S0" "$S1")" "ok"
expect_eq "the CLI's values match info" \
    "$("$PY" "$CHECK" info "$IT_TMP/cli" "$IT_TMP/info.json" "$T0" "$T1")" "ok"
expect_eq "repo1 holds a full and an incr, repo2 a full (as info)" \
    "$(for r in repo1 repo2; do for t in full incr; do "$PY" "$CHECK" get "$IT_TMP/cli" backrest_backup_count stanza=main repo=$r type=$t; done; done | tr '\n' ' ')" \
    "1 1 1 0 "
expect_eq "the same series from the endpoint and the CLI" \
    "$("$PY" "$CHECK" names "$IT_TMP/scrape")" "$("$PY" "$CHECK" names "$IT_TMP/cli")"
get() { "$PY" "$CHECK" get "$@"; }
expect_eq "newest archived segment: $SEG in repo1" \
    "$(get "$IT_TMP/scrape" backrest_archive_last_segment_info stanza=main repo=repo1 segment="$SEG")" "1"
expect_eq "newest archived segment: $SEG in repo2" \
    "$(get "$IT_TMP/cli" backrest_archive_last_segment_info stanza=main repo=repo2 segment="$SEG")" "1"
expect_eq "archive lag: no finished segment missing from repo1" \
    "$(get "$IT_TMP/scrape" backrest_archive_lag_segments stanza=main repo=repo1) $(get "$IT_TMP/scrape" backrest_archive_lag_seconds stanza=main repo=repo1)" "0 0"
expect_eq "archive lag from the CLI (pg1-path on this host): none for repo2" \
    "$(get "$IT_TMP/cli" backrest_archive_lag_segments stanza=main repo=repo2)" "0"
expect_eq "the daemon answered the CLI" "$(get "$IT_TMP/cli" backrest_daemon_up stanza=main)" "1"
expect_eq "the WAL stream is up (archive_async)" "$(get "$IT_TMP/scrape" backrest_wal_stream_up stanza=main)" "1"
expect_eq "no archive failure yet, per repository" \
    "$(get "$IT_TMP/scrape" backrest_archive_failures_total stanza=main repo=repo1) $(get "$IT_TMP/cli" backrest_archive_failures_total stanza=main repo=repo2)" "0 0"
# WAL bytes: the archive directory's files, as stored.
WAL_BYTES=$(find "$IT_TMP/repo/archive/main" -mindepth 2 -type f ! -name '*.tmp' -printf '%s\n' | awk '{s+=$1} END {print s}')
expect_eq "repo1's archive bytes are the archive's files" \
    "$(get "$IT_TMP/scrape" backrest_repo_archive_size_bytes stanza=main repo=repo1)" "$WAL_BYTES"
expect_eq "no drill ran: no backrest_drill_* series" "$(grep -c '^backrest_drill' "$IT_TMP/scrape")" "0"

# ---- the endpoint answers GET /metrics only ------------------------------------------------------
expect_eq "GET / is 404" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP/")" "404"
expect_eq "POST /metrics is 404" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL")" "404"
expect_eq "the content type is the text format's" \
    "$(curl -s -o /dev/null -w '%{content_type}' "$URL")" "text/plain; version=0.0.4; charset=utf-8"

# ---- hostile clients: a 1 MB header, and a slow client holding the endpoint's thread ------------
BIG=$("$PY" - "$HTTP" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(30)
try:
    s.sendall(b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
except socket.timeout:
    print("timeout: the endpoint neither read nor closed")
    sys.exit()
except OSError:
    pass  # the endpoint stops reading at 8 KiB, answers and closes
try:
    print(s.recv(64).split(b"\r\n")[0].decode())
except socket.timeout:
    print("timeout: no answer")
except ConnectionResetError:
    print("reset")  # closed with the rest of the request unread: the answer may be lost
PY
)
if [ "$BIG" == "HTTP/1.1 431 Request Header Fields Too Large" ] || [ "$BIG" == reset ]; then
    pass "a 1 MB header is refused (431) or cut off ($BIG)"
else fail "a 1 MB header" "$BIG"; fi
"$PY" - "$HTTP" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for c in b"GET /metrics HTTP/1.1\r\n":  # one byte a second: never a whole request in time
    try:
        s.send(bytes([c]))
    except OSError:
        break
    time.sleep(1)
PY
SLOW_PID=$!
sleep 1
SEG=$(switch_and_wait) && pass "with a slow client on the endpoint, $SEG is archived" || fail "archiving with a slow client" "$SEG"
if wait_scrape; then pass "after the slow client, the endpoint answers"; else fail "the endpoint no longer answers"; fi
kill "$SLOW_PID" 2>/dev/null
SLOW_PID=
expect_eq "the daemon survived them (the same process)" "$(daemon_pids | tr '\n' ' ')" "$DPID "

# ---- an unreadable repository --------------------------------------------------------------------
chmod 0000 "$IT_TMP/repo2"
psql_at $PORT "INSERT INTO t VALUES (1)" >/dev/null
psql_at $PORT "SELECT pg_switch_wal()" >/dev/null
# PostgreSQL tries a failing segment 3 times, then waits a minute: counted once that round is over,
# no failure is in flight while the scrape and pg_stat_archiver are read.
for _ in $(seq 1 120); do
    [ "$(psql_at $PORT "SELECT failed_count FROM pg_stat_archiver")" -ge 3 ] && break
    sleep 0.5
done
F0=$(psql_at $PORT "SELECT failed_count FROM pg_stat_archiver")
scrape "$IT_TMP/down"
F1=$(psql_at $PORT "SELECT failed_count FROM pg_stat_archiver")
expect_eq "repo2 unreadable: backrest_repo_up 0 for it" "$(get "$IT_TMP/down" backrest_repo_up repo=repo2)" "0"
expect_eq "repo2 unreadable: repo1 still up with its backups" \
    "$(get "$IT_TMP/down" backrest_repo_up repo=repo1) $(get "$IT_TMP/down" backrest_backup_count stanza=main repo=repo1 type=full)" "1 1"
FAILS=$(get "$IT_TMP/down" backrest_archive_failures_total stanza=main repo=repo2)
if [ "$FAILS" -ge 1 ] && [ "$FAILS" -ge "$F0" ] && [ "$FAILS" -le "$F1" ]; then
    pass "repo2's archive failures counted as PostgreSQL counts them ($F0 <= $FAILS <= $F1)"
else
    fail "repo2's archive failures" "metric $FAILS, pg_stat_archiver failed_count $F0..$F1"
fi
expect_eq "repo1 had no archive failure" "$(get "$IT_TMP/down" backrest_archive_failures_total stanza=main repo=repo1)" "0"
expect_eq "repo1 has the segment PostgreSQL still offers for repo2: no lag" \
    "$(get "$IT_TMP/down" backrest_archive_lag_segments stanza=main repo=repo1)" "0"
expect_eq "3 failures of the archiver's round counted" "$F0 $FAILS" "3 3"
expect_exit "backrest metrics with repo2 unreadable exits 0" 0 "$BR" --config="$CONF" --stanza=main --socket-path="$SOCKDIR" metrics
expect_contains "and reports it down" "$OUT" 'backrest_repo_up{repo="repo2"} 0'
expect_contains "and warns naming it" "$OUT" "metrics: repo2 ("
chmod 0000 "$IT_TMP/repo"
expect_exit "backrest metrics with no readable repository fails with its error (FileOpenError)" 24 "$BR" --config="$CONF" --stanza=main --socket-path="$SOCKDIR" metrics
expect_contains "it still prints both down" "$OUT" 'backrest_repo_up{repo="repo1"} 0'
expect_contains "and names the failure" "$OUT" "metrics: no repository could be read: repo1 ("
chmod 0750 "$IT_TMP/repo" "$IT_TMP/repo2"
SEG=$(switch_and_wait) && pass "repositories readable again: $SEG archived" || fail "archiving after repair" "$SEG"

# ---- the daemon not where the CLI looks: backrest_daemon_up 0, not an error -----------------------
expect_exit "metrics without --socket-path: the default place (<pg1-socket-path>/backrest.<port>) has no daemon" 0 \
    "$BR" --config="$CONF" --stanza=main metrics
expect_contains "backrest_daemon_up 0" "$OUT" 'backrest_daemon_up{stanza="main"} 0'
expect_contains "the repositories still reported" "$OUT" 'backrest_repo_up{repo="repo2"} 1'

# ---- kill -9 of the daemon: the one the launcher starts again listens on the same port ----------
kill -9 "$DPID"
for _ in $(seq 1 60); do
    NEW=$(daemon_pids | head -1)
    [ -n "$NEW" ] && [ "$NEW" != "$DPID" ] && break
    sleep 0.5
done
if wait_scrape; then pass "after kill -9, the restarted daemon (pid ${NEW:-none}) answers on the port"; else
    fail "after kill -9 the endpoint is gone" "$(tail -5 "$DATA.log")"; fi
scrape "$IT_TMP/again"
expect_eq "its archive failure counters start again at 0" \
    "$(get "$IT_TMP/again" backrest_archive_failures_total stanza=main repo=repo2)" "0"
echo "# measure: one scrape of 2 repositories: $(curl -s -o /dev/null -w '%{time_total}' "$URL") s (curl time_total)"

# ---- metrics-listen on a port another process holds: a warning, and archiving goes on ------------
"$PY" -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 57382)); s.listen(1); time.sleep(120)' &
TAKEN_PID=$!
for _ in $(seq 1 50); do ss -Hltn "sport = :57382" | grep -q . && break; sleep 0.1; done
write_conf "metrics-listen=127.0.0.1:57382"
OLD=$(daemon_pids | head -1)
kill "$OLD"
for _ in $(seq 1 60); do
    NEW=$(daemon_pids | head -1)
    [ -n "$NEW" ] && [ "$NEW" != "$OLD" ] && break
    sleep 0.5
done
expect_eq "port taken: the daemon started again" "$([ -n "$NEW" ] && [ "$NEW" != "$OLD" ] && echo yes)" "yes"
SEG=$(switch_and_wait) && pass "port taken: $SEG archived all the same" || fail "port taken: archiving" "$SEG"
expect_contains "port taken: the server log has the daemon's warning naming metrics-listen" \
    "$(grep "no metrics endpoint" "$DATA.log" | tail -1)" "option 'metrics-listen': unable to listen on '127.0.0.1:57382': Address already in use"
kill "$TAKEN_PID"
TAKEN_PID=
