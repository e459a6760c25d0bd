#!/usr/bin/env python3
"""Generate docs/api-status.md: the state of every method of the IIS module API.

The list of methods comes from the C binding of include/httpserv.h: each
`typedef struct XVtbl { ... } XVtbl;` lists every slot of interface X in
vtable order, grouped by comments `/* Y methods, slots a-b */` that say
which interface (X or a base) declares them. Each interface's table lists
the slots it declares itself; inherited slots are listed under the base.

The state of a method comes from the server's source (src/**/*.c, except
src/modules/, which holds modules: API consumers, not implementations). A
vtable initialiser is one of

    static const struct { void *offset_to_top, *rtti; XVtbl v; } name = {NULL, NULL, {.Method = fn, ...}};
    [static] [const] XVtbl name = {.Method = fn, ...};
    MACRO(XVtbl, name) = {NULL, NULL, {.Method = fn, ...}};

and `.Method = fn` there implements Method of X or of the base of X that
declares it. The function fn is then

  - whatever a comment `/* api-status: <state> */` says, when such a comment
    is on the line(s) just above the definition or is the first thing in
    its body (e.g. `/* api-status: partial: returns NULL */`);
  - "not implemented (E_NOTIMPL)" when its name starts with `notimpl_` or
    its last statement is `return E_NOTIMPL;`;
  - "partial: E_NOTIMPL in some cases" when E_NOTIMPL appears elsewhere in it;
  - "implemented" otherwise.

A method with no initialiser anywhere is "not implemented (no object yet)".
When several objects implement one method and disagree, the row says so.
Methods of the classes that MODULES implement are "module-implemented".

The "Conformance" column says whether the conformance suite (tests/conformance/,
see docs/conformance-suite.md) has a check for the method. The checks are read
from its sources, without running anything: CHECK("Interface::Method", ...) in
the C++ and C modules and expect("Interface::Method", ...) in run.py, where the
method is named as in the C binding (the name this table uses).

Usage:
    python3 tools/api_status.py             print the Markdown
    python3 tools/api_status.py --write F   rewrite F (default docs/api-status.md)
    python3 tools/api_status.py --check F   exit 1 and print a diff when F is out of date
    --require-conformance                   also exit 1 when an implemented method has no check
"""

import argparse
import difflib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = "include/httpserv.h"
# the module API, then the configuration system's administration interfaces (IHttpServer::GetAdminManager)
HEADERS = (HEADER, "include/ahadmin.h")
DEFAULT_DOC = "docs/api-status.md"
CONFORMANCE_DIR = "tests/conformance"

# Classes and interfaces the module implements and the server calls.
MODULE_IMPLEMENTED = {
    "CHttpModule",
    "CGlobalModule",
    "IHttpModuleFactory",
    "IHttpStoredContext",
    "IHttpConnectionStoredContext",
    "ICustomNotificationProvider",
    "IHttpCacheKey",
    "IHttpCacheSpecificData",
    "IGlobalSuspendProcessCallback",
    # the administration API's callbacks, which its caller implements
    "IAppHostPathMapper",
    "IAppHostPathMapper2",
    "IAppHostChangeHandler",
}
# Implemented by the server, and optionally also by a module that hands its own object to the server.
ALSO_MODULE_SUPPLIED = {
    "IHttpUser": "an authentication module may supply its own through IAuthenticationProvider::SetUser",
    "IScriptMapInfo": "a module may supply its own through IMapHandlerProvider::SetScriptMap",
}

# Interfaces no server object implements, on purpose: the reason, shown on each method's row.
NO_OBJECT_REASONS = {
    "IHttpTokenEntry": "a cached Windows logon token, handed out by IHttpServer::GetToken; Linux has no "
    "logon tokens",
}

NOT_IMPL = "not implemented (E_NOTIMPL)"
NO_OBJECT = "not implemented (no object yet)"
MODULE = "module-implemented"


# ---- C text helpers ------------------------------------------------------


