#!/usr/bin/env bash
# The worker daemon (`backrest serve`) against a real PostgreSQL 15 cluster, spoken to in raw
# protocol frames from bash (socat): the socket's private modes, the hello version check,
# archive-status, archive-push of a ready segment into the repository, info, malformed and
# oversized frames (the daemon answers, closes that connection, and keeps serving), peers of
# another uid, and 20 concurrent clients.
set -u
SUITE=daemon
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

# prefix_bytes, frame, decode_frames (a frame cut short or stray bytes at the end print a
# marker line, so assertions on exact replies catch them), stop_daemon.
source "$(dirname "$0")/lib_daemon.sh"
trap 'stop_daemon; it_finish' EXIT
# The peers of several uids (postgres, nobody, root) need root to impersonate.
if [ "$(id -u)" -ne 0 ]; then
    fail "setup: the daemon suite runs as root"
    exit 1
fi

SOCKDIR=$IT_TMP/sock
SOCK=$SOCKDIR/backrest.sock

# --- raw protocol from bash ------------------------------------------------------------------

HELLO='{"type":"hello","version":1,"client":"daemon.sh"}'

# Sends the bytes of file $2 to the daemon as user $1: the decoded replies in OUT, socat's status
# in SOCAT_RC and its stderr in SOCAT_ERR. The input ends after the bytes, so the daemon sees
# the end of the stream once it has answered everything.
raw_call() {  # user bytes-file
    local out=$IT_TMP/call.$BASHPID.$RANDOM.out
    runuser -u "$1" -- socat -t 20 -T 30 - "UNIX-CONNECT:$SOCK" <"$2" >"$out" 2>"$out.err"
    SOCAT_RC=$?
    SOCAT_ERR=$(cat "$out.err")
    OUT=$(decode_frames "$out")
}

# hello + the given request payloads, as postgres; prints one reply per line.
daemon_call() {  # payload...
    local in=$IT_TMP/call.$BASHPID.in p
    { frame "$HELLO"; for p in "$@"; do frame "$p"; done; } >"$in"
    raw_call postgres "$in"
    printf '%s\n' "$OUT"
}

# The line of the reply to request id $1 in the replies on stdin.
reply_id() { grep -E "\"id\":$1[,}]"; }

daemon_alive() { [ -n "$DAEMON" ] && kill -0 "$DAEMON" 2>/dev/null; }

# --- cluster and daemon ----------------------------------------------------------------------

it_primary 55450 "spool-path=$IT_TMP/spool" log-level-console=warn

# setpriv execs the daemon as postgres in this very process, so $! is the daemon itself.
setpriv --reuid=postgres --regid=postgres --init-groups -- "$BR" --config="$CONF" --stanza=main \
    --socket-path="$SOCKDIR" --archive-async=y --process-max=2 serve >"$IT_TMP/daemon.log" 2>&1 &
DAEMON=$!
for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
if ! [ -S "$SOCK" ]; then
    fail "setup: the daemon listens on $SOCK" "$(cat "$IT_TMP/daemon.log")"
    exit 1
fi

# --- socket -----------------------------------------------------------------------------------
expect_eq "socket directory is postgres's, mode 0700" "$(stat -c '%U %a %F' "$SOCKDIR")" "postgres 700 directory"
expect_eq "socket is postgres's, mode 0600" "$(stat -c '%U %a %F' "$SOCK")" "postgres 600 socket"

# --- hello ------------------------------------------------------------------------------------
OUT=$(daemon_call)
expect_eq "hello with version 1 is answered, with the daemon's pid" "$OUT" \
    "{\"ok\":true,\"pid\":$DAEMON,\"server\":\"backrest 0.1.0\",\"version\":1}"

