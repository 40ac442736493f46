# Speaking to the worker daemon (`backrest serve`) in raw protocol frames from bash (socat), as
# test/integration/daemon.sh does: a suite sets SOCK (the daemon's socket) and IT_TMP first.

# A 4-byte big-endian length prefix.
prefix_bytes() {  # n
    printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((($1 >> 24) & 255)) $((($1 >> 16) & 255)) \
        $((($1 >> 8) & 255)) $(($1 & 255)))"
}

# One frame: the prefix with the payload's length in bytes, then the payload.
frame() {  # payload
    local n
    n=$(printf '%s' "$1" | wc -c)
    prefix_bytes "$n"
    printf '%s' "$1"
}

# Decodes a file of frames: one payload per line.
decode_frames() {  # file
    local f=$1 off=0 size n
    size=$(stat -c %s "$f")
    while [ $((off + 4)) -le "$size" ]; do
        n=$(od -An -tu4 --endian=big -j "$off" -N 4 "$f" | tr -d ' ')
        if [ $((off + 4 + n)) -gt "$size" ]; then
            echo "<truncated frame: $n bytes announced, $((size - off - 4)) present>"
            return
        fi
        tail -c +$((off + 5)) "$f" | head -c "$n"
        echo
        off=$((off + 4 + n))
    done
    [ "$off" -eq "$size" ] || echo "<$((size - off)) stray bytes>"
}

# hello + the given request payloads, as postgres: the decoded replies, one per line.
daemon_call() {  # payload...
    local in=$IT_TMP/call.$BASHPID.in out=$IT_TMP/call.$BASHPID.out p
    { frame '{"type":"hello","version":1,"client":"lib_daemon.sh"}'; for p in "$@"; do frame "$p"; done; } >"$in"
    as_pg socat -t 60 -T 120 - "UNIX-CONNECT:$SOCK" <"$in" >"$out" 2>/dev/null
    decode_frames "$out"
}

# Starts `backrest serve` as postgres (DAEMON: its pid) and waits for its socket; stop_daemon
# ends it (the suite's EXIT trap must call it).
DAEMON=
start_daemon() {  # log-file backrest-args...
    local log=$1
    shift
    setpriv --reuid=postgres --regid=postgres --init-groups -- "$BR" "$@" serve >"$log" 2>&1 &
    DAEMON=$!
    for _ in $(seq 1 100); do [ -S "$SOCK" ] && return 0; sleep 0.1; done
    return 1
}
stop_daemon() {
    [ -n "$DAEMON" ] || return 0
    kill "$DAEMON" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$DAEMON" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$DAEMON" 2>/dev/null
    DAEMON=
}
