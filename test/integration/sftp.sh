#!/usr/bin/env bash
# A repository on an SFTP server (repo1-type=sftp): OpenSSH's sshd started here on 127.0.0.1 with
# key-only login. Every command against it, the bytes read back by OpenSSH's own sftp client, and
# the faults a user meets: a wrong key, an unknown or changed host key, the server gone mid-backup.
set -u
SUITE=sftp
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
SSHD=$(cd "$(dirname "$0")/../../scripts/test-servers" && pwd)/sshd.sh
source "$(dirname "$0")/lib.sh"
it_setup
SSHD_DIR=$IT_TMP/sshd
trap 'bash "$SSHD" stop "$SSHD_DIR"; it_finish' EXIT
must bash "$SSHD" start "$SSHD_DIR" 55900
source "$SSHD_DIR/sshd.env"
REPO=$SFTP_ROOT/repo

# OpenSSH's client, as postgres (the key's owner), in batch mode: a failing command fails the run.
sftp_batch() {  # commands...
    printf '%s\n' "$@" | as_pg sftp -q -b - -i "$SFTP_PRIVATE_KEY" -o UserKnownHostsFile="$SFTP_KNOWN_HOSTS" \
        -o StrictHostKeyChecking=yes -o BatchMode=yes -P "$SFTP_PORT" "$SFTP_USER@$SFTP_HOST" 2>&1
}
repo_files() { find "$REPO" -type f -printf '%P %s\n' 2>/dev/null | sort; }
table_md5() { psql_at "$1" "SELECT md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM t"; }

it_primary_without_stanza 55901 repo1-type=sftp "repo1-path=$REPO" "repo1-sftp-host=$SFTP_HOST" \
    "repo1-sftp-host-port=$SFTP_PORT" "repo1-sftp-host-user=$SFTP_USER" \
    "repo1-sftp-private-key-file=$SFTP_PRIVATE_KEY" "repo1-sftp-known-host=$SFTP_KNOWN_HOSTS"

# ---- Refused before anything is written ----
must ssh-keygen -q -t ed25519 -N '' -f "$IT_TMP/other_key"
chown postgres "$IT_TMP/other_key"
expect_exit "stanza-create with a key the server does not know" 45 "$BR" --config="$CONF" --stanza=main \
    --repo1-sftp-private-key-file="$IT_TMP/other_key" stanza-create
expect_contains "it names the user, host and key" "$OUT" \
    "SFTP server 127.0.0.1:55900: user 'backrest-sftp' was refused with private key $IT_TMP/other_key"
expect_eq "nothing was written" "$(repo_files)" ""

: >"$IT_TMP/empty_known_hosts"
expect_exit "strict host key check, host not known" 45 "$BR" --config="$CONF" --stanza=main \
    --repo1-sftp-known-host="$IT_TMP/empty_known_hosts" stanza-create
expect_contains "it names the host and what to do" "$OUT" \
    "SFTP server 127.0.0.1:55900: its host key is not in the known hosts files ($IT_TMP/empty_known_hosts) and repo1-sftp-host-key-check-type is strict: add it (ssh-keyscan -p 55900 127.0.0.1"
must ssh-keygen -q -t ed25519 -N '' -f "$IT_TMP/impostor"
printf '[127.0.0.1]:55900 %s\n' "$(cut -d' ' -f1-2 "$IT_TMP/impostor.pub")" >"$IT_TMP/changed_known_hosts"
expect_exit "strict host key check, host key changed" 45 "$BR" --config="$CONF" --stanza=main \
    --repo1-sftp-known-host="$IT_TMP/changed_known_hosts" stanza-create
expect_contains "it says the key differs" "$OUT" "its host key differs from the one recorded"
expect_eq "still nothing written" "$(repo_files)" ""

# accept-new: the unknown host is recorded, then trusted.
as_pg touch "$IT_TMP/new_known_hosts"
expect_exit "accept-new records a new host" 0 "$BR" --config="$CONF" --stanza=main \
    --repo1-sftp-known-host="$IT_TMP/new_known_hosts" --repo1-sftp-host-key-check-type=accept-new info
