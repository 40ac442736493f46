#!/usr/bin/env bash
# Compare full-backup and full-restore speed of backrest against pgBackRest on one
# throw-away PostgreSQL cluster filled by pgbench.
#
#   SCALE=50 RUNS=3 bench/compare-full.sh
#
# Both tools back up the same cluster, with the same compression (zstd level 3) and the same
# process-max, into repositories on the same filesystem. Everything runs as the postgres OS
# user, because the archive_command (run by the server as postgres) writes to both
# repositories and so must own them. Results: a markdown table on stdout and a JSON file in
# bench/results/.
set -euo pipefail

SCALE=${SCALE:-50}
RUNS=${RUNS:-3}
PORT=${PORT:-56432}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
BACKREST_SRC=${BACKREST:-/work/main/build/backrest}
HERE=$(cd "$(dirname "$0")" && pwd)
RESULTS=$HERE/results

W=$(mktemp -d /tmp/compare-full.XXXXXX)
chown postgres: "$W"
chmod 755 "$W"
PGDATA=$W/pgdata SOCK=$W/sock RESTORE=$W/restore
BR_REPO=$W/backrest-repo PGBR_REPO=$W/pgbackrest-repo PGBR_CONF=$W/pgbackrest.conf
# A private copy of the binary: a rebuild of /work/main during the run cannot change it.
BR=$W/backrest
install -m 755 "$BACKREST_SRC" "$BR"

as_pg() { runuser -u postgres -- "$@"; }

# Stop the server whatever happens; keep the work dir only when asked (or on failure, to debug).
cleanup() {
    local rc=$?
    if [[ -f $PGDATA/postmaster.pid ]]; then
        as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
    fi
    if [[ $rc -eq 0 && -z ${KEEP:-} ]]; then rm -rf "$W"; else echo "work dir kept: $W" >&2; fi
}
trap cleanup EXIT

as_pg mkdir -p "$SOCK" "$BR_REPO" "$PGBR_REPO" "$W/lock" "$W/pgbr-lock" "$W/pgbr-log"

# --- 1. cluster -------------------------------------------------------------------------
as_pg "$PGBIN/initdb" -D "$PGDATA" --data-checksums -A trust >/dev/null
BR_PUSH="$BR --stanza=bench --repo1-path=$BR_REPO --pg1-path=$PGDATA archive-push %p"
PGBR_PUSH="pgbackrest --config=$PGBR_CONF --stanza=bench archive-push %p"
cat >>"$PGDATA/postgresql.conf" <<EOF
listen_addresses = ''
port = $PORT
unix_socket_directories = '$SOCK'
archive_mode = on
archive_command = '$BR_PUSH && $PGBR_PUSH'
EOF

cat >"$PGBR_CONF" <<EOF
[global]
repo1-path=$PGBR_REPO
log-path=$W/pgbr-log
lock-path=$W/pgbr-lock
start-fast=y

[bench]
pg1-path=$PGDATA
pg1-socket-path=$SOCK
pg1-port=$PORT
EOF
chown postgres: "$PGBR_CONF"

as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$W/postgres.log" -w start >/dev/null
echo "pgbench -i -s $SCALE ..." >&2
as_pg "$PGBIN/pgbench" -i -q -s "$SCALE" -h "$SOCK" -p "$PORT" postgres >"$W/pgbench.log" 2>&1
as_pg "$PGBIN/psql" -X -q -h "$SOCK" -p "$PORT" -d postgres -c CHECKPOINT
PGDATA_BYTES=$(du -sb "$PGDATA" | cut -f1)

# --- 2. stanzas -------------------------------------------------------------------------
BR_COMMON=(--stanza=bench --repo1-path="$BR_REPO" --pg1-path="$PGDATA" --pg1-socket-path="$SOCK"
           --pg1-port="$PORT" --lock-path="$W/lock")
as_pg "$BR" "${BR_COMMON[@]}" stanza-create
as_pg pgbackrest --config="$PGBR_CONF" --stanza=bench stanza-create