def blank_comments_and_strings(text):
    """Replaces comments and string/char literals with spaces, keeping offsets and newlines."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
        else:
            i += 1
            continue
        for k in range(i, j):
            if out[k] != "\n":
                out[k] = " "
        i = j
    return "".join(out)


def blank_preprocessor(code):
    """Blanks preprocessor lines (with their continuations) in comment-free code."""
    lines = code.split("\n")
    cont = False
    for i, line in enumerate(lines):
        if cont or line.lstrip().startswith("#"):
            cont = line.rstrip().endswith("\\")
            lines[i] = " " * len(line)
    return "\n".join(lines)


def match_brace(text, open_at):
    """Index just past the brace that closes text[open_at] == '{' (text without comments/strings)."""
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    raise ValueError("unbalanced braces")


def take_value(text):
    """The initialiser value at the start of text: up to a ',' or an unmatched closing bracket."""
    depth = 0
    for i, c in enumerate(text):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                return text[:i]
            depth -= 1
        elif c == "," and depth == 0:
            return text[:i]
    return text


def matching_open_paren(text, close_at):
    """Index of the '(' that matches text[close_at] == ')'."""
    depth = 0
    for i in range(close_at, -1, -1):
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            depth -= 1
            if depth == 0:
                return i
    return -1


# ---- the header ----------------------------------------------------------


class Interface:
    def __init__(self, name, doc):
        self.name = name
        self.doc = doc
        self.slots = []  # (slot, method, declaring interface)

    @property
    def own(self):
        return [(s, m) for s, m, owner in self.slots if owner == self.name]

    @property
    def base_slots(self):
        return [(s, m, owner) for s, m, owner in self.slots if owner != self.name]


def parse_header(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    start = text.find("#else /* !__cplusplus */")
    if start < 0:
        sys.exit(f"api_status: {path}: no C binding (#else /* !__cplusplus */) found")
    text = text[start:]
    interfaces = {}
    vtbl_re = re.compile(r"(?:/\*\*(?P<doc>(?:(?!\*/).)*)\*/\s*)?typedef struct (?P<name>\w+)Vtbl \{(?P<body>.*?)\n\} (?P=name)Vtbl;", re.S)
    section_re = re.compile(r"/\* (\w+) methods, slots? \d+(?:-\d+)? \*/")
    member_re = re.compile(r"\(\*(\w+)\)\s*\(")
    for m in vtbl_re.finditer(text):
        # (a doc comment that wraps has " * " at the start of its further lines)
        doc = " ".join(l.strip().lstrip("*") for l in (m.group("doc") or "").splitlines())
        doc = " ".join(doc.split())
        doc = re.sub(r"\s*\(IID [0-9a-fA-F-]+\)\s*$", "", doc)
        itf = Interface(m.group("name"), doc)
        owner = None
        events = sorted(
            [(s.start(), "section", s.group(1)) for s in section_re.finditer(m.group("body"))]
            + [(s.start(), "member", s.group(1)) for s in member_re.finditer(m.group("body"))]
        )
        for _, kind, value in events:
            if kind == "section":
                owner = value
            else:
                if owner is None:
                    sys.exit(f"api_status: {itf.name}Vtbl: slot {value} before any 'methods, slots' comment")
                itf.slots.append((len(itf.slots), value, owner))
        interfaces[itf.name] = itf
    if not interfaces:
        sys.exit(f"api_status: {path}: no Vtbl structs found")
    return interfaces


# ---- the sources ---------------------------------------------------------


class Source:
    def __init__(self, rel, text):
        self.rel = rel
        self.text = text
        self.code = blank_preprocessor(blank_comments_and_strings(text))
        self._defs = None

    def definitions(self):
        """name -> (declaration start, body start, body end) of every function defined at file scope."""
        if self._defs is None:
            self._defs = {}
            depth, i, code = 0, 0, self.code
            while i < len(code):
                c = code[i]
                if c == "{":
                    if depth == 0:
                        # a function body when the text before it is a declarator ending with ")"
                        head_start = max(code.rfind(";", 0, i), code.rfind("}", 0, i)) + 1
                        head = code[head_start:i].rstrip()
                        if head.endswith(")") and "=" not in head:
                            open_at = matching_open_paren(head, len(head) - 1)
                            m = re.search(r"(\w+)\s*$", head[:open_at]) if open_at > 0 else None
                            if m:
                                decl_start = head_start + (len(head) - len(head.lstrip()))
                                end = match_brace(code, i)
                                self._defs.setdefault(m.group(1), (decl_start, i, end))
                                i = end
                                continue
                    depth += 1
                elif c == "}":
                    depth -= 1
                i += 1
        return self._defs


def initialisers(src, interfaces):
    """Yields (interface name, method, function) for each vtable initialiser in src."""
    code = src.code
    patterns = [
        # static const struct { ...; XVtbl v; } name = {
        re.compile(r"\b(\w+)Vtbl\s+\w+\s*;\s*\}\s*\w+\s*=\s*\{"),
        # MACRO(XVtbl, name) = {
        re.compile(r"\b\w+\s*\(\s*(\w+)Vtbl\s*,\s*\w+\s*\)\s*=\s*\{"),
        # XVtbl name = {
        re.compile(r"\b(\w+)Vtbl\s+\w+\s*=\s*\{"),
    ]
    seen = set()
    for pat in patterns:
        for m in pat.finditer(code):
            itf = interfaces.get(m.group(1))
            if itf is None or m.end() in seen:
                continue
            seen.add(m.end())
            open_at = m.end() - 1
            block = code[open_at : match_brace(code, open_at)]
            members = {name for _, name, _ in itf.slots}
            found = False
            for dm in re.finditer(r"\.\s*(\w+)\s*=", block):
                if dm.group(1) not in members:
                    continue
                fn = function_of(take_value(block[dm.end() :]))
                if fn is not None:
                    found = True
                    yield itf.name, dm.group(1), fn
            if not found:
                print(f"api_status: {src.rel}: {itf.name}Vtbl initialiser without .Method = function entries",
                      file=sys.stderr)


def function_of(value):
    """The function named by an initialiser value: `fn`, `&fn`, `(cast)fn`; None for NULL/0."""
    v = value.strip()
    while True:
        v = v.lstrip("&").strip()
        if v.startswith("("):
            depth = 0
            for i, c in enumerate(v):
                depth += c == "("
                depth -= c == ")"
                if depth == 0:
                    break
            inner, rest = v[1:i], v[i + 1 :].strip()
            if rest:
                v = rest  # a cast
                continue
            v = inner  # parenthesised expression
            continue
        break
    m = re.fullmatch(r"(\w+)", v)
    if not m or m.group(1) in ("NULL", "0", "nullptr"):
        return None
    return m.group(1)


STATUS_RE = re.compile(r"/\*\s*api-status:\s*(.*?)\s*\*/", re.S)


def status_text(raw):
    """One line of text from an api-status comment (continuation lines may start with '*')."""
    return " ".join(re.sub(r"\n\s*\*(?!/)", " ", raw).split())


def function_state(src, fn):
    """State of function fn defined in src (or None when src does not define it)."""
    d = src.definitions().get(fn)
    if d is None:
        return None
    decl_start, body_start, body_end = d
    text, code = src.text, src.code
    # comment lines directly above the line where the definition starts
    line_start = text.rfind("\n", 0, decl_start) + 1
    above = []
    pos = line_start
    while pos > 0:
        prev_start = text.rfind("\n", 0, pos - 1) + 1
        line = text[prev_start : pos - 1].strip()
        if line.startswith(("/*", "*", "//")) or line.endswith("*/"):
            above.insert(0, line)
            pos = prev_start
        else:
            break
    statuses = STATUS_RE.findall("\n".join(above))
    if statuses:
        return status_text(statuses[-1])
    body_text = text[body_start + 1 : body_end - 1]
    first = re.match(r"\s*/\*\s*api-status:\s*(.*?)\s*\*/", body_text, re.S)
    if first:
        return status_text(first.group(1))
    if fn.startswith("notimpl_"):
        return NOT_IMPL
    body = code[body_start + 1 : body_end - 1]
    statements = [s.strip() for s in body.split(";") if s.strip()]
    if statements and re.fullmatch(r"return\s+\(?\s*E_NOTIMPL\s*\)?", statements[-1].split("\n")[-1].strip()):
        return NOT_IMPL
    if re.search(r"\bE_NOTIMPL\b", body):
        return "partial: E_NOTIMPL in some cases"
    return "implemented"


def load_sources(root):
    out = []
    src_root = os.path.join(root, "src")
    for dirpath, dirnames, filenames in os.walk(src_root):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir == os.path.join("src", "modules") or rel_dir.startswith(os.path.join("src", "modules") + os.sep):
            continue
        for fname in sorted(filenames):
            if fname.endswith(".c"):
                rel = os.path.join(rel_dir, fname).replace(os.sep, "/")
                with open(os.path.join(dirpath, fname), encoding="utf-8", errors="replace") as f:
                    out.append(Source(rel, f.read()))
    return out


# ---- the conformance suite -----------------------------------------------

CHECK_RE = re.compile(r'\bCHECK\(\s*"(\w+)::(\w+)"')
EXPECT_RE = re.compile(r'\bexpect\(\s*"(\w+)::(\w+)"')


def load_conformance(root):
    """{(interface, method): set of bindings ("C++", "C", "driver")} named by the suite's sources."""
    out = {}
    directory = os.path.join(root, CONFORMANCE_DIR)
    if not os.path.isdir(directory):
        return out
    for fname in sorted(os.listdir(directory)):
        ext = os.path.splitext(fname)[1]
        binding, pattern = {".cpp": ("C++", CHECK_RE), ".c": ("C", CHECK_RE), ".py": ("driver", EXPECT_RE)}.get(
            ext, (None, None))
        if binding is None:
            continue
        with open(os.path.join(directory, fname), encoding="utf-8") as f:
            for m in pattern.finditer(f.read()):
                out.setdefault((m.group(1), m.group(2)), set()).add(binding)
    return out


