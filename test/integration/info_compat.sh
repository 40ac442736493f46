#!/usr/bin/env bash
# info JSON with pgBackRest 2.45's as the contract (issue 20): pgBackRest and backrest back up the
# same cluster (full, diff, incr) into their own repositories, both archiving every WAL segment;
# every key pgBackRest's `info --output=json` emits exists in backrest's with the same JSON type,
# and the values that must match (status codes, db, archive min/max, backup types and prior
# chain, the meaning of the sizes, error) do. Then annotate (add, change, remove), info
# --set/--type (database-ref by name with an extra database, as pgBackRest's), a backup of a
# damaged page (error: true), a held backup lock (held: true), and a block-incremental backup's
# repository.size against the bytes a restore of it reads (computed here from its block maps).
# Ports: cluster 57120.
set -u
SUITE=info_compat
TEST_BACKREST_BIN=${TEST_BACKREST_BIN:-$(dirname "$0")/../../build/backrest}
source "$(dirname "$0")/lib.sh"
it_setup

if ! command -v pgbackrest >/dev/null; then
    fail "setup: pgbackrest (2.45) is not installed"
    exit 1
fi

it_primary_without_stanza 57120 'process-max=2' 'log-level-console=warn'
PGB=$IT_TMP/pgbackrest.conf
as_pg mkdir -p "$IT_TMP/pgb-repo" "$IT_TMP/pgb-lock" "$IT_TMP/pgb-log"
cat >"$PGB" <<CONF
[global]
repo1-path=$IT_TMP/pgb-repo
lock-path=$IT_TMP/pgb-lock
log-path=$IT_TMP/pgb-log
log-level-console=warn
log-level-file=off
start-fast=y

[main]
pg1-path=$DATA
pg1-socket-path=$IT_TMP
pg1-port=$PORT
CONF
chmod 0644 "$PGB"
pgb() { as_pg pgbackrest --config="$PGB" --stanza=main "$@"; }

must br stanza-create
must pgb stanza-create
# Every segment goes to both repositories, so their archive min/max can be compared.
must psql_at $PORT "ALTER SYSTEM SET archive_command = '$BR --config=$CONF --stanza=main archive-push %p && pgbackrest --config=$PGB --stanza=main archive-push %p'"
must psql_at $PORT "SELECT pg_reload_conf()"
must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -i -s 2 -q postgres
# A database besides postgres and the templates, for database-ref.
must psql_at $PORT "CREATE DATABASE extra"

# One backup of each type by each tool, with changes between the types.
for type in full diff incr; do
    must as_pg "$PGBIN/pgbench" -h "$IT_TMP" -p $PORT -U postgres -t 200 -n postgres
    extra=()
    [ "$type" = incr ] && extra=(--annotation=ticket=OPS-1 --annotation=who=dba)
    expect_exit "pgBackRest 2.45 $type backup" 0 pgbackrest --config="$PGB" --stanza=main backup --type=$type "${extra[@]}"
    expect_exit "backrest $type backup" 0 "$BR" --config="$CONF" --stanza=main backup --type=$type --start-fast "${extra[@]}"
done

# Both archives end at the same segment once the last one is switched out and archived.
must psql_at $PORT "SELECT pg_switch_wal()"
for _ in $(seq 1 60); do
    OURS=$(br info --output=json)
    THEIRS=$(pgb info --output=json)
    [ "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])[0]["archive"][0]["max"] == json.loads(sys.argv[2])[0]["archive"][0]["max"])' "$OURS" "$THEIRS")" = True ] && break
    sleep 1
done

# Every key of pgBackRest's JSON in ours with the same JSON type (labels aside, values that must
# match compared by compare_info below). Prints one line per difference, nothing when equal.
CHECK_KEYS='
import json, sys
def kind(v):
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null",
            int: "number", float: "number"}[type(v)]
def walk(theirs, ours, path, out):
    if path not in ours_paths_ok and kind(theirs) != kind(ours):
        out.append(f"{path}: pgBackRest {kind(theirs)}, backrest {kind(ours)}")
        return
    if isinstance(theirs, dict):
        for k, v in theirs.items():
            if k not in ours:
                out.append(f"{path}.{k}: missing")
            else:
                walk(v, ours[k], f"{path}.{k}", out)
    elif isinstance(theirs, list):
        if len(theirs) != len(ours):
            out.append(f"{path}: pgBackRest has {len(theirs)} entries, backrest {len(ours)}")
        for i, (t, o) in enumerate(zip(theirs, ours)):
            walk(t, o, f"{path}[{i}]", out)
ours_paths_ok = set()
out = []
walk(json.loads(sys.argv[1]), json.loads(sys.argv[2]), "", out)
print("\n".join(out))
'
expect_eq "every key of pgBackRest's info JSON is in ours with its type" \
    "$(python3 -c "$CHECK_KEYS" "$THEIRS" "$OURS" 2>&1)" ""

