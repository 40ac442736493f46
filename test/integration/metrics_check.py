#!/usr/bin/env python3
# The metrics suite's checker (test/integration/metrics.sh): reads Prometheus text as Prometheus
# would (prometheus_client's parser, plus a line-by-line check of format 0.0.4's grammar) and
# compares the values with `backrest info --output=json`. Prints "ok" or what differs.
import json
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:\\[\\"n]|[^"\\\n])*"'
SAMPLE = re.compile(rf"^{NAME}(\{{{LABEL}(,{LABEL})*\}})? (-?[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?|NaN|[+-]Inf)$")
COMMENT = re.compile(rf"^# (HELP {NAME} .*|TYPE {NAME} (counter|gauge|histogram|summary|untyped))$")


def samples(path):
    """{(name, frozenset(labels)): value}, after checking every line and parsing as Prometheus."""
    text = open(path).read()
    problems = []
    if not text.endswith("\n"):
        problems.append("no final line feed")
    for n, line in enumerate(text.splitlines(), 1):
        if not (SAMPLE.match(line) or COMMENT.match(line)):
            problems.append(f"line {n} is neither a comment nor a sample: {line!r}")
    out = {}
    for family in text_string_to_metric_families(text):
        if not family.documentation:
            problems.append(f"{family.name}: no HELP")
        for s in family.samples:
            key = (s.name, frozenset(s.labels.items()))
            if key in out:
                problems.append(f"duplicate series {s.name}{s.labels}")
            out[key] = s.value
    if problems:
        print("\n".join(problems))
        sys.exit(0)
    return out


def value(series, name, **labels):
    return series.get((name, frozenset(labels.items())))


def main():
    what = sys.argv[1]
    if what == "format":
        samples(sys.argv[2])
        print("ok")
    elif what == "get":  # get FILE NAME label=value...
        series = samples(sys.argv[2])
        labels = dict(a.split("=", 1) for a in sys.argv[4:])
        v = value(series, sys.argv[3], **labels)
        print("absent" if v is None else f"{v:g}" if v != int(v) else int(v))
    elif what == "names":  # the series' names and labels, sorted, without the CLI-only one
        series = samples(sys.argv[2])
        for name, labels in sorted((n, sorted(l)) for n, l in series):
            if name != "backrest_daemon_up":
                print(name, labels)
    elif what == "info":  # info FILE INFO-JSON SCRAPE-START SCRAPE-END
        series = samples(sys.argv[2])
        info = json.load(open(sys.argv[3]))
        start, end = int(sys.argv[4]), int(sys.argv[5])
        bad = []
        checked = 0
        for stanza in info:
            name = stanza["name"]
            for repo in stanza["repo"]:
                key = repo["key"]
                r = f"repo{key}"
                backups = [b for b in stanza["backup"] if b["database"]["repo-key"] == key]
                for t in ("full", "diff", "incr"):
                    typed = [b for b in backups if b["type"] == t]
                    labels = dict(stanza=name, repo=r, type=t)
                    got = value(series, "backrest_backup_count", **labels)
                    if got != len(typed):
                        bad.append(f"{r} {t}: count {got}, info has {len(typed)}")
                    checked += 1
                    if not typed:
                        continue
                    last = typed[-1]
                    expect = {
                        "backrest_backup_last_timestamp_seconds": last["timestamp"]["stop"],
                        "backrest_backup_last_duration_seconds":
                            last["timestamp"]["stop"] - last["timestamp"]["start"],
                        "backrest_backup_last_size_bytes": last["info"]["size"],
                        "backrest_backup_last_delta_bytes": last["info"]["delta"],
                        "backrest_backup_last_repo_size_bytes": last["info"]["repository"]["size"],
                        "backrest_backup_last_repo_delta_bytes": last["info"]["repository"]["delta"],
                        "backrest_backup_last_page_checksum_error_files":
                            last["info"]["page-error-files"],
                    }
                    for metric, want in expect.items():
                        got = value(series, metric, **labels)
                        if got != want:
                            bad.append(f"{metric}{labels}: {got}, info has {want}")
                        checked += 1
                    age = value(series, "backrest_backup_last_age_seconds", **labels)
                    stop = last["timestamp"]["stop"]
                    if age is None or not (start - stop <= age <= end - stop):
                        bad.append(f"{r} {t}: age {age} outside [{start - stop}, {end - stop}]")
                    checked += 1
                total = sum(b["info"]["repository"]["delta"] for b in backups)
                got = value(series, "backrest_repo_backup_size_bytes", stanza=name, repo=r)
                if got != total:
                    bad.append(f"{r}: backup bytes {got}, info's deltas sum to {total}")
                newest = [a["max"] for a in stanza["archive"]
                          if a["database"]["repo-key"] == key and a["max"]]
                if newest:
                    got = value(series, "backrest_archive_last_segment_info", stanza=name, repo=r,
                                segment=newest[-1])
                    if got != 1:
                        bad.append(f"{r}: no last segment {newest[-1]} (info's max)")
                if value(series, "backrest_repo_up", repo=r) != 1:
                    bad.append(f"{r}: not up")
                checked += 3
        print("\n".join(bad) if bad else f"ok")
        print(f"# {checked} values compared", file=sys.stderr)


main()
