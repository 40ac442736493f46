#!/usr/bin/env bash
# A pgBackRest user's configuration carried over (issue 20): a pgbackrest.conf with sizes in
# units, a conf.d include directory, log files and PGBACKREST_* variables drives a backup and a
# restore end to end; the run is in the log file; each malformed input gives its named error.
set -u
SUITE=pgbackrest_conf
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

it_primary 57130
must psql_at $PORT "CREATE TABLE carried (id int primary key, v text);
    INSERT INTO carried SELECT g, md5(g::text) FROM generate_series(1, 50000) g"

# The carried-over files: the main file, the stanza and the log settings in conf.d.
PGBR_CONF=$IT_TMP/pgbackrest.conf
CONFD=$IT_TMP/conf.d
LOGS=$IT_TMP/log
cat >"$PGBR_CONF" <<EOF2
[global]
repo1-path=$IT_TMP/repo
lock-path=$IT_TMP/lock
# sizes as pgBackRest writes them
buffer-size=4MiB
repo1-bundle-size=16MB
repo1-bundle-limit=512KiB
log-level-console=warn
start-fast=y
EOF2
as_pg mkdir -p "$CONFD"
cat >"$CONFD/10-log.conf" <<EOF2
[global]
log-path=$LOGS
log-level-file=detail
EOF2
cat >"$CONFD/20-main.conf" <<EOF2
[main]
pg1-path=$DATA
pg1-socket-path=$IT_TMP
pg1-port=$PORT
EOF2
echo "not read: no .conf" >"$CONFD/README"
chmod 0644 "$PGBR_CONF" "$CONFD"/*
# The environment of a cron line written for pgBackRest, and the files on its command line.
PGBR_ENV=(env PGBACKREST_STANZA=main PGBACKREST_PROCESS_MAX=2)
PGBR=("${PGBR_ENV[@]}" "$BR" --config="$PGBR_CONF" --config-include-path="$CONFD")

# ---- backup and restore end to end ----
expect_exit "backup with the carried-over files and PGBACKREST_* variables" 0 "${PGBR[@]}" backup --type=full
WANT=$(psql_at $PORT "SELECT count(*) || ':' || md5(string_agg(id || v, ',' ORDER BY id)) FROM carried")
expect_exit "info through the same files" 0 "${PGBR[@]}" info
expect_contains "info lists the full backup" "$OUT" "full backup:"

LOG=$LOGS/main-backup.log
expect_eq "the log file is <log-path>/<stanza>-<command>.log" "$(test -f "$LOG" && echo yes)" "yes"
expect_eq "the log file is mode 0640" "$(stat -c %a "$LOG" 2>/dev/null)" "640"
TEXT=$(cat "$LOG" 2>/dev/null)
expect_contains "the run opens with pgBackRest's banner" "$TEXT" "-------------------PROCESS START-------------------"
expect_contains "the begin line lists the options, the environment's too" "$TEXT" \
    "P00   INFO: backup command begin"
expect_contains "... process-max from PGBACKREST_PROCESS_MAX" "$TEXT" "--process-max=2"
expect_contains "... buffer-size in bytes" "$TEXT" "--buffer-size=4194304"
expect_contains "the run ends in the log" "$TEXT" "P00   INFO: backup command end: completed successfully"
expect_eq "info has its own log file" "$(test -f "$LOGS/main-info.log" && echo yes)" "yes"
expect_exit "a second backup, incremental" 0 "${PGBR[@]}" backup --type=incr
expect_eq "runs append to one file, a banner each" "$(grep -c 'PROCESS START' "$LOG")" "2"
expect_contains "the begin line has the backup type" "$(tail -n +2 "$LOG")" "--type=incr"

pg_stop "$DATA"
DIR=$IT_TMP/restore-carried
expect_exit "restore with the carried-over files" 0 "${PGBR[@]}" --pg1-path="$DIR" restore --type=immediate \
    --target-action=promote
sed -i "s/^port = .*/port = 57131/; s/^archive_mode = .*/archive_mode = off/" "$DIR/postgresql.conf"
pg_start "$DIR"
if wait_promoted 57131; then
    expect_eq "the restored cluster holds the data" \
        "$(psql_at 57131 "SELECT count(*) || ':' || md5(string_agg(id || v, ',' ORDER BY id)) FROM carried")" "$WANT"
