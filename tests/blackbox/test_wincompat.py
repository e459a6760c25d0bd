"""Windows compatibility for module sources: a module written as for IIS on Windows
(tests/modules/wincompat.cpp: strsafe.h, the secure CRT, CRITICAL_SECTION, SRWLOCK,
Interlocked*, the Event Log, __uuidof) runs unchanged, its events reach the server's log
under the module's name, and it imports nothing beyond libc/libstdc++. Also the porting
walkthrough's example (examples/modules/remove_headers.cpp, docs/porting.md), built with
the command the document gives."""

import re
import shlex
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from iisdtest import IISD_BIN, REPO_ROOT, AppHostConfig, free_port, module_path
from test_config import SITE, body_text, web_config

ALLOWED_IMPORT = re.compile(r"@(GLIBC_|GLIBCXX_|CXXABI_|GCC_)")
EXAMPLE_SRC = REPO_ROOT / "examples" / "modules" / "remove_headers.cpp"
EXAMPLE_SCHEMA = REPO_ROOT / "examples" / "modules" / "remove_headers_schema.xml"
PORTING_DOC = REPO_ROOT / "docs" / "porting.md"
SECTION = "system.webServer/removeResponseHeaders"


def lines_of(resp):
    return dict(line.split("=", 1) for line in body_text(resp).splitlines())


# --------------------------------------------------------------------------
# the IIS-style module
# --------------------------------------------------------------------------

def test_module_answers(server_factory, site):
    srv = server_factory(root=site, use_config=False,
                         cli_modules=[("WinCompat", module_path("wincompat"))])
    first = srv.get("/wincompat")
    assert first.status == 200, first
    v = lines_of(first)
    assert v["count"] == "1"
    # StringCchPrintf (UNICODE) with Windows formats: %s wide, %ld a LONG, %S narrow
    assert v["wide"] == "request #1 of wincompat"
    # StringCchCopyW into 6 WCHARs: STRSAFE_E_INSUFFICIENT_BUFFER and the truncated text
    assert v["trunc"] == "8007007a,trunc"
    # sprintf_s %I64d/%lu, _itoa_s radix 16, _ltow_s, strcpy_s too small -> ERANGE (34)
    assert v["crt"] == "-5000000000|4000000000|s ff -42 34"
    assert v["uuid"] == "{EDA2A40F-FB92-4D6D-B52B-C8C207380B4E}"
    assert v["guidlen"] == "39"
    assert v["year"] == str(time.gmtime().tm_year)
    assert v["tick"] == "1"
    assert v["last"] == ""
    second = lines_of(srv.get("/wincompat"))
    assert second["count"] == "2"
    assert second["wide"] == "request #2 of wincompat"
    assert second["last"] == "/wincompat"
    # other URLs go on to the static file module
    r = srv.get("/hello.txt")
    assert (r.status, r.body) == (200, b"Hello static\n")


def test_interlocked_counter_under_concurrency(server_factory, site):
    """Many connections at once: the Interlocked counter hands out every number once."""
    import concurrent.futures
    srv = server_factory(root=site, use_config=False, workers=4,
                         cli_modules=[("WinCompat", module_path("wincompat"))])

    def one(_):
        return int(lines_of(srv.get("/wincompat"))["count"])

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        counts = sorted(pool.map(one, range(40)))
    assert counts == list(range(1, 41))


@pytest.mark.parametrize("name", ["WinCompat", "EventsUnderAnotherName"])
def test_event_log_entry_in_server_log(server_factory, site, name):
    srv = server_factory(root=site, use_config=False, cli_modules=[(name, module_path("wincompat"))])
    r = srv.get("/wincompat/event")
    assert (r.status, body_text(r)) == (200, "reported=1\n")
    expected = "module %s: event 1001 (WinCompatSource): event from; /wincompat/event" % name
    found = srv.wait_for_log(lambda level, msg: msg == expected)
    assert found is not None, "no %r in the log:\n%s" % (expected, srv.stderr()[-2000:])
    assert found[0] == "warn"
    # written from inside RegisterModule, before the module is in the server's list
    registered = "module %s: event 1000 (WinCompatSource): registered" % name
    assert ("info", registered) in srv.log_lines(), srv.stderr()[-2000:]


