"""HTTP/1.x protocol behaviour of iisd (RFC 9110/9112 and the server contract)."""

import calendar
import email.utils
import re
import socket
import time

import pytest

from iisdtest import (INFO_OR_ABOVE, IO_TIMEOUT, LOG_LINE_RE, ConnectionClosed, RawClient, build_request,
                      chunked, free_port, module_path)

IMF_FIXDATE_RE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} GMT$")


@pytest.fixture
def static_srv(server_factory, site):
    return server_factory(root=site)


@pytest.fixture
def echo_srv(server_factory, site):
    return server_factory(root=site, modules=[("Echo", module_path("echo"))],
                          max_content=100000)


def assert_alive(srv):
    """A fresh connection still gets a correct answer."""
    resp = srv.get("/a.txt")
    assert resp.status == 200, resp
    assert resp.body == b"AAAA"


def parse_imf_fixdate(value):
    assert IMF_FIXDATE_RE.match(value), "not an IMF-fixdate: %r" % value
    return calendar.timegm(email.utils.parsedate(value))


# --------------------------------------------------------------------------
# persistent connections and pipelining
# --------------------------------------------------------------------------

def test_keep_alive_http11(static_srv):
    c = static_srv.client()
    for path, body in [("/a.txt", b"AAAA"), ("/b.txt", b"BB"), ("/hello.txt", b"Hello static\n")]:
        c.request("GET", path)
        resp = c.read_response()
        assert resp.status == 200
        assert resp.body == body
        assert "close" not in resp.conn_tokens()
        assert resp.header("Content-Length") == str(len(body))
    assert c.is_open(0.2), "HTTP/1.1 connection was closed without Connection: close"


def test_pipelining_in_one_write(static_srv):
    c = static_srv.client()
    c.send(build_request("GET", "/a.txt") + build_request("HEAD", "/b.txt")
           + build_request("GET", "/c.txt") + build_request("GET", "/hello.txt"))
    r1 = c.read_response()
    r2 = c.read_response(head=True)
    r3 = c.read_response()
    r4 = c.read_response()
    assert (r1.status, r1.body) == (200, b"AAAA")
    assert (r2.status, r2.body, r2.header("Content-Length")) == (200, b"", "2")
    assert (r3.status, r3.body) == (200, b"C")
    assert (r4.status, r4.body) == (200, b"Hello static\n")
    assert c.buf == b"", "extra bytes after the last pipelined response: %r" % c.buf


def test_pipelining_with_request_bodies(echo_srv):
    c = echo_srv.client()
    body2 = b"chunked-body-" * 20
    c.send(build_request("POST", "/echo", body=b"first body")
           + build_request("GET", "/a.txt")
           + build_request("POST", "/echo", headers=[("Transfer-Encoding", "chunked")])
           + chunked(body2, (5, 1, 17))
           + build_request("POST", "/echo", body=b""))
    r1, r2, r3, r4 = (c.read_response() for _ in range(4))
    assert (r1.status, r1.body) == (200, b"first body")
    assert (r2.status, r2.body) == (200, b"AAAA")
    assert (r3.status, r3.body) == (200, body2)
    assert (r4.status, r4.body) == (200, b"")


def test_unread_request_body_does_not_desync_connection(static_srv):
    """A body nobody reads must be skipped (or the connection closed), never
    parsed as the next request."""
    c = static_srv.client()
    c.send(build_request("POST", "/a.txt", body=b"GET /b.txt HTTP/1.1\r\nHost: x\r\n\r\n")
           + build_request("GET", "/c.txt"))
    first = c.read_response()
    try:
        second = c.read_response()
    except ConnectionClosed:
        assert "close" in first.conn_tokens(), "closed without Connection: close"
        return
    assert (second.status, second.body) == (200, b"C"), "body was parsed as a request"
    assert c.is_open(0.2) or "close" in second.conn_tokens()


