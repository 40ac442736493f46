#!/usr/bin/env python3
"""Rewrites options read by string literal into the typed keys of src/common/option_keys.h:

    config.getInt("process-max")  ->  config.getInt(opt::processMax)

for the getters of Config (getString, getInt, getBool, getMulti, find, has, source, set) called on
`config` or `<x>.config`, and only for names in src/common/option_table.h (anything else is left
for the compiler and option_keys_test to report). Safe to run again: a converted call no longer
matches. Usage: scripts/use-option-keys.py [FILE_OR_DIR ...]  (default: worker src extension)
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
TABLE = ROOT / "src/common/option_table.h"

keys = dict(
    (name, key)
    for key, name in re.findall(r'^\s*X\((\w+),\s*\w+,\s*"([a-z0-9-]+)"', TABLE.read_text(), re.M)
)
CALL = re.compile(
    r'(\b(?:\w+\.)?config_?\s*(?:\.|->)\s*'
    r'(?:getString|getInt|getBool|getMulti|find|has|source|set)\(\s*)"([a-z0-9-]+)"'
)


def convert(text):
    def replace(m):
        key = keys.get(m.group(2))
        return f"{m.group(1)}opt::{key}" if key else m.group(0)

    return CALL.sub(replace, text)


def files(args):
    for arg in args or ["worker", "src", "extension"]:
        path = pathlib.Path(arg)
        if not path.is_absolute():
            path = ROOT / path
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in (".cpp", ".h"))
        else:
            yield path


changed = 0
for path in files(sys.argv[1:]):
    if path.name in ("option_table.h", "option_keys.h", "config.cpp"):
        continue  # the table itself, and the string API's own implementation
    text = path.read_text()
    new = convert(text)
    if new != text:
        path.write_text(new)
        changed += new.count("opt::") - text.count("opt::")
        print(f"{path.relative_to(ROOT)}: {new.count('opt::') - text.count('opt::')} calls")
print(f"{changed} calls now use typed option keys")