# --- commands under test ----------------------------------------------------------------
cmd_backup() {  # tool pmax
    case $1 in
    backrest)   echo "$BR ${BR_COMMON[*]} backup --type=full --start-fast --compress-type=zst --compress-level=3 --process-max=$2" ;;
    pgbackrest) echo "pgbackrest --config=$PGBR_CONF --stanza=bench backup --type=full --compress-type=zst --compress-level=3 --process-max=$2" ;;
    esac
}
cmd_restore() {  # tool pmax
    case $1 in
    backrest)   echo "$BR --stanza=bench --repo1-path=$BR_REPO --pg1-path=$RESTORE restore --process-max=$2" ;;
    pgbackrest) echo "pgbackrest --config=$PGBR_CONF --stanza=bench --pg1-path=$RESTORE restore --process-max=$2" ;;
    esac
}
repo_of() { [[ $1 == backrest ]] && echo "$BR_REPO" || echo "$PGBR_REPO"; }
labels() { find "$(repo_of "$1")/backup/bench" -mindepth 1 -maxdepth 1 -type d ! -name backup.history -printf '%f\n' | sort; }

# Runs "$@" as postgres under GNU time; prints "wall user sys maxrss_kb". On failure the
# tool's own output is shown verbatim and the script stops.
timed() {
    if ! /usr/bin/time -f '%e %U %S %M' -o "$W/time.out" runuser -u postgres -- "$@" >"$W/cmd.out" 2>&1; then
        echo "FAILED: $*" >&2; cat "$W/cmd.out" >&2; exit 1
    fi
    cat "$W/time.out"
}

# One backup; appends "backup tool pmax run wall user sys rss bytes label" to runs.tsv.
# The repo growth is the size of the one new backup directory (its label found by diffing
# the label list before and after).
do_backup() {  # tool pmax run
    local before after label t
    before=$(labels "$1")
    # shellcheck disable=SC2046  # the command line is deliberately word-split
    t=$(timed $(cmd_backup "$1" "$2"))
    after=$(labels "$1")
    label=$(comm -13 <(echo "$before") <(echo "$after") | tail -1)
    [[ -n $label ]] || { echo "no new backup directory for $1" >&2; exit 1; }
    echo "backup $1 $2 $3 $t $(du -sb "$(repo_of "$1")/backup/bench/$label" | cut -f1) $label" >>"$W/runs.tsv"
}

# One restore of the latest backup into an empty dir; the rm -rf happens outside the timing.
do_restore() {  # tool pmax run
    local t
    rm -rf "$RESTORE"; as_pg mkdir -m 700 "$RESTORE"
    # shellcheck disable=SC2046
    t=$(timed $(cmd_restore "$1" "$2"))
    echo "restore $1 $2 $3 $t $(du -sb "$RESTORE" | cut -f1) -" >>"$W/runs.tsv"
}

# --- 3./4. measurements -----------------------------------------------------------------
: >"$W/runs.tsv"
SANITY=""
for pmax in 1 2; do
    # Warm-up: the page cache cannot be dropped portably, so instead every timed run reads a
    # warm cache. One untimed backup per tool and process-max, recorded as run 0 and ignored.
    for tool in backrest pgbackrest; do echo "warm-up $tool process-max=$pmax" >&2; do_backup $tool $pmax 0; done
    for run in $(seq 1 "$RUNS"); do
        # Alternate which tool goes first so neither always follows the other.
        if (( run % 2 )); then order="backrest pgbackrest"; else order="pgbackrest backrest"; fi
        for tool in $order; do echo "backup $tool process-max=$pmax run $run" >&2; do_backup "$tool" $pmax "$run"; done
    done
    for run in $(seq 1 "$RUNS"); do
        if (( run % 2 )); then order="backrest pgbackrest"; else order="pgbackrest backrest"; fi
        for tool in $order; do
            echo "restore $tool process-max=$pmax run $run" >&2
            do_restore "$tool" $pmax "$run"
            # Sanity check, once: a backrest restore holds base/ and a pg_control of the same size.
            if [[ $tool == backrest && -z $SANITY ]]; then
                [[ -d $RESTORE/base ]] || { echo "sanity: $RESTORE/base missing" >&2; exit 1; }
                [[ $(stat -c %s "$RESTORE/global/pg_control") == $(stat -c %s "$PGDATA/global/pg_control") ]] \
                    || { echo "sanity: pg_control size differs" >&2; exit 1; }
                SANITY="backrest restore holds base/ and global/pg_control ($(stat -c %s "$RESTORE/global/pg_control") bytes, same as source)"
            fi
        done
    done
done
rm -rf "$RESTORE"

