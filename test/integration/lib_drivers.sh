# What every repository driver must pass (issue 17, section 3 "Per driver"), written once: a
# driver's suite starts its server, writes the repo1-* lines that reach it, and calls
#     driver_scenarios <label> <file with repo1-* config lines>
# against a real PostgreSQL 15 cluster. Source it after lib.sh; uses lib.sh's counters.
#
# The caller may define, after sourcing this file:
#   repo_list_all   prints every object (file) name in the repository, one per line, with its
#                   path from the repository root (backup/main/<label>/..., archive/main/...);
#                   default: find on the config's repo1-path. Used for the no-leftover check
#                   after every step (nothing ending in .tmp, nothing with .stream. in its name)
#                   and to count a backup's objects; never to read file contents.
#   DRV_PORT        first of 7 ports the scenarios and faults use (default 55920: the posix
#                   suite's; a driver's suite passes one in its own range).
#   DRV_BULK_ROWS   rows of the poorly compressible table that makes a backup's copy last long
#                   enough to be killed or faulted in flight (default 100000, ~13 MB).
#   DRV_CHECK_WHILE_STREAMING=n  skips the check for leftovers while the daemon streams WAL.
# Steps: stanza-create, check, full/diff/incr, block full+incr (repo1-block), bundles (object
# counts with and without repo1-bundle), a full killed with SIGKILL in its copy then the next
# one (resumed or started over), archive-get, restores (full, --delta, PITR to a name, PITR to
# a time through WAL the daemon streamed), archive_library with streamed WAL and SELECT
# backrest_backup(), expire (retention), verify, info (text, json).
# The config file may hold secrets: it is given to backrest by --config only, never printed.
#
# The tests assert behaviour (exit codes, messages, rows, bytes, what `info` and `verify` say),
# not the repository's layout, except the names a leftover would have and the label directory
# a backup's objects are under.
# The faults (server stopped mid-backup and mid-archive-push) are in lib_driver_faults.sh.

source "$(dirname "${BASH_SOURCE[0]}")/lib_driver_faults.sh"

DRV_PORT=${DRV_PORT:-55920}

# The value of option $2 in config file $1 (first occurrence).
drv_opt() { sed -n "s/^$2=//p" "$1" | head -1; }

# Default listing: a posix repository on this host.
if ! declare -F repo_list_all >/dev/null; then
    repo_list_all() {
        local root type
        type=$(drv_opt "$DRV_CONF" repo1-type)
        if [ -n "$type" ] && [ "$type" != posix ]; then
            echo "repo1-type=$type: the suite must define repo_list_all (the default lists a posix repo1-path)"
            return 1
        fi
        root=$(drv_opt "$DRV_CONF" repo1-path)
        [ -d "$root" ] || return 1
        (cd "$root" && find . -type f | sed 's|^\./||')
    }
fi

# After every step: nothing half-written is listed (a temporary object, an unfinished stream).
no_leftover() {  # step
    local list left
    if ! list=$(repo_list_all 2>&1); then
        fail "$1: the repository can be listed" "$list"
        return
    fi
    left=$(grep -E '\.tmp$|\.stream\.' <<<"$list")
    expect_eq "$1: no leftover (.tmp, .stream.) in the repository" "$left" ""
}

# A config for stanza 'main' of the cluster in $2, with the repository lines of file $3.
drv_write_conf() {  # conf data repo-lines port
    {
        printf '[global]\n'
        cat "$3"
        printf 'lock-path=%s\nspool-path=%s\nprocess-max=2\nlog-level-console=warn\n' "$IT_TMP/lock" "$IT_TMP/spool"
        printf '\n[main]\npg1-path=%s\npg1-socket-path=%s\npg1-port=%s\n' "$2" "$IT_TMP" "$4"
    } >"$1"
    # Secrets: readable by postgres (who runs backrest) only.
    chown postgres:postgres "$1" 2>/dev/null
    chmod 0600 "$1"
}

