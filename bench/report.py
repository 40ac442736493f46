#!/usr/bin/env python3
"""Turns the raw runs of bench/run (key=value lines) into markdown tables and a JSON file.

usage: report.py RUNS_TSV OUT_JSON OUT_MD   (the markdown also goes to stdout)
"""
import datetime
import json
import os
import platform
import statistics as st
import subprocess
import sys


def parse(path):
    rows = []
    for line in open(path):
        line = line.rstrip("\n")
        if not line:
            continue
        row = {}
        for field in line.split("\t"):
            key, _, value = field.partition("=")
            row[key] = value
        rows.append(row)
    return rows


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def spread(values, digits=2):
    """median (min–max), or the single value."""
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    med = st.median(values)
    if len(values) == 1:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def med(values):
    values = [v for v in values if v is not None]
    return st.median(values) if values else None


def percentile(values, p):
    """Nearest-rank percentile."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def mb(b):
    return "–" if b is None else f"{b / 1e6:.1f}"


def ratio(ref, mine):
    return "–" if not ref or not mine else f"{ref / mine:.2f}"


def main():
    tsv, out_json, out_md = sys.argv[1:4]
    rows = parse(tsv)
    meta = {}
    for r in rows:
        if r.get("section") == "meta":
            meta.update({k: v for k, v in r.items() if k != "section"})
    scale, runs = int(meta["scale"]), int(meta["runs"])
    pgdata = int(meta["pgdata_bytes"])
    nproc = int(meta["nproc"])

    def sel(section, **kw):
        out = [r for r in rows if r.get("section") == section]
        for k, v in kw.items():
            out = [r for r in out if r.get(k) == str(v)]
        return out

    # Sections the run was asked for (bench/run --sections): the others are "not run", not "failed".
    def asked(section):
        wanted = meta.get("sections", "all")
        return wanted == "all" or section in wanted.split(",")

    # The section's tables follow when it was asked for; otherwise one line says it was not run.
    def asked_or_say_not_run(section):
        if asked(section):
            return True
        md.append(f"Not run (`--sections {meta.get('sections')}`).")
        md.append("")
        return False

    def timed_runs(section, **kw):
        return [r for r in sel(section, **kw) if r.get("run") != "0"]

    md = []
    pgbr_version = subprocess.run(["pgbackrest", "version"], capture_output=True, text=True).stdout.strip()
    pg_version = subprocess.run(["pg_config", "--version"], capture_output=True, text=True).stdout.strip()
    cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    md.append(f"# backrest benchmark — scale {scale}, {runs} timed run(s) per measurement")
    md.append("")
    md.append(
        f"{datetime.datetime.now():%Y-%m-%d %H:%M}; backrest {os.environ.get('BENCH_GIT_COMMIT', '?')}"
        f"{' (+uncommitted changes in src/worker/extension)' if os.environ.get('BENCH_GIT_DIRTY', '0') not in ('', '0') else ''}"
        f", {pgbr_version}, {pg_version}; {nproc} × {cpu_model}, {platform.platform()}. "
        f"Data directory {pgdata / 1e6:.0f} MB in {meta.get('pgdata_files')} files (without pg_wal), data checksums on. "
        f"Load average at start {meta.get('load_start')}, at end {meta.get('load_end')}; "
        f"the whole run took {int(meta.get('duration_s', 0)) // 60} min."
    )
    md.append("")
    md.append(
        "Every figure is the median over the timed runs, with min–max in brackets. Each tool and setting had one "
        "untimed warm-up run first (warm page cache), and the tools alternate run by run (rotated order). "
        "**ratio = pgBackRest time ÷ this tool's time: > 1 means faster than pgBackRest.** "
        "CPU is user+sys seconds of every process involved that could be measured (see the notes under each table)."
    )
    md.append("")

    # ---- limits --------------------------------------------------------------------------
    read_bps = med([int(r["bytes"]) / num(r["wall"]) for r in sel("limit", what="read")])
    zstd = {}
    for r in sel("limit", what="zstd"):
        zstd.setdefault((r["level"], int(r["threads"])), []).append(int(r["bytes"]) / num(r["wall"]))
    zstd = {k: st.median(v) for k, v in zstd.items()}
    unzstd_bps = med([int(r["bytes"]) / num(r["wall"]) for r in sel("limit", what="unzstd")])
    # The better of buffered+fsync and O_DIRECT writing (bench/sections.sh time_writes).
    def write_rate(rows):
        rates = [med([int(r["bytes"]) / num(r["wall"]) for r in rows if r["what"] == w]) for w in ("write", "write-direct")]
        rates = [r for r in rates if r]
        return max(rates) if rates else None
    write_bps = write_rate(sel("limit"))
    sha = sel("limit", what="sha256")
    sha_bps = num(sha[0]["bytes_per_s"]) if sha else None
    zsize = sel("limit", what="zstd-size")

    # ---- full backups --------------------------------------------------------------------
    tools = ["backrest-sql", "backrest-cli", "pgbackrest", "pg_basebackup"]
    daemon_hwm = {}
    for r in sel("daemon", phase="full"):
        daemon_hwm[(r["config"], r["async"])] = max(daemon_hwm.get((r["config"], r["async"]), 0), int(r["hwm_kb"] or 0))
    full = []
    levels = sorted({r["level"] for r in sel("full")}, key=lambda x: -int(x))
    pmaxes = sorted({r["pmax"] for r in sel("full")}, key=int)
    md.append("## 1. Full backup")
    md.append("")
    md.append("| zstd level | process-max | tool | wall s | CPU s | peak RSS MB | repo MB | MB/s | ratio |")
    md.append("|---|---|---|---|---|---|---|---|---|")
    for l in levels:
        for p in pmaxes:
            pgbr = med([num(r["wall"]) for r in timed_runs("full", tool="pgbackrest", level=l, pmax=p)])
            for t in tools:
                rs = timed_runs("full", tool=t, level=l, pmax=p)
                if not rs:
                    md.append(f"| {l} | {p} | {t} | failed | | | | | |")
                    continue
                walls = [num(r["wall"]) for r in rs]
                entry = {"tool": t, "level": int(l), "process_max": int(p), "wall_median": med(walls),
                         "wall_min": min(walls), "wall_max": max(walls), "cpu_median": med([num(r["cpu"]) for r in rs]),
                         "repo_bytes_median": med([int(r["repo_bytes"]) for r in rs]),
                         "throughput_mb_s": pgdata / med(walls) / 1e6}
                if t == "backrest-sql":
                    hwm = daemon_hwm.get((f"l{l}-p{p}", "off"))
                    entry["daemon_vmhwm_kb"] = hwm
                    rss = f"{hwm / 1024:.1f} (daemon)" if hwm else "–"
                else:
                    rss_kb = max(int(r["rss_kb"]) for r in rs)
                    entry["max_rss_kb"] = rss_kb
                    rss = f"{rss_kb / 1024:.1f}" + (" (client)" if t == "pg_basebackup" else "")
                entry["ratio_pgbackrest_over_tool"] = pgbr / med(walls) if pgbr else None
                full.append(entry)
                md.append(f"| {l} | {p} | {t} | {spread(walls)} | {spread([num(r['cpu']) for r in rs])} | {rss} "
                          f"| {mb(entry['repo_bytes_median'])} | {entry['throughput_mb_s']:.0f} "
                          f"| {'' if t == 'pgbackrest' else ratio(pgbr, med(walls))} |")
    md.append("")
    md.append(
        "- backrest-sql: `SELECT backrest_backup(wait => true)`; its wall time includes waiting until the backup's "
        "WAL is archived through archive_library = 'backrest' (the CLI tools run without that check, pg_basebackup "
        "`-X none` waits for the archiver as well). CPU = psql + the server processes that exited (its backend and "
        "the backup bgworker, from the postmaster's reaped-children counters) + the daemon's CPU delta "
        "(/proc/<pid>/stat; it also archived the backup's WAL meanwhile). Peak RSS: the daemon's VmHWM for that "
        "setting (the daemon restarts when its settings change; the value covers the warm-up and the timed runs).")
    md.append(
        "- backrest-cli and pgbackrest: `--archive-check=n` / `--no-archive-check`, so both skip the WAL wait. CPU = "
        "the tool and every process it waited for (GNU time) + the backend that served it. Peak RSS: the largest "
        "single process (GNU time %M), not the sum over pgBackRest's local processes.")
    md.append(
        "- pg_basebackup: `-Ft -X none --compress=server-zstd:level=L[,workers=2]` (process-max 2 = zstd workers=2 in "
        "the walsender; reading stays single-process). CPU = client + the walsender (reaped-children counters). "
        "Peak RSS: the client only (the walsender exits before it can be read). Repo MB = the tar + backup_manifest.")
    md.append(f"- MB/s = {pgdata / 1e6:.0f} MB of data directory (without pg_wal) ÷ wall time. The checkpoint the "
              "backup starts with is done by the checkpointer and counted for no tool.")
    md.append("")

    # ---- restore -------------------------------------------------------------------------
    md.append("## 2. Restore")
    md.append("")
    md.append("| restore | process-max | tool | wall s | CPU s | peak RSS MB | ratio | × faster than its full restore |")
    md.append("|---|---|---|---|---|---|---|---|")
    restore = []
    kinds = [("restore-full", "full, into an empty directory"), ("restore-delta-same", "--delta, nothing changed"),
             ("restore-delta-1pct", "--delta, ~1 % of pages changed")]
    for section, label in kinds:
        for p in sorted({r["pmax"] for r in sel(section)}, key=int):
            for t in ["backrest", "pgbackrest", "backrest-block", "pgbackrest-block"]:
                versus = "pgbackrest-block" if t.endswith("-block") else "pgbackrest"
                pgbr = med([num(r["wall"]) for r in timed_runs(section, tool=versus, pmax=p)])
                rs = timed_runs(section, tool=t, pmax=p)
                if not rs:
                    if not t.endswith("-block"):
                        md.append(f"| {label} | {p} | {t} | failed | | | | |")
                    continue
                walls = [num(r["wall"]) for r in rs]
                full_walls = [num(r["wall"]) for r in timed_runs("restore-full", tool=t, pmax=p)]
                speedup = med(full_walls) / med(walls) if section != "restore-full" and full_walls else None
                restore.append({"kind": section, "tool": t, "process_max": int(p), "wall_median": med(walls),
                                "wall_min": min(walls), "wall_max": max(walls),
                                "cpu_median": med([num(r["cpu"]) for r in rs]),
                                "max_rss_kb": max(int(r["rss_kb"]) for r in rs),
                                "ratio_pgbackrest_over_tool": pgbr / med(walls) if pgbr else None,
                                "full_restore_over_this": speedup})
                md.append(f"| {label} | {p} | {t} | {spread(walls)} | {spread([num(r['cpu']) for r in rs])} "
                          f"| {max(int(r['rss_kb']) for r in rs) / 1024:.1f} | {'' if t.startswith('pgbackrest') else ratio(pgbr, med(walls))} "
                          f"| {'' if speedup is None else f'{speedup:.1f}'} |")
    change = sel("change")
    if change:
        c = change[0]
        md.append("")
        md.append(f"- Restored: each tool's own full backup (zstd 3, taken by backrest via SQL). The 1 % change: "
                  f"`UPDATE pgbench_accounts SET abalance = abalance + 1` on the rows of every 100th heap page "
                  f"({c['rows_updated']} of {c['rows_total']} rows, {int(c['heap_pages']) // 100} of {c['heap_pages']} pages), "
                  "CHECKPOINT, a new full backup by each tool; before each run the directory is reset to the previous "
                  "backup by an untimed delta restore. backrest and pgBackRest restore file-stored backups: both "
                  "read every relation file touched whole (backrest then writes only the pages that differ). "
                  "-block rows: the same data backed up with `--repo1-block` (pgBackRest: with `--repo1-bundle`), "
                  "each tool in a repository of its own, ratio against pgBackRest's block rows; backrest's delta "
                  "restore of those compares each local block with the backup's block checksums (XXH3-128) and "
                  "reads and decompresses only the frames holding the blocks that differ. × faster = the tool's "
                  "own full restore at the same process-max ÷ this time.")
    for s in sel("sanity"):
        md.append(f"- Sanity: {s['what']}: {s['result']}.")
    md.append("")

    # ---- incremental ---------------------------------------------------------------------
    md.append("## 3. Incremental backup after `pgbench -n -t 2000 -c 2`")
    md.append("")
    incr = []
    if asked_or_say_not_run("incr"):
        md.append("| tool | wall s | CPU s | peak RSS MB | repo growth MB | ratio |")
        md.append("|---|---|---|---|---|---|")
        # Each backrest row against pgBackRest at the same setting: file-level, or block (repo1-block).
        counterpart = {"backrest-cli": "pgbackrest", "backrest-block": "pgbackrest-block"}
        for t in ["backrest-cli", "pgbackrest", "backrest-block", "pgbackrest-block"]:
            rs = timed_runs("incr", tool=t)
            if not rs:
                md.append(f"| {t} | failed | | | | |")
                continue
            pgbr = med([num(r["wall"]) for r in timed_runs("incr", tool=counterpart.get(t, ""))])
            walls = [num(r["wall"]) for r in rs]
            incr.append({"tool": t, "wall_median": med(walls), "wall_min": min(walls), "wall_max": max(walls),
                         "cpu_median": med([num(r["cpu"]) for r in rs]), "max_rss_kb": max(int(r["rss_kb"]) for r in rs),
                         "repo_bytes_median": med([int(r["repo_bytes"]) for r in rs]),
                         "ratio_pgbackrest_over_tool": pgbr / med(walls) if pgbr and t in counterpart else None})
            md.append(f"| {t} | {spread(walls)} | {spread([num(r['cpu']) for r in rs])} | {max(int(r['rss_kb']) for r in rs) / 1024:.1f} "
                      f"| {spread([int(r['repo_bytes']) / 1e6 for r in rs], 1)} | {ratio(pgbr, med(walls)) if t in counterpart else ''} |")
        tps = [num(r["tps"]) for r in sel("incr-pgbench") if r["run"] != "0"]
        md.append("")
        md.append(f"- zstd 3, process-max 2, CLI for both (`--archive-check=n` / `--no-archive-check`); each incr follows "
                  f"the tool's own previous backup. -block rows: `--repo1-block` (pgBackRest: with `--repo1-bundle`, "
                  f"which its block incremental requires), each tool in a repository of its own whose chain starts with "
                  f"block-stored fulls; ratio against pgBackRest at the same setting. pgbench before each round: "
                  f"{spread(tps, 0)} tps.")
        md.append("")

    # ---- WAL -----------------------------------------------------------------------------
    md.append(f"## 4. WAL archiving under `pgbench -n -c 4 -T {meta.get('wal_seconds')}`")
    md.append("")
    wal = []
    if asked_or_say_not_run("wal"):
        md.append("| mode | segments/run | segments/s | drain after pgbench s | max .ready | latency median ms | p99 ms | max ms | n | CPU s/segment | pgbench tps |")
        md.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for mode in ["backrest-sync", "backrest-async", "pgbackrest-sync", "pgbackrest-async"]:
            rs = timed_runs("wal", mode=mode)
            if not rs:
                md.append(f"| {mode} | failed | | | | | | | | | |")
                continue
            lat = [float(x) for r in rs for x in r["lat_ms"].split(",") if x]
            segs = [int(r["segments"]) for r in rs]
            rate = [int(r["segments"]) / num(r["duration"]) for r in rs]
            drain = [num(r["duration"]) - num(r["pgbench_s"]) for r in rs]
            cps = [num(r["cpu"]) / int(r["segments"]) for r in rs if int(r["segments"]) > 0]
            entry = {"mode": mode, "segments_median": med(segs), "segments_per_s_median": med(rate),
                     "drain_s_median": med(drain), "max_ready": max(int(r["max_ready"]) for r in rs),
                     "latency_ms_median": med(lat), "latency_ms_p99": percentile(lat, 99),
                     "latency_ms_max": max(lat) if lat else None, "latency_n": len(lat),
                     "cpu_s_per_segment_median": med(cps), "tps_median": med([num(r["tps"]) for r in rs]),
                     "failures": sum(int(r["failures"]) for r in rs),
                     "not_drained_runs": sum(1 for r in rs if r["drained"] != "yes")}
            wal.append(entry)
            f = lambda v, d=1: "–" if v is None else f"{v:.{d}f}"
            md.append(f"| {mode} | {spread(segs, 0)} | {spread(rate, 2)} | {spread(drain, 1)} | {entry['max_ready']} "
                      f"| {f(entry['latency_ms_median'])} | {f(entry['latency_ms_p99'])} | {f(entry['latency_ms_max'])} "
                      f"| {len(lat)} | {f(entry['cpu_s_per_segment_median'], 3)} | {spread([num(r['tps']) for r in rs], 0)} |")
            if entry["failures"] or entry["not_drained_runs"]:
                md.append(f"| {mode}: {entry['failures']} failed archive attempts, {entry['not_drained_runs']} run(s) not drained in 600 s | | | | | | | | | | |")
        md.append("")
        md.append(
            "- Latency, backrest: the archive callback's own time, from the server log line `backrest: archived WAL file "
            "\"X\" in N ms` (DEBUG1). pgBackRest: start to end of its archive-push command, recorded by a wrapper around "
            "it in archive_command (`bench/archive_push_timed.sh`); the shell the archiver forks for archive_command is "
            "outside both. Percentiles are over all segments of all timed runs (nearest rank).")
        for mode in ["backrest-sync", "backrest-async"]:
            counts = {}
            for r in timed_runs("wal", mode=mode):
                for item in filter(None, (r.get("how") or "").split(",")):
                    k, v = item.split(":")
                    counts[k] = counts.get(k, 0) + int(v)
            if counts:
                md.append(f"- {mode}: how the daemon had each segment when the archiver asked: "
                          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + "."
                          + (" With archive_async the daemon streams WAL over a replication connection as it is "
                             "written and stores each segment when its last byte is flushed (streamed), or, when the archiver "
                             "asks first, completes it from pg_wal's file (stream-completed); "
                             "pushed-ahead = read from pg_wal by the read-ahead before the archiver asked."
                             if mode == "backrest-async" else ""))
        md.append(
            "- segments/s = segments archived ÷ (pgbench time + time until no .ready file is left after a final "
            "pg_switch_wal()); as long as archiving keeps up, that is the rate pgbench produces WAL. max .ready = the "
            "largest backlog in pg_wal/archive_status, sampled every second.")
        md.append(
            "- CPU: the archiver process (with the archive_command children it waited for) + backrest's daemon (backrest "
            "modes) + pgBackRest's detached async pushers (sampled every 0.5 s, so up to half a second of each one's "
            "CPU may be missed: a lower bound).")
        md.append("")

    # ---- limits --------------------------------------------------------------------------
    md.append("## 5. Physical limits of this machine")
    md.append("")
    md.append("| what | MB/s |")
    md.append("|---|---|")
    if read_bps:
        md.append(f"| read the data directory (`cat` every file, warm cache) | {read_bps / 1e6:.0f} |")
    for (l, th), v in sorted(zstd.items(), key=lambda kv: (-int(kv[0][0]), kv[0][1])):
        md.append(f"| `zstd -{l} -T{th}` over a tar of the data directory (input bytes) | {v / 1e6:.0f} |")
    if sha_bps:
        md.append(f"| SHA-256, one core (`openssl speed -evp sha256`, SHA-NI: {sha[0]['sha_ni']}) | {sha_bps / 1e6:.0f} |")
    if unzstd_bps:
        md.append(f"| `zstd -d` of that tar compressed at level 3, one thread (output bytes) | {unzstd_bps / 1e6:.0f} |")
    if write_bps:
        md.append(f"| write it to this disk durably: the better of `dd bs=1M conv=fsync` (from the cache) and `dd bs=8M oflag=direct` | {write_bps / 1e6:.0f} |")
    if zsize:
        md.append(f"| (zstd -3 ratio on this data: {int(zsize[0]['bytes']) / max(1, int(zsize[0]['compressed'])):.1f} : 1) | |")
    md.append("")
    paired = {}
    for r in sel("limit-paired", what="zstd"):
        paired.setdefault((r["level"], r["pmax"]), []).append(int(r["bytes"]) / num(r["wall"]))
    md.append("| zstd level | process-max | limit MB/s = min(read, zstd at process-max threads, timed beside the backups) | backrest-sql MB/s | fraction | backrest-cli MB/s | fraction | pgBackRest MB/s | fraction |")
    md.append("|---|---|---|---|---|---|---|---|---|")
    fractions = []
    for l in levels:
        for p in pmaxes:
            th = min(int(p), nproc)
            z = med(paired.get((l, p), [])) or zstd.get((l, th)) or zstd.get((l, nproc))
            if not (z and read_bps):
                continue
            limit = min(read_bps, z)
            cells = []
            for t in ["backrest-sql", "backrest-cli", "pgbackrest"]:
                e = next((x for x in full if x["tool"] == t and x["level"] == int(l) and x["process_max"] == int(p)), None)
                if e:
                    cells += [f"{e['throughput_mb_s']:.0f}", f"{e['throughput_mb_s'] * 1e6 / limit:.2f}"]
                    fractions.append({"tool": t, "level": int(l), "process_max": int(p), "limit_mb_s": limit / 1e6,
                                      "throughput_mb_s": e["throughput_mb_s"], "fraction": e["throughput_mb_s"] * 1e6 / limit})
                else:
                    cells += ["–", "–"]
            md.append(f"| {l} | {p} | {limit / 1e6:.0f} | " + " | ".join(cells) + " |")
    md.append("")
    md.append("- Backup MB/s as in section 1 (data directory bytes ÷ wall time, wall time including the backup's "
              "checkpoint and, for backrest-sql, its WAL wait), against min(read rate, zstd rate). The zstd rate "
              "here is `zstd -L -T<process-max>` over the same tar timed once after each round of backups of that "
              "setting (median), not the table above: the machine's speed drifts during a run.")
    md.append("")
    restore_fractions = []
    if unzstd_bps and write_bps:
        md.append("| full restore, process-max | limit MB/s = min(write, zstd -d × process-max) | backrest MB/s | fraction "
                  "| pgBackRest MB/s | fraction |")
        md.append("|---|---|---|---|---|---|")
        for p in sorted({r["pmax"] for r in sel("restore-full")}, key=int):
            # Timed beside the restores when the run did (section=limit-paired), else the limits section.
            w = write_rate([r for r in sel("limit-paired") if r["pmax"] == p]) or write_bps
            u = med([int(r["bytes"]) / num(r["wall"]) for r in sel("limit-paired", what="unzstd") if r["pmax"] == p]) or unzstd_bps
            limit = min(w, u * min(int(p), nproc))
            cells = []
            for t in ["backrest", "pgbackrest"]:
                e = next((x for x in restore if x["kind"] == "restore-full" and x["tool"] == t
                          and x["process_max"] == int(p)), None)
                if e:
                    bps = pgdata / e["wall_median"]
                    cells += [f"{bps / 1e6:.0f}", f"{bps / limit:.2f}"]
                    restore_fractions.append({"tool": t, "process_max": int(p), "limit_mb_s": limit / 1e6,
                                              "throughput_mb_s": bps / 1e6, "fraction": bps / limit})
                else:
                    cells += ["–", "–"]
            md.append(f"| {p} | {limit / 1e6:.0f} | " + " | ".join(cells) + " |")
        md.append("")
        md.append("- Restore MB/s: data directory bytes ÷ the full restore's wall time (section 2, file-stored backups, "
                  "which include every file's fsync), against min(write rate, one `zstd -d` per process), "
                  "both timed once after each round of full restores at that process-max (median), like the backup "
                  "limits above.")
        md.append("")

    # ---- issue 22's rows: against the stricter limit -----------------------------------------
    # Backup limit = one core's `zstd -L -T1` over the tar, times the cores the backup may use
    # (min(process-max, cores)), or the read rate if lower; restore limit = one `zstd -d -T1` per
    # core, or `dd bs=8M conv=fsync` of the raw tar if lower. Both timed beside the runs.
    strict = []
    for l in levels:
        for p in pmaxes:
            th = min(int(p), nproc)
            z1 = med([int(r["bytes"]) / num(r["wall"]) for r in sel("limit-paired", what="zstd")
                      if r["level"] == l and r["pmax"] == p and r["threads"] == "1"]) or zstd.get((l, 1))
            zt = med(paired.get((l, p), [])) or zstd.get((l, th))
            if not (z1 and read_bps):
                continue
            blim, tlim = min(read_bps, z1 * th), (min(read_bps, zt) if zt else None)
            pgbr = next((x for x in full if x["tool"] == "pgbackrest" and x["level"] == int(l) and x["process_max"] == int(p)), None)
            for t in ["backrest-cli", "backrest-sql", "pgbackrest"]:
                e = next((x for x in full if x["tool"] == t and x["level"] == int(l) and x["process_max"] == int(p)), None)
                if not e:
                    continue
                bps = e["throughput_mb_s"] * 1e6
                strict.append({"what": "full backup", "tool": t, "level": int(l), "process_max": int(p),
                               "wall_median": e["wall_median"], "ratio_pgbackrest_over_tool": e["ratio_pgbackrest_over_tool"],
                               "strict_limit_mb_s": blim / 1e6, "strict_fraction": bps / blim,
                               "tar_zstd_limit_mb_s": tlim / 1e6 if tlim else None,
                               "tar_zstd_fraction": bps / tlim if tlim else None,
                               "max_rss_kb": e.get("max_rss_kb") or e.get("daemon_vmhwm_kb")})
    for p in sorted({r["pmax"] for r in sel("restore-full")}, key=int):
        th = min(int(p), nproc)
        buffered = [r for r in sel("limit-paired", what="write") if r["pmax"] == p] or sel("limit", what="write")
        w = med([int(r["bytes"]) / num(r["wall"]) for r in buffered])
        u = med([int(r["bytes"]) / num(r["wall"]) for r in sel("limit-paired", what="unzstd") if r["pmax"] == p]) or unzstd_bps
        if not (w and u):
            continue
        rlim = min(w, u * th)
        old = min(write_rate([r for r in sel("limit-paired") if r["pmax"] == p]) or write_bps or w, u * th)
        for t in ["backrest", "pgbackrest"]:
            e = next((x for x in restore if x["kind"] == "restore-full" and x["tool"] == t and x["process_max"] == int(p)), None)
            if not e:
                continue
            bps = pgdata / e["wall_median"]
            strict.append({"what": "full restore", "tool": t, "level": 3, "process_max": int(p),
                           "wall_median": e["wall_median"], "ratio_pgbackrest_over_tool": e["ratio_pgbackrest_over_tool"],
                           "strict_limit_mb_s": rlim / 1e6, "strict_fraction": bps / rlim,
                           "tar_zstd_limit_mb_s": old / 1e6, "tar_zstd_fraction": bps / old,
                           "max_rss_kb": e["max_rss_kb"]})
    if strict:
        md.append("## 5b. Against issue 22's limits")
        md.append("")
        md.append("| what | zstd level | process-max | tool | wall s | ratio | limit MB/s (one core's zstd × cores) | fraction "
                  "| limit MB/s (tar\\|zstd -T<process-max>, section 5) | fraction | peak RSS MB |")
        md.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for x in strict:
            r = x["ratio_pgbackrest_over_tool"]
            tl = "–" if x["tar_zstd_limit_mb_s"] is None else f"{x['tar_zstd_limit_mb_s']:.0f}"
            tf = "–" if x["tar_zstd_fraction"] is None else f"{x['tar_zstd_fraction']:.2f}"
            rss = "–" if not x["max_rss_kb"] else f"{x['max_rss_kb'] / 1024:.1f}"
            md.append(f"| {x['what']} | {x['level']} | {x['process_max']} | {x['tool']} | {x['wall_median']:.2f} "
                      f"| {'' if x['tool'] == 'pgbackrest' or r is None else f'{r:.2f}'} | {x['strict_limit_mb_s']:.0f} "
                      f"| {x['strict_fraction']:.2f} | {tl} | {tf} | {rss} |")
        md.append("")
        md.append("- Backup limit: `zstd -L -T1` over a tar of the data directory (timed beside the backups), times "
                  "min(process-max, cores), or the read rate if lower; restore limit: `zstd -d -T1` of it times "
                  "min(process-max, cores), or `dd bs=8M conv=fsync` of the raw tar if lower (issue 22). The second "
                  "limit is section 5's. Peak RSS: the largest single process (GNU time %M); backrest-sql: the daemon's "
                  "VmHWM.")
        md.append("")

    # ---- manifest at scale ------------------------------------------------------------------
    man = sel("manifest")
    manifest = None
    if man:
        builds = [num(r["build"]) for r in man]
        saves = [num(r["save"]) for r in man]
        loads = [num(r["load"]) for r in man]
        totals = [b + s_ + l for b, s_, l in zip(builds, saves, loads)]
        rss = max(int(r["rss_mib"]) for r in man)
        manifest = {"files": int(man[0]["files"]), "build_median": med(builds), "save_median": med(saves),
                    "load_median": med(loads), "total_median": med(totals), "peak_rss_mib": rss}
        md.append("## 6. A manifest of one million files")
        md.append("")
        md.append("| build s | save s | load s | total s | peak RSS MiB |")
        md.append("|---|---|---|---|---|")
        md.append(f"| {spread(builds)} | {spread(saves)} | {spread(loads)} | {spread(totals)} | {rss} |")
        md.append("")
        md.append("- `build/manifest-scale 1000000` (bench/manifest_scale.cpp): a synthetic manifest built in memory, "
                  "saved (with its `.copy`) to a temporary repository and loaded back; target: total under 10 s and "
                  "1 GB.")
        md.append("")

    # ---- compression levels ---------------------------------------------------------------
    levels_rows = []
    if sel("levels"):
        md.append("## 7. Compression levels against the zstd CLI")
        md.append("")
        md.append("| zstd level | backrest CLI s | MB/s | zstd -T1 s | MB/s | backrest ÷ zstd time | size: backrest / zstd |")
        md.append("|---|---|---|---|---|---|---|")
        for l in sorted({int(r["level"]) for r in sel("levels")}):
            br = sel("levels", tool="backrest-cli", level=l)
            zs = sel("levels", tool="zstd", level=l)
            if not br or not zs:
                md.append(f"| {l} | {'failed' if not br else ''} | | | | | |")
                continue
            b, z = br[0], zs[0]
            bw, zw = num(b["wall"]), num(z["wall"])
            entry = {"level": l, "backrest_wall": bw, "zstd_wall": zw, "backrest_bytes_per_s": int(b["bytes"]) / bw,
                     "zstd_bytes_per_s": int(z["bytes"]) / zw,
                     "backrest_compressed_fraction": int(b["compressed"]) / int(b["bytes"]),
                     "zstd_compressed_fraction": int(z["compressed"]) / int(z["bytes"])}
            levels_rows.append(entry)
            md.append(f"| {l} | {bw:.2f} | {entry['backrest_bytes_per_s'] / 1e6:.0f} | {zw:.2f} "
                      f"| {entry['zstd_bytes_per_s'] / 1e6:.0f} "
                      f"| {entry['backrest_bytes_per_s'] and entry['zstd_bytes_per_s'] / entry['backrest_bytes_per_s']:.2f} "
                      f"| {entry['backrest_compressed_fraction']:.3f} / {entry['zstd_compressed_fraction']:.3f} |")
        md.append("")
        md.append("- One run each: a full backup by the CLI at process-max 1 (`--compress-level=L`, bundles on) and "
                  "`zstd -L -T1` over a tar of the data directory (at most 1 GiB), alternating which runs first. "
                  "backrest ÷ zstd compares time per byte (the CLI backs up the whole data directory, zstd the tar); "
                  "above 1 the backup is slower per byte than zstd alone. Size: compressed ÷ original bytes.")
        md.append("")

    # ---- object store (S3 on radosgw) -----------------------------------------------------
    object_store = []
    if sel("s3-full") or sel("s3-restore"):
        md.append("## 8. Object store: S3 on Ceph radosgw (127.0.0.1, TLS)")
        md.append("")
        md.append("| what | tool | wall s | CPU s | peak RSS MB | MB/s | ratio |")
        md.append("|---|---|---|---|---|---|---|")
        for section, what in (("s3-full", "full backup"), ("s3-restore", "full restore")):
            pgbr = med([num(r["wall"]) for r in timed_runs(section, tool="pgbackrest-s3")])
            for t in ("backrest-s3", "pgbackrest-s3"):
                rs = timed_runs(section, tool=t)
                if not rs:
                    md.append(f"| {what} | {t} | failed | | | | |")
                    continue
                walls = [num(r["wall"]) for r in rs]
                rss_kb = max(int(r["rss_kb"]) for r in rs)
                entry = {"what": section, "tool": t, "wall_median": med(walls), "wall_min": min(walls),
                         "wall_max": max(walls), "cpu_median": med([num(r["cpu"]) for r in rs]), "max_rss_kb": rss_kb,
                         "throughput_mb_s": pgdata / med(walls) / 1e6,
                         "ratio_pgbackrest_over_tool": pgbr / med(walls) if pgbr else None}
                object_store.append(entry)
                md.append(f"| {what} | {t} | {spread(walls)} | {spread([num(r['cpu']) for r in rs])} "
                          f"| {rss_kb / 1024:.1f} | {entry['throughput_mb_s']:.0f} "
                          f"| {'' if t == 'pgbackrest-s3' else ratio(pgbr, med(walls))} |")
        md.append("")
        sizes = {r["tool"]: r.get("bytes") for r in sel("s3-size")}
        limit = {}
        for w in ("put", "get"):
            rs = [r for r in sel("s3-limit", what=w)]
            if rs:
                limit[w] = med([int(r["bytes"]) / num(r["wall"]) for r in rs])
        lim = ", ".join(f"{w.upper()} {v / 1e6:.0f} MB/s" for w, v in limit.items()) or "not measured"
        md.append(f"- The server's limit, `aws s3 cp` of a zstd-3 tar of the data directory with 4 requests in flight "
                  f"and 16 MiB parts: {lim}. Process-max 4 for both tools, zstd level 3. Bytes stored (all backups, "
                  f"as the server lists them): backrest {mb(int(sizes['backrest-s3'])) if sizes.get('backrest-s3') else '?'}"
                  f" MB, pgBackRest {mb(int(sizes['pgbackrest-s3'])) if sizes.get('pgbackrest-s3') else '?'} MB.")
        md.append("- MB/s = data directory bytes ÷ wall time (a backup's transfer is compressed, so it can exceed "
                  "the server's limit). Peak RSS: largest single process (GNU time %M).")
        md.append("")

    # ---- encryption (plain vs aes-256-gcm) -----------------------------------------------
    encryption = []
    if sel("enc-full") or sel("enc-restore"):
        md.append("## 9. Encryption: plain vs aes-256-gcm (posix repository)")
        md.append("")
        md.append("| what | plain wall s | aes-256-gcm wall s | plain CPU s | aes-256-gcm CPU s | encryption costs | target |")
        md.append("|---|---|---|---|---|---|---|")
        for section, what in (("enc-full", "full backup"), ("enc-restore", "full restore")):
            plain = timed_runs(section, tool="backrest-plain")
            aes = timed_runs(section, tool="backrest-aes")
            if not plain or not aes:
                md.append(f"| {what} | {'failed' if not plain else ''} | {'failed' if not aes else ''} | | | | |")
                continue
            pw, aw = [num(r["wall"]) for r in plain], [num(r["wall"]) for r in aes]
            pc, ac = [num(r["cpu"]) for r in plain], [num(r["cpu"]) for r in aes]
            cost = med(aw) / med(pw) - 1
            encryption.append({"what": section, "plain_wall_median": med(pw), "aes_wall_median": med(aw),
                               "plain_cpu_median": med(pc), "aes_cpu_median": med(ac),
                               "aes_over_plain": med(aw) / med(pw)})
            md.append(f"| {what} | {spread(pw)} | {spread(aw)} | {spread(pc)} | {spread(ac)} "
                      f"| {cost * 100:+.1f} % (ratio {med(aw) / med(pw):.3f}) | {'met' if cost <= 0.10 + 1e-9 else 'MISSED'} (≤ 10 %) |")
        md.append("")
        md.append("- backrest CLI, zstd level 3, process-max 2, each into a posix repository of its own; the two "
                  "alternate run by run. Restores recover nothing (`--type=none`): the data path only. Encryption "
                  "costs = aes-256-gcm median wall ÷ plain median wall − 1.")
        md.append("")

    # ---- recovery of archived WAL (bench/recovery_async.sh) -------------------------------
    recovery = []
    if sel("recovery") or sel("recovery-wal"):
        md.append("## 10. Recovery of archived WAL: archive-get sync vs archive-async (issue 21)")
        md.append("")
        md.append("| repository | WAL | backrest sync s | backrest async s | pgBackRest async s "
                  "| sync ÷ async | pgBackRest async ÷ backrest async |")
        md.append("|---|---|---|---|---|---|---|")
        for where, label in (("posix", "posix"), ("s3", "S3 (radosgw, TLS)")):
            w = sel("recovery-wal", where=where)
            if not w and not sel("recovery", where=where):
                continue
            walls = {t: [num(r["wall"]) for r in sel("recovery", where=where, tool=t)]
                     for t in ("backrest-sync", "backrest-async", "pgbackrest-async")}
            sync, asy, pgbr = (med(walls[t]) if walls[t] else None
                               for t in ("backrest-sync", "backrest-async", "pgbackrest-async"))
            wal = (f"{int(w[0]['wal_bytes']) / 1e9:.2f} GB, {w[0]['segments']} segments" if w else "?")
            recovery.append({"where": where, "wal": w[0] if w else None, "walls": walls, "sync_median": sync,
                             "async_median": asy, "pgbackrest_async_median": pgbr})
            cell = lambda v: spread(v) if v else "failed"
            md.append(f"| {label} | {wal} | {cell(walls['backrest-sync'])} | {cell(walls['backrest-async'])} "
                      f"| {cell(walls['pgbackrest-async'])} | {ratio(sync, asy)} | {ratio(pgbr, asy)} |")
        md.append("")
        md.append("- `bench/recovery_async.sh [--s3] <segments> <runs>`: one cluster writes the WAL after a full backup "
                  "of each tool; each mode restores its tool's backup and replays to the end (pg_ctl start to "
                  "promotion), the data checked against the primary's; zst 3, process-max 2, "
                  "archive-get-queue-max 128MiB; modes rotated across runs.")
        md.append("")

    # ---- failures and commands -----------------------------------------------------------
    fails = sel("failure")
    if fails:
        md.append("## Failures")
        md.append("")
        for r in fails:
            md.append(f"- {r['of']} / {r['tool']} ({r['what']}): `{r['error'].strip()}`")
        md.append("")
    md.append("## Command lines")
    md.append("")
    seen = set()
    for r in sel("command"):
        if r["what"] in seen:
            continue
        seen.add(r["what"])
        md.append(f"- {r['what']}: `{r['cmd']}`")
    md.append("")

    text = "\n".join(md)
    result = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "meta": meta,
              "pgbackrest_version": pgbr_version, "postgresql_version": pg_version,
              "backrest_commit": os.environ.get("BENCH_GIT_COMMIT"),
              "backrest_tree_dirty_files": os.environ.get("BENCH_GIT_DIRTY"),
              "full": full, "restore": restore, "incr": incr, "wal": wal, "manifest": manifest, "levels": levels_rows,
              "object_store": object_store, "encryption": encryption, "recovery": recovery,
              "limits": {"read_bytes_per_s": read_bps, "zstd_bytes_per_s": {f"{l}-T{t}": v for (l, t), v in zstd.items()},
                         "sha256_bytes_per_s_one_core": sha_bps, "backup_fractions": fractions,
                         "unzstd_bytes_per_s_one_thread": unzstd_bps, "write_bytes_per_s": write_bps,
                         "restore_fractions": restore_fractions, "issue22": strict},
              "failures": fails, "daemon_vmhwm_kb": {f"{c}-async-{a}": v for (c, a), v in daemon_hwm.items()},
              "raw": rows, "markdown": text}
    with open(out_json, "w") as f:
        json.dump(result, f, indent=1)
    with open(out_md, "w") as f:
        f.write(text + "\n")
    print(text)
    print(f"\nJSON: {out_json}\nmarkdown: {out_md}")


if __name__ == "__main__":
    main()