else
    fail "the restored cluster finished recovery" "$(tail -20 "$DIR.log")"
fi
pg_stop "$DIR"
expect_contains "restore_command reads the include directory too" \
    "$(cat "$DIR/postgresql.auto.conf")" "--config-include-path=$CONFD"
expect_contains "archive-get logged to its own file" "$(cat "$LOGS/main-archive-get.log" 2>/dev/null)" \
    "archive-get command end"

# ---- each malformed input gives its named error ----
bad() {  # name expected-exit needle file-line | env...
    local name=$1 want=$2 needle=$3
    shift 3
    expect_exit "$name" "$want" "$@"
    expect_contains "... naming it" "$OUT" "$needle"
}
bad "buffer-size=4MB/s" 21 "invalid value '4MB/s' for option 'buffer-size'" \
    "$BR" --config="$PGBR_CONF" --config-include-path="$CONFD" --stanza=main --buffer-size=4MB/s info
bad "buffer-size past 64MiB" 21 "expected a size from 1 to 67108864 bytes" \
    "$BR" --config="$PGBR_CONF" --config-include-path="$CONFD" --stanza=main --buffer-size=1GiB info
printf '[global]\ncompress-type=gz\n' >"$CONFD/30-compress.conf"
chmod 0644 "$CONFD/30-compress.conf"
bad "compress-type=gz (pgBackRest's default) in conf.d" 21 \
    "gz is a pgBackRest compression backrest does not implement; backrest compresses with zst" "${PGBR[@]}" backup
printf '[global]\nstart-fast=n\n' >"$CONFD/30-compress.conf"
bad "an option set in two files of one section" 22 \
    "30-compress.conf' line 2: option 'start-fast' is set more than once in section [global] (first in '$PGBR_CONF' line 9)" \
    "${PGBR[@]}" info
printf '[global]\nprocess-max=2\nprocess-max=3\n' >"$CONFD/30-compress.conf"
bad "a malformed conf.d file names the file and line" 22 "$CONFD/30-compress.conf' line 3" "${PGBR[@]}" info
printf '[global]\nno equals\n' >"$CONFD/30-compress.conf"
bad "a line that is no option names the file and line" 22 \
    "config file '$CONFD/30-compress.conf' line 2: expected 'key=value'" "${PGBR[@]}" info
rm -f "$CONFD/30-compress.conf"
bad "a missing --config-include-path" 22 "config include path '$IT_TMP/nothere' (config-include-path) does not exist" \
    "$BR" --config="$PGBR_CONF" --config-include-path="$IT_TMP/nothere" --stanza=main info
bad "BACKREST_ and PGBACKREST_ set differently" 21 \
    "environment variables BACKREST_PROCESS_MAX and PGBACKREST_PROCESS_MAX both set option 'process-max'" \
    env BACKREST_PROCESS_MAX=3 "${PGBR_ENV[@]}" "$BR" --config="$PGBR_CONF" --config-include-path="$CONFD" info
bad "a bad PGBACKREST_ value names the variable" 21 "(from environment variable PGBACKREST_PROCESS_MAX)" \
    env PGBACKREST_PROCESS_MAX=lots "$BR" --config="$PGBR_CONF" --config-include-path="$CONFD" --stanza=main info
bad "log-level-file=verbose" 21 "invalid value 'verbose' for option 'log-level-file'" \
    "$BR" --config="$PGBR_CONF" --config-include-path="$CONFD" --stanza=main --log-level-file=verbose info
expect_exit "an unwritable log-path is a warning: the command still runs" 0 \
    "$BR" --config="$PGBR_CONF" --config-include-path="$CONFD" --stanza=main --log-path="$PGBR_CONF/log" info
expect_contains "... and says why" "$OUT" "unable to create log path '$PGBR_CONF/log' (log-path)"
expect_exit "version --output=num" 0 "$BR" version --output=num
expect_eq "... prints the version as one number" "$OUT" "1000"
expect_exit "version keeps its text" 0 "$BR" version
expect_eq "... unchanged" "$OUT" "backrest 0.1.0"
bad "--output=num for info" 21 "only the version command prints a number" \
    "$BR" --config="$PGBR_CONF" --stanza=main --output=num info