expect_eq "known hosts file holds the server's key" "$(grep -c "$(cut -d' ' -f2 "$SSHD_DIR/host_key.pub")" "$IT_TMP/new_known_hosts")" "1"
expect_exit "then strict accepts it" 0 "$BR" --config="$CONF" --stanza=main --repo1-sftp-known-host="$IT_TMP/new_known_hosts" info

# A key with a passphrase, given in the environment: used, and never printed.
PASS="sftp-s3cret-$RANDOM$RANDOM"
must ssh-keygen -q -t ed25519 -N "$PASS" -f "$IT_TMP/pass_key"
chown postgres "$IT_TMP/pass_key"
cat "$IT_TMP/pass_key.pub" >>"$SSHD_DIR/authorized_keys"
OUT=$(as_pg env BACKREST_REPO1_SFTP_PRIVATE_KEY_PASSPHRASE="$PASS" "$BR" --config="$CONF" --stanza=main \
    --repo1-sftp-private-key-file="$IT_TMP/pass_key" info 2>&1)
expect_eq "key with passphrase from BACKREST_REPO1_SFTP_PRIVATE_KEY_PASSPHRASE" "$?" "0"
OUT=$(as_pg env BACKREST_REPO1_SFTP_PRIVATE_KEY_PASSPHRASE="wrong-$PASS" "$BR" --config="$CONF" --stanza=main \
    --repo1-sftp-private-key-file="$IT_TMP/pass_key" --log-level-console=debug info 2>&1)
RC=$?
expect_eq "wrong passphrase: RepoAuthError" "$RC" "45"
expect_contains "it names the key file" "$OUT" "cannot use private key file $IT_TMP/pass_key"
expect_eq "the passphrase is in no message" "$(grep -c "$PASS" <<<"$OUT")" "0"
expect_exit "passphrase on the command line is refused" 21 "$BR" --config="$CONF" --stanza=main \
    --repo1-sftp-private-key-file="$IT_TMP/pass_key" --repo1-sftp-private-key-passphrase="$PASS" info
expect_eq "and not printed" "$(grep -c "$PASS" <<<"$OUT")" "0"
OUT=$(as_pg env PGBACKREST_REPO1_SFTP_PRIVATE_KEY_PASSPHRASE="wrong-$PASS" "$BR" --config="$CONF" --stanza=main \
    --repo1-sftp-private-key-file="$IT_TMP/pass_key" info 2>&1)
expect_contains "pgBackRest's variable is read (issue 20): its wrong passphrase is tried" "$OUT" \
    "cannot use private key file $IT_TMP/pass_key"
expect_eq "and its value not printed" "$(grep -c "$PASS" <<<"$OUT")" "0"

# ---- Every command ----
must br stanza-create
must br check
must psql_at $PORT "CREATE TABLE t(id int primary key, v text)"
must psql_at $PORT "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1,20000) g"
must psql_at $PORT "VACUUM FREEZE t"
must psql_at $PORT "CHECKPOINT"
expect_exit "full backup (compress-type=none)" 0 "$BR" --config="$CONF" --stanza=main --compress-type=none --repo1-bundle=n --start-fast --type=full backup
FULL=$(ls "$REPO/backup/main" | grep -E '^[0-9]{8}-[0-9]{6}F$' | tail -1)
REL=$(psql_at $PORT "SELECT pg_relation_filepath('t')")

# What backrest wrote, fetched by OpenSSH's sftp: the same bytes as the data directory's.
rm -rf "$IT_TMP/fetched" && as_pg mkdir "$IT_TMP/fetched"
out=$(sftp_batch "lcd $IT_TMP/fetched" "get $REPO/backup/main/$FULL/pg_data/$REL rel" \
    "get $REPO/backup/main/$FULL/pg_data/PG_VERSION PG_VERSION" "ls $REPO/backup/main")
