#!/usr/bin/env bash
# Runs every test suite — GoogleTest units, then the integration suites against real
# PostgreSQL 15 clusters — and ends with one line: "N passed, N failed" (all suites summed).
# Exits non-zero if anything failed.
set -u
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export TEST_BACKREST_BIN="$ROOT/$BUILD/backrest"
export IT_RESULTS
IT_RESULTS=$(mktemp)
# shellcheck source=servers.sh
source test/servers.sh
trap 'stop_test_servers; rm -f "$IT_RESULTS"' EXIT

total_passed=0
total_failed=0

# Formatting drift is a failure per file (scripts/format-check.sh; `make format` fixes it).
echo "== format (.clang-format)"
scripts/format-check.sh
drift=$?
if [ "$drift" -eq 0 ]; then
    echo "format: every C++ file matches .clang-format"
    total_passed=$((total_passed + 1))
else
    total_failed=$((total_failed + drift))
fi

# The drivers' unit tests skip a driver whose server is not running: here a server that does not
# start is a failure, never a silent skip.
echo "== storage servers for the unit tests (radosgw, Azurite, sshd)"
start_test_servers
servers_failed=$?
total_failed=$((total_failed + servers_failed))

echo "== unit tests (GoogleTest)"
unit_log=$(mktemp)
"$BUILD/unit-tests" 2>&1 | tee "$unit_log"
unit_status=${PIPESTATUS[0]}
p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$unit_log" | tail -1)
f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$unit_log" | tail -1)
p=${p:-0}
f=${f:-0}
# A driver's tests skipped although its server runs: a failure (a maker that cannot reach it).
skipped_drivers=$(grep -c "^\[  SKIPPED \] .*/\(s3\|azure\|sftp\)\b" "$unit_log" || true)
if [ "$servers_failed" -eq 0 ] && [ "${skipped_drivers:-0}" -gt 0 ]; then
    echo "unit: $skipped_drivers driver test(s) skipped although every server runs"
    f=$((f + 1))
fi
# A crash prints no summary: count it as a failure so it cannot pass silently.
if [ "$unit_status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
rm -f "$unit_log"
echo "unit: $p passed, $f failed"
total_passed=$((total_passed + p))
total_failed=$((total_failed + f))

echo "== regress (pg_regress)"
test/regress.sh "$BUILD"

for suite in test/integration/*.sh; do
    case $(basename "$suite") in lib*.sh) continue ;; esac  # libraries the suites source
    echo "== integration: $(basename "$suite" .sh)"
    before=$(wc -l <"$IT_RESULTS")
    bash "$suite"
    status=$?
    after=$(wc -l <"$IT_RESULTS")
    if [ "$after" -eq "$before" ]; then
        # The suite died before reporting: one failure, never a silent pass.
        echo "$(basename "$suite"): exited $status without a report"
        echo "0 1" >>"$IT_RESULTS"
    elif [ "$status" -ne 0 ] && [ "$(tail -1 "$IT_RESULTS" | cut -d' ' -f2)" -eq 0 ]; then
        echo "0 1" >>"$IT_RESULTS"
    fi
done
while read -r p f; do
    total_passed=$((total_passed + p))
    total_failed=$((total_failed + f))
done <"$IT_RESULTS"

echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
