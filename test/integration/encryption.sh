#!/usr/bin/env bash
# An encrypted repository (repo1-cipher-type=aes-256-gcm) on posix, end to end: full, diff and
# incr backups of files stored one by one (stanza 'main', repo1-bundle=n) and bundled,
# block-incremental backups (stanza 'bund'); archive-push and archive-get; restores to latest,
# delta and to a time between two commits, each started and its data compared; verify.
# Nothing stored is readable: no file starts with the zstd magic or holds PG_VERSION,
# backup_label, START WAL LOCATION, the system identifier or a row's text; the passphrase is in
# no output, no PostgreSQL log and no command line while a backup runs. Damage — a flipped byte
# in a data file, a bundle, a WAL segment, a manifest, backup.info (both copies); a truncated
# file; two data files, two WAL segments or two frames of a file swapped — each fails by name,
# and no restored directory can start. A wrong passphrase writes nothing.
set -u
SUITE=encryption
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup
source "$(dirname "$0")/lib_encryption.sh"

PORT=56010
DATA=$IT_TMP/primary
CONF=$IT_TMP/backrest.conf
REPO=$IT_TMP/repo
REPOB=$IT_TMP/repo-bund
PASS='encsuite-Passphrase-71c4e2'
ROW_TEXT='enc-row-text-5b9e1d77'
# A config file holding a passphrase is readable by its owner (and group) only.
write_conf() {  # file passphrase
    it_conf "$1" 0640 <<CONF
[global]
lock-path=$IT_TMP/lock
process-max=2
log-level-console=warn
repo1-cipher-type=aes-256-gcm
repo1-cipher-pass=$2
$(pg1_lines)

[main]
repo1-path=$REPO
repo1-bundle=n

[bund]
repo1-path=$REPOB
repo1-bundle=y
repo1-block=y
CONF
}
write_conf "$CONF" "$PASS"
br() { local stanza=$1; shift; as_pg "$BR" --config="$CONF" --stanza="$stanza" "$@"; }
labels() { br "$1" info --output=json | grep -o '"label":"[0-9FDI_-]*"' | cut -d'"' -f4 | tr '\n' ' '; }
latest_label() { labels "$1" | tr ' ' '\n' | grep . | tail -1; }

pg_archiving "$DATA" $PORT "$(archive_push_to "$BR" "$CONF" main bund)"
expect_exit_k "stanza-create main (encrypted)" 0 "$BR" --config="$CONF" --stanza=main stanza-create
expect_exit_k "stanza-create bund (encrypted)" 0 "$BR" --config="$CONF" --stanza=bund stanza-create
expect_exit_k "check archives through the encrypted stanzas" 0 "$BR" --config="$CONF" --stanza=main check

# pgbench_accounts at scale 3 is ~39 MiB: stored as five 8 MiB frames.
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 3 -q postgres
must psql_at $PORT "CREATE TABLE marker (id int primary key, note text);
    INSERT INTO marker SELECT g, '$ROW_TEXT' FROM generate_series(1, 50) g"
ACCOUNTS=$(psql_at $PORT "SELECT pg_relation_filepath('pgbench_accounts')")
SYSID=$(as_pg "$PGBIN/pg_controldata" -D "$DATA" | sed -n 's/^Database system identifier: *//p')
SNAPSHOT_SQL="SELECT (SELECT count(*) || ':' || md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts)
  || ' ' || (SELECT count(*) || ':' || coalesce(sum(delta), 0) FROM pgbench_history)
  || ' ' || (SELECT count(*) || ':' || md5(coalesce(string_agg(id || ':' || note, ',' ORDER BY id), '')) FROM marker)"
snapshot() { psql_at "$1" "$SNAPSHOT_SQL"; }

# --- backups -------------------------------------------------------------------------------
# The full backup of 'main' is watched: no process shows the passphrase in its command line.
"${PG_EXEC[@]}" "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast >"$IT_TMP/full.out" 2>&1 &
BPID=$!
SEEN=0
SAMPLES=0
while kill -0 $BPID 2>/dev/null; do
    n=$(processes_with "$PASS")
    SEEN=$((SEEN + n))
    SAMPLES=$((SAMPLES + 1))
    sleep 0.05
