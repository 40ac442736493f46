#!/usr/bin/env bash
# Repository encryption, the key side (issue 18): the cipher options and their refusals, an
# encrypted stanza-create, the passphrase opening the key before anything is written, metadata
# sealed (no plaintext identity in any info file or manifest), stanza-rekey, and kill -9 during
# rekeys leaving exactly one passphrase working.
set -u
SUITE=encryption_key
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

REPO=$IT_TMP/repo
PASS_A="correct horse battery staple"
PASS_B="Tr0ub4dor&3-new"
# The passphrase comes from the environment (the server's archive_command inherits it).
export BACKREST_REPO1_CIPHER_PASS="$PASS_A"
it_primary_without_stanza 56000 repo1-cipher-type=aes-256-gcm

listing() { (cd "$REPO" && find . -type f -printf '%p %s %T@\n' | sort | md5sum); }
metadata_files() { find "$REPO" -type f \( -name 'backup.info*' -o -name 'archive.info*' -o -name 'backup.manifest*' \
    -o -name 'backup.resume*' \); }
conf_with() {  # file mode lines...: a config file of its own
    local file=$1 mode=$2
    shift 2
    { cat "$CONF"; printf '%s\n' "$@"; } >"$file"
    chmod "$mode" "$file"
    chown postgres "$file"
}

# --- options -------------------------------------------------------------------------------------
conf_with "$IT_TMP/cbc.conf" 0640 "[global:info]" "repo1-cipher-type=aes-256-cbc"
expect_exit "aes-256-cbc (a carried-over pgbackrest.conf) is an option error" 21 \
    "$BR" --config="$IT_TMP/cbc.conf" --stanza=main info
expect_contains "... saying backrest's encryption is authenticated AES-256-GCM" "$OUT" "authenticated AES-256-GCM only"
expect_contains "... and what to set" "$OUT" "set repo1-cipher-type=aes-256-gcm"
conf_with "$IT_TMP/world.conf" 0644 "repo1-cipher-pass=$PASS_A"
expect_exit "cipher-pass in a world-readable config file is refused" 22 "$BR" --config="$IT_TMP/world.conf" --stanza=main info
expect_contains "... naming the file, its mode and the chmod" "$OUT" \
    "config file '$IT_TMP/world.conf' holds a repository passphrase (cipher-pass) but has mode 0644"
expect_contains "... chmod 640" "$OUT" "chmod 640 $IT_TMP/world.conf"
expect_eq "... the passphrase is not in the error" "$(grep -c "$PASS_A" <<<"$OUT")" "0"
expect_exit "cipher-pass on the command line is refused" 21 \
    env -u BACKREST_REPO1_CIPHER_PASS "$BR" --config="$CONF" --stanza=main --repo1-cipher-pass=clipass1234 info
expect_contains "... as a secret" "$OUT" "option 'repo1-cipher-pass' is a secret"
expect_eq "... the passphrase is not echoed" "$(grep -c clipass1234 <<<"$OUT")" "0"
# pgBackRest's spelling is read when ours is absent (issue 20); both, different, is refused.
expect_exit "PGBACKREST_REPO1_CIPHER_PASS beside a different BACKREST_ one is refused" 21 \
    env PGBACKREST_REPO1_CIPHER_PASS=x "$BR" --config="$CONF" --stanza=main info
expect_contains "... naming both variables" "$OUT" \
    "environment variables BACKREST_REPO1_CIPHER_PASS and PGBACKREST_REPO1_CIPHER_PASS both set"
expect_eq "... and neither passphrase" "$(grep -c "$PASS_A" <<<"$OUT")" "0"
expect_exit "PGBACKREST_REPO1_CIPHER_PASS alone opens the stanza" 0 \
    env -u BACKREST_REPO1_CIPHER_PASS PGBACKREST_REPO1_CIPHER_PASS="$PASS_A" "$BR" --config="$CONF" \
    --stanza=main info

# --- stanza-create --------------------------------------------------------------------------------
expect_exit "stanza-create without a passphrase" 37 env -u BACKREST_REPO1_CIPHER_PASS "$BR" --config="$CONF" \
    --stanza=main stanza-create
