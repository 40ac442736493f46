#!/bin/sh
# archive_command wrapper of bench/run: runs the real archive command and appends
# "<segment> <start ns> <end ns> <exit status>" to a log, for per-segment archive latency.
#   archive_command = 'archive_push_timed.sh LOG %f pgbackrest ... archive-push %p'
log=$1 file=$2
shift 2
start=$(date +%s%N)
"$@"
rc=$?
echo "$file $start $(date +%s%N) $rc" >>"$log"
exit $rc