# --- 5. report --------------------------------------------------------------------------
mkdir -p "$RESULTS"
OUT=$RESULTS/compare-full-$(date +%Y%m%d-%H%M%S).json
export W OUT SCALE RUNS PGDATA_BYTES SANITY
CMD_BR_B=$(cmd_backup backrest N) CMD_PG_B=$(cmd_backup pgbackrest N)
CMD_BR_R=$(cmd_restore backrest N) CMD_PG_R=$(cmd_restore pgbackrest N)
export CMD_BR_B CMD_PG_B CMD_BR_R CMD_PG_R
python3 - <<'PY'
import json, os, statistics as st, subprocess, datetime
rows = [l.split() for l in open(os.environ["W"] + "/runs.tsv")]
def sel(phase, tool, pmax):
    return [r for r in rows if r[0] == phase and r[1] == tool and r[2] == str(pmax) and r[3] != "0"]
res = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
       "scale": int(os.environ["SCALE"]), "runs": int(os.environ["RUNS"]),
       "pgdata_bytes": int(os.environ["PGDATA_BYTES"]), "nproc": os.cpu_count(),
       "sha_ni": "sha_ni" in open("/proc/cpuinfo").read(),
       "pgbackrest_version": subprocess.run(["pgbackrest", "version"], capture_output=True, text=True).stdout.strip(),
       "note": "warm page cache: one untimed warm-up backup per tool and process-max before the timed runs",
       "sanity": os.environ["SANITY"],
       "commands": {"backrest": {"backup": os.environ["CMD_BR_B"], "restore": os.environ["CMD_BR_R"]},
                    "pgbackrest": {"backup": os.environ["CMD_PG_B"], "restore": os.environ["CMD_PG_R"]}},
       "rows": [], "raw": rows}
for pmax in (1, 2):
    med = {}
    for tool in ("backrest", "pgbackrest"):
        b, r = sel("backup", tool, pmax), sel("restore", tool, pmax)
        bw = [float(x[4]) for x in b]; rw = [float(x[4]) for x in r]
        med[tool] = row = {"tool": tool, "process_max": pmax,
            "backup_wall_median": st.median(bw), "backup_wall_min": min(bw), "backup_wall_max": max(bw),
            "backup_cpu_median": st.median(float(x[5]) + float(x[6]) for x in b),
            "backup_maxrss_mb": max(int(x[7]) for x in b) / 1024,
            "repo_mb": st.median(int(x[8]) for x in b) / 1e6,
            "restore_wall_median": st.median(rw), "restore_wall_min": min(rw), "restore_wall_max": max(rw),
            "restore_cpu_median": st.median(float(x[5]) + float(x[6]) for x in r),
            "restore_maxrss_mb": max(int(x[7]) for x in r) / 1024}
        res["rows"].append(row)
    for row in med.values():  # ratio > 1: backrest is faster
        row["ratio_backup_pgbackrest_over_backrest"] = med["pgbackrest"]["backup_wall_median"] / med["backrest"]["backup_wall_median"]
        row["ratio_restore_pgbackrest_over_backrest"] = med["pgbackrest"]["restore_wall_median"] / med["backrest"]["restore_wall_median"]
json.dump(res, open(os.environ["OUT"], "w"), indent=2)
print(f"\nSCALE={res['scale']} ({res['pgdata_bytes']/1e6:.0f} MB PGDATA), {res['runs']} timed runs each, "
      f"nproc={res['nproc']}, sha_ni={res['sha_ni']}; {res['note']}.\n")
print("| tool | process-max | backup wall s median (min–max) | backup CPU s | backup max RSS MB | repo MB "
      "| restore wall s median (min–max) | restore CPU s | restore max RSS MB | pgBR/backrest backup | pgBR/backrest restore |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for x in res["rows"]:
    print(f"| {x['tool']} | {x['process_max']} | {x['backup_wall_median']:.2f} ({x['backup_wall_min']:.2f}–{x['backup_wall_max']:.2f}) "
          f"| {x['backup_cpu_median']:.2f} | {x['backup_maxrss_mb']:.1f} | {x['repo_mb']:.1f} "
          f"| {x['restore_wall_median']:.2f} ({x['restore_wall_min']:.2f}–{x['restore_wall_max']:.2f}) "
          f"| {x['restore_cpu_median']:.2f} | {x['restore_maxrss_mb']:.1f} "
          f"| {x['ratio_backup_pgbackrest_over_backrest']:.2f} | {x['ratio_restore_pgbackrest_over_backrest']:.2f} |")
print(f"\n{res['sanity']}\nJSON: {os.environ['OUT']}")
PY