def unknown_checks(interfaces, checks):
    """Check names that name no method of the header (a typo would hide a method from the column)."""
    known = {(owner, m) for itf in interfaces.values() for _, m, owner in itf.slots}
    return sorted(f"{i}::{m}" for i, m in checks if (i, m) not in known and i != "conformance")


# ---- putting it together -------------------------------------------------


def collect(interfaces, sources):
    """(declaring interface, method) -> list of (function, file, state)."""
    impl = {}
    for src in sources:
        for itf_name, method, fn in initialisers(src, interfaces):
            owner = next(o for _, m, o in interfaces[itf_name].slots if m == method)
            # prefer the definition in the same file (static functions), else any file
            state, where = function_state(src, fn), src.rel
            if state is None:
                for other in sources:
                    state = function_state(other, fn)
                    if state is not None:
                        where = other.rel
                        break
            if state is None:
                state, where = "implemented", src.rel + " (definition not found)"
            entry = (fn, where, state)
            lst = impl.setdefault((owner, method), [])
            if entry not in lst:
                lst.append(entry)
    return impl


def aggregate(entries):
    states = sorted({s for _, _, s in entries})
    if len(states) == 1:
        return states[0]
    if all(s.startswith("not implemented") for s in states):
        return NOT_IMPL
    detail = "; ".join(f"{fn}: {s}" for fn, _, s in sorted(entries))
    return f"partial: differs by object ({detail})"


