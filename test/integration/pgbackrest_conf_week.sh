#!/usr/bin/env bash
# A realistic pgbackrest.conf carried over (issue 20) runs a week: retention by time, log files,
# a conf.d include holding the stanza, process-max, zst, start-fast and annotations. Each "day" is
# libfaketime's offset around the backrest command (PostgreSQL keeps the real clock): full, incr
# and diff backups, an expire a day. Asserted: which backups remain (pgBackRest 2.45's rule: a
# full backup goes only when a newer full is itself older than the period), the WAL before the
# oldest kept full gone and the WAL after it whole, the log files, the annotations in info, and a
# point-in-time restore inside the window. The backup history (repo1-retention-history=6) keeps
# the manifests of expired backups for 6 days after their full backup's day.
set -u
SUITE=pgbackrest_conf_week
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup
command -v faketime >/dev/null || { fail "setup: faketime is installed (scripts/install-deps.sh)"; exit 1; }

PGBR_CONF=$IT_TMP/pgbackrest.conf
CONFD=$IT_TMP/conf.d
LOGS=$IT_TMP/log
DATA=$IT_TMP/primary
PORT=57170
cat >"$PGBR_CONF" <<EOF2
[global]
repo1-path=$IT_TMP/repo
repo1-retention-full-type=time
repo1-retention-full=2
repo1-retention-history=6
lock-path=$IT_TMP/lock
log-path=$LOGS
log-level-file=info
log-level-console=warn
process-max=2
compress-type=zst
start-fast=y
EOF2
as_pg mkdir -p "$CONFD"
cat >"$CONFD/main.conf" <<EOF2
[main]
pg1-path=$DATA
pg1-socket-path=$IT_TMP
pg1-port=$PORT
EOF2
chmod 0644 "$PGBR_CONF" "$CONFD/main.conf"
PGBR=("$BR" --config="$PGBR_CONF" --config-include-path="$CONFD" --stanza=main)
pg_archiving "$DATA" "$PORT" "${PGBR[*]} archive-push %p"
must as_pg "${PGBR[@]}" stanza-create
must psql_at $PORT "CREATE TABLE daily (day int, id int, v text)"

# The wall clock `days` ahead for one backrest command. Only the wall clock: with a monotonic
# clock days ahead too, a timed wait's deadline (the kernel's real monotonic clock) would lie
# days away.
# "${AT[@]}" after `at <offset>` (faketime's: 4d, 193h): backrest on that day, for expect_exit.
at() { AT=(env DONT_FAKE_MONOTONIC=1 faketime -f "+$1" "${PGBR[@]}"); }
info_json() { as_pg "${PGBR[@]}" info --output=json; }
# Labels (oldest first), or one field of a backup, from info's JSON (pgBackRest 2.45's schema).
labels() { info_json | python3 -c 'import json,sys; print(" ".join(b["label"] for b in json.load(sys.stdin)[0]["backup"]))'; }
backup_field() {  # label python-expression-of-b
    info_json | python3 -c "import json,sys
for b in json.load(sys.stdin)[0]['backup']:
    if b['label'] == '$1': print($2)"
}
# Labels whose manifest is in backup.history/, sorted.
history_labels() {
    find "$IT_TMP/repo/backup/main/backup.history" -name '*.manifest.zst' -printf '%f\n' |
        sed 's/\.manifest\.zst$//' | LC_ALL=C sort | paste -sd' '
}
# The WAL segments in the repository, by name, sorted.
wal_segments() {
    find "$IT_TMP/repo/archive/main" -type f -name '[0-9A-F]*' -printf '%f\n' | cut -c1-24 |
        grep -E '^[0-9A-F]{24}$' | sort -u
}
# Rows of day `d`, a WAL switch so they are archived, then the day's backup, annotated.
BACKUPS=()
a_day() {  # day type
    local d=$1 type=$2
    must psql_at $PORT "INSERT INTO daily SELECT $d, g, md5(g::text) FROM generate_series(1, 2000) g;
        SELECT pg_switch_wal()"
    at "${d}d"
    expect_exit "day $d: $type backup" 0 "${AT[@]}" backup --type="$type" \
        --annotation=source=cron --annotation=day="$d"
    BACKUPS+=("$(labels | awk '{print $NF}')")
}