expect_contains "... says which option" "$OUT" "repo1-cipher-pass is not set"
expect_eq "... and writes nothing" "$(find "$REPO" -type f 2>/dev/null | wc -l)" "0"
expect_exit "stanza-create encrypted" 0 "$BR" --config="$CONF" --stanza=main stanza-create
expect_eq "backup.info starts with its key envelope" "$(head -c 16 "$REPO/backup/main/backup.info")" '{"key-envelope":'
expect_eq "archive.info.copy too" "$(head -c 16 "$REPO/archive/main/archive.info.copy")" '{"key-envelope":'
expect_exit "stanza-create again: nothing to do" 0 "$BR" --config="$CONF" --stanza=main stanza-create
expect_contains "... it exists" "$OUT" "already exists"
expect_exit "stanza-create with cipher-type none on the encrypted stanza" 37 env -u BACKREST_REPO1_CIPHER_PASS \
    "$BR" --config="$CONF" --stanza=main --repo1-cipher-type=none stanza-create
expect_contains "... names both settings" "$OUT" "is encrypted with aes-256-gcm"
expect_contains "... and the setting in use" "$OUT" "but repo1-cipher-type is none"

expect_exit "info on the encrypted stanza" 0 "$BR" --config="$CONF" --stanza=main info
expect_contains "info shows the cipher" "$OUT" "cipher: aes-256-gcm"
expect_contains "... and the key generation" "$OUT" "generation 1)"
expect_exit "info --output=json" 0 "$BR" --config="$CONF" --stanza=main info --output=json
expect_eq "info json: cipher and key-generation" \
    "$(python3 -c 'import json,sys; s=json.loads(sys.argv[1])[0]; print(s["cipher"], s["key-generation"])' "$OUT")" \
    "aes-256-gcm 1"
conf_with "$IT_TMP/filepass.conf" 0640 "repo1-cipher-pass=$PASS_A"
expect_exit "a group-readable (0640) config file holding the passphrase is read" 0 \
    env -u BACKREST_REPO1_CIPHER_PASS "$BR" --config="$IT_TMP/filepass.conf" --stanza=main info
expect_exit "no passphrase: a clear error" 37 env -u BACKREST_REPO1_CIPHER_PASS "$BR" --config="$CONF" --stanza=main info
expect_contains "... naming the option" "$OUT" "is encrypted (key "
expect_contains "... and where to set it" "$OUT" "BACKREST_REPO1_CIPHER_PASS"

# --- a backup, WAL, a restore ----------------------------------------------------------------------
must psql_at $PORT "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 5000) g"
must psql_at $PORT "SELECT pg_switch_wal()"
expect_exit "backup of the encrypted stanza" 0 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast
LABEL=$(ls "$REPO/backup/main" | grep 'F$' | head -1)
expect_eq "its manifest is sealed (no plaintext JSON)" "$(head -c 4 "$REPO/backup/main/$LABEL/backup.manifest")" "BRS1"
SYSID=$("$PGBIN/pg_controldata" "$DATA" | awk -F: '/system identifier/ {gsub(/ /, "", $2); print $2}')
LEAKS=$(metadata_files | xargs grep -l -e "$SYSID" -e '"backup-label"' -e 'db-version' -e '"label"' -e "$LABEL" 2>/dev/null)
expect_eq "no metadata file holds the system identifier, a label or db-version in plaintext" "$LEAKS" ""
expect_eq "there are metadata files to look at ($(metadata_files | wc -l))" "$([ "$(metadata_files | wc -l)" -ge 6 ] && echo yes)" "yes"
must psql_at $PORT "INSERT INTO t SELECT g, 'after' FROM generate_series(5001, 6000) g"
must psql_at $PORT "SELECT pg_switch_wal()"
restore enc 0
must chmod 0700 "$IT_TMP/restore-enc"
sed -i "s/^port = .*/port = 56001/" "$IT_TMP/restore-enc/postgresql.conf"
sed -i "/^archive_command/d; /^archive_mode/d" "$IT_TMP/restore-enc/postgresql.conf"
pg_start "$IT_TMP/restore-enc"
wait_promoted 56001
expect_eq "the restore of the encrypted stanza replays to the end (rows)" "$(psql_at 56001 'SELECT count(*) FROM t')" "6000"
pg_stop "$IT_TMP/restore-enc"