done
wait $BPID
RC=$?
OUT=$(cat "$IT_TMP/full.out")
keep
expect_eq "full backup (main) exit" "$RC" 0
expect_eq "no command line held the passphrase while the backup ran ($SAMPLES samples)" "$SEEN" 0
FULL=$(latest_label main)
SNAP_FULL=$(snapshot $PORT)

must psql_at $PORT "INSERT INTO marker SELECT g, 'diff' FROM generate_series(51, 150) g"
expect_exit_k "diff backup (main)" 0 "$BR" --config="$CONF" --stanza=main backup --type=diff --start-fast
DIFF=$(latest_label main)
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -c 2 -t 200 -n postgres
expect_exit_k "incr backup (main)" 0 "$BR" --config="$CONF" --stanza=main backup --type=incr --start-fast
INCR=$(latest_label main)
SNAP_INCR=$(snapshot $PORT)

expect_exit_k "full backup (bund: bundles and blocks)" 0 "$BR" --config="$CONF" --stanza=bund backup --type=full \
    --start-fast
BFULL=$(latest_label bund)
expect_eq "the bundled full stores bundles" "$(find "$REPOB/backup/bund/$BFULL/bundle" -type f 2>/dev/null | wc -l | \
    awk '{print ($1 > 0) ? "yes" : "no"}')" "yes"
BLOCKS=$(find "$REPOB/backup/bund/$BFULL/pg_data" -path "*/${ACCOUNTS}.blocks*" | head -1)
expect_eq "the block full stores pgbench_accounts as blocks" \
    "$(find "$REPOB/backup/bund/$BFULL/pg_data" -path "*/${ACCOUNTS}.blocks*" | wc -l)" "1"
must psql_at $PORT "UPDATE pgbench_accounts SET abalance = abalance + 7 WHERE aid % 3000 = 0; CHECKPOINT"
expect_exit_k "block incr (bund)" 0 "$BR" --config="$CONF" --stanza=bund backup --type=incr --start-fast
BINCR=$(latest_label bund)
SNAP_BINCR=$(snapshot $PORT)

expect_eq "main lists full, diff and incr" "$(labels main | wc -w)" "3"
expect_eq "bund lists full and incr" "$(labels bund | wc -w)" "2"

# --- a time between two commits ------------------------------------------------------------
must psql_at $PORT "INSERT INTO marker SELECT g, 'A' FROM generate_series(1001, 1100) g"
sleep 1.1
TIME_TARGET=$(psql_at $PORT "SELECT clock_timestamp()")
SNAP_TIME=$(snapshot $PORT)
sleep 1.1
must psql_at $PORT "INSERT INTO marker SELECT g, 'B' FROM generate_series(1101, 1200) g"
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -c 2 -t 100 -n postgres
SNAP_LATEST=$(snapshot $PORT)
expect_eq "the recorded states differ" "$(printf '%s\n' "$SNAP_FULL" "$SNAP_INCR" "$SNAP_BINCR" "$SNAP_TIME" \
    "$SNAP_LATEST" | sort -u | wc -l)" "5"

# --- archive-push / archive-get ------------------------------------------------------------
# A segment archived through archive_command, still in pg_wal: the reference bytes.
SEG=$(psql_at $PORT "SELECT pg_walfile_name(pg_current_wal_lsn())")
must psql_at $PORT "SELECT pg_switch_wal()"
for _ in $(seq 1 120); do
    LAST=$(psql_at $PORT "SELECT last_archived_wal FROM pg_stat_archiver")
    [[ "$LAST" > "$SEG" || "$LAST" == "$SEG" ]] && break
    sleep 0.5
