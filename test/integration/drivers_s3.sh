#!/usr/bin/env bash
# The per-driver scenarios and failure modes (lib_drivers.sh, lib_driver_faults.sh) against an
# S3 repository on Ceph's radosgw (scripts/test-servers/radosgw.sh, TLS on 127.0.0.1, SigV4
# checked by the server). The listing after every step is an independent client's (aws s3api
# list-objects-v2). "Stopping the server" stops radosgw (RADOS keeps the objects); starting it
# brings it back on the same port.
set -u
SUITE=drivers_s3
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
source "$HERE/lib_drivers.sh"
it_setup
RGW=$HERE/../../scripts/test-servers/radosgw.sh
RGW_DIR=$IT_TMP/radosgw
RGW_PORT=55940
trap 'bash "$RGW" stop "$RGW_DIR" >/dev/null 2>&1; it_finish' EXIT
if ! bash "$RGW" start "$RGW_DIR" "$RGW_PORT" >"$IT_TMP/radosgw.out" 2>&1; then
    fail "setup: radosgw starts" "$(tail -5 "$IT_TMP/radosgw.out")"
    exit 1
fi
source "$RGW_DIR/env"
install -m 0644 "$S3_CA" "$IT_TMP/s3-ca.pem"
PREFIX=drivers
cat >"$IT_TMP/repo-s3.lines" <<LINES
repo1-type=s3
repo1-path=/$PREFIX
repo1-s3-bucket=$S3_BUCKET
repo1-s3-endpoint=127.0.0.1
repo1-s3-region=$S3_REGION
repo1-s3-uri-style=path
repo1-s3-key=$S3_KEY
repo1-s3-key-secret=$S3_SECRET
repo1-storage-port=$S3_PORT
repo1-storage-ca-file=$IT_TMP/s3-ca.pem
LINES

repo_list_all() {
    AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET AWS_DEFAULT_REGION=$S3_REGION \
        /usr/bin/aws --endpoint-url "https://127.0.0.1:$S3_PORT" --ca-bundle "$IT_TMP/s3-ca.pem" \
        s3api list-objects-v2 --bucket "$S3_BUCKET" --prefix "$PREFIX/" --query 'Contents[].Key' --output text |
        tr '\t' '\n' | sed -n "s|^$PREFIX/||p"
}
s3_stop() { bash "$RGW" stop-rgw "$RGW_DIR" >/dev/null 2>&1; }
s3_start() { bash "$RGW" start-rgw "$RGW_DIR" >>"$IT_TMP/radosgw.out" 2>&1; }

# aws takes a second or more per listing: a larger table keeps the backup copying while the
# scenario waits for its objects to appear before it kills it.
DRV_BULK_ROWS=1000000 DRV_PORT=55930 driver_scenarios s3 "$IT_TMP/repo-s3.lines"
DRV_PORT=55930 driver_faults s3 "$IT_TMP/repo-s3.lines" s3_stop s3_start
