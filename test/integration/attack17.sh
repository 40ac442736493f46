#!/usr/bin/env bash
# Issue 17 attacked from outside: a DBA's mistakes and accidents against an S3 repository on
# Ceph's radosgw (scripts/test-servers/radosgw.sh), each a defect found on main and fixed.
#   1. A bucket that does not exist: info said "missing stanza data (run stanza-create)" with
#      exit 0 and verify "stanza does not exist"; now RepoStorageError naming the bucket.
#   2. Two hosts (two lock-paths) backing up one stanza in the same second chose the same label,
#      wrote into the same objects and both reported success (info listed the label twice).
#      Then, on a CI run, both withdrew in every round and no backup was taken: one must go on.
#   3. A backup started on a second host while the first host's backup ran removed the running
#      backup's directory as "incomplete (interrupted)".
# Ports: radosgw 55960 (monitor 55961), cluster 55964.
set -u
SUITE=attack17
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

RGW_SH=$(cd "$(dirname "$0")/../../scripts/test-servers" && pwd)/radosgw.sh
RGW_DIR=$IT_TMP/rgw
trap 'bash "$RGW_SH" stop "$RGW_DIR" >/dev/null 2>&1; it_finish' EXIT
must bash "$RGW_SH" start "$RGW_DIR" 55960
# shellcheck disable=SC1091
. "$RGW_DIR/env"
install -m 0644 "$S3_CA" "$IT_TMP/ca.pem"

aws_s3() {
    AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET AWS_DEFAULT_REGION=$S3_REGION \
        /usr/bin/aws --endpoint-url "https://127.0.0.1:$S3_PORT" --ca-bundle "$IT_TMP/ca.pem" "$@"
}

PORT=55964
DATA=$IT_TMP/primary
s3_conf() {  # file lock-path [more lines...]
    local file=$1 lock=$2
    shift 2
    {
        printf '[global]\nrepo1-type=s3\nrepo1-path=/repo\nrepo1-s3-endpoint=%s\n' "$S3_ENDPOINT"
        printf 'repo1-storage-port=%s\nrepo1-s3-uri-style=path\nrepo1-s3-region=%s\n' "$S3_PORT" "$S3_REGION"
        printf 'repo1-storage-ca-file=%s\nrepo1-s3-key=%s\nrepo1-s3-key-secret=%s\n' "$IT_TMP/ca.pem" "$S3_KEY" \
            "$S3_SECRET"
        # Two backups and the archiver share one radosgw on a loaded CI machine: the stop segment
        # of a backup may wait behind the other's WAL (a CI run timed out at the default 60 s).
        printf 'lock-path=%s\nlog-level-console=warn\nrepo1-retention-full=9\narchive-timeout=300\n' "$lock"
        local line
        for line in "$@"; do printf '%s\n' "$line"; done
        pg1_stanza
    } | it_conf "$file" 0600
}
CONF=$IT_TMP/host1.conf
CONF2=$IT_TMP/host2.conf
s3_conf "$CONF" "$IT_TMP/lock1" "repo1-s3-bucket=$S3_BUCKET"
s3_conf "$CONF2" "$IT_TMP/lock2" "repo1-s3-bucket=$S3_BUCKET"
pg_archiving "$DATA" $PORT "$(archive_push_to "$BR" "$CONF" main)"
must br stanza-create
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 30 -q postgres
labels() { br info --output=json | grep -o '"label":"[^"]*"' | cut -d'"' -f4; }

# ---- 1. A bucket that does not exist -------------------------------------------------------------
s3_conf "$IT_TMP/nobucket.conf" "$IT_TMP/lock1" "repo1-s3-bucket=no-such-bucket"
expect_exit "info on a bucket that does not exist: RepoStorageError" 46 \
    "$BR" --config="$IT_TMP/nobucket.conf" --stanza=main info
expect_contains "... naming the bucket and the option" "$OUT" \
    "has no bucket 'no-such-bucket' (S3 error NoSuchBucket): check repo1-s3-bucket"
expect_exit "verify on a bucket that does not exist: RepoStorageError" 46 \
    "$BR" --config="$IT_TMP/nobucket.conf" --stanza=main verify
expect_contains "... not 'run stanza-create'" "$OUT" "has no bucket 'no-such-bucket'"
expect_exit "archive-get on a bucket that does not exist: 255 (recovery stops)" 255 \
    "$BR" --config="$IT_TMP/nobucket.conf" --stanza=main archive-get 000000010000000000000002 "$IT_TMP/x"
# (The first object read is an info file: every command reads backup.info and archive.info to
# learn whether the repository is encrypted.)
expect_contains "... naming the bucket" "$OUT" "RepoStorageError: GET 's3://no-such-bucket/repo/"
expect_contains "... saying the bucket is missing" "$OUT" "has no bucket 'no-such-bucket'"

