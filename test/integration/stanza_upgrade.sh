#!/usr/bin/env bash
# stanza-upgrade against real PostgreSQL 15 clusters. Debian 12 has one major version, so the
# "upgrade" is a new initdb on the same data directory path: a new system identifier, which
# pgBackRest handles the same way. Cluster A is backed up and archived; B replaces it; backup,
# check and archive-push (archive_command, and archive_library through the daemon) refuse B,
# naming both systems, until stanza-upgrade (kill -9 during it, then run again); then B archives
# under archive id 15-2 and is backed up, info shows both databases, A's backup restores to a
# time inside A's WAL and B's to its latest WAL, and expire with repo1-retention-full=1 removes
# A's backup and A's WAL only once B has a full backup. Ports 57160-57169.
set -u
SUITE=stanza_upgrade
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

ARCHIVE=$IT_TMP/repo/archive/main
sysid() { psql_at "$1" "SELECT system_identifier FROM pg_control_system()"; }
# Waits until a file of `segment` is stored under the archive id directory, up to 90 s.
wait_stored() {  # archive-id-dir segment
    local i
    for i in $(seq 1 450); do
        [ -n "$(find "$1" -name "$2-*" 2>/dev/null)" ] && return 0
        sleep 0.2
    done
    return 1
}
# Waits until the archiver has failed at least once, up to 30 s.
wait_archive_failed() {  # port
    local i
    for i in $(seq 1 150); do
        [ "$(psql_at "$1" "SELECT failed_count > 0 FROM pg_stat_archiver")" = t ] && return 0
        sleep 0.2
    done
    return 1
}
# One fact of `info --output=json` (stdin) as a line of text.
INFO_QUERY='
import json, sys
d = json.load(sys.stdin)[0]
q = sys.argv[1]
if q == "last-label": print(d["backup"][-1]["label"])
if q == "last-wal-start": print(d["backup"][-1]["archive"]["start"])
if q == "labels": print(",".join(b["label"] for b in d["backup"]))
if q == "dbs": print(" ".join("%s:%s:%s" % (x["id"], x["system-id"], x["version"]) for x in d["db"]))
if q == "archive-ids": print(" ".join(a["id"] for a in d["archive"]))
if q == "archives": print(" ".join("%s:%s:%s" % (a["id"], a["database"]["id"], a["min"] is not None) for a in d["archive"]))
if q == "backups": print(" ".join("%s:%s" % (b["label"], b["database"]["id"]) for b in d["backup"]))
if q == "status": print(d["status"]["code"])
'
infoq() { python3 -c "$INFO_QUERY" "$1"; }

# ---- cluster A: stanza, full backup, WAL with a point in time inside it ------------------------
it_primary 57160 log-level-console=warn
SYS_A=$(sysid $PORT)
must psql_at $PORT "CREATE TABLE t (id int primary key, phase text);
    INSERT INTO t SELECT g, 'a1' FROM generate_series(1, 1000) g"
expect_exit "A: full backup" 0 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
LABEL_A=$(br info --output=json | infoq last-label)
must psql_at $PORT "INSERT INTO t SELECT g, 'a2' FROM generate_series(1001, 2000) g"
sleep 1.1
TARGET_A=$(psql_at $PORT "SELECT clock_timestamp()")
sleep 1.1
must psql_at $PORT "INSERT INTO t SELECT g, 'a3' FROM generate_series(2001, 3000) g"
must br check  # archives the segment holding a3
pg_stop "$DATA"

# ---- cluster B: a new initdb on the same data directory path ----------------------------------
as_pg rm -rf "$DATA"
pg_archiving "$DATA" "$PORT" "$(archive_push_to "$BR" "$CONF" main)"
SYS_B=$(sysid $PORT)
expect_eq "B is another system" "$([ "$SYS_A" != "$SYS_B" ] && echo differ)" "differ"

expect_exit "B: backup refused before stanza-upgrade" 31 \
    "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
expect_contains "the refusal names B" "$OUT" "PostgreSQL 15 with system identifier $SYS_B does not match stanza 'main'"
expect_contains "the refusal names A" "$OUT" "created for PostgreSQL 15 with system identifier $SYS_A (db-id 1)"
expect_contains "the refusal points at stanza-upgrade" "$OUT" "run 'backrest --stanza=main stanza-upgrade'"
expect_exit "B: check refused" 31 "$BR" --config="$CONF" --stanza=main check
expect_contains "check names stanza-upgrade" "$OUT" "stanza-upgrade"

