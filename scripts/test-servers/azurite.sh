#!/bin/bash
# Azurite (Azure Blob Storage emulator) for the Azure driver's tests, on 127.0.0.1 over TLS.
#   azurite.sh start <dir> [port]   installs Azurite 3.35.0 from npm into a cache if absent, starts
#                                   the blob service with a self-signed certificate, data kept in
#                                   <dir>/data (file persistence: a restart keeps the blobs), and
#                                   writes <dir>/azurite.env (account, key, endpoint, port,
#                                   container (created), CA file, connection string); nothing if
#                                   already running
#   azurite.sh stop <dir>           kills it (idempotent: safe in an EXIT trap)
# 3.35.0: the last release that runs on Debian 12's Node (3.36 wants a newer one). No
# --skipApiVersionCheck: the driver sends x-ms-version 2021-12-02, which 3.35 knows.
set -u

AZURITE_VERSION=3.35.0
CACHE=${TEST_BACKREST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/backrest}/azurite-$AZURITE_VERSION
# The emulator's well-known development account (documented by Microsoft; not a secret).
ACCOUNT=devstoreaccount1
CONTAINER=backrest
KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

install_azurite() {
    [ -x "$CACHE/node_modules/.bin/azurite-blob" ] && return 0
    mkdir -p "$CACHE"
    npm install --prefix "$CACHE" --no-audit --no-fund "azurite@$AZURITE_VERSION" >"$CACHE/install.log" 2>&1 || {
        echo "azurite.sh: npm install azurite@$AZURITE_VERSION failed (log: $CACHE/install.log)" >&2
        return 1
    }
}

start() {
    local dir=$1 port=${2:-55880}
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ -f "$dir/azurite.pid" ] && kill -0 "$(cat "$dir/azurite.pid")" 2>/dev/null; then return 0; fi
    install_azurite || return 1
    if [ ! -f "$dir/cert.pem" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=127.0.0.1" \
            -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
            -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1 || {
            echo "azurite.sh: openssl could not make a certificate" >&2
            return 1
        }
    fi
    mkdir -p "$dir/data"
    setsid "$CACHE/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$port" \
        --location "$dir/data" --cert "$dir/cert.pem" --key "$dir/key.pem" --disableTelemetry --silent \
        >>"$dir/azurite.log" 2>&1 </dev/null &
    echo $! >"$dir/azurite.pid"
    local i
    for i in $(seq 1 100); do
        if curl -s -o /dev/null --cacert "$dir/cert.pem" "https://127.0.0.1:$port/$ACCOUNT?comp=list"; then
            create_container "$dir" "$port" || return 1
            write_env "$dir" "$port"
            return 0
        fi
        kill -0 "$(cat "$dir/azurite.pid")" 2>/dev/null || break
        sleep 0.2
    done
    echo "azurite.sh: Azurite did not start on 127.0.0.1:$port (log: $dir/azurite.log)" >&2
    tail -20 "$dir/azurite.log" >&2
    return 1
}

# The tests' container, made with curl and a Shared Key signature from openssl (azure-cli takes
# tens of seconds to start); 201 created, or 409 already there after a restart.
create_container() {
    local dir=$1 port=$2 date version=2021-12-02 hexkey signature status
    date=$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S GMT')
    hexkey=$(printf '%s' "$KEY" | base64 -d | od -An -tx1 -v | tr -d ' \n')
    signature=$(printf 'PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:%s\nx-ms-version:%s\n/%s/%s/%s\nrestype:container' \
        "$date" "$version" "$ACCOUNT" "$ACCOUNT" "$CONTAINER" |
        openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hexkey" -binary | base64 -w0)
    status=$(curl -s -o "$dir/container.reply" -w '%{http_code}' --cacert "$dir/cert.pem" -X PUT --data-binary '' \
        -H 'Content-Type:' -H "x-ms-date: $date" -H "x-ms-version: $version" \
        -H "Authorization: SharedKey $ACCOUNT:$signature" \
        "https://127.0.0.1:$port/$ACCOUNT/$CONTAINER?restype=container")
    case "$status" in
    201 | 409) return 0 ;;
    esac
    echo "azurite.sh: creating container '$CONTAINER' failed: HTTP $status $(cat "$dir/container.reply")" >&2
    return 1
}

write_env() {
    local dir=$1 port=$2
    cat >"$dir/azurite.env" <<ENV
AZURITE_ACCOUNT=$ACCOUNT
AZURITE_KEY=$KEY
AZURITE_HOST=127.0.0.1
AZURITE_PORT=$port
AZURITE_ENDPOINT=https://127.0.0.1:$port/$ACCOUNT
AZURITE_CONTAINER=$CONTAINER
AZURITE_CA_FILE=$dir/cert.pem
AZURITE_PID_FILE=$dir/azurite.pid
AZURITE_CONNECTION_STRING="DefaultEndpointsProtocol=https;AccountName=$ACCOUNT;AccountKey=$KEY;BlobEndpoint=https://127.0.0.1:$port/$ACCOUNT;"
ENV
}

stop() {
    local dir=$1 pid
    [ -f "$dir/azurite.pid" ] || return 0
    pid=$(cat "$dir/azurite.pid")
    # setsid made it a group leader: its node children go with it.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    local i
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null
    rm -f "$dir/azurite.pid"
    return 0
}

case "${1:-}" in
start) start "${2:?usage: azurite.sh start <dir> [port]}" "${3:-}" ;;
stop) stop "${2:?usage: azurite.sh stop <dir>}" ;;
*)
    echo "usage: azurite.sh start <dir> [port] | stop <dir>" >&2
    exit 2
    ;;
esac
