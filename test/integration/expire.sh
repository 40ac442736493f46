#!/usr/bin/env bash
# Retention: expire removes the backups past repo1-retention-full with their dependents and the
# WAL only they needed, never what a retained backup needs; the oldest retained backup still
# restores to the latest state. The backup history (backup.history/) outlives expired backups
# until repo1-retention-history lets it go.
set -u
SUITE=expire
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

labels() { br info --output=json | grep -o '"label":"[0-9FDI_-]*"' | cut -d'"' -f4 | tr '\n' ' '; }
wal_count() { find "$IT_TMP/repo/archive/main" -name '0*-*' | wc -l; }
oldest_wal() { find "$IT_TMP/repo/archive/main" -name '0*-*' -printf '%f\n' | cut -c1-24 | sort | head -1; }
it_primary 55440
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 2 -q postgres
work() { must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -c 2 -t 100 -n postgres; must psql_at $PORT "SELECT pg_switch_wal()"; }

must br backup --type=full --start-fast
work
must br backup --type=incr --start-fast
work
must br backup --type=full --start-fast
work
must br backup --type=diff --start-fast
work
must br backup --type=full --start-fast
work
must br check
read -r F1 I1 F2 D2 F3 <<<"$(labels)"
expect_eq "five backups" "$(labels | wc -w)" "5"
WAL_BEFORE=$(wal_count)
F2_WAL_START=$(grep -o '"wal-start":"[0-9A-F]*"' "$IT_TMP/repo/backup/main/$F2/backup.manifest" | cut -d'"' -f4)

expect_exit "expire --dry-run" 0 "$BR" --config="$CONF" --stanza=main --repo1-retention-full=2 --dry-run expire
expect_contains "dry-run names the full and its incr" "$OUT" "would expire backups $F1, $I1"
expect_eq "dry-run removed nothing" "$(labels | wc -w) $(wal_count)" "5 $WAL_BEFORE"

expect_exit "expire with repo1-retention-full=2" 0 "$BR" --config="$CONF" --stanza=main --repo1-retention-full=2 expire
expect_eq "the oldest full and its incr are gone" "$(labels)" "$F2 $D2 $F3 "
expect_eq "their directories are gone" "$(ls "$IT_TMP/repo/backup/main" | grep -c "^$F1")" "0"
expect_eq "WAL before the oldest retained backup is gone" "$(oldest_wal | cut -c9-24)" "$(echo "$F2_WAL_START" | cut -c9-24)"
expect_eq "some WAL was removed" "$(($(wal_count) < WAL_BEFORE))" "1"

# The oldest retained backup, restored to the end of WAL, has the latest data.
LATEST=$(psql_at $PORT "SELECT md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts")
dir=$IT_TMP/restore-oldest
expect_exit "restore the oldest retained backup" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$dir" \
    --set="$F2" restore
sed -i "s/^port = .*/port = 55441/; s/^archive_mode = .*/archive_mode = off/" "$dir/postgresql.conf"
pg_start "$dir"
if wait_promoted 55441; then
    expect_eq "it replays all retained WAL to the latest state" \
        "$(psql_at 55441 "SELECT md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts")" "$LATEST"
else
    fail "restore of the oldest retained backup did not finish recovery" "$(tail -20 "$dir.log")"
fi
pg_stop "$dir"

expect_exit "expire --set a full takes its dependents" 0 "$BR" --config="$CONF" --stanza=main --set="$F2" expire
expect_eq "only the newest full is left" "$(labels)" "$F3 "
expect_exit "expire --set of an unknown backup" 35 "$BR" --config="$CONF" --stanza=main --set=20000101-000000F expire

# A backup with retention set expires by itself.
must br backup --type=full --start-fast --repo1-retention-full=1
expect_eq "backup applied repo1-retention-full=1" "$(labels | wc -w)" "1"

# --- the backup history (backup.history/<year>/<label>.manifest.zst) ----------------------------
HIST=$IT_TMP/repo/backup/main/backup.history
history_labels() { find "$HIST" -name '*.manifest.zst' -printf '%f\n' | sed 's/\.manifest\.zst$//' | LC_ALL=C sort | tr '\n' ' '; }
LAST=$(labels | tr -d ' ')
expect_eq "every backup ever completed has a history copy, expired ones included" \
    "$(history_labels)" "$(printf '%s\n' "$F1" "$I1" "$F2" "$D2" "$F3" "$LAST" | LC_ALL=C sort | tr '\n' ' ')"
expect_eq "filed under the label's year" "$(ls "$HIST")" "${LAST:0:4}"
expect_exit "repo-get of a history copy" 0 "$BR" --config="$CONF" --stanza=main \
    repo-get "backup/main/backup.history/${LAST:0:4}/$LAST.manifest.zst"
expect_eq "... is the backup's manifest, zstd-compressed, byte for byte" \
    "$("$BR" --config="$CONF" --stanza=main repo-get "backup/main/backup.history/${LAST:0:4}/$LAST.manifest.zst" | zstd -dc | sha256sum)" \
    "$(sha256sum <"$IT_TMP/repo/backup/main/$LAST/backup.manifest")"
expect_exit "repo1-retention-history=-1 is refused" 21 "$BR" --config="$CONF" --stanza=main \
    --repo1-retention-history=-1 expire
expect_contains "... naming the option" "$OUT" "repo1-retention-history"
# Days: the expired backups were taken minutes ago, so a day's retention keeps them all.
expect_exit "expire --repo1-retention-history=1" 0 "$BR" --config="$CONF" --stanza=main \
    --repo1-retention-history=1 expire
expect_eq "history of minutes-old expired backups kept for a day" "$(history_labels | wc -w)" "6"
expect_exit "expire --repo1-retention-history=0 --dry-run" 0 "$BR" --config="$CONF" --stanza=main \
    --repo1-retention-history=0 --dry-run expire
expect_contains "dry run names the expired backups' history" "$OUT" \
    "would expire history manifests $(printf '%s\n' "$F1" "$I1" "$F2" "$D2" "$F3" | LC_ALL=C sort | paste -sd, | sed 's/,/, /g')"
expect_eq "... and removes nothing" "$(history_labels | wc -w)" "6"
expect_exit "expire --repo1-retention-history=0" 0 "$BR" --config="$CONF" --stanza=main \
    --repo1-retention-history=0 expire
expect_eq "0: only the listed backup's history is left" "$(history_labels)" "$LAST "
expect_eq "info and the listed backup are untouched" "$(labels)" "$LAST "
# A history copy that cannot be written fails the backup, which says it is complete.
YEAR_DIR=$HIST/${LAST:0:4}
chmod 0500 "$YEAR_DIR"
OUT=$(as_pg "$BR" --config="$CONF" --stanza=main backup --type=incr --start-fast 2>&1)
RC=$?
chmod 0750 "$YEAR_DIR"
expect_eq "backup with backup.history/${LAST:0:4} not writable fails (exit $RC)" "$((RC != 0))" "1"
expect_contains "... saying the backup is complete and listed" "$OUT" "is complete and listed by info, but its manifest's copy in backup.history/ could not be written"
expect_eq "... and info lists it" "$(labels | wc -w)" "2"