frame '{"type":"hello","version":2,"client":"daemon.sh"}' >"$IT_TMP/hello2.in"
frame '{"type":"archive-status","id":1}' >>"$IT_TMP/hello2.in"
raw_call postgres "$IT_TMP/hello2.in"
expect_contains "hello with version 2 gets an error naming protocol version 1" "$OUT" \
    '"message":"expected hello with protocol version 1"'
expect_contains "... with code 38" "$OUT" '"code":38'
expect_eq "... and nothing more: the connection is closed" "$(printf '%s\n' "$OUT" | wc -l)" "1"

frame '{"type":"archive-status","id":1}' >"$IT_TMP/nohello.in"
raw_call postgres "$IT_TMP/nohello.in"
expect_contains "a request before hello is refused" "$OUT" "expected hello with protocol version 1"

# 2^32 + 1 is not version 1.
frame '{"type":"hello","version":4294967297,"client":"daemon.sh"}' >"$IT_TMP/hello-wrap.in"
raw_call postgres "$IT_TMP/hello-wrap.in"
expect_contains "hello with version 2^32+1 is refused" "$OUT" "expected hello with protocol version 1"

# --- archive-status ---------------------------------------------------------------------------
OUT=$(daemon_call '{"type":"archive-status","id":1}')
STATUS=$(printf '%s\n' "$OUT" | reply_id 1)
expect_contains "archive-status replies ok" "$STATUS" '"ok":true'
expect_contains "archive-status reports async" "$STATUS" '"async":true'
expect_contains "archive-status reports pending" "$STATUS" '"pending":'

# --- archive-push -----------------------------------------------------------------------------
# WAL traffic and switches until a segment is marked .ready (the archiver and the daemon's
# read-ahead race for it: a .done one archived meanwhile is as good, the push is idempotent).
SEG=
for _ in $(seq 1 10); do
    must psql_at $PORT "CREATE TABLE IF NOT EXISTS load (i int, t text);
        INSERT INTO load SELECT g, md5(g::text) FROM generate_series(1, 20000) g"
    must psql_at $PORT "SELECT pg_switch_wal()"
    SEG=$(ls "$DATA/pg_wal/archive_status" | sed -n 's/^\([0-9A-F]\{24\}\)\.ready$/\1/p' | sort | tail -1)
    [ -n "$SEG" ] && [ -f "$DATA/pg_wal/$SEG" ] && break
    SEG=
done
[ -n "$SEG" ] || SEG=$(ls "$DATA/pg_wal/archive_status" | sed -n 's/^\([0-9A-F]\{24\}\)\.done$/\1/p' | sort | tail -1)
if [ -z "$SEG" ]; then
    fail "setup: a ready segment in pg_wal" "$(ls -l "$DATA/pg_wal" "$DATA/pg_wal/archive_status")"
    exit 1
fi
OUT=$(daemon_call "{\"type\":\"archive-push\",\"id\":7,\"path\":\"$DATA/pg_wal/$SEG\"}")
PUSH=$(printf '%s\n' "$OUT" | reply_id 7)
expect_contains "archive-push of $SEG replies ok" "$PUSH" '"ok":true'
RESULT=$(printf '%s' "$PUSH" | sed -n 's/.*"result":"\([a-z-]*\)".*/\1/p')
case "$RESULT" in
    stored | already-present | pushed-ahead | streamed | stream-completed) pass "archive-push result is '$RESULT'" ;;
    *) fail "archive-push result is stored, already-present, pushed-ahead, streamed or stream-completed" "$OUT" ;;
esac
# (Not counting a temporary file: archive_command's own push of the segment may be under way.)
expect_eq "the segment is in the repository" \
    "$(find "$IT_TMP/repo/archive/main" -name "$SEG-*" ! -name '*.tmp' | wc -l)" "1"