# --- a wrong passphrase fails before anything is written -------------------------------------------
WAL=$(ls "$DATA/pg_wal" | grep -E '^[0-9A-F]{24}$' | sort | tail -1)
BEFORE=$(listing)
expect_exit "backup with a wrong passphrase" 37 env BACKREST_REPO1_CIPHER_PASS=wrong-pass "$BR" --config="$CONF" \
    --stanza=main backup --type=full --start-fast
expect_contains "... says the passphrase does not open the key" "$OUT" \
    "repo1-cipher-pass does not open the key of '$REPO/backup/main/backup.info'"
expect_eq "... and the passphrase is in no error" "$(grep -c wrong-pass <<<"$OUT")" "0"
expect_exit "archive-push with a wrong passphrase" 37 env BACKREST_REPO1_CIPHER_PASS=wrong-pass "$BR" --config="$CONF" \
    --stanza=main archive-push "$DATA/pg_wal/$WAL"
expect_exit "expire with a wrong passphrase" 37 env BACKREST_REPO1_CIPHER_PASS=wrong-pass "$BR" --config="$CONF" \
    --stanza=main --repo1-retention-full=1 expire
expect_exit "restore with a wrong passphrase" 37 env BACKREST_REPO1_CIPHER_PASS=wrong-pass "$BR" --config="$CONF" \
    --stanza=main --pg1-path="$IT_TMP/restore-wrong" restore
absent wrong
expect_eq "the repository is unchanged after the wrong-passphrase backup, push, expire, restore" "$(listing)" "$BEFORE"

# --- rekey -----------------------------------------------------------------------------------------
expect_exit "stanza-rekey without a new passphrase" 21 "$BR" --config="$CONF" --stanza=main stanza-rekey
expect_contains "... names where to set it" "$OUT" "BACKREST_REPO1_CIPHER_PASS_NEW"
expect_exit "stanza-rekey with the new passphrase on the command line is refused" 21 \
    "$BR" --config="$CONF" --stanza=main --repo1-cipher-pass-new=x stanza-rekey
DATA_BEFORE=$(cd "$REPO" && find . -type f ! -name 'backup.info*' ! -name 'archive.info*' -printf '%p %s %T@\n' | sort | md5sum)
T0=$(date +%s%N)
expect_exit "stanza-rekey" 0 env BACKREST_REPO1_CIPHER_PASS_NEW="$PASS_B" "$BR" --config="$CONF" --stanza=main stanza-rekey
REKEY_MS=$((($(date +%s%N) - T0) / 1000000))
expect_contains "... reports generation 2" "$OUT" "(generation 2)"
expect_eq "... no file but the info files was touched" \
    "$(cd "$REPO" && find . -type f ! -name 'backup.info*' ! -name 'archive.info*' -printf '%p %s %T@\n' | sort | md5sum)" \
    "$DATA_BEFORE"
expect_exit "the old passphrase is refused after the rekey" 37 "$BR" --config="$CONF" --stanza=main info
expect_contains "... does not open the key" "$OUT" "repo1-cipher-pass does not open the key"
expect_exit "the new passphrase works" 0 env BACKREST_REPO1_CIPHER_PASS="$PASS_B" "$BR" --config="$CONF" --stanza=main info
expect_contains "... info shows generation 2" "$OUT" "generation 2)"
expect_exit "the new passphrase restores the old backup" 0 env BACKREST_REPO1_CIPHER_PASS="$PASS_B" "$BR" \
    --config="$CONF" --stanza=main --pg1-path="$IT_TMP/restore-rekeyed" restore
# The server's archive_command takes the passphrase from the server's environment.
pg_stop "$DATA"
BACKREST_REPO1_CIPHER_PASS="$PASS_B" pg_start "$DATA"
expect_exit "a backup after the rekey (keeps the new envelope)" 0 env BACKREST_REPO1_CIPHER_PASS="$PASS_B" "$BR" \
    --config="$CONF" --stanza=main backup --type=incr --start-fast