done
cp "$DATA/pg_wal/$SEG" "$IT_TMP/seg.orig"
expect_exit_k "archive-get (main)" 0 "$BR" --config="$CONF" --stanza=main archive-get "$SEG" "$IT_TMP/seg.main"
expect_eq "archive-get (main): the bytes PostgreSQL wrote" "$(cmp "$IT_TMP/seg.main" "$IT_TMP/seg.orig" && echo same)" same
expect_exit_k "archive-get (bund)" 0 "$BR" --config="$CONF" --stanza=bund archive-get "$SEG" "$IT_TMP/seg.bund"
expect_eq "archive-get (bund): the bytes PostgreSQL wrote" "$(cmp "$IT_TMP/seg.bund" "$IT_TMP/seg.orig" && echo same)" same
expect_exit_k "archive-get of a segment not archived exits 1" 1 "$BR" --config="$CONF" --stanza=main \
    archive-get 0000000100000099000000FF "$IT_TMP/seg.none"
expect_exit_k "check after the traffic" 0 "$BR" --config="$CONF" --stanza=main check

# --- restores ------------------------------------------------------------------------------
# Restores into $IT_TMP/restore-<name>, starts it on `port`, compares; the cluster is stopped.
restore_and_compare() {  # name port stanza expected-snapshot restore-args...
    local name=$1 port=$2 stanza=$3 want=$4
    shift 4
    local dir=$IT_TMP/restore-$name
    expect_exit_k "restore $name" 0 "$BR" --config="$CONF" --stanza="$stanza" --pg1-path="$dir" restore "$@"
    [ "$RC" -eq 0 ] || return
    printf 'port = %s\narchive_mode = off\n' "$port" >>"$dir/postgresql.conf"
    pg_start "$dir"
    if ! wait_promoted "$port"; then
        fail "restore $name: recovery did not finish" "$(tail -20 "$dir.log")"
        return
    fi
    expect_eq "restore $name: data equals the state at that point" "$(snapshot "$port")" "$want"
    pg_stop "$dir"
    expect_exit "restore $name: pg_checksums --check" 0 "$PGBIN/pg_checksums" --check -D "$dir"
}
restore_and_compare latest 56011 main "$SNAP_LATEST"
restore_and_compare time 56012 main "$SNAP_TIME" --type=time "--target=$TIME_TARGET" --target-action=promote
restore_and_compare full 56013 main "$SNAP_FULL" --set="$FULL" --type=immediate --target-action=promote
restore_and_compare bincr 56014 bund "$SNAP_BINCR" --set="$BINCR" --type=immediate --target-action=promote

# Delta over the restored latest: a relation file removed, pgbench_accounts' first page overwritten.
R=$IT_TMP/restore-latest
if [ -f "$R/PG_VERSION" ]; then
    as_pg rm -f "$R/base/"*/"$(psql_at $PORT "SELECT relfilenode FROM pg_class WHERE relname='marker'")"
    as_pg dd if=/dev/urandom of="$R/$ACCOUNTS" bs=8192 count=1 conv=notrunc status=none
    expect_exit_k "delta restore (main)" 0 "$BR" --config="$CONF" --stanza=main --pg1-path="$R" restore --delta
    printf 'port = %s\narchive_mode = off\n' 56011 >>"$R/postgresql.conf"
    pg_start "$R"
    if wait_promoted 56011; then
        expect_eq "delta-restored: data equals the latest state" "$(snapshot 56011)" "$SNAP_LATEST"
    else
        fail "delta restore: recovery did not finish" "$(tail -20 "$R.log")"
    fi
    pg_stop "$R"
else
    fail "delta restore: no restored latest to restore over"
fi

expect_exit_k "verify main" 0 "$BR" --config="$CONF" --stanza=main verify
expect_contains "verify main: 3 backups" "$OUT" "verify: 3 backups"
expect_exit_k "verify bund" 0 "$BR" --config="$CONF" --stanza=bund verify

