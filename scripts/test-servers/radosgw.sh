#!/usr/bin/env bash
# A throwaway Ceph for the S3 driver's tests: one monitor, one OSD on memstore (objects in
# memory, pool size 1), cephx auth (radosgw fails without it) and radosgw's beast frontend on
# 127.0.0.1 with a self-signed TLS certificate made here. Everything lives in one temp directory.
#
#   radosgw.sh start <dir> <port-base>  starts it; writes <dir>/env (S3_ENDPOINT, S3_PORT,
#                                       S3_BUCKET, S3_KEY, S3_SECRET, S3_CA, S3_REGION)
#   radosgw.sh stop <dir>               kills what start started and removes <dir>
#   radosgw.sh stop-rgw <dir>           stops radosgw only (a fault test); start-rgw restarts it
#   radosgw.sh kill-rgw <dir>           kill -9 of radosgw (connections dropped mid-request)
#
# Ports: <port-base> radosgw (TLS), +1 monitor. stop is idempotent and safe from a trap.
# RGW_MEMSTORE_BYTES: the OSD's memory store (default 2 GiB; a bench storing more sets it).
# Needs ceph-mon, ceph-osd, radosgw, openssl, awscli (scripts/install-deps.sh).
set -euo pipefail

usage() { echo "usage: $0 start|stop|stop-rgw|kill-rgw|start-rgw <dir> [port-base]" >&2; exit 2; }
[ $# -ge 2 ] || usage
CMD=$1
DIR=$2
BASE=${3:-55860}
CONF=$DIR/ceph.conf

killpid() {  # pidfile: SIGTERM, then SIGKILL after 10 s
    local file=$1 pid
    [ -f "$file" ] || return 0
    pid=$(cat "$file" 2>/dev/null || true)
    rm -f "$file"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
}

start_rgw() {
    # shellcheck disable=SC1091
    . "$DIR/env"
    radosgw -c "$CONF" -n client.admin --pid-file "$DIR/run/rgw.pid" --log-file "$DIR/log/rgw.log" \
        --admin-socket "$DIR/run/rgw.asok" \
        --rgw-frontends "beast ssl_endpoint=127.0.0.1:$S3_PORT ssl_certificate=$DIR/cert.pem ssl_private_key=$DIR/key.pem"
    # Ready when it answers over TLS (an anonymous list of buckets).
    for _ in $(seq 300); do
        if curl -s --cacert "$DIR/cert.pem" -o /dev/null "https://127.0.0.1:$S3_PORT/"; then return 0; fi
        sleep 0.1
    done
    echo "radosgw did not answer on 127.0.0.1:$S3_PORT within 30 s; see $DIR/log/rgw.log" >&2
    tail -20 "$DIR/log/rgw.log" >&2 || true
    return 1
}

case $CMD in
stop)
    [ -d "$DIR" ] || exit 0
    killpid "$DIR/run/rgw.pid"
    for f in "$DIR"/run/osd.*.pid; do killpid "$f"; done
    killpid "$DIR/run/mon.a.pid"
    rm -rf "$DIR"
    exit 0
    ;;
stop-rgw)
    killpid "$DIR/run/rgw.pid"
    exit 0
    ;;
kill-rgw)
    if [ -f "$DIR/run/rgw.pid" ]; then
        pid=$(cat "$DIR/run/rgw.pid")
        rm -f "$DIR/run/rgw.pid"
        kill -9 "$pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    exit 0
    ;;
start-rgw)
    start_rgw
    exit 0
    ;;
start)
    "$0" stop "$DIR"  # leftovers of an earlier run
    ;;
*) usage ;;
esac

RGW_PORT=$BASE
MON_PORT=$((BASE + 1))
mkdir -p "$DIR"/{run,log,mon,osd}
FSID=$(uuidgen)

cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$MON_PORT]
mon initial members = a
public addr = 127.0.0.1
ms bind msgr1 = false
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
run dir = $DIR/run
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
mon data = $DIR/mon/\$cluster-\$id
osd data = $DIR/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = ${RGW_MEMSTORE_BYTES:-2147483648}
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
rgw dns name = 127.0.0.1
[client]
keyring = $DIR/keyring
[mon]
admin socket = $DIR/run/\$name.asok
[osd]
admin socket = $DIR/run/\$name.asok
keyring = $DIR/osd/\$cluster-\$id/keyring
EOF

ceph-authtool --create-keyring "$DIR/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
ceph-authtool "$DIR/mon.keyring" --import-keyring "$DIR/keyring" >/dev/null
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/mon.keyring"
ceph-mon -c "$CONF" -i a

OSD_UUID=$(uuidgen)
OSD_ID=$(ceph -c "$CONF" --connect-timeout 30 osd new "$OSD_UUID")
mkdir -p "$DIR/osd/ceph-$OSD_ID"
ceph-osd -c "$CONF" -i "$OSD_ID" --mkfs --mkkey --no-mon-config --osd-uuid "$OSD_UUID" 2>>"$DIR/log/osd-mkfs.log"
ceph -c "$CONF" auth add "osd.$OSD_ID" osd 'allow *' mon 'allow profile osd' mgr 'allow profile osd' \
    -i "$DIR/osd/ceph-$OSD_ID/keyring" 2>/dev/null
ceph-osd -c "$CONF" -i "$OSD_ID" 2>>"$DIR/log/osd-start.log"
for _ in $(seq 300); do
    ceph -c "$CONF" osd stat 2>/dev/null | grep -q '1 up' && break
    sleep 0.1
done

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$DIR/key.pem" -out "$DIR/cert.pem" 2>/dev/null

cat >"$DIR/env" <<EOF
S3_ENDPOINT=127.0.0.1
S3_PORT=$RGW_PORT
S3_BUCKET=backrest-test
S3_REGION=us-east-1
S3_CA=$DIR/cert.pem
S3_DIR=$DIR
EOF
start_rgw

KEY=$(openssl rand -hex 10 | tr a-f A-F)
SECRET=$(openssl rand -hex 20)
radosgw-admin -c "$CONF" -n client.admin user create --uid=backrest --display-name=backrest \
    --access-key="$KEY" --secret-key="$SECRET" >/dev/null
{
    echo "S3_KEY=$KEY"
    echo "S3_SECRET=$SECRET"
} >>"$DIR/env"
chmod 600 "$DIR/env"

AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=$SECRET AWS_DEFAULT_REGION=us-east-1 \
    /usr/bin/aws --endpoint-url "https://127.0.0.1:$RGW_PORT" --ca-bundle "$DIR/cert.pem" \
    s3api create-bucket --bucket backrest-test >/dev/null
echo "radosgw on https://127.0.0.1:$RGW_PORT, env in $DIR/env"