expect_exit "... the new passphrase still opens it" 0 env BACKREST_REPO1_CIPHER_PASS="$PASS_B" "$BR" --config="$CONF" --stanza=main info
expect_contains "... at generation 2" "$OUT" "generation 2)"

# --- kill -9 during rekeys ---------------------------------------------------------------------------
works() { as_pg env BACKREST_REPO1_CIPHER_PASS="$1" "$BR" --config="$CONF" --stanza=main info >/dev/null 2>&1 && echo 1 || echo 0; }
OLD=$PASS_B
BAD=0
BAD_FINISH=0
KILLED=0
NEW_COUNTED=0
for i in $(seq 1 20); do
    NEW="pass-round-$i-$RANDOM"
    "${PG_EXEC[@]}" env BACKREST_REPO1_CIPHER_PASS="$OLD" BACKREST_REPO1_CIPHER_PASS_NEW="$NEW" \
        "$BR" --config="$CONF" --stanza=main stanza-rekey >/dev/null 2>&1 &
    pid=$!
    # Random points over a whole rekey (two scrypts, then four writes): ~0-300 ms unloaded.
    ms=$((RANDOM % (REKEY_MS + 50)))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    kill -9 $pid 2>/dev/null && KILLED=$((KILLED + 1))
    wait $pid 2>/dev/null
    a=$(works "$OLD")
    b=$(works "$NEW")
    [ "$b" = 1 ] && NEW_COUNTED=$((NEW_COUNTED + 1))
    if [ $((a + b)) -ne 1 ]; then
        BAD=$((BAD + 1))
        echo "# round $i: old works=$a new works=$b"
    fi
    # A second rekey finishes the job whichever passphrase counts now.
    if ! as_pg env BACKREST_REPO1_CIPHER_PASS="$OLD" BACKREST_REPO1_CIPHER_PASS_NEW="$NEW" \
        "$BR" --config="$CONF" --stanza=main stanza-rekey >/dev/null 2>&1 ||
        [ "$(works "$NEW")$(works "$OLD")" != "10" ]; then
        BAD_FINISH=$((BAD_FINISH + 1))
        echo "# round $i: the second rekey did not finish"
    fi
    OLD=$NEW
done
echo "# a rekey took $REKEY_MS ms; $KILLED of 20 rekeys killed mid-way; after $NEW_COUNTED of them the new passphrase was the one working"
expect_eq "20 rekeys killed at random points: exactly one passphrase works after each" "$BAD" "0"
expect_eq "... and a second rekey finishes each" "$BAD_FINISH" "0"
expect_exit "the last passphrase still restores the first backup" 0 env BACKREST_REPO1_CIPHER_PASS="$OLD" "$BR" \
    --config="$CONF" --stanza=main --pg1-path="$IT_TMP/restore-last" --set="$LABEL" restore
expect_exit "verify with the last passphrase" 0 env BACKREST_REPO1_CIPHER_PASS="$OLD" "$BR" --config="$CONF" \
    --stanza=main verify

# --- a plain repository and cipher settings -----------------------------------------------------------
PLAIN_CONF=$IT_TMP/plain.conf
sed "s#^repo1-path=.*#repo1-path=$IT_TMP/plainrepo#; /^repo1-cipher-type/d" "$CONF" >"$PLAIN_CONF"
chmod 0644 "$PLAIN_CONF"
expect_exit "stanza-create of a plain stanza (cipher-type none, no passphrase)" 0 env -u BACKREST_REPO1_CIPHER_PASS \
    "$BR" --config="$PLAIN_CONF" --stanza=main stanza-create
expect_eq "... its backup.info is plain JSON as before" "$(head -c 2 "$IT_TMP/plainrepo/backup/main/backup.info")" '{"'
expect_exit "aes-256-gcm on the plain stanza" 37 env -u BACKREST_REPO1_CIPHER_PASS "$BR" --config="$PLAIN_CONF" \
    --stanza=main --repo1-cipher-type=aes-256-gcm info
expect_contains "... says it is not encrypted" "$OUT" "is not encrypted"
expect_exit "a passphrase with cipher-type none" 37 "$BR" --config="$PLAIN_CONF" --stanza=main info
expect_contains "... says so" "$OUT" "repo1-cipher-pass is set but repo1-cipher-type is none"