# The values that must match, and the sizes' meanings (compression differs: gz against zst).
COMPARE='
import json, sys
t = json.loads(sys.argv[1])[0]; o = json.loads(sys.argv[2])[0]
out = []
def same(what, a, b):
    if a != b: out.append(f"{what}: pgBackRest {a!r}, backrest {b!r}")
same("status", t["status"], o["status"])
same("cipher", t["cipher"], o["cipher"])
same("repo", t["repo"], o["repo"])
same("db", t["db"], o["db"])
same("archive ids", [a["id"] for a in t["archive"]], [a["id"] for a in o["archive"]])
same("archive min", t["archive"][0]["min"], o["archive"][0]["min"])
same("archive max", t["archive"][0]["max"], o["archive"][0]["max"])
same("archive database", t["archive"][0]["database"], o["archive"][0]["database"])
same("backup types", [b["type"] for b in t["backup"]], [b["type"] for b in o["backup"]])
for name, s in (("pgBackRest", t), ("backrest", o)):
    b = s["backup"]
    labels = [x["label"] for x in b]
    chain = [x["prior"] for x in b]
    if chain != [None, labels[0], labels[1]]:
        out.append(f"{name}: prior chain {chain} for {labels}")
    if b[0]["reference"] is not None or b[1]["reference"] != labels[:1] or b[2]["reference"] != labels[:2]:
        out.append(f"{name}: references {[x['reference'] for x in b]}")
    for x in b:
        i = x["info"]
        if x["type"] == "full" and (i["delta"] != i["size"] or i["repository"]["delta"] != i["repository"]["size"]):
            out.append(f"{name}: a full backup copies and stores all of itself: {i}")
        if x["type"] != "full" and not (i["delta"] < i["size"] and i["repository"]["delta"] < i["repository"]["size"]):
            out.append(f"{name}: a {x['type']} backup copies and stores less than it restores: {i}")
        if not 0 < i["repository"]["size"] < i["size"]:
            out.append(f"{name}: compressed set size {i['repository']['size']} against {i['size']}")
        if x["error"] is not False:
            out.append(f"{name}: error {x['error']} on a healthy backup")
        if not all("/" in x["lsn"][k] for k in ("start", "stop")):
            out.append(f"{name}: lsn {x['lsn']}")
    same(f"{name} database", [x["database"] for x in b], [{"id": 1, "repo-key": 1}] * 3)
    same(f"{name} annotation", b[2].get("annotation"), {"ticket": "OPS-1", "who": "dba"})
# The cluster measured the same way (a few files differ: each tool its own exclusions).
for a, b in zip(t["backup"], o["backup"]):
    if abs(a["info"]["size"] - b["info"]["size"]) > a["info"]["size"] * 0.05:
        out.append(f"cluster size: pgBackRest {a['info']['size']}, backrest {b['info']['size']}")
print("\n".join(out))
'
expect_eq "values that must match, and the sizes mean what pgBackRest's mean" \
    "$(python3 -c "$COMPARE" "$THEIRS" "$OURS" 2>&1)" ""
FULL=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])[0]["backup"][0]["label"])' "$OURS")
DIFF=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])[0]["backup"][1]["label"])' "$OURS")
PGB_FULL=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])[0]["backup"][0]["label"])' "$THEIRS")

# --- text in pgBackRest's layout -----------------------------------------------------------------
expect_exit "info (text)" 0 "$BR" --config="$CONF" --stanza=main info
expect_contains "text: stanza and status" "$OUT" "stanza: main
    status: ok
    cipher: none

    db (current)
        wal archive min/max (15): "
expect_contains "text: the full backup's block" "$OUT" "        full backup: $FULL"
expect_contains "text: sizes as pgBackRest names them" "$OUT" "            repo1: backup set size: "
expect_contains "text: the diff's reference list" "$OUT" "            backup reference list: $FULL"
expect_contains "text: annotations" "$OUT" "                ticket: OPS-1"

# --- --set and --type ----------------------------------------------------------------------------
expect_exit "info --set (json)" 0 "$BR" --config="$CONF" --stanza=main info --set="$FULL" --output=json
SET_OURS=$OUT
THEIRS_SET=$(pgb info --set="$PGB_FULL" --output=json)
expect_eq "--set: every key of pgBackRest's in ours with its type" \
    "$(python3 -c "$CHECK_KEYS" "$THEIRS_SET" "$SET_OURS" 2>&1)" ""
expect_eq "--set: one backup, no tablespace" \
    "$(python3 -c 'import json,sys; s=json.loads(sys.argv[1])[0]; b=s["backup"]
