# shellcheck shell=bash
# The storage servers the unit tests run the drivers against: one radosgw (S3), one Azurite
# (Azure) and one sshd (SFTP), each started by its script in scripts/test-servers/ on 127.0.0.1,
# and the environment variables that point the tests at them (test/unit/storage_driver_*.cpp).
# The integration suites of the drivers start servers of their own (they stop them mid-backup).
# Sourced by test/run-all.sh.

TEST_SERVERS_DIR=
TEST_SERVERS=(radosgw:env:S3:55950 azurite:azurite.env:AZURE:55953 sshd:sshd.env:SFTP:55955)

# Starts every server; prints one line per server that did not start and returns how many.
start_test_servers() {
    local entry name envfile var port failed=0
    TEST_SERVERS_DIR=$(mktemp -d /tmp/backrest-servers.XXXXXX)
    chmod 0755 "$TEST_SERVERS_DIR"
    for entry in "${TEST_SERVERS[@]}"; do
        IFS=: read -r name envfile var port <<<"$entry"
        if "scripts/test-servers/$name.sh" start "$TEST_SERVERS_DIR/$name" "$port" >"$TEST_SERVERS_DIR/$name.out" 2>&1; then
            export "TEST_BACKREST_${var}_ENV=$TEST_SERVERS_DIR/$name/$envfile"
        else
            echo "servers: $name did not start: $(tail -5 "$TEST_SERVERS_DIR/$name.out" | tr '\n' ' ')"
            failed=$((failed + 1))
        fi
    done
    return "$failed"
}

stop_test_servers() {
    local entry name
    [ -n "$TEST_SERVERS_DIR" ] || return 0
    for entry in "${TEST_SERVERS[@]}"; do
        name=${entry%%:*}
        "scripts/test-servers/$name.sh" stop "$TEST_SERVERS_DIR/$name" >/dev/null 2>&1 || true
    done
    rm -rf "$TEST_SERVERS_DIR"
    TEST_SERVERS_DIR=
}