def undefined_symbols(path):
    out = subprocess.run(["nm", "-D", "--undefined-only", "--with-symbol-versions", str(path)],
                         check=True, capture_output=True, text=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            syms.append((parts[-2], parts[-1]))
    return syms


def check_imports_and_exports(path):
    bad = [s for kind, s in undefined_symbols(path) if kind != "w" and not ALLOWED_IMPORT.search(s)]
    assert not bad, "%s imports more than libc/libstdc++: %s" % (path, bad)
    exported = subprocess.run(["nm", "-D", "--defined-only", str(path)], check=True,
                              capture_output=True, text=True).stdout
    helpers = [line for line in exported.splitlines()
               if re.search(r"Iisd|iisd|_s$|StringC|Interlocked|CriticalSection|SRWLock|EventSource"
                            r"|ReportEvent|StringFromGUID2", line)]
    assert not helpers, "%s exports header helpers: %s" % (path, helpers)
    assert re.search(r" T RegisterModule$", exported, re.M)


def test_test_module_imports_only_libc_and_libstdcxx():
    check_imports_and_exports(module_path("wincompat"))
    # it does use the helpers that reach libc (the Event Log's dlsym, the printf family)
    names = {s.split("@")[0] for _, s in undefined_symbols(module_path("wincompat"))}
    assert {"dlsym", "vswprintf", "vsnprintf"} <= names


def test_server_exports_the_event_log_entry_point():
    out = subprocess.run(["nm", "-D", "--defined-only", str(IISD_BIN)], check=True,
                         capture_output=True, text=True).stdout
    assert re.search(r" T iisd_host_report_event$", out, re.M)


# --------------------------------------------------------------------------
# the porting walkthrough's module, built with the documented command
# --------------------------------------------------------------------------

def documented_build_command():
    """The build command of docs/porting.md (the line after the "build-command" marker)."""
    text = PORTING_DOC.read_text()
    m = re.search(r"<!-- build-command -->\s*\n\s*```[a-z]*\n\s*(.+?)\n", text)
    assert m, "docs/porting.md lost its build-command block"
    return m.group(1).strip()


@pytest.fixture(scope="module")
def example_module(tmp_path_factory):
    cmd = documented_build_command()
    assert "remove_headers.cpp" in cmd and "pkg-config --cflags iisd-module" in cmd
    out = tmp_path_factory.mktemp("example")
    pc = IISD_BIN.parent / "iisd-module.pc"  # the build folder of the server under test
    assert pc.is_file(), "%s is missing: run make" % pc
    shutil.copyfile(EXAMPLE_SRC, out / EXAMPLE_SRC.name)
    # as documented, run in the folder holding the source, with the warnings the project uses
    assert "PKG_CONFIG_PATH=build " in cmd
    full = cmd.replace("PKG_CONFIG_PATH=build ", "PKG_CONFIG_PATH=%s " % shlex.quote(str(pc.parent)))
    full += " -Wall -Wextra -Werror"
    subprocess.run(full, shell=True, check=True, cwd=out)
    so = out / "remove_headers.so"
    assert so.is_file()
    return so


def test_example_imports_only_libc_and_libstdcxx(example_module):
    check_imports_and_exports(example_module)


def example_config(tmp_path, port, image, register=True, schema=True):
    www = tmp_path / "www"
    (www / "off").mkdir(parents=True, exist_ok=True)
    (www / "keep").mkdir(exist_ok=True)
    for d in (www, www / "off", www / "keep"):
        (d / "f.txt").write_bytes(b"file\n")
    cfg = AppHostConfig()
    cfg.add_global_module("RemoveHeaders", image)
    cfg.enable_module("RemoveHeaders")
    if register:
        cfg.register_section(SECTION, overrideModeDefault="Allow")
        sec = cfg.section(SECTION)
        for name in ("Server", "ETag"):
            ET.SubElement(sec, "add", {"name": name})
    cfg.add_site(SITE, 1, ["127.0.0.1:%d:" % port], www)
    if schema:
        d = tmp_path / "schema"
        d.mkdir(exist_ok=True)
        shutil.copyfile(EXAMPLE_SCHEMA, d / EXAMPLE_SCHEMA.name)
    (www / "off" / "web.config").write_text(web_config(
        '  <system.webServer>\n    <removeResponseHeaders enabled="false" />\n  </system.webServer>\n'))
    (www / "keep" / "web.config").write_text(web_config(
        '  <system.webServer>\n    <removeResponseHeaders>\n      <remove name="ETag" />\n'
        '    </removeResponseHeaders>\n  </system.webServer>\n'))
    return cfg.write(tmp_path / "applicationHost.config")


def test_example_removes_configured_headers(server_factory, tmp_path, example_module):
    port = free_port()
    srv = server_factory(config_file=example_config(tmp_path, port, example_module), port=port)
    r = srv.get("/f.txt")
    assert (r.status, r.body) == (200, b"file\n")
    assert not r.has("Server") and not r.has("ETag"), r.raw_head
    assert r.has("Last-Modified") and r.has("Content-Type")
    # enabled="false" in a web.config
    r = srv.get("/off/f.txt")
    assert r.status == 200 and r.has("Server") and r.has("ETag"), r.raw_head
    # <remove name="ETag"/> in a web.config: only Server goes
    r = srv.get("/keep/f.txt")
    assert r.status == 200 and not r.has("Server") and r.has("ETag"), r.raw_head


def test_example_reports_configuration_errors_once(server_factory, tmp_path, example_module):
    port = free_port()
    path = example_config(tmp_path, port, example_module, register=False, schema=False)
    srv = server_factory(config_file=path, port=port)
    for _ in range(3):
        r = srv.get("/f.txt")
        assert r.status == 200 and r.has("Server")
    found = srv.wait_for_log(lambda level, msg: msg.startswith(
        "module RemoveHeaders: event 1 (RemoveHeaders): cannot read " + SECTION + " (GetAdminSection): hr=0x"))
    assert found is not None, srv.stderr()[-2000:]
    assert found[0] == "error"
    events = [m for _, m in srv.log_lines() if m.startswith("module RemoveHeaders: event")]
    assert len(events) == 1, events