print(len(b), b[0]["label"], b[0]["tablespace"], s["status"]["code"])' "$SET_OURS")" \
    "1 $FULL None 0"
DBREF='import json,sys; print(json.dumps(json.loads(sys.argv[1])[0]["backup"][0]["database-ref"]))'
expect_eq "--set: database-ref by name, without the templates, as pgBackRest's" \
    "$(python3 -c "$DBREF" "$SET_OURS")" "$(python3 -c "$DBREF" "$THEIRS_SET")"
expect_eq "... which is extra and postgres" \
    "$(python3 -c 'import json,sys; print([d["name"] for d in json.loads(sys.argv[1])[0]["backup"][0]["database-ref"]])' "$SET_OURS")" \
    "['extra', 'postgres']"
expect_exit "info --set (text)" 0 "$BR" --config="$CONF" --stanza=main info --set="$FULL"
expect_eq "--set text: the database list line as pgBackRest's" \
    "$(grep 'database list' <<<"$OUT")" "$(pgb info --set="$PGB_FULL" | grep 'database list')"
expect_exit "info --set of no backup" 0 "$BR" --config="$CONF" --stanza=main info --set=20000101-000000F --output=json
expect_eq "... status 6 as pgBackRest's" \
    "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])[0]["status"]["code"])' "$OUT")" \
    "$(pgb info --set=20000101-000000F --output=json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["status"]["code"])')"
expect_exit "info --type=diff" 0 "$BR" --config="$CONF" --stanza=main info --type=diff --output=json
expect_eq "--type=diff lists the diff only, as pgBackRest" \
    "$(python3 -c 'import json,sys; print([b["type"] for b in json.loads(sys.argv[1])[0]["backup"]])' "$OUT")" \
    "$(pgb info --type=diff --output=json | python3 -c 'import json,sys; print([b["type"] for b in json.load(sys.stdin)[0]["backup"]])')"
expect_exit "info --type=time is refused" 21 "$BR" --config="$CONF" --stanza=main info --type=time

# --- annotate ------------------------------------------------------------------------------------
annotations() { br info --set="$1" --output=json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["backup"][0].get("annotation"))'; }
expect_exit "annotate adds" 0 "$BR" --config="$CONF" --stanza=main annotate --set="$DIFF" --annotation=reason=drill \
    --annotation=owner=ops
expect_eq "... shown by info" "$(annotations "$DIFF")" "{'owner': 'ops', 'reason': 'drill'}"
expect_exit "annotate changes one and removes one (empty value)" 0 "$BR" --config="$CONF" --stanza=main annotate \
    --set="$DIFF" --annotation=reason=audit --annotation=owner=
expect_eq "... shown by info" "$(annotations "$DIFF")" "{'reason': 'audit'}"
expect_eq "... and kept in the manifest" "$(grep -c '"annotation":{"reason":"audit"}' "$IT_TMP/repo/backup/main/$DIFF/backup.manifest")" "1"
expect_exit "... which verify still reads whole" 0 "$BR" --config="$CONF" --stanza=main verify --set="$DIFF"
expect_exit "annotate of no backup" 35 "$BR" --config="$CONF" --stanza=main annotate --set=20000101-000000F --annotation=a=b
expect_exit "annotate without key=value" 21 "$BR" --config="$CONF" --stanza=main annotate --set="$DIFF" --annotation=novalue

# --- a held backup lock ----------------------------------------------------------------------------
# --no-fork: the process killed below is the one holding the lock.
"${PG_EXEC[@]}" flock --no-fork "$IT_TMP/lock/main-backup.lock" sleep 30 &
HOLDER=$!
sleep 1
expect_eq "a held backup lock: held true" \
    "$(br info --output=json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["status"]["lock"]["backup"]["held"])')" "True"
expect_contains "... and the text says a backup runs" "$(br info)" "status: ok (backup/expire running)"
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
expect_eq "released: held false" \
    "$(br info --output=json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["status"]["lock"]["backup"]["held"])')" "False"