# --- nothing readable ----------------------------------------------------------------------
for repo in "$REPO" "$REPOB"; do
    r=$(basename "$repo")
    FILES=$(find "$repo" -type f | sort)
    expect_eq "$r: files stored" "$([ "$(printf '%s\n' "$FILES" | wc -l)" -gt 20 ] && echo many)" "many"
    expect_eq "$r: the backup history is among them (checked below like every file)" \
        "$([ "$(grep -c '/backup\.history/[0-9]\{4\}/.*\.manifest\.zst$' <<<"$FILES")" -gt 0 ] && echo yes)" "yes"
    ZSTD=""
    PLAIN=""
    NOT_SEALED=""
    while read -r f; do
        [ "$(od -An -tx1 -N4 "$f" | tr -d ' ')" == "28b52ffd" ] && ZSTD+="$f "
        for s in PG_VERSION backup_label "START WAL LOCATION" "$SYSID" "$ROW_TEXT" "$PASS"; do
            grep -aqF -- "$s" "$f" && PLAIN+="$f holds '$s'"$'\n'
        done
        case $f in
        */backup.info | */backup.info.copy | */archive.info | */archive.info.copy) ;;
        *) [ "$(head -c 4 "$f")" == "BRS1" ] || NOT_SEALED+="$f"$'\n' ;;
        esac
    done <<<"$FILES"
    expect_eq "$r: no stored file starts with the zstd magic" "$ZSTD" ""
    expect_eq "$r: no stored file holds PG_VERSION, backup_label, START WAL LOCATION, the system id, a row" \
        "$PLAIN" ""
    expect_eq "$r: every stored file but the info files is a sealed unit" "$NOT_SEALED" ""
    expect_eq "$r: no stored file decompresses" \
        "$(while read -r f; do zstd -q -t "$f" 2>/dev/null && echo "$f"; done <<<"$FILES")" ""
done
expect_eq "the system identifier is known (the search above is not empty)" "${#SYSID}" "19"

# --- damage --------------------------------------------------------------------------------
# Each file damaged is saved first and put back after.
save() { cp -p "$1" "$IT_TMP/saved"; }
put_back() { cp -p "$IT_TMP/saved" "$1"; }
no_start() {  # name dir: the directory a failed restore left cannot start a cluster
    expect_eq "$1: no pg_control in the restored directory (it cannot start)" \
        "$(test -e "$2/global/pg_control" && echo present || echo absent)" "absent"
}
# main's full stores each file alone: a data file not framed (under 8 MiB), the largest of them.
STORED_FULL=$REPO/backup/main/$FULL
VICTIM=$(find "$STORED_FULL/pg_data/base" -type f -size -8M -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2)
VNAME=${VICTIM#"$STORED_FULL/"}
VNAME=${VNAME%.zst}

save "$VICTIM"
flip_byte "$VICTIM" $(($(stat -c %s "$VICTIM") / 2))
expect_fail "flipped byte in a data file: restore fails" "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$IT_TMP/r-flip" --set="$FULL" restore
expect_contains "flipped byte in a data file: the error names the file" "$OUT" "$VNAME"
no_start "flipped byte in a data file" "$IT_TMP/r-flip"
expect_fail "flipped byte in a data file: verify reports it" "$BR" --config="$CONF" --stanza=main verify
expect_contains "verify names the file" "$OUT" "$VNAME"
put_back "$VICTIM"

as_pg truncate -s $(($(stat -c %s "$VICTIM") - 100)) "$VICTIM"
expect_fail "truncated data file: restore fails" "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$IT_TMP/r-trunc" --set="$FULL" restore
expect_contains "truncated data file: the error names the file" "$OUT" "$VNAME"
no_start "truncated data file" "$IT_TMP/r-trunc"
expect_fail "truncated data file: verify reports it" "$BR" --config="$CONF" --stanza=main verify
expect_contains "verify names the truncated file" "$OUT" "$VNAME"
put_back "$VICTIM"

# Two stored data files of the same stored size: one copied onto the other's name.
read -r A B <<<"$(find "$STORED_FULL/pg_data/base" -type f -size -8M -printf '%s %p\n' | sort -n |
    awk '$1 == size { print prev, $2; exit } { size = $1; prev = $2 }')"
