#!/usr/bin/env python3
"""Extract the expected vtable slots from the team's API fact sheet.

Writes tests/abi/expected_slots.txt: one "<class> <slot> <C++ method>" line
for every vtable slot of every interface (inherited slots included) and of
CHttpModule/CGlobalModule, taken from shared/reference/iis-api.md sections 1
and 2 and not from tools/gen_httpserv.spec. run.sh compares the slots the
compiler assigns against this file, so a wrong order in the spec is caught.

Usage: python3 tests/abi/extract_expected_slots.py [path/to/iis-api.md]
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SHEET = "/work/shared/reference/iis-api.md"


def main():
    sheet = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_SHEET
    with open(sheet, encoding="utf-8") as f:
        lines = f.read().split("\n")

    own = {}  # interface -> [(slot, name)]
    base = {}
    total = {}
    cur = None
    section = None
    for line in lines:
        if line.startswith("### 2.1 "):
            section, cur = "CHttpModule", None
            own.setdefault(section, [])
            continue
        if line.startswith("### 2.2 "):
            section, cur = "CGlobalModule", None
            own.setdefault(section, [])
            continue
        if line.startswith("## 3."):
            section = None
            continue
        if section:
            m = re.match(r"^\| (\d+) \| (.*?) \|", line)
            if m:
                n = re.search(r"(~CHttpModule|On\w+|Dispose|Terminate)", m.group(2))
                own[section].append((int(m.group(1)), n.group(1)))
            continue
        m = re.match(r"^#### (\w+)\s*$", line)
        if m:
            cur = m.group(1)
            own[cur] = []
            continue
        if cur is None:
            continue
        m = re.match(r"^- uuid `[0-9a-f-]+` · base: ([^·]+)· .* total vtable entries (\d+)", line)
        if m:
            b = m.group(1).split("→")[0].strip()
            base[cur] = None if b == "(none)" else b
            total[cur] = int(m.group(2))
            continue
        m = re.match(r"^- \[(\d+)\] `[^`]*?(\w+)\(", line)
        if m:
            own[cur].append((int(m.group(1)), m.group(2)))

    def all_slots(name):
        out = list(all_slots(base[name])) if base.get(name) else []
        return out + own[name]

    rows = []
    for name in sorted(own):
        s = all_slots(name)
        if [x[0] for x in s] != list(range(len(s))):
            sys.exit("%s: slots are not 0..n-1: %r" % (name, s))
        if name in total and total[name] != len(s):
            sys.exit("%s: %d slots listed, fact sheet says %d" % (name, len(s), total[name]))
        rows.extend("%s %d %s" % (name, slot, meth) for slot, meth in s)

    out = os.path.join(HERE, "expected_slots.txt")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")
    print("wrote %d slots of %d classes to %s" % (len(rows), len(own), out))


if __name__ == "__main__":
    main()
