#!/usr/bin/env bash
# Lists every C++ file in git that differs from .clang-format and exits with their count, so
# that `make check` fails on drift. `make format` rewrites them.
set -u
cd "$(dirname "$0")/.."
drift=0
while IFS= read -r f; do
    if ! clang-format --style=file "$f" | cmp -s - "$f"; then
        echo "format: $f differs from .clang-format (make format)"
        drift=$((drift + 1))
    fi
done < <(git ls-files '*.cpp' '*.h' '*.c')
exit "$drift"