STATUS=$(daemon_call '{"type":"archive-status","id":2}' | reply_id 2)
PUSHED=$(printf '%s' "$STATUS" | sed -n 's/.*"pushed":\([0-9]*\).*/\1/p')
STREAMED=$(printf '%s' "$STATUS" | sed -n 's/.*"streamed":\([0-9]*\).*/\1/p')
# A segment the stream took counts as streamed, and as pushed only when the stream stored it: the
# cluster's own archive_command (the CLI, into the same repository) may have stored it first.
expect_eq "archive-status counts the push" \
    "$([ $((${PUSHED:-0} + ${STREAMED:-0})) -ge 1 ] && echo yes || echo "no: $STATUS")" "yes"
expect_contains "archive-status has a last-archived segment" "$STATUS" '"last-archived":"0'

OUT=$(daemon_call "{\"type\":\"archive-push\",\"id\":8,\"path\":\"pg_wal/$SEG\"}")
expect_contains "archive-push of a relative path is an error" "$(printf '%s\n' "$OUT" | reply_id 8)" \
    '"error":{"code":38,"message":"archive-push needs an absolute path, not '"'pg_wal/$SEG'"'"}'

MISSING=000000010000009900000099
OUT=$(daemon_call "{\"type\":\"archive-push\",\"id\":9,\"path\":\"$DATA/pg_wal/$MISSING\"}" \
    '{"type":"archive-status","id":10}')
expect_contains "archive-push of a missing segment is an error" "$(printf '%s\n' "$OUT" | reply_id 9)" '"error":'
expect_contains "... recorded as the last failure" "$(printf '%s\n' "$OUT" | reply_id 10)" \
    "\"last-failure\":\"$MISSING\""
expect_eq "... and not stored" "$(find "$IT_TMP/repo/archive/main" -name "$MISSING*" | wc -l)" "0"

OUT=$(daemon_call '{"type":"archive-push","id":11}' '{"type":"archive-status","id":12}')
expect_contains "archive-push without a path is an error" "$(printf '%s\n' "$OUT" | reply_id 11)" '"error":'
expect_contains "... a protocol error (38)" "$(printf '%s\n' "$OUT" | reply_id 11)" '"code":38'
expect_contains "... and the session goes on" "$(printf '%s\n' "$OUT" | reply_id 12)" '"ok":true'

# --- info and unknown requests ----------------------------------------------------------------
OUT=$(daemon_call '{"type":"info","id":3}')
expect_eq "info lists 0 backups" "$(printf '%s\n' "$OUT" | reply_id 3)" '{"backups":[],"id":3,"ok":true}'

OUT=$(daemon_call '{"type":"frobnicate","id":4}' '{"type":"archive-status","id":5}')
expect_contains "an unknown request type is an error" "$(printf '%s\n' "$OUT" | reply_id 4)" \
    "unknown request type 'frobnicate'"
expect_contains "... and the session goes on" "$(printf '%s\n' "$OUT" | reply_id 5)" '"async":true'

# --- malformed input: an error reply, that connection closed, the daemon serving --------------
# hello, then a prefix announcing 0x7FFFFFFF bytes and a request that must never be answered.
# The input stays open for 10 s: socat ends early only if the daemon closes the connection.
{ frame "$HELLO"; prefix_bytes $((0x7FFFFFFF)); frame '{"type":"archive-status","id":6}'; } >"$IT_TMP/huge.in"
START=$(date +%s%N)
runuser -u postgres -- socat -t 1 - "UNIX-CONNECT:$SOCK" \
    < <(cat "$IT_TMP/huge.in"; sleep 10 2>/dev/null) >"$IT_TMP/huge.out" 2>&1
ELAPSED_MS=$((($(date +%s%N) - START) / 1000000))
OUT=$(decode_frames "$IT_TMP/huge.out")
expect_contains "a 0x7FFFFFFF length prefix is answered with an error" "$OUT" \
    '"message":"frame of 2147483647 bytes exceeds the 1048576 byte limit"'
expect_eq "... nothing after it is answered" "$(printf '%s\n' "$OUT" | grep -c '"id":6')" "0"
expect_eq "... and the daemon closed the connection (socat done in ${ELAPSED_MS} ms)" \
    "$([ "$ELAPSED_MS" -lt 5000 ] && echo closed || echo open)" "closed"