# ---- days 0 to 4: nothing expires, though the day-0 full is 4 days old ----
a_day 0 full
a_day 1 incr
a_day 2 diff
a_day 3 full
a_day 4 incr
# Retention compares whole seconds: "now" 1 or 2 days on must be past the day-3 full's stop by at
# least one second, which a fast machine does not give between its backups (CI met it: the
# dry-run below found the day-3 full exactly 2 days old, not older).
sleep 1
F0=${BACKUPS[0]} F3=${BACKUPS[3]}
at 4d
expect_exit "day 4: expire" 0 "${AT[@]}" expire
expect_eq "day 4: nothing expired (the day-3 full is not 2 days old yet: day 0's covers the period)" \
    "$OUT" "nothing to expire"
expect_eq "day 4: all five backups remain" "$(labels)" "${BACKUPS[*]}"
F0_START=$(backup_field "$F0" "b['archive']['start']")
F3_START=$(backup_field "$F3" "b['archive']['start']")
expect_eq "day 4: the WAL of the day-0 full is still there" "$(wal_segments | grep -c "^$F0_START$")" "1"
OLDEST=$(wal_segments | head -1)
# pgBackRest's "time-based archive retention not met": no full expired, no WAL either.
expect_eq "day 4: so is the WAL archived before it" "$([[ $OLDEST < $F0_START ]] && echo older)" "older"
at 5d
expect_exit "day 4: expire --dry-run 1 day later" 0 "${AT[@]}" expire --dry-run
expect_contains "... would expire the day-0 full with its incr and diff" "$OUT" \
    "would expire backups $F0, ${BACKUPS[1]}, ${BACKUPS[2]}"
expect_eq "... and removed nothing" "$(labels)" "${BACKUPS[*]}"

# ---- day 5: the day-3 full is older than 2 days: day 0's full goes, with its chain and WAL ----
a_day 5 diff
expect_contains "day 5: the backup's expire removed the day-0 chain" "$OUT" \
    "expire: expired backups $F0, ${BACKUPS[1]}, ${BACKUPS[2]}"
expect_eq "day 5: the day-3 full and its backups remain" "$(labels)" "${BACKUPS[*]:3}"
for b in "$F0" "${BACKUPS[1]}" "${BACKUPS[2]}"; do
    expect_eq "day 5: $b's directory is gone" "$(test -e "$IT_TMP/repo/backup/main/$b" && echo present)" ""
done
expect_eq "day 5: the oldest WAL left is the day-3 full's start" "$(wal_segments | head -1)" "$F3_START"
expect_eq "day 5: info's archive min says so" \
    "$(info_json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["archive"][0]["min"])')" "$F3_START"
expect_eq "day 5: the expired chain's history stays (day 0 is within 6 days)" "$(history_labels)" "${BACKUPS[*]}"

# ---- days 6 and 7: a full and an incr; day 3's full still covers the period ----
a_day 6 full
a_day 7 incr
expect_contains "day 7: the backup's expire removed the day-0 chain's history (older than 6 days)" "$OUT" \
    "expire: expired history manifests $F0, ${BACKUPS[1]}, ${BACKUPS[2]}"
expect_eq "day 7: the history of every backup since day 3 remains" "$(history_labels)" "${BACKUPS[*]:3}"
at 7d
expect_exit "day 7: expire" 0 "${AT[@]}" expire
expect_eq "day 7: nothing more expired (day 6's full is 1 day old)" "$OUT" "nothing to expire"
expect_eq "day 7: the day-3 full and everything after it remain" "$(labels)" "${BACKUPS[*]:3}"
at 193h
expect_exit "day 8 and an hour: expire" 0 "${AT[@]}" expire
expect_contains "... the day-3 chain goes once day 6's full is 2 days old" "$OUT" \
    "expired backups $F3, ${BACKUPS[4]}, ${BACKUPS[5]}"