def test_http10_without_keep_alive_closes(static_srv):
    c = static_srv.client()
    c.send(b"GET /a.txt HTTP/1.0\r\n\r\n")
    resp = c.read_response()
    assert resp.status == 200
    assert resp.body == b"AAAA"
    assert "keep-alive" not in resp.conn_tokens()
    assert c.wait_closed(2.0), "HTTP/1.0 connection without keep-alive stayed open"


def test_http10_with_keep_alive(static_srv):
    c = static_srv.client()
    c.send(b"GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    r1 = c.read_response()
    assert (r1.status, r1.body) == (200, b"AAAA")
    assert "keep-alive" in r1.conn_tokens(), r1.headers
    assert r1.header("Content-Length") == "4"
    c.send(b"GET /b.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    r2 = c.read_response()
    assert (r2.status, r2.body) == (200, b"BB")
    assert "keep-alive" in r2.conn_tokens()
    c.send(b"GET /c.txt HTTP/1.0\r\n\r\n")
    r3 = c.read_response()
    assert (r3.status, r3.body) == (200, b"C")
    assert c.wait_closed(2.0)


def test_connection_close_is_honoured(static_srv):
    c = static_srv.client()
    c.request("GET", "/a.txt", headers=[("Connection", "close")])
    resp = c.read_response()
    assert (resp.status, resp.body) == (200, b"AAAA")
    assert c.wait_closed(2.0), "server kept the connection after Connection: close"


@pytest.mark.parametrize("path, body", [("/a.txt", b"AAAA"), ("/missing.txt", None)])
def test_last_response_ends_before_end_request_modules(server_factory, site, tmp_path, path, body):
    """With Connection: close, the response and the end of the stream reach the client as soon as
    the response is written (a file, or an error page from memory), while a module still holds
    the request in RQ_END_REQUEST."""
    release = tmp_path / "release"
    srv = server_factory(root=site, cli_modules=[("EndHold", module_path("endhold"))])
    c = srv.client()
    try:
        c.request("GET", "%s?hold=%s" % (path, release), headers=[("Connection", "close")])
        resp = c.read_response()
        assert resp.status == (200 if body else 404)
        if body is not None:
            assert resp.body == body
        assert "close" in resp.conn_tokens()
        assert c.wait_closed(IO_TIMEOUT), "the end of the stream waited for RQ_END_REQUEST"
    finally:
        tmp = tmp_path / "release.tmp"
        tmp.write_bytes(b"")
        tmp.rename(release)
    assert_alive(srv)


def test_header_names_are_case_insensitive(static_srv):
    c = static_srv.client()
    c.send(b"GET /a.txt HTTP/1.1\r\nhOsT: example\r\nconnection: close\r\n\r\n")
    resp = c.read_response()
    assert (resp.status, resp.body) == (200, b"AAAA")


def test_absolute_form_target(static_srv):
    c = static_srv.client()
    c.send(b"GET http://localhost/a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
    resp = c.read_response()
    assert (resp.status, resp.body) == (200, b"AAAA")


def test_head_has_get_headers_and_no_body(static_srv):
    get = static_srv.get("/hello.txt")
    c = static_srv.client()
    c.request("HEAD", "/hello.txt")
    head = c.read_response(head=True)
    assert head.status == get.status == 200
    for name in ("Content-Length", "Content-Type", "ETag", "Last-Modified", "Accept-Ranges"):
        assert head.header(name) == get.header(name), name
    assert head.header("Content-Length") == str(len(b"Hello static\n"))
    # No body bytes may follow: the next response on the connection must parse.
    c.request("GET", "/c.txt")
    nxt = c.read_response()
    assert (nxt.status, nxt.body) == (200, b"C")


def test_date_and_server_headers(static_srv):
    before = time.time()
    c = static_srv.client()
    responses = []
    c.request("GET", "/a.txt")
    responses.append(c.read_response())
    c.request("GET", "/no-such-file")
    responses.append(c.read_response())
    c.request("HEAD", "/a.txt")
    responses.append(c.read_response(head=True))
    bad = static_srv.client()
    bad.send(b"BROKEN\r\n\r\n")
    responses.append(bad.read_response())
    after = time.time()
    for resp in responses:
        assert len(resp.header_list("Date")) == 1, resp
        stamp = parse_imf_fixdate(resp.header("Date"))
        assert before - 2 <= stamp <= after + 2, resp.header("Date")
        assert len(resp.header_list("Server")) == 1, resp
        assert resp.header("Server").strip(), "empty Server header"


# --------------------------------------------------------------------------
# request bodies
# --------------------------------------------------------------------------

def test_chunked_request_body_echo(echo_srv):
    body = bytes(range(256)) * 40
    c = echo_srv.client()
    c.send(build_request("POST", "/echo", headers=[("Transfer-Encoding", "chunked")])
           + chunked(body, (1, 100, 4096, 3)))
    resp = c.read_response()
    assert resp.status == 200
    assert resp.body == body


def test_chunked_request_with_extensions_and_trailer(echo_srv):
    c = echo_srv.client()
    c.send(build_request("POST", "/echo", headers=[("Transfer-Encoding", "chunked")])
           + b"5;name=value\r\nhello\r\n6 ; x=\"q\"\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
    resp = c.read_response()
    assert (resp.status, resp.body) == (200, b"hello world")
    c.request("GET", "/a.txt")
    assert c.read_response().body == b"AAAA"


def test_expect_100_continue(echo_srv):
    c = echo_srv.client()
    c.send(build_request("POST", "/echo", headers=[("Expect", "100-continue"),
                                                   ("Content-Length", "11")]))
    interim = c.read_response(allow_interim=True, timeout=3.0)
    assert interim.status == 100, "expected an interim 100 before the body was sent: %r" % interim
    assert interim.version == "HTTP/1.1"
    c.send(b"hello world")
    final = c.read_response()
    assert (final.status, final.body) == (200, b"hello world")


def test_content_length_at_limit_is_accepted(server_factory, site):
    srv = server_factory(root=site, modules=[("Echo", module_path("echo"))], max_content=1000)
    resp = srv.get("/echo", method="POST", body=b"x" * 1000)
    assert (resp.status, len(resp.body)) == (200, 1000)


def test_content_length_over_limit_413(server_factory, site):
    srv = server_factory(root=site, modules=[("Echo", module_path("echo"))], max_content=1000)
    c = srv.client()
    c.send(build_request("POST", "/echo", headers=[("Content-Length", "5000")]))
    try:
        resp = c.read_response(timeout=1.5)
    except (socket.timeout, TimeoutError):
        # The server chose to read the body first.
        try:
            c.send(b"y" * 5000)
        except OSError:
            pass
        resp = c.read_response()
    assert resp.status == 413
    assert "close" in resp.conn_tokens()
    assert c.wait_closed(2.0)
    assert srv.wait_for_log(lambda lvl, msg: lvl in INFO_OR_ABOVE and "413" in msg), \
        "no info-or-above log line with 413:\n" + srv.stderr()
    assert_alive(srv)


# --------------------------------------------------------------------------
# rejected requests
# --------------------------------------------------------------------------

H = b"Host: a\r\n"
BAD_REQUESTS = [
    ("garbage", b"GARBAGE\r\n\r\n", 400),
    ("control-chars-in-method", b"G\x01T / HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("no-version", b"GET /\r\n" + H + b"\r\n", 400),
    ("missing-target", b"GET HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("space-before-colon", b"GET / HTTP/1.1\r\n" + H + b"X-A : b\r\n\r\n", 400),
    ("field-without-colon", b"GET / HTTP/1.1\r\n" + H + b"NoColonHere\r\n\r\n", 400),
    ("obs-fold", b"GET / HTTP/1.1\r\n" + H + b"X-A: b\r\n c\r\n\r\n", 400),
    ("bare-lf", b"GET / HTTP/1.1\nHost: a\n\n", 400),
    ("bare-lf-in-fields", b"GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n", 400),
    ("http11-without-host", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("two-host-fields", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("content-length-and-transfer-encoding",
     b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    ("two-different-content-lengths",
     b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 400),
    ("non-numeric-content-length",
     b"POST / HTTP/1.1\r\n" + H + b"Content-Length: abc\r\n\r\n", 400),
    ("negative-content-length",
     b"POST / HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n", 400),
    ("transfer-encoding-gzip-chunked",
     b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip, chunked\r\n\r\n", 501),
    ("http-2.0", b"GET / HTTP/2.0\r\n" + H + b"\r\n", 505),
    ("http-3.0", b"GET / HTTP/3.0\r\n" + H + b"\r\n", 505),
    ("request-line-too-long", b"GET /" + b"a" * 8300 + b" HTTP/1.1\r\n" + H + b"\r\n", 414),
    ("field-line-too-long", b"GET / HTTP/1.1\r\n" + H + b"X-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),
    ("head-too-large", b"GET / HTTP/1.1\r\n" + H
     + b"".join(b"X-Fill-%02d: %s\r\n" % (i, b"f" * 900) for i in range(20)) + b"\r\n", 431),
    ("expect-unknown", b"GET /a.txt HTTP/1.1\r\n" + H + b"Expect: something-else\r\n\r\n", 417),
]


@pytest.mark.parametrize("raw,status", [pytest.param(r, s, id=i) for i, r, s in BAD_REQUESTS])
def test_rejected_request(static_srv, raw, status):
    c = static_srv.client()
    c.send(raw)
    resp = c.read_response()
    assert resp.status == status, resp
    assert "close" in resp.conn_tokens(), "error response without Connection: close"
    ctype = resp.header("Content-Type") or ""
    assert ctype.split(";")[0].strip().lower() == "text/html", ctype
    assert 0 < len(resp.body) < 4096
    assert c.wait_closed(2.0), "connection not closed after %d" % status
    assert static_srv.wait_for_log(
        lambda lvl, msg: lvl in INFO_OR_ABOVE and re.search(r"\b%d\b" % status, msg)), \
        "no info-or-above log line with %d:\n%s" % (status, static_srv.stderr())
    assert_alive(static_srv)


def test_bad_request_leaves_other_connections_alone(static_srv):
    good = static_srv.client()
    good.request("GET", "/a.txt")
    assert good.read_response().body == b"AAAA"
    bad = static_srv.client()
    bad.send(b"\x00\x01garbage garbage\r\n\r\n")
    assert bad.read_response().status == 400
    assert bad.wait_closed(2.0)
    # A half-sent request on a third connection must not block anything either.
    partial = static_srv.client()
    partial.send(b"GET /a.txt HTTP/1.1\r\nHo")
    good.request("GET", "/b.txt")
    resp = good.read_response()
    assert (resp.status, resp.body) == (200, b"BB")
    partial.send(b"st: a\r\n\r\n")
    assert partial.read_response().body == b"AAAA"


# --------------------------------------------------------------------------
# timeouts
# --------------------------------------------------------------------------

def test_slow_client_completes_within_header_wait(server_factory, site):
    srv = server_factory(root=site, header_wait=3)
    c = srv.client()
    raw = b"GET /a.txt HTTP/1.1\r\nHost: a\r\n\r\n"  # 32 bytes -> ~1.6 s
    start = time.monotonic()
    for i in range(len(raw)):
        c.send(raw[i:i + 1])
        time.sleep(0.05)
    assert time.monotonic() - start < 2.9
    resp = c.read_response()
    assert (resp.status, resp.body) == (200, b"AAAA")


def _closed_or_408(client):
    return client.buf == b"" or client.buf.startswith(b"HTTP/1.1 408 ")


def test_header_wait_timeout_closes_silent_connection(server_factory, site):
    srv = server_factory(root=site, header_wait=1)
    c = srv.client()
    start = time.monotonic()
    assert c.wait_closed(4.0), "silent connection still open after headerWaitTimeout"
    elapsed = time.monotonic() - start
    assert elapsed >= 0.8, "closed after %.2fs, before headerWaitTimeout (1s)" % elapsed
    assert _closed_or_408(c), c.buf
    assert_alive(srv)


def test_header_wait_timeout_limits_whole_head(server_factory, site):
    """A client that keeps trickling header lines cannot hold the connection
    beyond headerWaitTimeout (slowloris)."""
    srv = server_factory(root=site, header_wait=1)
    c = srv.client()
    start = time.monotonic()
    c.send(b"GET /a.txt HTTP/1.1\r\nHost: a\r\n")
    closed = False
    i = 0
    while time.monotonic() - start < 4.0:
        try:
            c.send(b"X-Slow-%d: v\r\n" % i)
        except OSError:
            closed = True
            break
        i += 1
        if c.wait_closed(0.1):
            closed = True
            break
    elapsed = time.monotonic() - start
    assert closed, "trickling client kept the connection open for %.1fs" % elapsed
    assert 0.8 <= elapsed < 3.5, elapsed
    assert c.buf == b"" or c.buf.startswith(b"HTTP/1.1 408 "), c.buf
    assert_alive(srv)


def test_header_wait_timeout_partial_head(server_factory, site):
    srv = server_factory(root=site, header_wait=1)
    c = srv.client()
    c.send(b"GET /a.txt HTTP/1.1\r\nHost: a\r\n")
    start = time.monotonic()
    assert c.wait_closed(4.0), "partial head connection still open"
    assert time.monotonic() - start >= 0.8
    assert _closed_or_408(c), c.buf


def test_idle_keep_alive_timeout(server_factory, site):
    srv = server_factory(root=site, conn_timeout=1)
    c = srv.client()
    c.request("GET", "/a.txt")
    assert c.read_response().status == 200
    time.sleep(0.3)
    c.request("GET", "/b.txt")  # still open after 0.3 s idle
    assert c.read_response().body == b"BB"
    start = time.monotonic()
    assert c.wait_closed(4.0), "idle keep-alive connection not closed after connectionTimeout"
    elapsed = time.monotonic() - start
    assert elapsed >= 0.7, "idle connection closed after only %.2fs" % elapsed
    assert c.buf == b"", "unexpected bytes on an idle connection: %r" % c.buf


def test_server_stays_up_after_many_bad_connections(static_srv):
    for raw, _id, _status in [(r, i, s) for i, r, s in BAD_REQUESTS]:
        c = RawClient(static_srv.port)
        try:
            c.send(raw)
            c.sock.shutdown(socket.SHUT_WR)  # half-close right after the bytes
        except OSError:
            pass
        c.close()  # and vanish without reading
    time.sleep(0.1)
    assert_alive(static_srv)


# --------------------------------------------------------------------------
# command line and logging
# --------------------------------------------------------------------------

def test_port_and_path_override_the_config(server_factory, site, tmp_path):
    other_root = tmp_path / "other-root"
    other_root.mkdir()
    (other_root / "a.txt").write_bytes(b"from the config root")
    config_port = free_port()
    srv = server_factory(root=site, config_port=config_port, config_root=other_root)
    assert_alive(srv)  # --port and --path won: site's a.txt on the --port port
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", config_port), timeout=1).close()


def test_log_lines_have_the_documented_format(static_srv):
    assert_alive(static_srv)
    bad = static_srv.client()
    bad.send(b"NOT HTTP\r\n\r\n")
    assert bad.read_response().status == 400
    assert static_srv.wait_for_log(lambda lvl, msg: "400" in msg)
    assert static_srv.terminate() == 0
    lines = [line for line in static_srv.stderr().splitlines() if line.strip()]
    assert lines, "iisd wrote no log lines at all"
    for line in lines:
        m = LOG_LINE_RE.match(line)
        assert m, "log line not in `YYYY-MM-DDTHH:MM:SSZ [level] message` form: %r" % line
        assert m.group(1).lower() in INFO_OR_ABOVE | {"debug", "trace"}, line