must psql_at $PORT "CREATE TABLE tb (id int primary key, phase text);
    INSERT INTO tb SELECT g, 'b1' FROM generate_series(1, 500) g"
SEG_B=$(psql_at $PORT "SELECT pg_walfile_name(pg_current_wal_lsn())")
must psql_at $PORT "SELECT pg_switch_wal()"
wait_archive_failed $PORT
expect_eq "B: archive-push refused" "$(psql_at $PORT "SELECT last_failed_wal FROM pg_stat_archiver")" "$SEG_B"
expect_eq "B: the segment stays ready in pg_wal" "$(ls "$DATA/pg_wal/archive_status" | grep -c "^$SEG_B\.ready$")" "1"
expect_eq "B: nothing archived for B" "$(test -e "$ARCHIVE/15-2" && echo present || echo absent)" "absent"
expect_contains "the server log points at stanza-upgrade" "$(cat "$DATA.log")" "run 'backrest --stanza=main stanza-upgrade'"

# ---- kill -9 during stanza-upgrade, then run again --------------------------------------------
# stanza-upgrade reads and writes only the two info files (and their copies): each trial runs on
# its own copy of them, killed after a growing delay (before it starts, while it writes, after it
# ended: the rerun's message, in the test name, tells which), then runs again. Whatever point the
# kill reached, the rerun must leave db-ids 1 (A) and 2 (B) in both files and A's backup listed.
# The exact half-way state (archive.info written, backup.info not) is unit-tested
# (worker_stanza_upgrade_test).
trial=0
for delay in 0 0.005 0.01 0.02 0.04 0.06 0.08 0.1 0.15 0.2 0.3; do
    trial=$((trial + 1))
    scratch=$IT_TMP/kill-$trial
    as_pg mkdir -p "$scratch/archive/main" "$scratch/backup/main"
    as_pg cp "$ARCHIVE/archive.info" "$ARCHIVE/archive.info.copy" "$scratch/archive/main/"
    as_pg cp "$IT_TMP/repo/backup/main/backup.info" "$IT_TMP/repo/backup/main/backup.info.copy" \
        "$scratch/backup/main/"
    "${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main --repo1-path="$scratch" stanza-upgrade \
        >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rerun=$(as_pg "$BR" --config="$CONF" --stanza=main --repo1-path="$scratch" stanza-upgrade 2>&1)
    rc=$?
    scratch_info=$(as_pg "$BR" --config="$CONF" --stanza=main --repo1-path="$scratch" info --output=json)
    state="$rc|$(infoq dbs <<<"$scratch_info")|$(infoq archive-ids <<<"$scratch_info")|$(infoq backups <<<"$scratch_info")"
    outcome="the rerun upgraded"
    [[ $rerun == *"already up to date"* ]] && outcome="killed after it ended: already up to date"
    expect_eq "kill -9 after ${delay}s, then stanza-upgrade again ($outcome)" "$state" \
        "0|1:$SYS_A:15 2:$SYS_B:15|15-1 15-2|$LABEL_A:1"
done

# ---- stanza-upgrade -------------------------------------------------------------------------------
must br stop
expect_exit "stanza-upgrade refused while stopped" 29 "$BR" --config="$CONF" --stanza=main stanza-upgrade
expect_contains "it names the stop file" "$OUT" "main.stop"
must br start
expect_exit "stanza-upgrade" 0 "$BR" --config="$CONF" --stanza=main stanza-upgrade
expect_contains "it says what it recorded" "$OUT" \
    "stanza 'main' upgraded to PostgreSQL 15 system $SYS_B (db-id 2, WAL in archive id 15-2)"
expect_exit "stanza-upgrade again" 0 "$BR" --config="$CONF" --stanza=main stanza-upgrade
expect_contains "it is already up to date" "$OUT" "stanza 'main' is already up to date (db-id 2"

