#!/usr/bin/env bash
# The repository codec and the patching writer. (1) A repository written by backrest 0.1.0
# (main at df1e4a3): full and incr backups, compressed as frames and bundles, block-stored, and
# uncompressed, with their WAL; today's binary verifies and restores each, data equal. (2) A
# delta restore that runs out of space in the data directory (a tmpfs cut to what it holds plus
# a page or two) fails with the disk's own reason naming the file, for a file patched frame by
# frame, one patched as one stream and one patched block by block: a short write is retried, so
# its cause (ENOSPC) is reported.
set -u
SUITE=codec_patch
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

# The 0.1.0 binary: given, or built from the commit in a scratch copy of the tree.
OLD_COMMIT=df1e4a3
OLD=$IT_TMP/bin/backrest-0.1.0
if [ -n "${TEST_BACKREST_OLD_BIN:-}" ]; then
    cp "$TEST_BACKREST_OLD_BIN" "$OLD"
else
    top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
    mkdir -p "$IT_TMP/old-src"
    must bash -c "git -C '$top' archive $OLD_COMMIT | tar -x -C '$IT_TMP/old-src'"
    must make -C "$IT_TMP/old-src" -j2 ${CXX:+CXX="$CXX"} build/backrest
    cp "$IT_TMP/old-src/build/backrest" "$OLD"
    rm -rf "$IT_TMP/old-src"
fi
chmod 0755 "$OLD"

PORT=55840
DATA=$IT_TMP/primary
CONF=$IT_TMP/backrest.conf
it_conf "$CONF" 0644 <<CONF
[global]
lock-path=$IT_TMP/lock
process-max=1
$(pg1_lines)

[frames]
repo1-path=$IT_TMP/repo-frames
repo1-bundle=y
compress-type=zst

[block]
repo1-path=$IT_TMP/repo-block
repo1-block=y

[none]
repo1-path=$IT_TMP/repo-none
compress-type=none
CONF
STANZAS=(frames block none)
old() { local stanza=$1; shift; as_pg "$OLD" --config="$CONF" --stanza="$stanza" "$@"; }

pg_archiving "$DATA" $PORT "$(archive_push_to "$OLD" "$CONF" "${STANZAS[@]}")"
for s in "${STANZAS[@]}"; do must old "$s" stanza-create; done
# pgbench_accounts at scale 2 is 26 MiB: stored as 8 MiB frames; the small tables as one stream
# (in a bundle in 'frames').
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 2 -q postgres
must psql_at $PORT "CHECKPOINT"
for s in "${STANZAS[@]}"; do must old "$s" backup --type=full; done
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -n -t 300 postgres
for s in "${STANZAS[@]}"; do must old "$s" backup --type=incr; done
SNAPSHOT_SQL="SELECT (SELECT md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts) || ' ' ||
  (SELECT count(*) || ':' || coalesce(sum(delta), 0) FROM pgbench_history)"
SNAP=$(psql_at $PORT "$SNAPSHOT_SQL")
ACCOUNTS=$(psql_at $PORT "SELECT pg_relation_filepath('pgbench_accounts')")
PKEY=$(psql_at $PORT "SELECT pg_relation_filepath('pgbench_accounts_pkey')")
expect_eq "0.1.0 stored pgbench_accounts as frames" \
    "$(grep -c '"frames":\[' "$(ls -d "$IT_TMP"/repo-frames/backup/frames/*F/backup.manifest)")" "1"

# (1) Today's binary reads what 0.1.0 wrote.
br() { local stanza=$1; shift; as_pg "$BR" --config="$CONF" --stanza="$stanza" "$@"; }
port=$((PORT + 1))
for s in "${STANZAS[@]}"; do
    expect_exit "verify a 0.1.0 repository ($s)" 0 "$BR" --config="$CONF" --stanza=$s verify
    expect_contains "verify ($s) found nothing wrong" "$OUT" "checked: 0 problems"
    dir=$IT_TMP/restore-$s
    expect_exit "restore the 0.1.0 incr ($s)" 0 "$BR" --config="$CONF" --stanza=$s --pg1-path="$dir" \
        --type=immediate --target-action=promote restore
    sed -i "s/^port = .*/port = $port/; s/^archive_mode = .*/archive_mode = off/" "$dir/postgresql.conf"
    pg_start "$dir"
    if wait_promoted $port; then
        expect_eq "restore of the 0.1.0 repository ($s): data equal" "$(psql_at $port "$SNAPSHOT_SQL")" "$SNAP"
    else
        fail "restore ($s): recovery did not finish" "$(tail -20 "$dir.log")"
    fi
    pg_stop "$dir"
    expect_exit "restored copy ($s) passes pg_checksums" 0 "$PGBIN/pg_checksums" --check -D "$dir"
    port=$((port + 1))
done

# (2) A delta restore out of space. The data directory is a tmpfs holding the restored copy
# with one file cut short, cut to its use plus `leave` bytes: patching the file back runs out.
if [ "$(id -u)" -ne 0 ]; then
    echo "# skip: out-of-space delta restore needs root (mount -t tmpfs)"
    exit 0
fi
TIGHT=$IT_TMP/tight
mkdir -p "$TIGHT"
must mount -t tmpfs -o size=256m,mode=0700 tmpfs "$TIGHT"
trap 'umount "$TIGHT" 2>/dev/null; it_finish' EXIT
chown postgres:postgres "$TIGHT"
tight_used() { python3 -c "import os; s = os.statvfs('$TIGHT'); print((s.f_blocks - s.f_bfree) * s.f_frsize)"; }
# Restores `stanza` into the tmpfs, cuts `file` to 8 KiB, cuts the tmpfs to its use plus `leave`
# bytes, and patches the file back with --delta. Whether a patching write of two pages comes
# short depends on the parity of the pages left when the disk fills (the restore frees some of
# its own first): with one leave or the other, one write is short; 0.1.0 then reported
# "unable to write '…': Success" (a short write's stale errno).
out_of_space() {  # name stanza file leave
    local name="$1, $4 bytes left" stanza=$2 file=$3 leave=$4
    must as_pg "$BR" --config="$CONF" --stanza=$stanza --pg1-path="$TIGHT/pgdata" --delta \
        --type=immediate --target-action=promote restore
    as_pg truncate -s 8192 "$TIGHT/pgdata/$file"
    must mount -o remount,size=$(($(tight_used) + leave)) "$TIGHT"
    expect_exit "delta restore out of space ($name): FileWriteError" 26 "$BR" --config="$CONF" --stanza=$stanza \
        --pg1-path="$TIGHT/pgdata" --delta --type=immediate --target-action=promote restore
    expect_contains "the error gives the disk's reason ($name)" "$OUT" "No space left on device"
    expect_contains "the error names the file ($name)" "$OUT" "unable to write '$TIGHT/pgdata/$file'"
    must mount -o remount,size=256m "$TIGHT"
}
for leave in 4096 8192; do
    # pgbench_accounts: 26 MiB stored as frames, patched frame by frame (FramedFetch).
    out_of_space "file stored as frames" frames "$ACCOUNTS" $leave
    # pgbench_accounts_pkey: 4.4 MiB, stored as one stream (patchInPlace).
    out_of_space "file stored as one stream" frames "$PKEY" $leave
    # pgbench_accounts in the block stanza: patched block by block (patchBlocks).
    out_of_space "block-stored file" block "$ACCOUNTS" $leave
    as_pg rm -rf "$TIGHT/pgdata"  # the next restore is from another stanza's backup
done
