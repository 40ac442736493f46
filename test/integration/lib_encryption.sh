# Helpers of the encryption suites (encryption.sh, encryption_attack.sh, encryption_stores.sh):
# damage to stored files, the sealed-unit layout (crypto/sealed.h) to find a framed file's frames,
# listings of a repository, and every output kept to look for the passphrase afterwards.

ALL_OUTPUT_FILE=${ALL_OUTPUT_FILE:-$IT_TMP/all-output}
keep() { printf '%s\n' "$OUT" >>"$ALL_OUTPUT_FILE"; }

# expect_exit that keeps the output (to grep for the passphrase at the end).
expect_exit_k() {
    expect_exit "$@"
    keep
}

# A command that must fail: any status but 0 (and but 1 when $EXPECT_NOT_ONE is set); the output is kept.
expect_fail() {  # name command...
    local name=$1
    shift
    OUT=$(as_pg "$@" 2>&1)
    RC=$?
    keep
    if [ "$RC" -ne 0 ]; then pass "$name (exit $RC)"; else fail "$name" "expected a failure, got exit 0: $OUT"; fi
}

flip_byte() {  # file offset: xor one byte with 0xff
    local old
    old=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "\\x$(printf '%02x' $((old ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# Path size mtime mode of every file under a directory: equal before and after = nothing written.
listing() { find "$1" -printf '%P %s %T@ %m\n' | sort; }

# The sealed units of a stored file, one "start end" line each (crypto/sealed.h: "BRS1", a
# 16-byte salt, then chunks of a 4-byte little-endian length with bit 31 on the last, the
# ciphertext and a 16-byte tag). Prints "not sealed" when the bytes do not follow the format.
sealed_units() {  # file
    python3 - "$1" <<'PY'
import sys
b = open(sys.argv[1], 'rb').read()
pos, out = 0, []
try:
    while pos < len(b):
        if b[pos:pos + 4] != b'BRS1':
            raise ValueError
        start = pos
        pos += 20
        while True:
            n = int.from_bytes(b[pos:pos + 4], 'little')
            last, n = n >> 31, n & 0x7fffffff
            pos += 4 + n + 16
            if pos > len(b):
                raise ValueError
            if last:
                break
        out.append((start, pos))
    for s, e in out:
        print(s, e)
except ValueError:
    print("not sealed")
PY
}

# Swaps two sealed units (frames) of a stored file in place; prefers two of equal size, so that
# only their positions change. Prints the two frame indexes swapped.
swap_frames() {  # file
    python3 - "$1" <<'PY'
import sys
path = sys.argv[1]
b = open(path, 'rb').read()
pos, units = 0, []
while pos < len(b):
    start = pos
    pos += 20
    while True:
        n = int.from_bytes(b[pos:pos + 4], 'little')
        last, n = n >> 31, n & 0x7fffffff
        pos += 4 + n + 16
        if last:
            break
    units.append(b[start:pos])
pair = None
for i in range(len(units)):
    for j in range(i + 1, len(units)):
        if len(units[i]) == len(units[j]) and pair is None:
            pair = (i, j)
if pair is None:
    pair = (1, 2) if len(units) > 2 else (0, 1)
i, j = pair
units[i], units[j] = units[j], units[i]
open(path, 'wb').write(b''.join(units))
print(i, j)
PY
}

# Counted from /proc in bash itself: a grep or ps given the passphrase would find its own command line.
processes_with() {  # text
    local f n=0
    for f in /proc/[0-9]*/cmdline; do
        [[ "$(tr '\0' ' ' 2>/dev/null <"$f")" == *"$1"* ]] && n=$((n + 1))
    done
    echo $n
}