def category(state):
    if state.startswith(MODULE):
        return "module"
    if state.startswith("implemented"):
        return "implemented"
    if state.startswith("partial"):
        return "partial"
    return "not"


def md_escape(s):
    return s.replace("|", "\\|")


def anchor(name):
    return name.lower()


def render(interfaces, impl, checks=None):
    checks = checks or {}
    rows_by_itf = {}
    for itf in interfaces.values():
        rows = []
        for slot, method in itf.own:
            entries = impl.get((itf.name, method), [])
            fns = ", ".join(f"`{fn}`" for fn in sorted({fn for fn, _, _ in entries}))
            files = ", ".join(sorted({w for _, w, _ in entries}))
            if itf.name in MODULE_IMPLEMENTED:
                state = MODULE
                if entries:
                    state += f" (server object too: {aggregate(entries)})"
            elif entries:
                state = aggregate(entries)
            elif itf.name in NO_OBJECT_REASONS:
                state = f"not implemented (no object: {NO_OBJECT_REASONS[itf.name]})"
            else:
                state = NO_OBJECT
            rows.append((slot, method, state, fns, files))
        rows_by_itf[itf.name] = rows

    out = []
    out.append("# IIS native API: implementation status")
    out.append("")
    out.append("<!-- Generated by `python3 tools/api_status.py --write` from include/httpserv.h, include/ahadmin.h")
    out.append("     and the vtable initialisers in src/. Do not edit by hand; `make test` checks it is current. -->")
    out.append("")
    out.append("Every method of every interface in `include/httpserv.h`, and of the configuration system's")
    out.append("administration interfaces in `include/ahadmin.h` (`IHttpServer::GetAdminManager`), with what iisd")
    out.append("does for it.")
    out.append("Each interface lists the slots it declares; inherited slots are listed under the base interface.")
    out.append("")
    out.append("States:")
    out.append("")
    out.append("- **implemented** — the server object does what the IIS documentation describes (a note in")
    out.append("  parentheses says how, where Linux differs).")
    out.append("- **partial: …** — works with the limitation given.")
    out.append("- **not implemented (E_NOTIMPL)** — the method exists and returns `E_NOTIMPL`.")
    out.append("- **not implemented (no object yet)** — no server object implements the interface yet.")
    out.append("- **module-implemented** — the module implements it and the server calls it.")
    out.append("")
    out.append("The **Conformance** column has a ✓ when the conformance suite ([conformance-suite.md](conformance-suite.md),")
    out.append("`make conformance`) checks the method against its documented behaviour; `make test` runs the suite.")
    out.append("")

    def checked(itf_name, method):
        return (itf_name, method) in checks

    impl_total = impl_checked = 0
    for itf in interfaces.values():
        if itf.name in MODULE_IMPLEMENTED:
            continue
        for _, method, state, _, _ in rows_by_itf[itf.name]:
            if category(state) == "implemented":
                impl_total += 1
                impl_checked += checked(itf.name, method)
    out.append("## Summary")
    out.append("")
    out.append(f"The conformance suite checks **{impl_checked} of the {impl_total} implemented methods**"
               + (" (all of them)." if impl_checked == impl_total else "."))
    out.append("\"Checked\" counts the interface's methods the suite checks (of any state); \"C binding\" says")
    out.append("whether `tests/conformance/binding_c.c` calls the interface through its C vtable.")
    out.append("")
    out.append("| Interface | Implemented by | Slots | Implemented | Partial | Not implemented | Checked | C binding |")
    out.append("|---|---|---:|---:|---:|---:|---:|:---:|")
    totals = {"slots": 0, "implemented": 0, "partial": 0, "not": 0, "checked": 0}
    for itf in interfaces.values():
        rows = rows_by_itf[itf.name]
        cats = [category(r[2]) for r in rows]
        n_checked = sum(checked(itf.name, r[1]) for r in rows)
        c_binding = "✓" if any(checked(itf.name, r[1]) and "C" in checks[(itf.name, r[1])] for r in rows) else ""
        if itf.name in MODULE_IMPLEMENTED:
            by = "module"
            counts = ["—", "—", "—", "—"]
            c_binding = "—"
        else:
            by = "server" if itf.name not in ALSO_MODULE_SUPPLIED else "server or module"
            c = [cats.count("implemented"), cats.count("partial"), cats.count("not")]
            counts = [str(x) for x in c] + [str(n_checked) if n_checked else ""]
            totals["slots"] += len(rows)
            totals["implemented"] += c[0]
            totals["partial"] += c[1]
            totals["not"] += c[2]
            totals["checked"] += n_checked
        out.append(f"| [{itf.name}](#{anchor(itf.name)}) | {by} | {len(rows)} | " + " | ".join(counts)
                   + f" | {c_binding} |")
    out.append(
        f"| **server total** | | **{totals['slots']}** | **{totals['implemented']}** | **{totals['partial']}** "
        f"| **{totals['not']}** | **{totals['checked']}** | |"
    )
    out.append("")

    for itf in interfaces.values():
        out.append(f"## {itf.name}")
        out.append("")
        if itf.doc:
            out.append(md_escape(itf.doc))
            out.append("")
        notes = []
        if itf.name in MODULE_IMPLEMENTED:
            notes.append("Implemented by the module; the server calls it.")
        if itf.name in ALSO_MODULE_SUPPLIED:
            notes.append(f"Implemented by the server; {ALSO_MODULE_SUPPLIED[itf.name]}.")
        bases = []
        for _, _, owner in itf.base_slots:
            if owner not in bases:
                bases.append(owner)
        for b in bases:
            slots = [s for s, _, o in itf.base_slots if o == b]
            rng = f"slot {slots[0]}" if len(slots) == 1 else f"slots {slots[0]}–{slots[-1]}"
            if b in interfaces:
                notes.append(f"Inherits {rng} from [{b}](#{anchor(b)}) (listed there).")
            else:
                notes.append(f"Inherits {rng} from {b} (every object implements them).")
        if notes:
            out.append(" ".join(notes))
            out.append("")
        out.append("| Slot | Method | State | Conformance | Implementing function | Source |")
        out.append("|---:|---|---|:---:|---|---|")
        for slot, method, state, fns, files in rows_by_itf[itf.name]:
            mark = "✓" if checked(itf.name, method) else ""
            out.append(f"| {slot} | {method} | {md_escape(state)} | {mark} | {fns} | {files} |")
        out.append("")
    return "\n".join(out)