# ---- 2. Two hosts, two lock-paths, one second ----------------------------------------------------
# Both started at the same instant (just after a second begins), three rounds: on main every round
# gave both backups the same label.
DUP=0
BOTH_OK_SAME=0
NONE_OK=0
OK_LABELS=
for round in 1 2 3; do
    python3 -c 'import time; time.sleep(1.05 - time.time() % 1)'
    "${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast >"$IT_TMP/h1.$round" 2>&1 &
    P1=$!
    "${PG_EXEC[@]}" "$BR" --config="$CONF2" --stanza=main backup --type=full --start-fast >"$IT_TMP/h2.$round" 2>&1 &
    P2=$!
    wait $P1; R1=$?
    wait $P2; R2=$?
    # The label each stored, from its closing summary: a backup that lost a claim first logs the
    # label it gave up ("another backup claimed the label ..."), then takes a later one.
    L1=$(grep -o '^backup [0-9]\{8\}-[0-9]\{6\}F: full,' "$IT_TMP/h1.$round" | tail -1)
    L2=$(grep -o '^backup [0-9]\{8\}-[0-9]\{6\}F: full,' "$IT_TMP/h2.$round" | tail -1)
    [ "$R1" -eq 0 ] && [ "$R2" -eq 0 ] && [ "$L1" == "$L2" ] && BOTH_OK_SAME=$((BOTH_OK_SAME + 1))
    # Two that both complete rewrite backup.info at about the same moment: neither may be lost
    # (a CI run listed one of two; repo/backup_listing.h).
    [ "$R1" -eq 0 ] && OK_LABELS+=" $(cut -d' ' -f2 <<<"${L1%:*}")"
    [ "$R2" -eq 0 ] && OK_LABELS+=" $(cut -d' ' -f2 <<<"${L2%:*}")"
    [ "$R1" -ne 0 ] && [ "$R2" -ne 0 ] && NONE_OK=$((NONE_OK + 1))
    for r in 1 2; do
        rc=$R1 && [ $r -eq 2 ] && rc=$R2
        if [ "$rc" -ne 0 ]; then
            expect_eq "round $round host $r: a backup that lost the label race exits 29 (LockAcquireError)" "$rc" "29"
            expect_contains "... saying why" "$(cat "$IT_TMP/h$r.$round")" \
                "chose the same label at the same moment and is writing 's3://$S3_BUCKET/repo/backup/main/"
        fi
    done
done
expect_eq "two hosts never both succeed with one label" "$BOTH_OK_SAME" "0"
expect_eq "in every round one of the two backups was taken" "$NONE_OK" "0"
UNLISTED=
for label in $OK_LABELS; do grep -qxF "$label" <<<"$(labels)" || UNLISTED+=" $label"; done
expect_eq "every backup that said it completed is listed (of:$OK_LABELS)" "$UNLISTED" ""
echo "# backups that found backup.info rewritten without them and listed themselves again:" \
    "$(cat "$IT_TMP"/h[12].* | grep -c 'listing it again')"
DUP=$(labels | sort | uniq -d | wc -l)
expect_eq "info lists no label twice" "$DUP" "0"
# One verify (each costs ~1000 GETs): the newest, which a mixed write would have hit.
NEWEST=$(labels | tail -1)
expect_exit "the newest backup ($NEWEST) verifies" 0 "$BR" --config="$CONF" --stanza=main verify --set="$NEWEST" \
    --process-max=4
expect_eq "no claim left in a committed backup" \
    "$(aws_s3 s3 ls --recursive "s3://$S3_BUCKET/repo/backup/main/" | grep -c 'backup.claim')" "0"

# ---- 3. A second host's backup while the first one runs ------------------------------------------
# Backup directories only (backup.history/ is there too once a backup completed).
backup_dirs() {
    aws_s3 s3 ls "s3://$S3_BUCKET/repo/backup/main/" | awk '/PRE/ {print $2}' | tr -d / |
        grep -E '^[0-9]{8}-[0-9]{6}F'
}
# Every directory before it, listed or not: a round above that lost its label can leave an
# incomplete one (071017F in a CI run), which is not the running backup.
BEFORE=$(backup_dirs)
# Uncompressed, one process: the 480 MB copy lasts seconds.
"${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast --compress-type=none \
    --process-max=1 >"$IT_TMP/long.out" 2>&1 &
LONG=$!
RUNNING=
for _ in $(seq 120); do
    RUNNING=$(backup_dirs | grep -vxF "$BEFORE" | head -1)
    [ -n "$RUNNING" ] && break
    sleep 0.2
done
expect_eq "the first host's backup is running when the second starts" \
    "$(kill -0 $LONG 2>/dev/null && [ -n "$RUNNING" ] && echo running)" "running"
# Held (SIGSTOP) while the second runs: under CI load it once finished before the second looked
# at the repository, and there was no running backup left to leave alone.
kill -STOP $LONG
expect_exit "the second host's backup" 0 "$BR" --config="$CONF2" --stanza=main backup --type=full --start-fast
SECOND=$OUT
kill -CONT $LONG
wait $LONG
RC=$?
expect_eq "the first host's backup succeeds" "$RC" "0"
[ "$RC" -eq 0 ] || printf '# the first host said: %s\n' "$(cat "$IT_TMP/long.out")"
expect_eq "the second host did not remove the running backup $RUNNING" \
    "$(grep -c "removing incomplete backup $RUNNING" <<<"$SECOND")" "0"
expect_contains "... it said it left it alone" "$SECOND" "leaving incomplete backup $RUNNING alone"
expect_contains "$RUNNING is listed" "$(labels)" "$RUNNING"
expect_exit "the first host's backup $RUNNING verifies" 0 "$BR" --config="$CONF" --stanza=main verify \
    --set="$RUNNING" --process-max=4