if [ -n "${B:-}" ]; then
    BNAME=${B#"$STORED_FULL/"}
    BNAME=${BNAME%.zst}
    save "$B"
    cp "$A" "$B"
    expect_fail "swapped data files: restore fails" "$BR" --config="$CONF" --stanza=main \
        --pg1-path="$IT_TMP/r-swap" --set="$FULL" restore
    expect_contains "swapped data files: the error names the file" "$OUT" "$BNAME"
    no_start "swapped data files" "$IT_TMP/r-swap"
    expect_fail "swapped data files: verify reports it" "$BR" --config="$CONF" --stanza=main verify
    expect_contains "verify names the swapped file" "$OUT" "$BNAME"
    put_back "$B"
else
    fail "setup: two stored data files of the same size in $FULL"
fi

# Two frames of pgbench_accounts (five 8 MiB frames) swapped in place.
FRAMED=$(ls "$STORED_FULL/pg_data/$ACCOUNTS"* 2>/dev/null | head -1)
expect_eq "pgbench_accounts is stored as 5 sealed units (frames)" "$(sealed_units "$FRAMED" | wc -l)" "5"
save "$FRAMED"
SWAPPED=$(swap_frames "$FRAMED")
echo "# swapped frames $SWAPPED of pg_data/$ACCOUNTS"
expect_fail "swapped frames: restore fails" "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$IT_TMP/r-frames" --set="$FULL" restore
expect_contains "swapped frames: the error names the file" "$OUT" "pg_data/$ACCOUNTS"
expect_contains "swapped frames: and the frame" "$OUT" "frame"
no_start "swapped frames" "$IT_TMP/r-frames"
expect_fail "swapped frames: verify reports it" "$BR" --config="$CONF" --stanza=main verify
expect_contains "verify names the file with swapped frames" "$OUT" "pg_data/$ACCOUNTS"
put_back "$FRAMED"

# A bundle of bund's full: a flipped byte in its middle.
BUNDLE=$(find "$REPOB/backup/bund/$BFULL/bundle" -type f -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2)
save "$BUNDLE"
flip_byte "$BUNDLE" $(($(stat -c %s "$BUNDLE") / 2))
expect_fail "flipped byte in a bundle: restore fails" "$BR" --config="$CONF" --stanza=bund \
    --pg1-path="$IT_TMP/r-bundle" --set="$BFULL" restore
expect_contains "flipped byte in a bundle: the error names the backup" "$OUT" "$BFULL"
expect_contains "flipped byte in a bundle: and a stored file" "$OUT" "pg_data/"
no_start "flipped byte in a bundle" "$IT_TMP/r-bundle"
expect_fail "flipped byte in a bundle: verify reports it" "$BR" --config="$CONF" --stanza=bund verify
expect_contains "verify names the damaged member" "$OUT" "pg_data/"
put_back "$BUNDLE"

# A block of the block full: a flipped byte.
save "$BLOCKS"
flip_byte "$BLOCKS" $(($(stat -c %s "$BLOCKS") / 2))
expect_fail "flipped byte in block frames: restore of the incr fails" "$BR" --config="$CONF" --stanza=bund \
    --pg1-path="$IT_TMP/r-blocks" --set="$BINCR" restore
expect_contains "flipped byte in block frames: the error names the file" "$OUT" "pg_data/$ACCOUNTS"
no_start "flipped byte in block frames" "$IT_TMP/r-blocks"
put_back "$BLOCKS"

# WAL: a flipped byte, a truncated segment, and a segment copied onto another's name. archive-get
# exits 255 (PostgreSQL aborts recovery), never 1 (the end of the archive: a silent early promote).
WALS=$(find "$REPO/archive/main" -name '0000000*-*' -size +1k | sort)
W1=$(sed -n 2p <<<"$WALS")
W2=$(sed -n 3p <<<"$WALS")
S1=$(basename "$W1" | cut -c1-24)
S2=$(basename "$W2" | cut -c1-24)
save "$W1"
flip_byte "$W1" $(($(stat -c %s "$W1") / 2))
expect_exit_k "flipped byte in a WAL segment: archive-get exits 255" 255 "$BR" --config="$CONF" --stanza=main \
    archive-get "$S1" "$IT_TMP/w.get"
expect_contains "flipped byte in a WAL segment: the error names it" "$OUT" "$S1"
expect_eq "flipped byte in a WAL segment: nothing written at %p" "$(test -e "$IT_TMP/w.get" && echo written)" ""
expect_fail "flipped byte in a WAL segment: verify reports it" "$BR" --config="$CONF" --stanza=main verify
expect_contains "verify names the segment" "$OUT" "$S1"
put_back "$W1"
as_pg truncate -s $(($(stat -c %s "$W1") / 2)) "$W1"
expect_exit_k "truncated WAL segment: archive-get exits 255" 255 "$BR" --config="$CONF" --stanza=main \
    archive-get "$S1" "$IT_TMP/w.get"
expect_contains "truncated WAL segment: the error names it" "$OUT" "$S1"
put_back "$W1"
save "$W2"
cp "$W1" "$W2"
expect_exit_k "WAL segment swapped for another: archive-get exits 255" 255 "$BR" --config="$CONF" --stanza=main \
    archive-get "$S2" "$IT_TMP/w.get"
expect_contains "swapped WAL segment: the error names it" "$OUT" "$S2"
expect_eq "swapped WAL segment: nothing written at %p" "$(test -e "$IT_TMP/w.get" && echo written)" ""
put_back "$W2"
expect_exit_k "the segment put back is served again" 0 "$BR" --config="$CONF" --stanza=main \
    archive-get "$S2" "$IT_TMP/w.get"

# A manifest: both copies flipped (one alone is served by the other).
MAN=$REPO/backup/main/$INCR/backup.manifest
cp -p "$MAN" "$IT_TMP/man.saved"
cp -p "$MAN.copy" "$IT_TMP/man.copy.saved"
flip_byte "$MAN" $(($(stat -c %s "$MAN") / 2))
expect_exit_k "a flipped byte in backup.manifest only: info --set reads its copy" 0 "$BR" --config="$CONF" \
    --stanza=main info --set="$INCR"
flip_byte "$MAN.copy" $(($(stat -c %s "$MAN.copy") / 2))
expect_fail "flipped byte in both manifest copies: restore fails" "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$IT_TMP/r-manifest" --set="$INCR" restore
expect_contains "flipped manifest: the error names it" "$OUT" "$INCR/backup.manifest"
expect_eq "flipped manifest: nothing restored" "$(test -e "$IT_TMP/r-manifest" && ls "$IT_TMP/r-manifest" | wc -l)" \
    "$(test -e "$IT_TMP/r-manifest" && echo 0)"
cp -p "$IT_TMP/man.saved" "$MAN"
cp -p "$IT_TMP/man.copy.saved" "$MAN.copy"

# backup.info: its sealed body damaged in both copies (the envelope ahead of it intact).
BI=$REPO/backup/main/backup.info
cp -p "$BI" "$IT_TMP/bi.saved"
cp -p "$BI.copy" "$IT_TMP/bi.copy.saved"
flip_byte "$BI" $(($(stat -c %s "$BI") - 20))
expect_exit_k "flipped byte in backup.info only: info reads its copy" 0 "$BR" --config="$CONF" --stanza=main info
expect_contains "info still lists the full" "$OUT" "$FULL"
flip_byte "$BI.copy" $(($(stat -c %s "$BI.copy") - 20))
expect_fail "flipped byte in both backup.info copies: info fails" "$BR" --config="$CONF" --stanza=main info
expect_contains "flipped backup.info: the error names it" "$OUT" "backup.info"
expect_fail "flipped byte in both backup.info copies: restore fails" "$BR" --config="$CONF" --stanza=main \
    --pg1-path="$IT_TMP/r-info" restore
expect_contains "flipped backup.info: restore names it" "$OUT" "backup.info"
absent_dir() { expect_eq "$1: nothing restored" "$(test -e "$2" && echo exists)" ""; }
absent_dir "flipped backup.info" "$IT_TMP/r-info"
expect_fail "flipped byte in both backup.info copies: verify reports it" "$BR" --config="$CONF" --stanza=main verify
expect_contains "verify names backup.info" "$OUT" "backup.info"
cp -p "$IT_TMP/bi.saved" "$BI"
cp -p "$IT_TMP/bi.copy.saved" "$BI.copy"
expect_exit_k "everything put back: verify passes" 0 "$BR" --config="$CONF" --stanza=main verify

# --- wrong passphrase: a clear error, nothing written ---------------------------------------
write_conf "$IT_TMP/wrong.conf" 'not-the-passphrase-3e8a'
BEFORE=$(listing "$REPO")
wrong() { as_pg "$BR" --config="$IT_TMP/wrong.conf" --stanza=main "$@"; }
for cmd in "backup --type=full --start-fast" "backup --type=incr --start-fast" "info" "verify" "expire" \
    "stanza-create"; do
    # shellcheck disable=SC2086
    expect_fail "wrong passphrase: $cmd refused" "$BR" --config="$IT_TMP/wrong.conf" --stanza=main $cmd
    expect_contains "wrong passphrase: $cmd names the option" "$OUT" "repo1-cipher-pass"
done
expect_fail "wrong passphrase: restore refused" "$BR" --config="$IT_TMP/wrong.conf" --stanza=main \
    --pg1-path="$IT_TMP/r-wrong" restore
absent_dir "wrong passphrase: restore" "$IT_TMP/r-wrong"
expect_exit_k "wrong passphrase: archive-get exits 255" 255 "$BR" --config="$IT_TMP/wrong.conf" --stanza=main \
    archive-get "$S1" "$IT_TMP/w.wrong"
expect_eq "wrong passphrase: archive-get wrote nothing" "$(test -e "$IT_TMP/w.wrong" && echo written)" ""
CUR=$(cd "$DATA/pg_wal" && ls | grep -E '^[0-9A-F]{24}$' | sort | tail -1)
expect_fail "wrong passphrase: archive-push refused" bash -c "cd '$DATA' && '$BR' --config='$IT_TMP/wrong.conf' \
    --stanza=main archive-push pg_wal/$CUR"
expect_contains "wrong passphrase: archive-push names the option" "$OUT" "repo1-cipher-pass"
expect_eq "wrong passphrase: the repository is unchanged" "$(listing "$REPO")" "$BEFORE"
expect_eq "wrong passphrase: the wrong passphrase is not echoed" "$(grep -c -F 'not-the-passphrase-3e8a' \
    "$ALL_OUTPUT_FILE")" "0"

# No passphrase at all (cipher-type none on an encrypted repository): refused, nothing written.
sed '/^repo1-cipher/d' "$CONF" >"$IT_TMP/none.conf"
chown postgres:postgres "$IT_TMP/none.conf"
chmod 0640 "$IT_TMP/none.conf"
expect_fail "no cipher settings on an encrypted repository: backup refused" "$BR" --config="$IT_TMP/none.conf" \
    --stanza=main backup --type=full --start-fast
expect_contains "no cipher settings: the error says it is encrypted" "$OUT" "encrypted"
expect_fail "no cipher settings: restore refused" "$BR" --config="$IT_TMP/none.conf" --stanza=main \
    --pg1-path="$IT_TMP/r-none" restore
absent_dir "no cipher settings: restore" "$IT_TMP/r-none"
expect_eq "no cipher settings: the repository is unchanged" "$(listing "$REPO")" "$BEFORE"

# --- the passphrase in no output -------------------------------------------------------------
expect_eq "the passphrase is in no command output (console at debug too)" \
    "$(as_pg "$BR" --config="$CONF" --stanza=main --log-level-console=debug info 2>&1 | grep -c -F "$PASS")" "0"
expect_eq "the passphrase is in no output of this suite" "$(grep -c -F "$PASS" "$ALL_OUTPUT_FILE")" "0"
expect_eq "the passphrase is in no PostgreSQL log (archive-push output)" \
    "$(cat "$IT_TMP"/*.log 2>/dev/null | grep -c -F "$PASS")" "0"
expect_eq "the passphrase is not in a restored restore_command" \
    "$(grep -c -F "$PASS" "$IT_TMP/restore-time/postgresql.auto.conf")" "0"
