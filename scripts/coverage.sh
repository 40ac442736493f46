#!/usr/bin/env bash
# `make coverage`: line coverage of src/, worker/ and extension/ over the unit and integration
# tests. Builds the worker and the unit tests with --coverage in build-cov (-O0, so a line counts
# as the source reads), the extension in place with --coverage, runs test/run-all.sh on that
# build, then prints one line per directory and a total, and writes an HTML report.
# usage: scripts/coverage.sh [--unit-only | --prepare | --measure]
#   (none)       build, run every test, measure
#   --unit-only  build, run the unit tests alone (no storage servers, no suite), measure
#   --prepare    build and zero the counters only, to run some suites by hand next, e.g.
#                RUN_SUITE_BIN=$PWD/build-cov/backrest /work/wt/run-suite backup_restore
#   --measure    measure what the counters hold, then rebuild the extension without --coverage
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
COV=build-cov
MODE=${1:-all}
NPROC=$(nproc 2>/dev/null || echo 2)

# Every counter file exists before any test runs, empty and writable by all: the worker runs as
# postgres and the extension inside the PostgreSQL server (whose umask is 0077), the unit tests
# as root. libgcov merges into an existing file in place, so whoever runs first, the others can
# still add their counts.
prepare_counters() {
    find "$@" -name '*.gcda' -delete
    find "$@" -name '*.gcno' -print0 | while IFS= read -r -d '' gcno; do
        gcda=${gcno%.gcno}.gcda
        : >"$gcda"
        chmod 0666 "$gcda"
    done
}

# The worker and the unit tests: the top Makefile with BUILD=build-cov. CXXFLAGS comes from the
# environment so that the Makefile's own flags (-std=c++20 -Werror …) are still appended.
build() {
    CXXFLAGS="-O0 -g --coverage" make --no-print-directory -j"$NPROC" BUILD=$COV \
        $COV/backrest $COV/unit-tests
    # PGXS builds in place: rebuild every object with --coverage (COPT reaches the link).
    make --no-print-directory -C extension clean >/dev/null
    make --no-print-directory -C extension CXXFLAGS="-O0 -g --coverage" COPT=--coverage >/dev/null
}

# The extension is left built without --coverage, as `make` leaves it: a later `make install`
# must not install an instrumented library.
restore_extension() {
    make --no-print-directory -C extension clean >/dev/null
    find extension src/protocol src/common \( -name '*.gcno' -o -name '*.gcda' \) -delete
    make --no-print-directory -C extension >/dev/null
}

# lcov over both trees of counters: a baseline from the .gcno files (so a file no test runs
# counts as 0 %, not as absent) plus what the tests ran. Only our own sources count (not
# /usr/include, not the tests themselves).
measure() {
    local out=$COV/coverage ext=(--directory extension --directory src/protocol --directory src/common)
    mkdir -p "$out"
    # A counter file no process wrote is still empty: gcov reads it as corrupt.
    find $COV extension src/protocol src/common -name '*.gcda' -size 0 -delete
    : >"$out/lcov.log"
    # Two trees, each with the directory its compiler ran in: the worker's objects name their
    # sources from the top (src/io/x.cpp), PGXS's from extension/ (backrest.cpp, ../src/...).
    # Read from the top, the extension's lines named files that do not exist and were dropped.
    capture base-worker --initial --directory $COV --base-directory "$ROOT" || return 1
    capture run-worker --directory $COV --base-directory "$ROOT" || return 1
    capture base-ext --initial "${ext[@]}" --base-directory "$ROOT/extension" || return 1
    capture run-ext "${ext[@]}" --base-directory "$ROOT/extension" || return 1
    local traces=() t
    for t in base-worker run-worker base-ext run-ext; do
        [ -s "$out/$t.info" ] && traces+=(--add-tracefile "$out/$t.info")
    done
    lcov --quiet "${traces[@]}" --output-file "$out/all.info"
    lcov --quiet --extract "$out/all.info" "$ROOT/src/*" "$ROOT/worker/*" "$ROOT/extension/*" \
        --output-file "$out/ours.info"
    genhtml --quiet --title backrest --prefix "$ROOT" --output-directory "$out/html" "$out/ours.info"
    echo "== line coverage ($MODE)"
    summarize "$out/ours.info"
    echo "coverage: HTML report in $COV/coverage/html/index.html"
}

# lcov --capture into $COV/coverage/<name>.info. A tree no test ran (no counter file) is an empty
# tracefile, not an error.
capture() {
    local name=$1 file=$COV/coverage/$1.info
    shift
    if ! lcov --quiet --capture "$@" --output-file "$file" 2>>"$COV/coverage/lcov.log"; then
        if grep -q "no .gcda files found" "$COV/coverage/lcov.log"; then
            : >"$file"
            return 0
        fi
        cat "$COV/coverage/lcov.log"
        return 1
    fi
}

# One line per directory and a total, from the tracefile's LF (lines found) and LH (lines hit).
summarize() {
    awk -v root="$ROOT/" '
        /^SF:/ { file = substr($0, 4); sub(root, "", file); split(file, part, "/"); dir = part[1] }
        /^LF:/ { found[dir] += substr($0, 4); total_found += substr($0, 4) }
        /^LH:/ { hit[dir] += substr($0, 4); total_hit += substr($0, 4) }
        function line(name, h, f) {
            printf "%-10s %6.1f %%  (%d of %d lines)\n", name, f ? 100 * h / f : 0, h, f
        }
        END {
            line("src/", hit["src"], found["src"])
            line("worker/", hit["worker"], found["worker"])
            line("extension/", hit["extension"], found["extension"])
            line("total", total_hit, total_found)
        }' "$1"
}

case $MODE in
all)
    build
    prepare_counters $COV extension src/protocol src/common
    # run-all.sh runs the unit tests then every suite on build-cov/backrest; the suites that
    # need the extension install the in-place (instrumented) build.
    test/run-all.sh $COV || echo "coverage: some tests failed (measured anyway)"
    ;;
--unit-only)
    build
    prepare_counters $COV extension src/protocol src/common
    "$COV/unit-tests" --gtest_brief=1 || echo "coverage: unit tests failed (measured anyway)"
    ;;
--prepare)
    build
    prepare_counters $COV extension src/protocol src/common
    exit 0
    ;;
--measure) ;;
*)
    echo "usage: scripts/coverage.sh [--unit-only | --prepare | --measure]" >&2
    exit 2
    ;;
esac
status=0
measure || status=$?
restore_extension
exit $status