def generate(root):
    """(Markdown, implemented methods without a conformance check, unknown check names)."""
    interfaces = {}
    for header in HEADERS:
        interfaces.update(parse_header(os.path.join(root, header)))
    sources = load_sources(root)
    impl = collect(interfaces, sources)
    checks = load_conformance(root)
    text = render(interfaces, impl, checks)
    unchecked = []
    for itf in interfaces.values():
        if itf.name in MODULE_IMPLEMENTED:
            continue
        for _, method in itf.own:
            entries = impl.get((itf.name, method), [])
            if entries and category(aggregate(entries)) == "implemented" and (itf.name, method) not in checks:
                unchecked.append(f"{itf.name}::{method}")
    return text, unchecked, unknown_checks(interfaces, checks)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--write", nargs="?", const=DEFAULT_DOC, metavar="FILE", help="rewrite FILE")
    g.add_argument("--check", nargs="?", const=DEFAULT_DOC, metavar="FILE", help="exit 1 if FILE is out of date")
    ap.add_argument("--root", default=ROOT, help="repository root (default: the parent of tools/)")
    ap.add_argument("--require-conformance", action="store_true",
                    help="exit 1 when an implemented method has no conformance check")
    args = ap.parse_args()

    text, unchecked, unknown = generate(args.root)
    if unknown:
        print("api_status: the conformance suite names methods that do not exist: " + ", ".join(unknown),
              file=sys.stderr)
        return 1
    if args.require_conformance and unchecked:
        print(f"api_status: {len(unchecked)} implemented method(s) without a conformance check:", file=sys.stderr)
        for name in unchecked:
            print("  " + name, file=sys.stderr)
        return 1
    if args.write:
        path = args.write if os.path.isabs(args.write) else os.path.join(args.root, args.write)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return 0
    if args.check:
        path = args.check if os.path.isabs(args.check) else os.path.join(args.root, args.check)
        try:
            with open(path, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = ""
        if current != text:
            sys.stdout.writelines(
                difflib.unified_diff(
                    current.splitlines(True), text.splitlines(True), fromfile=args.check, tofile="generated"
                )
            )
            print(f"\n{args.check} is out of date: run python3 tools/api_status.py --write", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