# --- status codes of a missing stanza -------------------------------------------------------------
code() { python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["status"]; print(s["code"], s["message"])'; }
expect_eq "a stanza that does not exist: the same status as pgBackRest's" \
    "$(as_pg "$BR" --config="$CONF" --stanza=nosuch info --output=json | code)" \
    "$(as_pg pgbackrest --config="$PGB" --stanza=nosuch info --output=json | code)"

# --- a backup of a damaged page: error true, as pgBackRest's -------------------------------------
REL=$(psql_at $PORT "SELECT pg_relation_filepath('pgbench_accounts')")
must psql_at $PORT "CHECKPOINT"
pg_stop "$DATA"
OFFSET=$((3 * 8192 + 4000))
BYTE=$(dd if="$DATA/$REL" bs=1 skip=$OFFSET count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
printf "$(printf '\\%03o' $(((BYTE + 1) % 256)))" | dd of="$DATA/$REL" bs=1 seek=$OFFSET conv=notrunc 2>/dev/null
pg_start "$DATA"
expect_exit "pgBackRest backs up the damaged cluster" 0 pgbackrest --config="$PGB" --stanza=main backup --type=incr
expect_exit "backrest backs up the damaged cluster" 0 "$BR" --config="$CONF" --stanza=main backup --type=incr --start-fast
last_error() { python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["backup"][-1]["error"])'; }
expect_eq "error: true on the damaged backup, as pgBackRest's" "$(br info --output=json | last_error)" \
    "$(pgb info --output=json | last_error)"
expect_eq "... which is true" "$(br info --output=json | last_error)" "True"

# --- block incremental: repository.size is what a restore reads ------------------------------------
# A full and two incrs with --repo1-block: the last incr's files keep most blocks in the full and
# the first incr. What a restore of it reads is computed here from the repository alone: each
# whole file's repo-size, and for each block-stored file the map of the backup holding it, the map
# of every earlier backup its blocks are in and each frame holding one of them, once (the block
# map format is in src/repo/block_map.h).
# The updates go through the primary key: a scan would read the page damaged above and fail.
touch_rows() {  # first step
    must psql_at $PORT "SET enable_seqscan = off; UPDATE pgbench_accounts SET abalance = abalance + 1
        WHERE aid IN ($(seq -s, "$1" "$2" 200000))"
}
expect_exit "block full" 0 "$BR" --config="$CONF" --stanza=main backup --type=full --start-fast --repo1-block
touch_rows 5000 5000
expect_exit "block incr" 0 "$BR" --config="$CONF" --stanza=main backup --type=incr --start-fast --repo1-block
touch_rows 7001 7000
expect_exit "block incr again" 0 "$BR" --config="$CONF" --stanza=main backup --type=incr --start-fast --repo1-block
RESTORE_READS='
import json, os, sys
root, label = sys.argv[1], sys.argv[2]
def manifest(l):
    return json.load(open(f"{root}/{l}/backup.manifest"))
def varint(b, at):
    v = shift = 0
    while True:
        c = b[at]; at += 1; v |= (c & 0x7F) << shift; shift += 7
        if c < 0x80: return v, at
def blockmap(path):
    b = open(path, "rb").read()
    assert b[:8] == b"BRBLKMAP" and int.from_bytes(b[8:12], "little") == 2, path
    at = 24
    n, at = varint(b, at)
    frames, offset, slot = [], 0, 0
    for _ in range(n):
        stored, at = varint(b, at); blocks, at = varint(b, at); _, at = varint(b, at)
        frames.append((slot, blocks, stored)); slot += blocks
    at += 16 * slot
    n, at = varint(b, at)
    holders = []
    for _ in range(n):
        holders.append(b[at + 1:at + 1 + b[at]].decode()); at += 1 + b[at]
    n, at = varint(b, at)
    runs = []
    for _ in range(n):
        h, at = varint(b, at); first, at = varint(b, at); blocks, at = varint(b, at)
        runs.append((h, first, blocks))
    return {"frames": frames, "holders": holders, "runs": runs, "bytes": len(b)}
whole = blocks = own = 0
for f in manifest(label)["files"]:
    own += f["repo-size"]
    if "block-size" not in f:
        whole += f["repo-size"]; continue
    name, holder = f["name"], f.get("reference", label)
    maps = {holder: blockmap(f"{root}/{holder}/{name}.blockmap")}
    used = set()
    for h, first, n in maps[holder]["runs"]:
        hl = maps[holder]["holders"][h]
        if hl not in maps: maps[hl] = blockmap(f"{root}/{hl}/{name}.blockmap")
        for k, (s, count, stored) in enumerate(maps[hl]["frames"]):
            if s < first + n and first < s + count: used.add((hl, k))
    blocks += sum(m["bytes"] for m in maps.values())
    blocks += sum(maps[hl]["frames"][k][2] for hl, k in used)
print(whole + blocks, own)
'
LAST=$(br info --output=json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["backup"][-1]["label"])')
read -r READS OWN <<<"$(python3 -c "$RESTORE_READS" "$IT_TMP/repo/backup/main" "$LAST" 2>&1)"
SIZE=$(br info --set="$LAST" --output=json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["backup"][0]["info"]["repository"]["size"])')
expect_eq "block incr: repository.size is the bytes a restore reads ($LAST)" "$SIZE" "$READS"
expect_eq "... which counts the earlier backups' blocks (more than the files' own repo-size)" \
    "$(python3 -c "import sys; print(int(sys.argv[1]) > int(sys.argv[2]) > 0)" "$READS" "$OWN")" "True"