expect_eq "the daemon is still running" "$(daemon_alive && echo running || echo gone)" "running"
OUT=$(daemon_call '{"type":"archive-status","id":1}')
expect_contains "... and serving: a new hello and request work" "$(printf '%s\n' "$OUT" | reply_id 1)" '"ok":true'

{ frame "$HELLO"; frame '{oops'; frame '{"type":"archive-status","id":2}'; } >"$IT_TMP/oops.in"
raw_call postgres "$IT_TMP/oops.in"
expect_contains "a payload that is not JSON is answered with an error" "$OUT" "frame payload is not a JSON object"
expect_eq "... and nothing after it is answered" "$(printf '%s\n' "$OUT" | grep -c '"id":2')" "0"
{ frame "$HELLO"; frame '[1,2]'; } >"$IT_TMP/array.in"
raw_call postgres "$IT_TMP/array.in"
expect_contains "a JSON array is answered with an error" "$OUT" "frame payload is not a JSON object"
printf 'GET / HTTP/1.0\r\n\r\n' >"$IT_TMP/http.in"
raw_call postgres "$IT_TMP/http.in"
expect_contains "unframed garbage is answered with an error" "$OUT" '"code":38'
{ frame "$HELLO"; prefix_bytes 100; printf '{"type":'; } >"$IT_TMP/cut.in"
raw_call postgres "$IT_TMP/cut.in"
expect_contains "a stream cut inside a frame is answered with an error" "$OUT" "middle of a frame"
expect_eq "the daemon is still running" "$(daemon_alive && echo running || echo gone)" "running"
OUT=$(daemon_call '{"type":"info","id":1}')
expect_contains "... and serving" "$(printf '%s\n' "$OUT" | reply_id 1)" '"backups":[]'

# --- peers of another uid ---------------------------------------------------------------------
frame "$HELLO" >"$IT_TMP/hello.in"
raw_call nobody "$IT_TMP/hello.in"
expect_eq "nobody cannot reach the socket through the 0700 directory" \
    "$([ "$SOCAT_RC" -ne 0 ] && echo refused || echo "connected: $OUT")" "refused"
expect_contains "... socat says permission denied" "$SOCAT_ERR" "Permission denied"
# The daemon checks the peer before it reads anything and closes right after its answer: a
# client that writes first may meet EPIPE before it reads that answer, so root sends nothing.
: >"$IT_TMP/empty.in"
raw_call root "$IT_TMP/empty.in"
expect_contains "root (uid 0, not the daemon's) is refused by the daemon" "$OUT" \
    '"message":"permission denied: only the server'"'"'s own user may connect"'
expect_eq "... and gets no hello reply" "$(printf '%s\n' "$OUT" | grep -c '"ok":true')" "0"
expect_eq "the daemon is still running" "$(daemon_alive && echo running || echo gone)" "running"

# --- concurrent clients -----------------------------------------------------------------------
for i in $(seq 1 20); do
    daemon_call "{\"type\":\"archive-status\",\"id\":$i}" >"$IT_TMP/concurrent.$i" &
done
wait $(jobs -p | grep -vx "$DAEMON")
OK=0
for i in $(seq 1 20); do
    reply_id "$i" <"$IT_TMP/concurrent.$i" | grep -q '"async":true' && OK=$((OK + 1))
done
expect_eq "20 concurrent archive-status clients all get their reply" "$OK" "20"
expect_eq "the daemon is still running" "$(daemon_alive && echo running || echo gone)" "running"

