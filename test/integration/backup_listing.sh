#!/usr/bin/env bash
# backup.info's list equal to the complete backups in the repository. backup.info is rewritten
# whole; two backups of one stanza from two hosts finishing at one moment once left one of them
# complete but unlisted (attack17 in CI). Here the lost entry is made by hand — backup.info put
# back as it was before a backup — and a listed backup's directory removed: the next backup and
# expire list the first again (and build on it) and drop the second, each saying so, and a
# restore through the re-listed backup is exact.
set -u
SUITE=backup_listing
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

labels() { br info --output=json | grep -o '"label":"[0-9FDI_-]*"' | cut -d'"' -f4 | tr '\n' ' '; }
prior_of() { grep -o '"prior":"[^"]*"' "$IT_TMP/repo/backup/main/$1/backup.manifest" | head -1 | cut -d'"' -f4; }
rows() { psql_at "$1" "SELECT md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts"; }
work() {
    must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -c 2 -t 50 -n postgres
    must psql_at $PORT "SELECT pg_switch_wal()"
}
INFO=$IT_TMP/repo/backup/main/backup.info

it_primary 57280
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 1 -q postgres
must br backup --type=full --start-fast
read -r F1 <<<"$(labels)"

# ---- 1. A complete backup backup.info lost ------------------------------------------------------
cp -p "$INFO" "$IT_TMP/info.before"
cp -p "$INFO.copy" "$IT_TMP/info.copy.before"
work
must br backup --type=incr --start-fast
read -r _ I1 <<<"$(labels)"
expect_eq "an incr on the full" "$(prior_of "$I1")" "$F1"
# As if another host's backup had rewritten backup.info from what it read before this one ended.
cp -p "$IT_TMP/info.before" "$INFO"
cp -p "$IT_TMP/info.copy.before" "$INFO.copy"
expect_eq "backup.info no longer lists the incr" "$(labels)" "$F1 "
work
expect_exit "the next incr" 0 "$BR" --config="$CONF" --stanza=main backup --type=incr --start-fast
expect_contains "... lists the lost incr again, saying so" "$OUT" \
    "backup $I1 is complete in the repository but backup.info did not list it (rewritten by another command at the same moment): listed again"
read -r _ _ I2 <<<"$(labels)"
expect_eq "info lists the three" "$(labels)" "$F1 $I1 $I2 "
expect_eq "the new incr builds on the re-listed one" "$(prior_of "$I2")" "$I1"
expect_exit "verify the re-listed incr" 0 "$BR" --config="$CONF" --stanza=main verify --set="$I1"

# ---- 2. A listed backup whose directory is gone -------------------------------------------------
work
must br backup --type=full --start-fast
read -r _ _ _ F2 <<<"$(labels)"
rm -rf "$IT_TMP/repo/backup/main/$F2"
expect_exit "expire with nothing to expire" 0 "$BR" --config="$CONF" --stanza=main expire
expect_contains "... drops the entry without a directory, saying so" "$OUT" \
    "backup $F2 is listed by backup.info but its directory '$IT_TMP/repo/backup/main/$F2' is gone: no longer listed"
expect_eq "info lists the other three" "$(labels)" "$F1 $I1 $I2 "

# ---- 3. Incomplete and damaged directories stay unlisted ----------------------------------------
mkdir -p "$IT_TMP/repo/backup/main/20200101-000000F"
cp "$IT_TMP/repo/backup/main/$I1/backup.manifest" "$IT_TMP/repo/backup/main/20200101-000000F/backup.manifest"
chown -R postgres: "$IT_TMP/repo/backup/main/20200101-000000F"
expect_exit "expire beside a directory holding another backup's manifest" 0 "$BR" --config="$CONF" \
    --stanza=main expire
expect_contains "... leaves it unlisted, saying why" "$OUT" \
    "backup 20200101-000000F has a manifest but backup.info does not list it, and it is left so: its manifest is of backup $I1"
expect_eq "info still lists the three" "$(labels)" "$F1 $I1 $I2 "
rm -rf "$IT_TMP/repo/backup/main/20200101-000000F"

# ---- 4. A restore through the re-listed incr is exact -------------------------------------------
LATEST=$(rows $PORT)
must psql_at $PORT "SELECT pg_switch_wal()"
dir=$IT_TMP/restore-i2
expect_exit "restore the incr on the re-listed incr" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$dir" \
    --set="$I2" restore
sed -i "s/^port = .*/port = 57281/; s/^archive_mode = .*/archive_mode = off/" "$dir/postgresql.conf"
pg_start "$dir"
if wait_promoted 57281; then
    expect_eq "it has the primary's rows" "$(rows 57281)" "$LATEST"
else
    fail "the restore did not finish recovery" "$(tail -20 "$dir.log")"
fi
pg_stop "$dir"

# ---- 5. Retention counts the re-listed backups --------------------------------------------------
cp -p "$INFO" "$IT_TMP/info.before"
cp -p "$INFO.copy" "$IT_TMP/info.copy.before"
work
must br backup --type=full --start-fast
read -r _ _ _ F3 <<<"$(labels)"
cp -p "$IT_TMP/info.before" "$INFO"
cp -p "$IT_TMP/info.copy.before" "$INFO.copy"
expect_exit "expire --repo1-retention-full=1 with the newest full unlisted" 0 "$BR" --config="$CONF" \
    --stanza=main --repo1-retention-full=1 expire
expect_contains "... lists it again" "$OUT" "backup $F3 is complete in the repository"
expect_contains "... and keeps it, expiring the older chain" "$OUT" "expired backups $F1, $I1, $I2"
expect_eq "info lists the newest full only" "$(labels)" "$F3 "