expect_contains "sftp lists the backup" "$out" "$FULL"
expect_eq "table file fetched by sftp equals the data directory's" "$(md5sum <"$IT_TMP/fetched/rel")" "$(md5sum <"$DATA/$REL")"
expect_eq "PG_VERSION fetched by sftp" "$(cat "$IT_TMP/fetched/PG_VERSION")" "$(cat "$DATA/PG_VERSION")"

psql_at $PORT "UPDATE t SET v = 'diff' WHERE id <= 100" >/dev/null
expect_exit "diff backup" 0 "$BR" --config="$CONF" --stanza=main --start-fast --type=diff backup
psql_at $PORT "UPDATE t SET v = 'incr' WHERE id > 19900" >/dev/null
expect_exit "incr backup, 4 threads on the one SSH session" 0 "$BR" --config="$CONF" --stanza=main --start-fast \
    --type=incr --process-max=4 backup
psql_at $PORT "INSERT INTO t SELECT g, 'after' FROM generate_series(20001,20500) g" >/dev/null
SEG=$(psql_at $PORT "SELECT pg_walfile_name(pg_current_wal_lsn())")
psql_at $PORT "SELECT pg_switch_wal()" >/dev/null
for _ in $(seq 1 100); do
    [ "$(psql_at $PORT "SELECT last_archived_wal FROM pg_stat_archiver")" \> "$SEG" ] ||
        [ "$(psql_at $PORT "SELECT last_archived_wal FROM pg_stat_archiver")" == "$SEG" ] && break
    sleep 0.2
