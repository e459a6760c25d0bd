"""RFC 9112 / RFC 9110 message-framing conformance: runs the table of
rfc9112_cases.py against one server.

Each case is sent on a fresh connection followed by a pipelined GET /b.txt;
the first response must have the case's status (and body), and the pipelined
request must be served or the connection closed, as the case says.

`python3 tests/blackbox/test_rfc9112.py --write-doc` writes the table into
docs/conformance.md (test_docs_table_is_current checks that it is current).
"""

import os
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from iisdtest import (INFO_OR_ABOVE, AppHostConfig, ConnectionClosed, RawClient, Server, free_port,
                      module_path)
from rfc9112_cases import CASES, CLOSE, NEXT, SERVED

CRASH_MARKERS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                 "runtime error:", "Segmentation fault", "core dumped")


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    """One server for the whole table: the default site ("a.txt" = AAAA,
    "b.txt" = BB, /echo) for any host name, and a second site for host
    other.example whose a.txt is OTHER."""
    tmp = tmp_path_factory.mktemp("rfc9112")
    (tmp / "custerr").symlink_to(Path(__file__).resolve().parents[2] / "custerr")
    www, other = tmp / "www", tmp / "other"
    www.mkdir()
    other.mkdir()
    (www / "a.txt").write_bytes(b"AAAA")
    (www / "b.txt").write_bytes(b"BB")
    (other / "a.txt").write_bytes(b"OTHER")
    port = free_port()
    cfg = AppHostConfig()
    cfg.add_site("Default Web Site", 1, ["127.0.0.1:%d:" % port], www)
    cfg.add_site("Other", 2, ["127.0.0.1:%d:other.example" % port], other)
    cfg.add_global_module("Echo", module_path("echo"))
    cfg.enable_module("Echo")
    for loc in cfg.root.findall("location"):
        handlers = loc.find("system.webServer/handlers")
        if loc.get("path") in ("", ".") and handlers is not None:
            handlers.insert(0, ET.Element("add", {"name": "Echo", "path": "echo", "verb": "*",
                                                  "modules": "Echo", "requireAccess": "None"}))
    req_limits = cfg.element("system.webServer/security/requestFiltering/requestLimits")
    req_limits.set("maxAllowedContentLength", "100000")
    path = cfg.write(tmp / "applicationHost.config")
    env = dict(os.environ, IISD_ROOT=str(tmp))
    server = Server(["--config", path], port, tmp, env=env, cwd=tmp).start()
    yield server
    rc = server.terminate()
    text = server.stderr()
    problems = []
    if rc != 0:
        problems.append("iisd exit code %r (expected 0)" % rc)
    problems += ["stderr contains %r" % m for m in CRASH_MARKERS if m in text]
    if problems:
        pytest.fail("\n".join(problems) + "\nstderr (tail):\n" + text[-4000:])


def expect_text(c):
    if c.expect == CLOSE:
        return "closed, no response"
    return str(c.expect)


def next_text(c):
    return {SERVED: "served", CLOSE: "connection closed", None: "-"}[c.next]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_conformance(srv, case):
    client = RawClient(srv.port)
    try:
        run_case(client, case)
    finally:
        client.close()


def run_case(client, case):
    try:
        client.send(case.raw + NEXT)
    except OSError:
        pass  # the server may close before reading everything (431, 414)
    if case.expect == CLOSE:
        assert client.wait_closed(3.0), "connection not closed"
        assert client.buf == b"", "a response was sent: %r" % client.buf[:200]
        return
    is_head = case.raw.startswith(b"HEAD ")
    resp = client.read_response(head=is_head)
    assert resp.status == case.expect, "%s (%s): %r" % (case.id, case.section, resp)
    if case.body is not None:
        assert resp.body == case.body, resp
    if case.next == SERVED:
        nxt = client.read_response()
        assert (nxt.status, nxt.body) == (200, b"BB"), "pipelined request: %r" % nxt
    elif case.next == CLOSE:
        assert "close" in resp.conn_tokens(), "response without Connection: close"
        assert client.wait_closed(3.0), "connection still open"
        assert client.buf == b"", "bytes after the response: %r" % client.buf[:200]


def test_rejections_are_logged(srv):
    """Every rejected request leaves an info-or-above log line with its status."""
    client = RawClient(srv.port)
    try:
        client.send(b"GET /a.txt HTTP/1.1\r\nHost: a\r\nX-A: b\x7f\r\n\r\n")
        assert client.read_response().status == 400
    finally:
        client.close()
    assert srv.wait_for_log(lambda lvl, msg: lvl in INFO_OR_ABOVE and re.search(r"\b400\b", msg))


def esc(raw):
    return raw.decode("latin-1").encode("unicode_escape").decode("ascii")


def markdown():
    out = ["| Case | RFC | Request | Result | Pipelined request |", "|---|---|---|---|---|"]
    for c in CASES:
        shown = esc(c.raw)
        if len(c.raw) > 100:  # long rows: their start and their end, where the cases differ
            shown = "%s ... %s (%d bytes)" % (esc(c.raw[:40]), esc(c.raw[-50:]), len(c.raw))
        shown = shown.replace("|", "\\|").replace("`", "\\`")
        result = expect_text(c)
        if c.body is not None:
            result += " `%s`" % (c.body.decode("latin-1") or '""')
        note = " — " + c.note if c.note else ""
        out.append("| `%s` | RFC %s | `%s` | %s%s | %s |"
                   % (c.id, c.section, shown, result, note, next_text(c)))
    return "\n".join(out) + "\n"


DOC = Path(__file__).resolve().parents[2] / "docs" / "conformance.md"
BEGIN, END = "<!-- table: begin -->\n", "<!-- table: end -->\n"


def doc_with_table(text):
    head, rest = text.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    return head + BEGIN + markdown() + END + tail


def test_docs_table_is_current():
    text = DOC.read_text()
    assert doc_with_table(text) == text, \
        "docs/conformance.md is out of date: python3 tests/blackbox/test_rfc9112.py --write-doc"


if __name__ == "__main__":
    if sys.argv[1:] == ["--markdown"]:
        sys.stdout.write(markdown())
    elif sys.argv[1:] == ["--write-doc"]:
        DOC.write_text(doc_with_table(DOC.read_text()))
    else:
        sys.exit("usage: test_rfc9112.py --markdown | --write-doc")
