# The failure modes every repository driver must survive (issue 17, section 3 "Faults"):
#     driver_faults <label> <file with repo1-* config lines> <stop_server_fn> <start_server_fn>
# on a cluster of its own (stanza 'faults', in the same repository; ports DRV_PORT+5 and +6).
# stop_server_fn makes the repository unreachable (a driver's suite stops its server; posix can
# take the permissions away) and start_server_fn brings it back as it was.
#   1. Stopped mid-backup: the backup fails with an error naming what it could not do, nothing
#      of it is listed, and once the server is back the next backup succeeds (or resumes), is
#      verified, and restores exactly.
#   2. Stopped mid-archive-push: archive_command fails and PostgreSQL retries; once the server
#      is back every segment is archived and a PITR restore reaches the last row.
# Sourced by lib_drivers.sh; uses its helpers (drv_*, no_leftover, repo_list_all).

driver_faults() {  # label repo-lines-file stop_server_fn start_server_fn
    local label=$1 lines=$2 stop_fn=$3 start_fn=$4
    DRV_LABEL=$1-faults
    DRV_STANZA=faults
    DRV_DATA=$IT_TMP/drv-$1-faults
    DRV_CONF=$IT_TMP/drv-$1-faults.conf
    DRV_PG=$((DRV_PORT + 5))
    local T0=$SECONDS
    drv_write_conf "$DRV_CONF" "$DRV_DATA" "$lines" "$DRV_PG"
    sed -i 's/^\[main\]$/[faults]/' "$DRV_CONF"
    pg_init "$DRV_DATA" "$DRV_PG"
    cat >>"$DRV_DATA/postgresql.conf" <<CONF
archive_mode = on
archive_command = '$BR --config=$DRV_CONF --stanza=faults archive-push %p'
CONF
    pg_start "$DRV_DATA"
    must drv stanza-create
    must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p "$DRV_PG" -U postgres -i -s 1 -q postgres
    must psql_at "$DRV_PG" "CREATE TABLE marker (id int primary key, note text);
        CREATE TABLE bulk AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS v
        FROM generate_series(1, ${DRV_BULK_ROWS:-100000}) g"
    local labels_before
    labels_before=$(drv_labels)

    # --- 1: the server stopped mid-backup --------------------------------------------------------
    local out=$IT_TMP/fault-backup-$label.out pid caught=
    "${PG_EXEC[@]}" "$BR" --config="$DRV_CONF" --stanza=faults backup --type=full --start-fast --process-max=1 \
        --compress-level=12 --repo1-bundle=n >"$out" 2>&1 &
    pid=$!
    local deadline=$((SECONDS + 120))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
        caught=$(drv_listed_labels | head -1)
        [ -n "$caught" ] && break
        sleep 0.05
    done
    if [ -n "$caught" ] && kill -0 "$pid" 2>/dev/null; then
        "$stop_fn"
        wait "$pid"
        local rc=$?
        "$start_fn"
        expect_eq "server stopped mid-backup: the backup fails" "$([ "$rc" -ne 0 ] && echo failed || echo "exit 0")" \
            "failed"
        local msg
        msg=$(grep 'ERROR' "$out" | head -1)
        expect_eq "... with an error naming the repository object or path it could not write ($msg)" \
            "$(grep -qE "ERROR: \[0[0-9]{2}\] [A-Za-z]+: .*('|/)" <<<"$msg" && echo named)" "named"
    else
        wait "$pid" 2>/dev/null
        "$start_fn" 2>/dev/null
        fail "server stopped mid-backup: the backup is caught in its copy" "it ended first: $(cat "$out")"
    fi
    expect_eq "... and is not listed by info" "$(drv_labels)" "$labels_before"
    must psql_at "$DRV_PG" "INSERT INTO marker SELECT g, 'after the fault' FROM generate_series(1, 50) g"
    expect_exit "after the server is back, the next backup succeeds" 0 "$BR" --config="$DRV_CONF" \
        --stanza=faults backup --type=full --start-fast
    local snap_backup
    snap_backup=$(drv_snapshot "$DRV_PG")
    no_leftover "fault mid-backup: the next backup"
    [ -n "$caught" ] && expect_eq "nothing of the failed backup $caught is left" "$(drv_objects "$caught")" "0"
    expect_exit "... and verifies" 0 "$BR" --config="$DRV_CONF" --stanza=faults verify
    expect_contains "... with no problem" "$OUT" ": 0 problems"

    # --- 2: the server stopped mid-archive-push -----------------------------------------------
    local failed_before seg
    failed_before=$(psql_at "$DRV_PG" "SELECT failed_count FROM pg_stat_archiver")
    "$stop_fn"
    must psql_at "$DRV_PG" "INSERT INTO marker SELECT g, 'server down' FROM generate_series(51, 100) g"
    seg=$(psql_at "$DRV_PG" "SELECT pg_walfile_name(pg_switch_wal())")
    drv_archive_failed() { [ "$(psql_at "$DRV_PG" "SELECT failed_count FROM pg_stat_archiver")" -gt "$failed_before" ]; }
    if drv_wait 60 drv_archive_failed; then
        pass "server stopped: archive_command fails for $seg ($(psql_at "$DRV_PG" "SELECT last_failed_wal FROM pg_stat_archiver"))"
    else
        fail "server stopped: archive_command fails" "$(psql_at "$DRV_PG" "SELECT * FROM pg_stat_archiver")"
    fi
    expect_eq "... and the segment is not archived meanwhile" \
        "$(psql_at "$DRV_PG" "SELECT coalesce(last_archived_wal, '') >= '$seg' FROM pg_stat_archiver")" "f"
    "$start_fn"
    must psql_at "$DRV_PG" "INSERT INTO marker SELECT g, 'server back' FROM generate_series(101, 150) g"
    local last
    last=$(psql_at "$DRV_PG" "SELECT pg_walfile_name(pg_switch_wal())")
    if drv_wait 120 drv_archived "$last"; then
        pass "after the server is back PostgreSQL's retries archive everything up to $last"
    else
        fail "after the server is back, everything is archived" "$(psql_at "$DRV_PG" "SELECT * FROM pg_stat_archiver")"
    fi
    local snap_last
    snap_last=$(drv_snapshot "$DRV_PG")
    no_leftover "fault mid-archive-push"
    expect_eq "the latest state is not the backup's" "$([ "$snap_last" != "$snap_backup" ] && echo yes)" "yes"
    local dir=$IT_TMP/restore-$DRV_LABEL-latest port=$((DRV_PG + 1))
    expect_exit "restore to the end of the archive" 0 "$BR" --config="$DRV_CONF" --stanza=faults \
        --pg1-path="$dir" restore --target-action=promote
    if [ "$RC" -eq 0 ]; then
        sed -i -e "s/^port = .*/port = $port/" -e "s/^archive_mode = .*/archive_mode = off/" "$dir/postgresql.conf"
        pg_start "$dir"
        if wait_promoted "$port"; then
            expect_eq "... reaches the last row written after the server came back" "$(drv_snapshot "$port")" \
                "$snap_last"
        else
            fail "restore to the end of the archive: recovery did not finish" "$(tail -20 "$dir.log")"
        fi
        pg_stop "$dir"
    fi
    pg_stop "$DRV_DATA"
    echo "# measure: driver_faults $label: $((SECONDS - T0)) s"
}