done
expect_eq "archive_command pushed $SEG" "$(psql_at $PORT "SELECT last_archived_wal >= '$SEG' FROM pg_stat_archiver")" "t"
STORED=$(sftp_batch "ls -1 $REPO/archive/main/15-1/${SEG:0:16}" | grep -o "$SEG-[0-9a-f]*\.zst")
expect_contains "sftp lists the archived segment" "$STORED" "$SEG-"
expect_exit "archive-get of $SEG" 0 "$BR" --config="$CONF" --stanza=main archive-get "$SEG" "$IT_TMP/got-$SEG"
HASH=${STORED#"$SEG"-}
HASH=${HASH%.zst}
expect_eq "archive-get's bytes have the checksum in the stored name" \
    "$( (sha1sum "$IT_TMP/got-$SEG" | cut -c1-40; sha256sum "$IT_TMP/got-$SEG" | cut -d' ' -f1) | grep -c "^$HASH$")" "1"
expect_exit "archive-get of a segment not in the archive" 1 "$BR" --config="$CONF" --stanza=main archive-get \
    000000010000000000000099 "$IT_TMP/none"

expect_exit "info" 0 "$BR" --config="$CONF" --stanza=main info
expect_contains "info shows the full backup" "$OUT" "$FULL"
expect_eq "info lists full, diff and incr" \
    "$(br info --output=json | grep -o '"label":"[0-9FDI_-]*"' | cut -d'"' -f4 | sed 's/.*\(.\)$/\1/' | tr -d '\n')" "FDI"
expect_exit "verify" 0 "$BR" --config="$CONF" --stanza=main verify
LATEST=$(table_md5 $PORT)

# ---- Restore (full, then delta), started and queried ----
restore full 0
sed -i "s/^port = .*/port = 55902/; s/^archive_mode = .*/archive_mode = off/" "$IT_TMP/restore-full/postgresql.conf"
pg_start "$IT_TMP/restore-full"
if wait_promoted 55902; then
    expect_eq "restored cluster has the latest rows (archive-get over sftp)" "$(table_md5 55902)" "$LATEST"
else
    fail "restore full: no promotion" "$(tail -20 "$IT_TMP/restore-full.log")"
fi
must psql_at 55902 "DELETE FROM t WHERE id % 3 = 0"
must psql_at 55902 "CHECKPOINT"
pg_stop "$IT_TMP/restore-full"
expect_exit "restore --delta over the changed cluster" 0 "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$IT_TMP/restore-full" --delta restore
sed -i "s/^port = .*/port = 55902/; s/^archive_mode = .*/archive_mode = off/" "$IT_TMP/restore-full/postgresql.conf"
pg_start "$IT_TMP/restore-full"
if wait_promoted 55902; then
    expect_eq "delta restore brought the rows back" "$(table_md5 55902)" "$LATEST"
else
    fail "restore delta: no promotion" "$(tail -20 "$IT_TMP/restore-full.log")"
fi
pg_stop "$IT_TMP/restore-full"

# ---- The server gone mid-backup ----
must psql_at $PORT "CREATE TABLE big AS SELECT g, md5(g::text) || repeat('x', 200) AS pad FROM generate_series(1, 1500000) g"
must psql_at $PORT "CHECKPOINT"
touch "$IT_TMP/marker"
BEFORE=$(br info --output=json | grep -o '"label":"[0-9FDI_-]*"' | wc -l)
"${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main --start-fast --type=full --compress-type=none backup \
    >"$IT_TMP/killed.out" 2>&1 &
BPID=$!
# Stopped once the backup has stored a few files (newer than the marker).
for _ in $(seq 1 300); do
    [ "$(find "$REPO/backup/main" -mindepth 2 -type f -newer "$IT_TMP/marker" 2>/dev/null | wc -l)" -gt 3 ] && break
    sleep 0.1
done
expect_eq "the backup was running when the server stopped" "$(kill -0 $BPID 2>/dev/null && echo running)" "running"
bash "$SSHD" stop "$SSHD_DIR"
wait $BPID
RC=$?
expect_eq "backup with the server stopped: NetworkError" "$RC" "44"
expect_contains "it names the server and what to do" "$(cat "$IT_TMP/killed.out")" \
    "SFTP server 127.0.0.1:55900: connection lost"
must bash "$SSHD" start "$SSHD_DIR" 55900
expect_eq "the broken backup is not in info" "$(br info --output=json | grep -o '"label":"[0-9FDI_-]*"' | wc -l)" "$BEFORE"
TMP_LEFT=$(find "$REPO" -name '*.tmp' | wc -l)
expect_exit "verify after the broken backup" 0 "$BR" --config="$CONF" --stanza=main verify
expect_exit "next backup succeeds (process-max=4)" 0 "$BR" --config="$CONF" --stanza=main --start-fast --type=full \
    --compress-type=none --process-max=4 backup
echo "# $(grep -o 'backup [0-9FDI_-]*: full.*' <<<"$OUT")"
echo "# the stopped one (process-max=1): $(grep -E 'ERROR' "$IT_TMP/killed.out")"
expect_eq "one more backup in info" "$(br info --output=json | grep -o '"label":"[0-9FDI_-]*"' | wc -l)" "$((BEFORE + 1))"
LAST=$(br info --output=json | grep -o '"label":"[0-9FDI_-]*"' | tail -1 | cut -d'"' -f4)
expect_eq "no .tmp file is part of the new backup's manifest" \
    "$(as_pg "$BR" --config="$CONF" --stanza=main --set="$LAST" info --output=json | grep -c '\.tmp"')" "0"
echo "# .tmp files left by the broken backup before the next one: $TMP_LEFT; now: $(find "$REPO" -name '*.tmp' | wc -l)"

# ---- expire ----
expect_exit "expire keeping one full" 0 "$BR" --config="$CONF" --stanza=main --repo1-retention-full=1 expire
expect_eq "the older fulls are gone (sftp ls)" "$(sftp_batch "ls -1 $REPO/backup/main" | grep -c "$FULL")" "0"
expect_eq "info has the last full only" "$(br info --output=json | grep -o '"label":"[0-9FDI_-]*"' | cut -d'"' -f4)" "$LAST"
expect_exit "verify after expire" 0 "$BR" --config="$CONF" --stanza=main verify
