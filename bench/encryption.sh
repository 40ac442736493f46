# shellcheck shell=bash
# shellcheck source-path=SCRIPTDIR
# What encryption costs: a full backup and a full restore of the same cluster by the CLI to a
# posix repository, plain and with repo1-cipher-type=aes-256-gcm, same run, alternating run by
# run (issue 18: at most 10 % more wall time). Both at zstd level 3 and process-max 2, each into
# a repository of its own. Sourced by bench/run after sections.sh.
#
# The restores recover nothing (--type=none): neither repository holds the cluster's WAL (the
# daemon archives into the first repository), and what is compared is the data path, the same
# for both. The passphrase is in the configuration file (mode 0640), as a DBA would keep it.

ENC_TOOLS=(backrest-plain backrest-aes)

enc_setup() {
    local tool
    for tool in "${ENC_TOOLS[@]}"; do
        sed "s|^repo1-path=.*|repo1-path=$W/enc-repo-$tool|" "$W/br-l3-p2.conf" >"$W/br-$tool.conf"
        [[ $tool == backrest-aes ]] &&
            printf 'repo1-cipher-type=aes-256-gcm\nrepo1-cipher-pass=bench-passphrase-%s\n' "$STAMP" >>"$W/br-$tool.conf"
        chown postgres:postgres "$W/br-$tool.conf"
        chmod 0640 "$W/br-$tool.conf"
        as_pg "$BR" --config="$W/br-$tool.conf" --stanza=bench --pg1-path="$PGDATA" stanza-create \
            >"$W/enc-stanza-$tool.out" 2>&1 || {
            log "stanza-create for $tool failed: $(tail -3 "$W/enc-stanza-$tool.out")"
            return 1
        }
    done
}

bench_encryption() {
    local run tool before label
    enc_setup || { record "section=failure" "of=encryption" "tool=setup" "what=stanza-create" "error=see log"; return 0; }
    declare -gA ENC_LAST
    for run in $(seq 0 "$RUNS"); do
        for tool in $(rotated "$run" "${ENC_TOOLS[@]}"); do
            log "encryption: full backup $tool run $run"
            CMD=("$BR" --config="$W/br-$tool.conf" --stanza=bench --pg1-path="$PGDATA" --pg1-socket-path="$SOCK"
                 --pg1-port="$PORT" backup --type=full --start-fast --archive-check=n)
            [[ $run == 1 ]] && record_cmd "enc-full $tool"
            before=$(labels "$W/enc-repo-$tool")
            if ! timed "${CMD[@]}"; then
                record_failure enc-full "$tool" "run $run"
                continue
            fi
            label=$(comm -13 <(echo "$before") <(labels "$W/enc-repo-$tool") | tail -1)
            ENC_LAST[$tool]=$label
            record "section=enc-full" "tool=$tool" "run=$run" "wall=$T_WALL" \
                "cpu=$(calc "$T_CPU + $T_SERVER")" "cpu_client=$T_CPU" "rss_kb=$T_RSS" \
                "repo_bytes=$(du -sb "$W/enc-repo-$tool/backup/bench/$label" | cut -f1)" "load=$(loadavg)"
        done
    done
    for run in $(seq 0 "$RUNS"); do
        for tool in $(rotated "$run" "${ENC_TOOLS[@]}"); do
            [[ -n ${ENC_LAST[$tool]:-} ]] || continue
            local dir=$W/restore-$tool
            set_aside "$dir"
            install -d -m 0700 -o postgres -g postgres "$dir"
            log "encryption: full restore $tool run $run"
            CMD=("$BR" --config="$W/br-$tool.conf" --stanza=bench --pg1-path="$dir" restore
                 --set="${ENC_LAST[$tool]}" --type=none)
            [[ $run == 1 ]] && record_cmd "enc-restore $tool"
            if ! timed "${CMD[@]}"; then
                record_failure enc-restore "$tool" "run $run"
                continue
            fi
            record "section=enc-restore" "tool=$tool" "run=$run" "wall=$T_WALL" "cpu=$T_CPU" \
                "rss_kb=$T_RSS" "restored_bytes=$(du -sb "$dir" | cut -f1)" "load=$(loadavg)"
        done
    done
    set_aside "$W/restore-backrest-plain"
    set_aside "$W/restore-backrest-aes"
}
