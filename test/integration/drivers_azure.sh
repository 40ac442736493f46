#!/usr/bin/env bash
# The per-driver scenarios and failure modes (lib_drivers.sh, lib_driver_faults.sh) against an
# Azure repository in Azurite (scripts/test-servers/azurite.sh, TLS on 127.0.0.1). The listing
# after every step is an independent client's (azure_list.py: List Blobs, Shared Key).
# "Stopping the server" kills Azurite; starting it again keeps its blobs (file persistence).
set -u
SUITE=drivers_azure
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
source "$HERE/lib_drivers.sh"
it_setup
AZURITE=$HERE/../../scripts/test-servers/azurite.sh
AZ_DIR=$IT_TMP/azurite
AZ_PORT=55897
trap 'bash "$AZURITE" stop "$AZ_DIR" >/dev/null 2>&1; it_finish' EXIT
if ! bash "$AZURITE" start "$AZ_DIR" "$AZ_PORT" >"$IT_TMP/azurite.out" 2>&1; then
    fail "setup: Azurite starts" "$(tail -5 "$IT_TMP/azurite.out")"
    exit 1
fi
source "$AZ_DIR/azurite.env"
chmod 0644 "$AZURITE_CA_FILE"
PREFIX=drivers-$(basename "$IT_TMP")
cat >"$IT_TMP/repo-azure.lines" <<LINES
repo1-type=azure
repo1-path=/$PREFIX
repo1-azure-account=$AZURITE_ACCOUNT
repo1-azure-container=$AZURITE_CONTAINER
repo1-azure-key=$AZURITE_KEY
repo1-azure-uri-style=path
repo1-storage-host=127.0.0.1
repo1-storage-port=$AZ_PORT
repo1-storage-ca-file=$AZURITE_CA_FILE
LINES

repo_list_all() {
    python3 "$HERE/azure_list.py" "$AZURITE_ENDPOINT" "$AZURITE_ACCOUNT" "$AZURITE_KEY" "$AZURITE_CONTAINER" \
        "$PREFIX/" "$AZURITE_CA_FILE"
}
azure_stop() { bash "$AZURITE" stop "$AZ_DIR" >/dev/null 2>&1; }
azure_start() { bash "$AZURITE" start "$AZ_DIR" "$AZ_PORT" >>"$IT_TMP/azurite.out" 2>&1; }

DRV_PORT=55890 driver_scenarios azure "$IT_TMP/repo-azure.lines"
DRV_PORT=55890 driver_faults azure "$IT_TMP/repo-azure.lines" azure_stop azure_start