# --- a backup belongs to its connection -----------------------------------------------------
# Connection A begins a backup and stays open for 4 s; B meets A's lock; once A hangs up its
# backup is abandoned and the lock released, so C can begin one.
{ frame "$HELLO"; frame '{"type":"backup-begin","id":1,"backup-type":"full"}'; } >"$IT_TMP/begin.in"
runuser -u postgres -- socat -t 5 - "UNIX-CONNECT:$SOCK" < <(cat "$IT_TMP/begin.in"; sleep 4 2>/dev/null) \
    >"$IT_TMP/owner.out" 2>&1 &
OWNER=$!
LABEL=
for _ in $(seq 1 100); do
    LABEL=$(decode_frames "$IT_TMP/owner.out" | reply_id 1 | sed -n 's/.*"label":"\([0-9A-Z-]*\)".*/\1/p')
    [ -n "$LABEL" ] && break
    sleep 0.1
done
expect_eq "backup-begin replies with a label" "$(printf '%s' "$LABEL" | wc -c)" "16"
OUT=$(daemon_call '{"type":"backup-begin","id":1,"backup-type":"full"}')
expect_contains "a backup-begin on another connection meets the lock" "$(printf '%s\n' "$OUT" | reply_id 1)" \
    '"code":29'
wait "$OWNER"
expect_eq "the owner's backup was abandoned: no manifest" \
    "$(find "$IT_TMP/repo/backup/main" -name 'backup.manifest*' | wc -l)" "0"
OUT=$(daemon_call '{"type":"backup-begin","id":1,"backup-type":"full"}' '{"type":"info","id":2}')
expect_contains "once the owner hung up the lock is free: backup-begin works" \
    "$(printf '%s\n' "$OUT" | reply_id 1)" '"label":"'
expect_contains "... and info still lists 0 backups" "$(printf '%s\n' "$OUT" | reply_id 2)" '"backups":[]'

OUT=$(daemon_call '{"type":"backup-begin","id":1,"backup-type":"full"}' '{"type":"backup-begin","id":2}')
expect_contains "a second backup-begin on the same connection is refused" \
    "$(printf '%s\n' "$OUT" | reply_id 2)" "a backup is already in progress on this connection"
OUT=$(daemon_call '{"type":"backup-begin","id":1,"backup-type":"full"}' '{"type":"archive-push","id":2}' \
    '{"type":"backup-begin","id":3}')
expect_contains "archive-push without a path during a backup is an error" "$(printf '%s\n' "$OUT" | reply_id 2)" \
    '"error":'
expect_contains "... and does not abandon the connection's backup" "$(printf '%s\n' "$OUT" | reply_id 3)" \
    "a backup is already in progress on this connection"
OUT=$(daemon_call '{"type":"backup-copy","id":1,"lsn":"0/0"}')
expect_contains "backup-copy without backup-begin is refused" "$(printf '%s\n' "$OUT" | reply_id 1)" \
    "backup-copy without backup-begin on this connection"

# --- a second daemon on the same socket -------------------------------------------------------
expect_exit "a second daemon on a live socket is refused" 38 timeout 5 "$BR" --config="$CONF" \
    --stanza=main --socket-path="$SOCKDIR" serve

# --- a WAL stream that cannot connect: archiving goes on from pg_wal ------------------------
# A second daemon (its own socket) whose server port is wrong: its stream retries, says why in
# archive-status, warns once, and archive-push still stores from the file.
as_pg mkdir -m 0700 "$IT_TMP/sock2"
setpriv --reuid=postgres --regid=postgres --init-groups -- "$BR" --config="$CONF" --stanza=main \
    --socket-path="$IT_TMP/sock2" --archive-async=y --pg1-port=1 serve >"$IT_TMP/daemon2.log" 2>&1 &
DAEMON2=$!
for _ in $(seq 1 100); do [ -S "$IT_TMP/sock2/backrest.sock" ] && break; sleep 0.1; done
must psql_at $PORT "CREATE TABLE IF NOT EXISTS stream_probe (i int); INSERT INTO stream_probe VALUES (1)"
SEG2=$(psql_at $PORT "SELECT pg_walfile_name(pg_switch_wal())")  # complete: WAL was written since
sleep 3.5  # attempts at 0, 1 and 3 s
OUT2=$(SOCK=$IT_TMP/sock2/backrest.sock daemon_call "{\"type\":\"archive-push\",\"id\":1,\"path\":\"$DATA/pg_wal/$SEG2\"}" \
    '{"type":"archive-status","id":2}')