# The archiver is woken by the next segment switch and retries the segment it kept.
must psql_at $PORT "INSERT INTO tb SELECT g, 'b2' FROM generate_series(501, 600) g"
must psql_at $PORT "SELECT pg_switch_wal()"
wait_stored "$ARCHIVE/15-2" "$SEG_B"
expect_eq "B: the kept segment is archived under 15-2" "$(find "$ARCHIVE/15-2" -name "$SEG_B-*" | wc -l)" "1"
expect_eq "B: no longer ready" "$(ls "$DATA/pg_wal/archive_status" | grep -c "^$SEG_B\.ready$")" "0"

# Before B has a full backup, retention 1 keeps A's (the only full) and A's WAL.
expect_exit "expire before B's full" 0 "$BR" --config="$CONF" --stanza=main --repo1-retention-full=1 expire
expect_eq "A's backup kept" "$(br info --output=json | infoq labels)" "$LABEL_A"
expect_eq "A's WAL kept" "$(test -d "$ARCHIVE/15-1" && echo present || echo absent)" "present"

expect_exit "B: full backup" 0 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
LABEL_B=$(br info --output=json | infoq last-label)
must psql_at $PORT "INSERT INTO tb SELECT g, 'b3' FROM generate_series(601, 900) g"
must br check
SNAP_B=$(psql_at $PORT "SELECT count(*) || ':' || md5(string_agg(id || phase, ',' ORDER BY id)) FROM tb")

# ---- info ---------------------------------------------------------------------------------------
INFO=$(br info --output=json)
expect_eq "info: db[] lists both systems" "$(infoq dbs <<<"$INFO")" \
    "1:$SYS_A:15 2:$SYS_B:15"
expect_eq "info: archive[] per db id, each with WAL" "$(infoq archives <<<"$INFO")" \
    "15-1:1:True 15-2:2:True"
expect_eq "info: backup[].database.id" "$(infoq backups <<<"$INFO")" \
    "$LABEL_A:1 $LABEL_B:2"
expect_eq "info: status ok" "$(infoq status <<<"$INFO")" "0"
expect_eq "info text: prior then current, each with its backup" \
    "$(br info | grep -E '^    db \(|^        (full backup|wal archive)' | sed 's/: .*//' | tr '\n' '|')" \
    "    db (prior)|        wal archive min/max (15)|        full backup|    db (current)|        wal archive min/max (15)|        full backup|"
expect_contains "info text: A's backup under db (prior)" "$(br info | sed -n '/db (prior)/,/db (current)/p')" "$LABEL_A"
expect_exit "verify after the upgrade" 0 "$BR" --config="$CONF" --stanza=main verify

# ---- restores -------------------------------------------------------------------------------------
# Each restored cluster runs with archiving off: it must not push into the stanza.
start_restored() {  # name port
    local dir=$IT_TMP/restore-$1
    sed -i "s/^port = .*/port = $2/; s/^archive_mode = .*/archive_mode = off/" "$dir/postgresql.conf"
    pg_start "$dir"
    wait_promoted "$2" || fail "restore $1: recovery did not finish" "$(tail -20 "$dir.log")"
}
restore a 0 --set="$LABEL_A" --type=time "--target=$TARGET_A" --target-action=promote
start_restored a 57161
expect_eq "restore of A's backup at a time in A's WAL (15-1)" \
    "$(psql_at 57161 "SELECT count(*) || ' ' || string_agg(DISTINCT phase, ',') FROM t")" "2000 a1,a2"
expect_eq "restored A is system A" "$(sysid 57161)" "$SYS_A"
pg_stop "$IT_TMP/restore-a"

restore b 0 --set="$LABEL_B"
start_restored b 57162
expect_eq "restore of B's backup to its latest WAL (15-2)" \
    "$(psql_at 57162 "SELECT count(*) || ':' || md5(string_agg(id || phase, ',' ORDER BY id)) FROM tb")" "$SNAP_B"
expect_eq "restored B has no table of A" "$(psql_at 57162 "SELECT count(*) FROM pg_class WHERE relname = 't'")" "0"
pg_stop "$IT_TMP/restore-b"

