# shellcheck shell=bash disable=SC2034  # T_* and other globals are read by bench/run and sections.sh
# Helpers of bench/run: running as postgres, timing a command with its CPU and peak RSS,
# reading CPU counters from /proc, recording raw measurements, and waiting on the server.
# Sourced by bench/run, which sets W (work dir), PGDATA, SOCK, PORT, PGBIN and BR before use.

# As postgres without an extra process in between (setpriv execs), so that GNU time's rusage
# and $! are the tool's own. HOME and USER are postgres's: tools look there for their files.
PG_EXEC=(setpriv --reuid=postgres --regid=postgres --init-groups
         env HOME=/var/lib/postgresql USER=postgres LOGNAME=postgres)
as_pg() { "${PG_EXEC[@]}" "$@"; }

CLK_TCK=$(getconf CLK_TCK)

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

psql_at() {  # sql: one query, unaligned tuples only
    as_pg "$PGBIN/psql" -X -h "$SOCK" -p "$PORT" -d postgres -Atq -v ON_ERROR_STOP=1 -c "$1"
}

now_ns() { date +%s%N; }
secs_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }  # calc EXPR: arithmetic on decimals

# CPU seconds of a process from /proc/<pid>/stat: "own" = utime+stime of all its threads,
# "children" = cutime+cstime of the children it has reaped. Empty if the process is gone.
proc_cpu() {  # pid own|children
    local s f
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    read -r -a f <<<"${s##*) }"  # fields from the 3rd on (the command name may hold spaces)
    if [[ $2 == own ]]; then calc "(${f[11]} + ${f[12]}) / $CLK_TCK"
    else calc "(${f[13]} + ${f[14]}) / $CLK_TCK"; fi
}
proc_hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null; }

postmaster_pid() { head -1 "$PGDATA/postmaster.pid"; }

# The backrest daemon of our cluster: the process running our private copy of the binary as
# `serve` (the launcher is not in pg_stat_activity, so its child cannot be found that way).
daemon_pid() { pgrep -f "^$BR serve " | head -1; }

# Waits until a daemon other than <old pid> runs and answers through the extension.
wait_daemon() {  # [old pid]
    local i pid
    for i in $(seq 1 300); do
        pid=$(daemon_pid)
        if [[ -n $pid && $pid != "${1:-}" ]] && psql_at 'SELECT count(*) FROM backrest_archive_status()' >/dev/null 2>&1; then
            echo "$pid"; return 0
        fi
        sleep 0.2
    done
    die "the backrest daemon did not (re)start within 60 s; see $W/postgres.log"
}

# Runs a command as postgres under GNU time. Sets T_WALL (s, from the clock), T_CPU (user+sys
# of the command and the children it waited for), T_RSS (kB, largest single process) and
# T_SERVER (CPU s of server processes that exited meanwhile: the backends, walsender and
# bgworkers the command used, reaped by the postmaster). Output goes to $W/cmd.out.
# Returns the command's status; T_ERR holds the tail of its output on failure.
timed() {
    local t0 pm0 status u s
    pm0=$(proc_cpu "$(postmaster_pid)" children 2>/dev/null)
    t0=$(now_ns)
    /usr/bin/time -f '%U %S %M' -o "$W/time.out" "${PG_EXEC[@]}" "$@" >"$W/cmd.out" 2>&1
    status=$?
    T_WALL=$(secs_since "$t0")
    read -r u s T_RSS < <(tail -1 "$W/time.out")
    T_CPU=$(calc "$u + $s")
    T_SERVER=0
    if [[ -n $pm0 ]]; then
        sleep 0.3  # the backends exit just after the client: let the postmaster reap them
        T_SERVER=$(calc "$(proc_cpu "$(postmaster_pid)" children) - $pm0")
    fi
    T_ERR=""
    if [[ $status -ne 0 ]]; then
        T_ERR=$(tail -5 "$W/cmd.out" | tr '\n' ' ')
        log "FAILED (exit $status): $* :: $T_ERR"
    fi
    return $status
}

# One raw measurement: key=value pairs, one line in $W/runs.tsv; bench/report.py reads them.
record() { (IFS=$'\t'; echo "$*") >>"$W/runs.tsv"; }

# A failure is recorded with the tool's own words, and the run goes on where it can.
record_failure() {  # section tool what
    record "section=failure" "of=$1" "tool=$2" "what=$3" "error=${T_ERR//$'\t'/ }"
}

# Run order for run r over a list of tools: rotated by r, so that no tool always goes first
# or always follows the same other one (ABAB... for two tools).
rotated() {  # r tools...
    local r=$1 n
    shift
    n=$#
    local a=("$@") i
    for ((i = 0; i < n; i++)); do printf '%s ' "${a[$(((i + r) % n))]}"; done
}

# Labels of the backups in a repository, oldest first.
labels() {  # repo
    find "$1/backup/bench" -mindepth 1 -maxdepth 1 -type d ! -name backup.history -printf '%f\n' 2>/dev/null | sort
}
newest_label() { labels "$1" | tail -1; }

ready_count() { find "$PGDATA/pg_wal/archive_status" -name '*.ready' 2>/dev/null | wc -l; }

# Waits until the archiver has nothing left to do (no .ready file), up to <timeout> s.
wait_archived() {  # timeout
    local i
    for i in $(seq 1 $(($1 * 5))); do
        [[ $(ready_count) -eq 0 ]] && return 0
        sleep 0.2
    done
    return 1
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