PUSH2=$(printf '%s\n' "$OUT2" | reply_id 1)
case "$(printf '%s' "$PUSH2" | sed -n 's/.*"result":"\([a-z-]*\)".*/\1/p')" in
    # From pg_wal: by this request, or by the read-ahead before it; never "streamed".
    stored | already-present | pushed-ahead) pass "with its stream refused, archive-push of $SEG2 has it from pg_wal" ;;
    *) fail "with its stream refused, archive-push stores from pg_wal" "$OUT2" ;;
esac
expect_contains "archive-status says the stream is retrying and why" "$(printf '%s\n' "$OUT2" | reply_id 2)" \
    '"stream":"retrying: unable to connect to PostgreSQL'
expect_eq "the refused stream is warned about once, not at every retry" \
    "$(grep -c 'WARN: WAL stream: unable to connect' "$IT_TMP/daemon2.log")" "1"
kill -TERM "$DAEMON2" 2>/dev/null
wait "$DAEMON2" 2>/dev/null

# --- backup-standby in the daemon's config: the standby must be usable --------------------
# (issue 21; the backup itself is in extension.sh.) A pg2 nothing listens on: backup-begin fails
# naming it, and holds no lock.
as_pg mkdir -m 0700 "$IT_TMP/sock3"
setpriv --reuid=postgres --regid=postgres --init-groups -- "$BR" --config="$CONF" --stanza=main \
    --socket-path="$IT_TMP/sock3" --backup-standby=y --pg2-path="$IT_TMP/standby" \
    --pg2-socket-path="$IT_TMP/sock3" --pg2-port=57228 serve >"$IT_TMP/daemon3.log" 2>&1 &
DAEMON3=$!
for _ in $(seq 1 100); do [ -S "$IT_TMP/sock3/backrest.sock" ] && break; sleep 0.1; done
OUT3=$(SOCK=$IT_TMP/sock3/backrest.sock daemon_call '{"type":"backup-begin","id":1,"backup-type":"full"}' \
    '{"type":"backup-begin","id":2,"backup-type":"full"}')
expect_contains "backup-begin with backup-standby=y and no standby fails, naming pg2" \
    "$(printf '%s\n' "$OUT3" | reply_id 1)" \
    "backup-standby=y but the standby pg2 ($IT_TMP/standby, port 57228) is not usable: cannot connect"
expect_contains "... and holds no lock: the next backup-begin meets the same error, not the lock" \
    "$(printf '%s\n' "$OUT3" | reply_id 2)" "is not usable: cannot connect"
kill -TERM "$DAEMON3" 2>/dev/null
wait "$DAEMON3" 2>/dev/null

# --- socket directory refused ---------------------------------------------------------------
as_pg mkdir -m 0755 "$IT_TMP/opensock"
expect_exit "serve refuses a socket directory open to others" 24 timeout 10 "$BR" --config="$CONF" \
    --stanza=main --socket-path="$IT_TMP/opensock" serve
expect_contains "... naming mode 0700" "$OUT" "with mode 0700"
expect_eq "... and creates no socket there" "$(ls -A "$IT_TMP/opensock")" ""

# --- shutdown ---------------------------------------------------------------------------------
kill -TERM "$DAEMON"
for _ in $(seq 1 50); do daemon_alive || break; sleep 0.1; done
expect_eq "the daemon stops on SIGTERM" "$(daemon_alive && echo running || echo stopped)" "stopped"
wait "$DAEMON" 2>/dev/null
expect_eq "... with status 0" "$?" "0"
DAEMON=