drv() { as_pg "$BR" --config="$DRV_CONF" --stanza="$DRV_STANZA" "$@"; }

# The state compared after each restore: counts and md5 over ordered contents of every table.
DRV_SNAPSHOT_SQL="SELECT (SELECT count(*) || ':' || md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts)
  || ' ' || (SELECT count(*) || ':' || coalesce(sum(delta), 0) FROM pgbench_history)
  || ' ' || (SELECT md5(string_agg(tid || ':' || tbalance, ',' ORDER BY tid)) FROM pgbench_tellers)
  || ' ' || (SELECT count(*) || ':' || md5(coalesce(string_agg(id || ':' || note, ',' ORDER BY id), '')) FROM marker)"
drv_snapshot() { psql_at "$1" "$DRV_SNAPSHOT_SQL" 2>&1; }
drv_work() {  # transactions
    must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p "$DRV_PG" -U postgres -n -c 2 -t "$1" postgres
}

# info --output=json, read once per step into DRV_TABLE: one line per backup, in order,
# "label type prior repository-delta wal-start" (prior "-" for a full; repository-delta is what
# the backup itself stored, pgBackRest's info.repository.delta). (One python3 per step:
# it costs more than backrest itself on a loaded machine.)
drv_refresh() {
    DRV_TABLE=$(drv info --output=json | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    for b in s["backup"]:
        print(b["label"], b["type"], b.get("prior") or "-", b["info"]["repository"]["delta"], b["archive"]["start"])')
}
drv_field() { awk -v l="$1" -v c="$2" '$1 == l { print $c }' <<<"$DRV_TABLE"; }  # label column (2-5)
drv_labels() {
    drv_refresh
    awk '{ print $1 }' <<<"$DRV_TABLE" | paste -sd' '
}

# A backup: status asserted, its label in LABEL, the state right after it in SNAP.
drv_backup() {  # step type args...
    local step=$1 type=$2
    shift 2
    expect_exit "$step: backup --type=$type" 0 "$BR" --config="$DRV_CONF" --stanza=main backup --type="$type" \
        --start-fast "$@"
    drv_refresh
    LABEL=$(tail -1 <<<"$DRV_TABLE" | cut -d' ' -f1)
    expect_eq "$step: info lists it as $type ($LABEL)" "$(drv_field "$LABEL" 2)" "$type"
    SNAP=$(drv_snapshot "$DRV_PG")
    no_leftover "$step"
}

# Objects stored under a backup's label directory (<stanza>/<label>/ in their path).
drv_objects() { repo_list_all | grep -cE "(^|/)$DRV_STANZA/$1/"; }

# Restores into $IT_TMP/restore-<name> (delta over what is there with --delta), starts it on
# its own port without archiving, and compares its data with the expected snapshot.
drv_restore() {  # name port expected-snapshot restore-args...
    local name=$1 port=$2 want=$3
    shift 3
    local dir=$IT_TMP/restore-$DRV_LABEL-$name
    expect_exit "restore $name" 0 "$BR" --config="$DRV_CONF" --stanza=main --pg1-path="$dir" restore "$@"
    if [ "$RC" -ne 0 ]; then return; fi
    sed -i -e "s/^port = .*/port = $port/" -e "s/^archive_mode = .*/archive_mode = off/" \
        -e '/^shared_preload_libraries/d' -e '/^archive_library/d' -e '/^backrest\./d' "$dir/postgresql.conf"
    pg_start "$dir"
    if wait_promoted "$port"; then
        expect_eq "restore $name: rows and checksums equal the state at the target" "$(drv_snapshot "$port")" "$want"
    else
        fail "restore $name: recovery did not finish" "$(tail -20 "$dir.log")"
    fi
    pg_stop "$dir"
    no_leftover "restore $name"
}

# Waits up to $1 s for `command` to succeed.
drv_wait() {  # seconds command...
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.2
    done
}
drv_archived() { [ "$(psql_at "$DRV_PG" "SELECT last_archived_wal FROM pg_stat_archiver")" == "$1" ]; }
# Ends the current segment and waits until the archiver has it: prints the segment's name.
drv_switch() {
    local seg
    seg=$(psql_at "$DRV_PG" "SELECT pg_walfile_name(pg_switch_wal())")
    drv_wait 60 drv_archived "$seg" || fail "segment $seg archived within 60 s" \
        "$(psql_at "$DRV_PG" "SELECT * FROM pg_stat_archiver"; tail -5 "$DRV_DATA.log")"
    printf '%s' "$seg"
}

# Labels of backups whose objects are in the repository, from the listing.
drv_listed_labels() {  # [listing]: one repo_list_all already made
    { if [ $# -gt 0 ]; then printf '%s\n' "$1"; else repo_list_all; fi; } |
        grep -oE "(^|/)$DRV_STANZA/[0-9]{8}-[0-9]{6}F(_[0-9]{8}-[0-9]{6}[DI])?/" | sed 's|/$||; s|.*/||' | sort -u
}

# A full backup killed with SIGKILL once it has stored objects and before it ends: it is not
# listed, and the next full backup either resumes it or starts over; either way nothing of the
# killed one is left and the next one restores exactly (drv_restore pitr-name, later).
# LABEL and SNAP are the next backup's.
drv_kill_resume() {  # label
    local before killed='' pid out=$IT_TMP/killed-$1.out
    before=$(drv_labels)
    # Files written before this second, so that a resume may take them over (a file changed in
    # the second its backup started is never reused); one process and zstd's highest level make
    # the copy last long enough to be caught, even when listing an object store takes seconds
    # (aws on a loaded machine: at level 12 a 20 s backup ended between two listings).
    must psql_at "$DRV_PG" "CHECKPOINT"
    sleep 1.1
    "${PG_EXEC[@]}" "$BR" --config="$DRV_CONF" --stanza=main backup --type=full --start-fast --process-max=1 \
        --compress-level=19 --repo1-bundle=n >"$out" 2>&1 &
    pid=$!
    # Killed once it has stored DRV_KILL_AFTER objects (20: enough for a resume to take over).
    local deadline=$((SECONDS + 600)) l stored=0
    # One listing per round: an object store's client (aws) can take seconds to list.
    local listing
    while [ "$stored" -lt "${DRV_KILL_AFTER:-20}" ] && kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
        listing=$(repo_list_all)
        for l in $(drv_listed_labels "$listing"); do
            [[ " $before " == *" $l "* ]] || killed=$l
        done
        [ -n "$killed" ] && stored=$(grep -cE "(^|/)$DRV_STANZA/$killed/" <<<"$listing")
        [ "$stored" -ge "${DRV_KILL_AFTER:-20}" ] || sleep 0.05
    done
    if [ "$stored" -ge "${DRV_KILL_AFTER:-20}" ] && kill -9 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null
        pass "backup $killed killed with SIGKILL in its copy ($(drv_objects "$killed") objects stored)"
    else
        wait "$pid" 2>/dev/null
        fail "a backup is caught in its copy and killed" "it ended first (set DRV_BULK_ROWS higher): $(cat "$out")"
        return
    fi
    expect_eq "the killed backup is not listed by info" "$(drv_labels)" "$before"
    # Unbundled like the killed one: its small files, stored on their own, can be taken over.
    expect_exit "the next full backup succeeds" 0 "$BR" --config="$DRV_CONF" --stanza=main backup --type=full \
        --start-fast --repo1-bundle=n --log-level-console=info
    if [[ "$OUT" == *"resuming interrupted backup $killed"* ]]; then
        echo "# the next backup resumed $killed: $(grep -o '[0-9]* files taken from interrupted backup' <<<"$OUT")"
    else
        echo "# the next backup started over"
    fi
    local now
    now=$(drv_labels)
    LABEL=${now##* }
    SNAP=$(drv_snapshot "$DRV_PG")
    expect_eq "info lists the backups before and the new one ($LABEL)" "$now" "$before $LABEL"
    expect_eq "nothing of the killed backup $killed is left in the repository" "$(drv_objects "$killed")" "0"
    no_leftover "backup after the kill"
}

drv_daemon_pids() { pgrep -f "backrest serve .*--socket-path=$DRV_SOCK( |\$)"; }
drv_daemon_answers() { psql_at "$DRV_PG" "SELECT pending FROM backrest_archive_status()" >/dev/null 2>&1; }
drv_streamed() { [ "$(psql_at "$DRV_PG" "SELECT streamed FROM backrest_archive_status()")" -gt 0 ] 2>/dev/null; }
drv_stream_running() { [[ "$(psql_at "$DRV_PG" "SELECT stream FROM backrest_archive_status()")" == streaming\ * ]]; }
drv_daemon_gone() { [ -z "$(drv_daemon_pids)" ]; }

# The cluster restarted with archive_library = 'backrest' and streamed WAL (the extension and
# its daemon, which reads the same config: the repository is the driver's): WAL archived by
# the daemon and read back, a backup from SQL, and a PITR restore to a time through that WAL.
# LABEL is the SQL backup's.
drv_archive_library() {  # label
    local root pkglib
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    pkglib=$(pg_config --pkglibdir)
    # Installed only when missing: the shared PostgreSQL directories are not ours to refresh.
    [ -f "$pkglib/backrest.so" ] || must make --no-print-directory -C "$root/extension" install
    DRV_SOCK=$IT_TMP/sock-$1
    pg_stop "$DRV_DATA"
    sed -i '/^archive_command/d' "$DRV_DATA/postgresql.conf"
    cat >>"$DRV_DATA/postgresql.conf" <<CONF
shared_preload_libraries = 'backrest'
archive_library = 'backrest'
backrest.stanza = 'main'
backrest.config = '$DRV_CONF'
backrest.worker_path = '$BR'
backrest.socket_directory = '$DRV_SOCK'
backrest.archive_async = on
CONF
    pg_start "$DRV_DATA"
    must psql_at "$DRV_PG" "CREATE EXTENSION backrest"
    drv_wait 30 drv_daemon_answers || fail "the daemon answers" "$(grep -i backrest "$DRV_DATA.log" | tail -20)"

    # The stream starts at the segment being written when it connects; a segment switched before
    # that (a slow repository under load delays the start and its retries back off) is archived
    # from pg_wal. So the stream is waited for first, and the switch repeated until one segment
    # came from it.
    drv_wait 180 drv_stream_running || fail "the daemon's WAL stream runs within 180 s" \
        "$(psql_at "$DRV_PG" "SELECT stream FROM backrest_archive_status()"; grep -i 'WAL stream' "$DRV_DATA.log" | tail -5)"
    drv_work 100
    must psql_at "$DRV_PG" "INSERT INTO marker SELECT g, 'library' FROM generate_series(201, 300) g"
    local seg switches=1
    seg=$(drv_switch)
    until drv_wait 20 drv_streamed || [ "$switches" -ge 6 ]; do
        drv_switch >/dev/null
        switches=$((switches + 1))
    done
    local state
    state=$(psql_at "$DRV_PG" "SELECT stream || ' / ' || streamed FROM backrest_archive_status()")
    if [[ "$state" =~ ^streaming\ [0-9A-F]{24}\ /\ ([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -gt 0 ]; then
        pass "archive_library: the daemon streams WAL and stored segments from the stream ($state, $switches switches)"
    else
        fail "archive_library: the daemon streams WAL and stored segments from the stream" \
            "$state after $switches switches; $(grep -i 'WAL stream' "$DRV_DATA.log" | tail -5)"
    fi
    expect_exit "archive-get of $seg, archived by archive_library" 0 "$BR" --config="$DRV_CONF" --stanza=main \
        archive-get "$seg" "$IT_TMP/got-$1-lib-$seg"
    expect_eq "... equals pg_wal/$seg byte for byte" \
        "$(cmp "$IT_TMP/got-$1-lib-$seg" "$DRV_DATA/pg_wal/$seg" 2>&1 && echo same)" "same"

    LABEL=$(psql_at "$DRV_PG" "SELECT backrest_backup(wait => true)" 2>&1)
    expect_eq "SELECT backrest_backup(wait => true) returns a full backup's label ($LABEL)" \
        "$([[ "$LABEL" =~ ^[0-9]{8}-[0-9]{6}F$ ]] && echo yes)" "yes"
    expect_eq "backrest_status() shows it done" \
        "$(psql_at "$DRV_PG" "SELECT state FROM backrest_status() WHERE label = '$LABEL'" 2>&1)" "done"
    expect_eq "info lists it" "$(drv_labels | awk '{ print $NF }')" "$LABEL"

    # A time between two known row counts, after the backup.
    must psql_at "$DRV_PG" "INSERT INTO marker SELECT g, 'before t' FROM generate_series(301, 400) g"
    sleep 1.1
    local t s_t
    t=$(psql_at "$DRV_PG" "SELECT clock_timestamp()")
    s_t=$(drv_snapshot "$DRV_PG")
    sleep 1.1
    must psql_at "$DRV_PG" "INSERT INTO marker SELECT g, 'after t' FROM generate_series(401, 500) g"
    drv_switch >/dev/null
    expect_eq "archive_library: no archive failure" \
        "$(psql_at "$DRV_PG" "SELECT coalesce(last_failure, 'none') FROM backrest_archive_status()")" "none"
    # While the daemon streams, its unfinished segment is in spool-path, never in the repository.
    [ "${DRV_CHECK_WHILE_STREAMING:-y}" == y ] && no_leftover "archive_library (the daemon streaming)"
    pg_stop "$DRV_DATA"
    drv_wait 20 drv_daemon_gone || fail "the daemon exits after its postmaster" "$(drv_daemon_pids)"
    no_leftover "archive_library (cluster and daemon stopped)"
    local fs=$LABEL
    drv_restore "pitr-time" $((DRV_PG + 4)) "$s_t" --set="$fs" --type=time "--target=$t" --target-action=promote
    LABEL=$fs
}

driver_scenarios() {  # label repo-lines-file
    DRV_LABEL=$1
    DRV_STANZA=main
    DRV_DATA=$IT_TMP/drv-$1
    DRV_CONF=$IT_TMP/drv-$1.conf
    DRV_PG=$DRV_PORT
    local lines=$2 T0=$SECONDS
    drv_write_conf "$DRV_CONF" "$DRV_DATA" "$lines" "$DRV_PG"
    pg_init "$DRV_DATA" "$DRV_PG"
    cat >>"$DRV_DATA/postgresql.conf" <<CONF
archive_mode = on
archive_command = '$BR --config=$DRV_CONF --stanza=main archive-push %p'
CONF
    pg_start "$DRV_DATA"

    # --- stanza-create, check -----------------------------------------------------------------
    expect_exit "$1: stanza-create" 0 "$BR" --config="$DRV_CONF" --stanza=main stanza-create
    expect_contains "stanza-create names the system" "$OUT" "stanza-create:"
    no_leftover "stanza-create"
    expect_exit "$1: check (a switched segment arrives)" 0 "$BR" --config="$DRV_CONF" --stanza=main check
    expect_contains "check reports the stanza OK" "$OUT" "stanza 'main' OK"
    no_leftover "check"

    must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p "$DRV_PG" -U postgres -i -s 1 -q postgres
    must psql_at "$DRV_PG" "CREATE TABLE marker (id int primary key, note text)"
    # Poorly compressible rows: the copy of the backup killed below lasts long enough to catch.
    must psql_at "$DRV_PG" "CREATE TABLE bulk AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS v
        FROM generate_series(1, ${DRV_BULK_ROWS:-100000}) g"

    # --- full / diff / incr, bundles ------------------------------------------------------------
    drv_backup "full" full
    local F1=$LABEL
    drv_work 200
    drv_backup "diff" diff
    local D1=$LABEL
    drv_work 200
    drv_backup "incr" incr
    local I1=$LABEL S_I1=$SNAP
    expect_eq "info lists full, diff, incr in order" "$(awk '{ print $1 }' <<<"$DRV_TABLE" | paste -sd' ')" \
        "$F1 $D1 $I1"
    expect_eq "the diff's prior is the full, the incr's the diff" "$(drv_field "$D1" 3) $(drv_field "$I1" 3)" \
        "$F1 $D1"

    # --- block backups, without bundles ---------------------------------------------------------
    drv_backup "block full (repo1-block, repo1-bundle=n)" full --repo1-block --repo1-bundle=n
    local FB=$LABEL
    # ~1 % of pgbench_accounts' rows change: a block incremental stores the changed pages only.
    must psql_at "$DRV_PG" "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid % 100 = 0"
    drv_backup "block incr" incr --repo1-block --repo1-bundle=n
    local IB=$LABEL S_IB=$SNAP
    local fb_size ib_size
    fb_size=$(drv_field "$FB" 4)
    ib_size=$(drv_field "$IB" 4)
    expect_eq "the block incr stores under a tenth of the full's bytes ($ib_size of $fb_size)" \
        "$([ -n "$ib_size" ] && [ -n "$fb_size" ] && [ $((ib_size * 10)) -lt "$fb_size" ] && echo yes)" "yes"
    # Bundles: the same data directory in a few objects instead of one per file.
    local nf1 nfb
    nf1=$(drv_objects "$F1")
    nfb=$(drv_objects "$FB")
    expect_eq "a bundled full is stored in under a fifth of the objects of an unbundled one ($nf1 vs $nfb)" \
        "$([ "$nf1" -gt 0 ] && [ $((nf1 * 5)) -lt "$nfb" ] && echo yes)" "yes"

    # --- resume after kill -9 of a backup in its copy -----------------------------------------
    drv_kill_resume "$1"
    local FR=$LABEL  # restored exactly by the PITR to a name below

    # --- archive-get --------------------------------------------------------------------------
    drv_work 50
    local seg
    seg=$(drv_switch)
    expect_exit "archive-get of the segment just archived ($seg)" 0 "$BR" --config="$DRV_CONF" --stanza=main \
        archive-get "$seg" "$IT_TMP/got-$1-$seg"
    expect_eq "... equals pg_wal/$seg byte for byte" \
        "$(cmp "$IT_TMP/got-$1-$seg" "$DRV_DATA/pg_wal/$seg" 2>&1 && echo same)" "same"
    expect_exit "archive-get of a segment never archived exits 1" 1 "$BR" --config="$DRV_CONF" --stanza=main \
        archive-get 0000000100000099000000FF "$IT_TMP/got-$1-none"
    no_leftover "archive-get"

    # A named restore point between two known row counts.
    must psql_at "$DRV_PG" "INSERT INTO marker SELECT g, 'before rp' FROM generate_series(1, 100) g"
    must psql_at "$DRV_PG" "SELECT pg_create_restore_point('drv_rp')"
    local S_RP
    S_RP=$(drv_snapshot "$DRV_PG")
    must psql_at "$DRV_PG" "INSERT INTO marker SELECT g, 'after rp' FROM generate_series(101, 200) g"
    drv_switch >/dev/null

    # --- restores: full (diff/incr chain), delta (block chain), PITR to a name (resumed) ------
    local P=$DRV_PG
    drv_restore full $((P + 1)) "$S_I1" --set="$I1" --type=immediate --target-action=promote
    # The restored copy diverges, then a delta restore of another backup brings it back exactly.
    local rdir=$IT_TMP/restore-$1-full
    pg_start "$rdir"
    must psql_at $((P + 1)) "DELETE FROM marker; UPDATE pgbench_accounts SET abalance = -1 WHERE aid < 1000;
        CHECKPOINT"
    pg_stop "$rdir"
    mv "$rdir" "$IT_TMP/restore-$1-delta"
    drv_restore delta $((P + 2)) "$S_IB" --delta --set="$IB" --type=immediate --target-action=promote
    expect_eq "PITR: the restore point lies between two known row counts" \
        "$([ "$S_RP" != "$(drv_snapshot "$DRV_PG")" ] && echo yes)" "yes"
    drv_restore "pitr-name" $((P + 3)) "$S_RP" --set="$FR" --type=name --target=drv_rp --target-action=promote

    # --- archive_library with streamed WAL, SELECT backrest_backup() ---------------------------
    drv_archive_library "$1"
    local FS=$LABEL

    # --- expire: retention leaves exactly the expected backups and WAL ------------------------
    local fr_wal f1_wal
    drv_refresh
    fr_wal=$(drv_field "$FR" 5)
    f1_wal=$(drv_field "$F1" 5)
    expect_exit "expire --repo1-retention-full=2" 0 "$BR" --config="$DRV_CONF" --stanza=main \
        --repo1-retention-full=2 expire
    expect_eq "expire keeps exactly the two newest fulls" "$(drv_labels)" "$FR $FS"
    expect_eq "the WAL archive now starts at the oldest kept backup's first segment" \
        "$(drv info --output=json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["archive"][0]["min"])')" \
        "$fr_wal"
    expect_exit "archive-get of WAL before it (the first full's $f1_wal) exits 1: expired" 1 "$BR" \
        --config="$DRV_CONF" --stanza=main archive-get "$f1_wal" "$IT_TMP/got-$1-expired"
    expect_exit "archive-get of the kept backup's first segment $fr_wal" 0 "$BR" --config="$DRV_CONF" \
        --stanza=main archive-get "$fr_wal" "$IT_TMP/got-$1-kept"
    expect_eq "no object of an expired backup is left" \
        "$(repo_list_all | grep -cE "/($F1|$D1|$I1|$FB|$IB)/")" "0"
    no_leftover "expire"

    # --- verify, info -------------------------------------------------------------------------
    expect_exit "verify" 0 "$BR" --config="$DRV_CONF" --stanza=main verify
    expect_contains "verify checked 2 backups and found no problem" "$OUT" "verify: 2 backups ("
    expect_contains "... no problem" "$OUT" ": 0 problems"
    no_leftover "verify"
    expect_exit "info (text)" 0 "$BR" --config="$DRV_CONF" --stanza=main info
    expect_contains "info names the stanza and its status" "$OUT" "stanza: main
    status: ok"
    expect_contains "info lists the resumed full" "$OUT" "full backup: $FR"
    expect_contains "info lists the full taken from SQL" "$OUT" "full backup: $FS"
    expect_exit "info --output=json" 0 "$BR" --config="$DRV_CONF" --stanza=main info --output=json
    expect_eq "info json: stanza, labels, and each backup's size and WAL range" "$(python3 -c '
import json, sys
s = json.loads(sys.argv[1])[0]
print(s["name"], [b["label"] for b in s["backup"]],
      all(b["info"]["repository"]["size"] > 0 and len(b["archive"]["start"]) == 24 for b in s["backup"]))' "$OUT" 2>&1)" \
        "main ['$FR', '$FS'] True"
    echo "# measure: driver_scenarios $1: $((SECONDS - T0)) s"
}