# ---- expire across the two databases -------------------------------------------------------------
expect_exit "expire with repo1-retention-full=1" 0 "$BR" --config="$CONF" --stanza=main --repo1-retention-full=1 expire
expect_contains "A's backup expired" "$OUT" "expired backup $LABEL_A"
expect_eq "only B's backup is left" "$(br info --output=json | infoq labels)" "$LABEL_B"
expect_eq "A's WAL (15-1) is gone" "$(test -e "$ARCHIVE/15-1" && echo present || echo absent)" "absent"
WAL_B=$(br info --output=json | infoq last-wal-start)
expect_eq "B's WAL from its backup on is kept" "$(find "$ARCHIVE/15-2" -name "$WAL_B-*" | wc -l)" "1"
expect_eq "B's WAL before its backup is expired" "$(find "$ARCHIVE/15-2" -name "$SEG_B-*" | wc -l)" "0"
expect_exit "verify after expire" 0 "$BR" --config="$CONF" --stanza=main verify
expect_eq "info text: no db (prior) left" "$(br info | grep -c 'db (prior)')" "0"

# ---- archive_library: the daemon refuses B, then resumes after stanza-upgrade without restart ------
# Uses the installed extension with this build's worker (the identity check is the worker's).
if [ "$(id -u)" -eq 0 ] && [ -f "$(pg_config --pkglibdir)/backrest.so" ]; then
    DDATA=$IT_TMP/daemon
    DCONF=$IT_TMP/daemon.conf
    DSOCK=$IT_TMP/dsock
    DPORT=57163
    DARCHIVE=$IT_TMP/drepo/archive/dmn
    printf '[global]\nrepo1-path=%s\nlock-path=%s\nspool-path=%s\nlog-level-console=warn\n\n[dmn]\npg1-path=%s\npg1-socket-path=%s\npg1-port=%s\n' \
        "$IT_TMP/drepo" "$IT_TMP/lock" "$IT_TMP/dspool" "$DDATA" "$IT_TMP" "$DPORT" >"$DCONF"
    chmod 0644 "$DCONF"
    daemon_cluster() {
        pg_init "$DDATA" $DPORT
        ext_conf "$DDATA" dmn "$DCONF" "$DSOCK"
        pg_start "$DDATA"
    }
    daemon_cluster
    must as_pg "$BR" --config="$DCONF" --stanza=dmn stanza-create
    must psql_at $DPORT "CREATE TABLE t AS SELECT generate_series(1, 1000) AS i"
    DSEG_A=$(psql_at $DPORT "SELECT pg_walfile_name(pg_current_wal_lsn())")
    must psql_at $DPORT "SELECT pg_switch_wal()"
    wait_stored "$DARCHIVE/15-1" "$DSEG_A"
    expect_eq "daemon: A's segment archived under 15-1" "$(find "$DARCHIVE/15-1" -name "$DSEG_A-*" | wc -l)" "1"
    pg_stop "$DDATA"
    as_pg rm -rf "$DDATA"
    daemon_cluster
    must psql_at $DPORT "CREATE TABLE tb AS SELECT generate_series(1, 1000) AS i"
    DSEG_B=$(psql_at $DPORT "SELECT pg_walfile_name(pg_current_wal_lsn())")
    must psql_at $DPORT "SELECT pg_switch_wal()"
    wait_archive_failed $DPORT
    expect_eq "daemon: archive_library refuses B" "$(psql_at $DPORT "SELECT last_failed_wal FROM pg_stat_archiver")" "$DSEG_B"
    expect_eq "daemon: B's segment stays ready in pg_wal" "$(ls "$DDATA/pg_wal/archive_status" | grep -c "^$DSEG_B\.ready$")" "1"
    expect_eq "daemon: nothing archived for B" "$(test -e "$DARCHIVE/15-2" && echo present || echo absent)" "absent"
    expect_contains "daemon: the server log points at stanza-upgrade" "$(cat "$DDATA.log")" "run 'backrest --stanza=dmn stanza-upgrade'"
    expect_exit "daemon: stanza-upgrade with B running" 0 "$BR" --config="$DCONF" --stanza=dmn stanza-upgrade
    must psql_at $DPORT "INSERT INTO tb SELECT generate_series(1001, 2000)"
    must psql_at $DPORT "SELECT pg_switch_wal()"
    wait_stored "$DARCHIVE/15-2" "$DSEG_B"
    expect_eq "daemon: archiving resumes under 15-2 without a restart" "$(find "$DARCHIVE/15-2" -name "$DSEG_B-*" | wc -l)" "1"
    pg_stop "$DDATA"
else
    echo "# skipped archive_library: needs root and the extension installed"
fi