expect_eq "... the day-6 full and its incr remain" "$(labels)" "${BACKUPS[*]:6}"
expect_eq "... the day-3 chain's history stays (day 3 is within 6 days)" "$(history_labels)" "${BACKUPS[*]:3}"
F6_START=$(backup_field "${BACKUPS[6]}" "b['archive']['start']")
expect_eq "... the oldest WAL left is the day-6 full's start" "$(wal_segments | head -1)" "$F6_START"
# The WAL after the oldest kept full is whole: every segment from its start to the newest.
GAPS=$(wal_segments | python3 -c 'import sys
names = [l.strip() for l in sys.stdin if l.strip()]
n = [int(x[8:16], 16) * 256 + int(x[16:], 16) for x in names]
print(" ".join(names[i] for i in range(1, len(n)) if n[i] != n[i - 1] + 1))')
expect_eq "... and no segment is missing after it" "$GAPS" ""

# ---- annotations: what the cron line gave, and an annotate later ----
expect_eq "info JSON shows the backup's annotations" "$(backup_field "${BACKUPS[6]}" "json.dumps(b['annotation'], sort_keys=True)")" \
    '{"day": "6", "source": "cron"}'
expect_exit "annotate a kept backup" 0 "${PGBR[@]}" annotate --set="${BACKUPS[7]}" --annotation=checked=yes
expect_eq "... info shows it beside the others" \
    "$(backup_field "${BACKUPS[7]}" "json.dumps(b['annotation'], sort_keys=True)")" \
    '{"checked": "yes", "day": "7", "source": "cron"}'

# ---- the log files: <log-path>/<stanza>-<command>.log, a run each ----
for cmd in backup expire info annotate stanza-create archive-push; do
    expect_eq "log file main-$cmd.log exists" "$(test -f "$LOGS/main-$cmd.log" && echo yes)" "yes"
done
EXPIRE_LOG=$(cat "$LOGS/main-expire.log" 2>/dev/null)
expect_contains "the expire log's begin line has the time retention" "$EXPIRE_LOG" \
    "--repo1-retention-full=2 --repo1-retention-full-type=time"
expect_contains "the expire log says what was expired" "$EXPIRE_LOG" "repo1: expired backups $F3"
expect_eq "the expire log has a run each time expire ran (4, the dry run too)" \
    "$(grep -c 'PROCESS START' "$LOGS/main-expire.log")" "4"
expect_eq "the backup log has one run a day" "$(grep -c 'backup command end: completed successfully' "$LOGS/main-backup.log")" "8"

# ---- a point-in-time restore inside the window: from the day-6 full, the oldest kept, through
# the WAL after it to a restore point of day 7's evening ----
# Separate calls: one -c string is one transaction, which would commit after the restore point.
must psql_at $PORT "INSERT INTO daily SELECT 77, g, 'day 7 evening' FROM generate_series(1, 10) g"
must psql_at $PORT "SELECT pg_create_restore_point('day7-evening'); SELECT pg_switch_wal()"
WANT=$(psql_at $PORT "SELECT count(*) || ':' || md5(string_agg(day || ':' || id || v, ',' ORDER BY day, id)) FROM daily")
must psql_at $PORT "INSERT INTO daily SELECT 78, g, 'after the target' FROM generate_series(1, 10) g; SELECT pg_switch_wal()"
sleep 2  # archive_command pushes the switched segment
pg_stop "$DATA"
DIR=$IT_TMP/restore-week
expect_exit "restore from the day-6 full to the day-7 evening restore point" 0 "${PGBR[@]}" --pg1-path="$DIR" \
    restore --set="${BACKUPS[6]}" --type=name --target=day7-evening --target-action=promote
sed -i "s/^port = .*/port = 57171/; s/^archive_mode = .*/archive_mode = off/" "$DIR/postgresql.conf"
pg_start "$DIR"
if wait_promoted 57171; then
    expect_eq "the restored cluster has the rows up to the restore point, none after" \
        "$(psql_at 57171 "SELECT count(*) || ':' || md5(string_agg(day || ':' || id || v, ',' ORDER BY day, id)) FROM daily")" "$WANT"
else
    fail "the restored cluster finished recovery" "$(tail -20 "$DIR.log")"
fi
pg_stop "$DIR"
