#!/usr/bin/env bash
# WAL archive safety. (1) A damaged stored segment (a flipped byte, a truncated file, another
# segment's bytes) must stop recovery: archive-get exits above 125, the server refuses to come up
# with older data, and recovers every row once the good copy is back. archive-get exits 1 only
# for a segment not in the archive. (4) A segment of the wrong size is refused by archive-push;
# one planted in the repository is reported by verify and replaced (set aside, with a WARNING)
# when the real segment is pushed.
set -u
SUITE=archive_safety
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

FATAL_EXIT=255  # kArchiveGetAbortExit (src/common/error.h)
REPO=$IT_TMP/repo
it_primary 55700
# Not a push's temporary file (<name>.<pid>.<n>.tmp): a CI run took one for the stored copy while
# the push was still writing it, and the damage scenario then copied nothing.
wal_file() { find "$REPO/archive/main" -name "$1-*" ! -name '*.bad-*' ! -name '*.tmp' | head -1; }
wait_archived() {  # segment
    local i
    for i in $(seq 1 120); do
        [ -n "$(wal_file "$1")" ] && return 0
        sleep 0.5
    done
    return 1
}
switch_wal() {  # prints the segment just completed
    psql_at $PORT "SELECT pg_walfile_name(pg_current_wal_lsn())"
    psql_at $PORT "SELECT pg_switch_wal()" >/dev/null
}
flip_byte() {  # file offset
    local old
    old=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "\\x$(printf '%02x' $((old ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

must psql_at $PORT "CREATE TABLE t (id int, pad text); INSERT INTO t SELECT g, repeat('a', 100) FROM generate_series(1, 1000) g"
must br backup --type=full --start-fast
# Rows only the WAL after the backup holds: SEG has the first 5000, SEG2 the next 5000.
must psql_at $PORT "INSERT INTO t SELECT g, repeat('b', 100) FROM generate_series(1001, 6000) g"
SEG=$(switch_wal)
must psql_at $PORT "INSERT INTO t SELECT g, repeat('c', 100) FROM generate_series(6001, 11000) g"
SEG2=$(switch_wal)
wait_archived "$SEG" && wait_archived "$SEG2" || { fail "setup: $SEG and $SEG2 archived"; exit 1; }
STORED=$(wal_file "$SEG")
STORED2=$(wal_file "$SEG2")
cp -p "$STORED" "$IT_TMP/good.zst"

# A restore to latest with SEG's stored copy damaged by `damage`: the server must not come up;
# its log names the restore_command failure and backrest's message names the segment. With the
# good copy back, it recovers every row.
damaged_restore() {  # name port damage-command...
    local name=$1 port=$2 dir=$IT_TMP/restore-$1
    shift 2
    "$@"
    expect_exit "$name: restore latest" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$dir" restore
    sed -i "s/^port = .*/port = $port/; s/^archive_mode = .*/archive_mode = off/" "$dir/postgresql.conf"
    IT_SERVERS+=("$dir")
    as_pg "$PGBIN/pg_ctl" -D "$dir" -l "$dir.log" -w -t 60 start >/dev/null 2>&1
    local started=$?
    local rows
    rows=$(psql_at "$port" "SELECT count(*) FROM t" 2>/dev/null)
    if [ "$started" -eq 0 ] || [ -n "$rows" ]; then
        fail "$name: the server must not come up" "pg_ctl start exit $started, rows served: ${rows:-none}"
        pg_stop "$dir"
    else
        pass "$name: the server did not come up (pg_ctl start exit $started, no connection)"
    fi
    local log
    log=$(cat "$dir.log")
    expect_contains "$name: server log has the FATAL of restore_command" "$log" \
        "FATAL:  could not restore file \"$SEG\" from archive: child process exited with exit code $FATAL_EXIT"
    expect_contains "$name: backrest's error names the segment" "$log" "WAL file $SEG"
    expect_contains "$name: backrest says recovery stops on purpose" "$log" "archive-get exits $FATAL_EXIT on purpose"
    cp -p "$IT_TMP/good.zst" "$STORED"
    pg_start "$dir"
    if wait_promoted "$port"; then pass "$name: with the good copy back, recovery finishes"; else
        fail "$name: with the good copy back, recovery finishes" "$(tail -20 "$dir.log")"
    fi
    expect_eq "$name: every row is there" "$(psql_at "$port" "SELECT count(*), max(id) FROM t")" "11000|11000"
    pg_stop "$dir"
}
damaged_restore flipped 55701 flip_byte "$STORED" $(($(stat -c %s "$STORED") / 2))
damaged_restore truncated 55702 truncate -s $(($(stat -c %s "$STORED") / 2)) "$STORED"
damaged_restore other-segment 55703 cp "$STORED2" "$STORED"

# archive-get by hand: 1 only for "not in the archive"; every other failure aborts recovery.
as_pg mkdir -p "$IT_TMP/get"
expect_exit "archive-get of a segment not archived" 1 "$BR" --config="$CONF" --stanza=main archive-get \
    0000000100000000000000FE "$IT_TMP/get/x"
expect_exit "archive-get of a good segment" 0 "$BR" --config="$CONF" --stanza=main archive-get "$SEG" "$IT_TMP/get/x"
flip_byte "$STORED" 100
expect_exit "archive-get of a damaged segment" $FATAL_EXIT "$BR" --config="$CONF" --stanza=main archive-get \
    "$SEG" "$IT_TMP/get/x"
expect_contains "archive-get names the segment" "$OUT" "WAL file $SEG"
expect_contains "archive-get names the repository file" "$OUT" "$STORED"
expect_contains "archive-get says recovery stops on purpose" "$OUT" "exits $FATAL_EXIT on purpose"
cp -p "$IT_TMP/good.zst" "$STORED"
expect_exit "archive-get with an unknown option" $FATAL_EXIT "$BR" --config="$CONF" --stanza=main --no-such-option \
    archive-get "$SEG" "$IT_TMP/get/x"
expect_contains "unknown option: the usual error" "$OUT" "ERROR: [021] OptionError: unknown option 'no-such-option'"
expect_exit "archive-get with an unreadable config file" $FATAL_EXIT "$BR" --config="$IT_TMP/missing.conf" \
    --stanza=main archive-get "$SEG" "$IT_TMP/get/x"
SEGDIR=$(dirname "$STORED")
chmod 000 "$SEGDIR"
expect_exit "archive-get with a segment directory that cannot be listed" $FATAL_EXIT "$BR" --config="$CONF" \
    --stanza=main archive-get "$SEG" "$IT_TMP/get/x"
chmod 750 "$SEGDIR"
mv "$REPO/archive/main/archive.info" "$IT_TMP/archive.info.saved"
mv "$REPO/archive/main/archive.info.copy" "$IT_TMP/archive.info.copy.saved" 2>/dev/null
expect_exit "archive-get without archive.info" $FATAL_EXIT "$BR" --config="$CONF" --stanza=main archive-get \
    "$SEG" "$IT_TMP/get/x"
mv "$IT_TMP/archive.info.saved" "$REPO/archive/main/archive.info"
mv "$IT_TMP/archive.info.copy.saved" "$REPO/archive/main/archive.info.copy" 2>/dev/null

# Defect 4: a short copy of the segment being written. Archiving is held (archive_command fails)
# so that the real segment is pushed by hand once complete.
must psql_at $PORT "ALTER SYSTEM SET archive_command = '/bin/false'"
must psql_at $PORT "SELECT pg_reload_conf()"
# A WAL record first, committed (so flushed, and its segment's file exists): right after a
# switch the current LSN is a segment's first byte, and pg_walfile_name() of that names the
# previous segment, already archived.
CUR=$(psql_at $PORT "SELECT pg_walfile_name(pg_logical_emit_message(true, 'backrest-test', 'x'))")
for _ in $(seq 1 100); do [ -f "$DATA/pg_wal/$CUR" ] && break; sleep 0.1; done
as_pg mkdir -p "$IT_TMP/short"
as_pg sh -c "head -c 1000000 '$DATA/pg_wal/$CUR' > '$IT_TMP/short/$CUR'"
expect_exit "archive-push of a 1,000,000-byte segment is refused" 27 "$BR" --config="$CONF" --stanza=main \
    archive-push "$IT_TMP/short/$CUR"
expect_contains "the refusal names both sizes" "$OUT" "has 1000000 bytes, but a WAL segment of this cluster has 16777216 bytes"
expect_eq "nothing was stored" "$(wal_file "$CUR")" ""

# A short copy put into the repository by hand, named as backrest names a stored segment.
SHORT_SHA=$(sha256sum "$IT_TMP/short/$CUR" | cut -d' ' -f1)
BAD=$REPO/archive/main/15-1/${CUR:0:16}/$CUR-$SHORT_SHA.zst
as_pg mkdir -p "$(dirname "$BAD")"
as_pg zstd -q "$IT_TMP/short/$CUR" -o "$BAD"
expect_exit "verify reports the short segment" 28 "$BR" --config="$CONF" --stanza=main verify
expect_contains "verify names segment, file and sizes" "$OUT" \
    "WAL file $CUR has 1000000 bytes where a WAL segment has 16777216 (its header's segment size) ('$BAD')"

must psql_at $PORT "INSERT INTO t SELECT g, 'd' FROM generate_series(11001, 11010) g"
must psql_at $PORT "SELECT pg_switch_wal()"
expect_exit "archive-push of the real segment replaces the short copy" 0 "$BR" --config="$CONF" --stanza=main \
    archive-push "$DATA/pg_wal/$CUR"
expect_contains "a WARNING says the bad copy was set aside, and where" "$OUT" "set the bad one aside as '$BAD.bad-"
ASIDE=$(find "$(dirname "$BAD")" -name "$CUR-$SHORT_SHA.zst.bad-*")
expect_eq "the bad copy is kept aside, not deleted" "$(zstd -dc "$ASIDE" | cmp - "$IT_TMP/short/$CUR" && echo same)" same
expect_exit "archive-get returns the real segment" 0 "$BR" --config="$CONF" --stanza=main archive-get "$CUR" \
    "$IT_TMP/get/cur"
expect_eq "its bytes equal pg_wal's" "$(cmp "$IT_TMP/get/cur" "$DATA/pg_wal/$CUR" && echo same)" same
must psql_at $PORT "ALTER SYSTEM RESET archive_command"
must psql_at $PORT "SELECT pg_reload_conf()"
must psql_at $PORT "SELECT pg_switch_wal()"
expect_exit "verify is clean again" 0 "$BR" --config="$CONF" --stanza=main verify
expect_contains "verify: 0 problems" "$OUT" "checked: 0 problems"
expect_contains "verify notes the set-aside copy" "$OUT" "set aside"
