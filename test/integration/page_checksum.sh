#!/usr/bin/env bash
# Page checksums: a byte flipped in a data page while the cluster was down is reported by the
# next backup with the file and page, without stopping it; pages written during the backup
# are not false alarms.
set -u
SUITE=page_checksum
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

it_primary 55445 'process-max=2'
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 3 -q postgres
must psql_at $PORT "CHECKPOINT"

# Under write load the backup must not report pages PostgreSQL is writing.
as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -c 2 -T 8 -n postgres >/dev/null 2>&1 &
LOAD=$!
expect_exit "backup under write load" 0 "$BR" --config="$CONF" --stanza=main backup --start-fast
wait $LOAD
expect_eq "no page checksum warning under load" "$(printf '%s' "$OUT" | grep -c 'invalid page checksum')" "0"

# Offline damage: one byte of page 5 of pgbench_accounts.
REL=$(psql_at $PORT "SELECT pg_relation_filepath('pgbench_accounts')")
pg_stop "$DATA"
OFFSET=$((5 * 8192 + 4000))
BYTE=$(dd if="$DATA/$REL" bs=1 skip=$OFFSET count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
printf "$(printf '\\%03o' $(((BYTE + 1) % 256)))" | dd of="$DATA/$REL" bs=1 seek=$OFFSET conv=notrunc 2>/dev/null
pg_start "$DATA"

expect_exit "backup of a damaged cluster completes" 0 "$BR" --config="$CONF" --stanza=main backup --start-fast
expect_contains "the warning names the file and the page" "$OUT" "invalid page checksum in 'pg_data/$REL': page 5 "
expect_exit "info" 0 "$BR" --config="$CONF" --stanza=main info
expect_contains "info shows the count" "$OUT" "page checksum errors: 1 file"
LABEL=$(br info --output=json | grep -o '"label":"[0-9F-]*"' | tail -1 | cut -d'"' -f4)
expect_contains "the manifest records the page" "$(cat "$IT_TMP/repo/backup/main/$LABEL/backup.manifest")" \
    "\"name\":\"pg_data/$REL\",\"page-checked\":true,\"page-errors\":[5]"
