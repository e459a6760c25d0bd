"""Native modules loaded into iisd: the IIS integrated pipeline as seen by modules."""

import os
import signal
import socket
import subprocess
import time

import pytest

from iisdtest import (IISD_BIN, build_request, chunked, copy_module, free_port,
                      make_config, module_path, read_trace, wait_trace)

STAGES = [
    "BEGIN_REQUEST", "AUTHENTICATE_REQUEST", "AUTHORIZE_REQUEST", "RESOLVE_REQUEST_CACHE",
    "MAP_REQUEST_HANDLER", "ACQUIRE_REQUEST_STATE", "PRE_EXECUTE_REQUEST_HANDLER",
    "EXECUTE_REQUEST_HANDLER", "RELEASE_REQUEST_STATE", "UPDATE_REQUEST_CACHE",
    "LOG_REQUEST", "END_REQUEST",
]
# Every deterministic event followed by its post event, in pipeline order.
ALL_EVENTS = [e for s in STAGES for e in (s, "POST_" + s)]
TAIL = ["SEND_RESPONSE", "LOG_REQUEST", "POST_LOG_REQUEST", "END_REQUEST", "POST_END_REQUEST",
        "dispose"]
FULL_REQUEST = (["create"] + ALL_EVENTS[:ALL_EVENTS.index("LOG_REQUEST")] + TAIL)

INDEX_BODY = b"<html><body>index</body></html>\n"


def events_of(lines, name):
    """The events traced by module `name`, in order ("<name> <event>" lines)."""
    prefix = name + " "
    return [line[len(prefix):] for line in lines if line.startswith(prefix)]


def request_events(lines, name):
    """Like events_of, without the global-module events."""
    return [e for e in events_of(lines, name) if not e.startswith("global-")]


# --------------------------------------------------------------------------
# hello world
# --------------------------------------------------------------------------

@pytest.mark.parametrize("via", ["config", "cli"])
@pytest.mark.parametrize("module", ["hello", "hello_c"])
def test_hello_world(server_factory, site, module, via):
    image = module_path(module)
    if via == "config":
        srv = server_factory(root=site, modules=[("Hello", image)])
    else:
        srv = server_factory(root=site, use_config=False, cli_modules=[("Hello", image)])
    c = srv.client()
    for path in ("/", "/hello.txt", "/anything/at/all?q=1"):
        c.request("GET", path)
        resp = c.read_response()
        assert resp.status == 200
        assert resp.body == b"Hello World"
        assert resp.header("Content-Type") == "text/plain"
        assert resp.header("Content-Length") == "11"
        assert resp.has("Date") and resp.has("Server")
    c.request("HEAD", "/")
    head = c.read_response(head=True)
    assert (head.status, head.header("Content-Length")) == (200, "11")
    c.request("GET", "/")
    assert c.read_response().body == b"Hello World", "HEAD response leaked a body"


# --------------------------------------------------------------------------
# ordering
# --------------------------------------------------------------------------

def order_modules(tmp_path, names):
    return [(n, copy_module("order", tmp_path / "mods", "order_" + n)) for n in names]


def split_list(value):
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def test_priority_and_config_order(server_factory, site, tmp_path):
    names = ["B", "A_LOW", "C_FIRST", "G_MEDIUM", "D", "E_HIGH", "F_LAST"]
    srv = server_factory(root=site, modules=order_modules(tmp_path, names))
    resp = srv.get("/index.html")
    assert (resp.status, resp.body) == (200, INDEX_BODY)
    expected = ["C_FIRST", "E_HIGH", "B", "G_MEDIUM", "D", "A_LOW", "F_LAST"]
    assert split_list(resp.header("X-Order")) == expected
    assert split_list(resp.header("X-Send-Order")) == list(reversed(expected))


def test_post_notifications_follow_all_notifications(server_factory, site, tmp_path):
    names = ["P1", "P2_HIGH", "P3_LOW"]
    srv = server_factory(root=site, modules=order_modules(tmp_path, names))
    resp = srv.get("/index.html")
    events = split_list(resp.header("X-Events"))
    begins = [e for e in events if e.endswith(":begin")]
    posts = [e for e in events if e.endswith(":post")]
    assert begins == ["P2_HIGH:begin", "P1:begin", "P3_LOW:begin"]
    assert sorted(posts) == sorted(n + ":post" for n in names)
    assert events == begins + posts, "a post-BEGIN ran before every BEGIN had run: %r" % events


def test_cli_modules_follow_config_modules(server_factory, site, tmp_path):
    mods = order_modules(tmp_path, ["M2", "M1", "M3", "M0_FIRST", "M4_LAST"])
    srv = server_factory(root=site, modules=mods[:2], cli_modules=mods[2:])
    resp = srv.get("/index.html")
    expected = ["M0_FIRST", "M2", "M1", "M3", "M4_LAST"]
    assert split_list(resp.header("X-Order")) == expected
    assert split_list(resp.header("X-Send-Order")) == list(reversed(expected))


def test_one_image_registered_under_several_names(server_factory, site):
    image = module_path("order")
    srv = server_factory(root=site, modules=[("S1", image), ("S2_HIGH", image), ("S3", image)])
    resp = srv.get("/index.html")
    assert split_list(resp.header("X-Order")) == ["S2_HIGH", "S1", "S3"]
    assert split_list(resp.header("X-Send-Order")) == ["S3", "S1", "S2_HIGH"]


# --------------------------------------------------------------------------
# pipeline events, FINISH_REQUEST, lifetimes
# --------------------------------------------------------------------------

def trace_server(server_factory, site, tmp_path, trace_file, names=("T",), **kw):
    mods = [(n, copy_module("trace", tmp_path / "mods", "trace_" + n)) for n in names]
    return server_factory(root=site, modules=mods, env={"IISD_TEST_TRACE": str(trace_file)}, **kw)


def dispose_count_reaches(names, n):
    return lambda lines: all(events_of(lines, m).count("dispose") >= n for m in names)


def test_full_request_event_sequence(server_factory, site, tmp_path, trace_file):
    srv = trace_server(server_factory, site, tmp_path, trace_file)
    resp = srv.get("/index.html")
    assert (resp.status, resp.body) == (200, INDEX_BODY)
    lines = wait_trace(trace_file, dispose_count_reaches(["T"], 1))
    assert request_events(lines, "T") == FULL_REQUEST
    ev = events_of(lines, "T")
    assert ev.count("global-prebegin") == 1
    assert ev.index("global-prebegin") < ev.index("BEGIN_REQUEST")


@pytest.mark.parametrize("stage", ["BEGIN_REQUEST", "POST_BEGIN_REQUEST", "AUTHORIZE_REQUEST",
                                   "POST_MAP_REQUEST_HANDLER", "EXECUTE_REQUEST_HANDLER",
                                   "POST_UPDATE_REQUEST_CACHE"])
def test_finish_request_at_stage(server_factory, site, tmp_path, trace_file, stage):
    srv = trace_server(server_factory, site, tmp_path, trace_file, names=("T1", "T2"))
    resp = srv.get("/index.html?finish-at-" + stage)
    assert (resp.status, resp.body) == (200, b"finished")
    lines = wait_trace(trace_file, dispose_count_reaches(["T1", "T2"], 1))
    upto = ALL_EVENTS.index(stage)
    # T1 (first in <modules>) finished the request in `stage`: it ran that
    # stage, T2 did not; no later stage ran, except that the response is
    # still sent and LOG_REQUEST / END_REQUEST (with post events) still run.
    assert request_events(lines, "T1") == ["create"] + ALL_EVENTS[:upto + 1] + TAIL
    assert request_events(lines, "T2") == ["create"] + ALL_EVENTS[:upto] + TAIL
    send = [line for line in lines if line.endswith(" SEND_RESPONSE")]
    assert send == ["T2 SEND_RESPONSE", "T1 SEND_RESPONSE"]


def test_response_is_sent_before_log_request(server_factory, site, tmp_path, trace_file):
    """The response leaves after post-UPDATE_REQUEST_CACHE, before LOG_REQUEST:
    a module sleeping 1 s in LOG_REQUEST must not delay it."""
    srv = trace_server(server_factory, site, tmp_path, trace_file)
    c = srv.client()
    start = time.monotonic()
    c.request("GET", "/index.html?sleep-at-LOG_REQUEST")
    resp = c.read_response()
    elapsed = time.monotonic() - start
    assert (resp.status, resp.body) == (200, INDEX_BODY)
    assert elapsed < 0.8, "response waited for LOG_REQUEST (%.2fs)" % elapsed
    lines = wait_trace(trace_file, dispose_count_reaches(["T"], 1))
    assert request_events(lines, "T") == FULL_REQUEST


def test_sleep_in_send_response_delays_the_response(server_factory, site, tmp_path, trace_file):
    """Counter-check of the test above: SEND_RESPONSE runs before the bytes go out."""
    srv = trace_server(server_factory, site, tmp_path, trace_file)
    start = time.monotonic()
    resp = srv.get("/index.html?sleep-at-SEND_RESPONSE")
    assert resp.status == 200
    assert time.monotonic() - start >= 0.9


def test_create_and_dispose_once_per_request(server_factory, site, tmp_path, trace_file):
    names = ("T1", "T2")
    srv = trace_server(server_factory, site, tmp_path, trace_file, names=names)
    c = srv.client()
    for i in range(4):
        c.request("GET", "/index.html?i=%d" % i)
        assert c.read_response().status == 200
    c.send(build_request("GET", "/a.txt") + build_request("GET", "/b.txt"))
    assert c.read_response().body == b"AAAA"
    assert c.read_response().body == b"BB"
    assert srv.get("/c.txt").body == b"C"
    lines = wait_trace(trace_file, dispose_count_reaches(names, 7))
    time.sleep(0.2)  # nothing more may arrive
    lines = read_trace(trace_file)
    for name in names:
        ev = events_of(lines, name)
        assert ev.count("create") == 7, ev
        assert ev.count("dispose") == 7, ev
        assert ev.count("global-prebegin") == 7, ev
        assert ev.count("SEND_RESPONSE") == 7, ev
        assert ev.count("END_REQUEST") == 7, ev


def test_shutdown_terminates_modules(server_factory, site, tmp_path, trace_file):
    srv = trace_server(server_factory, site, tmp_path, trace_file, names=("T1", "T2"))
    assert srv.get("/index.html").status == 200
    wait_trace(trace_file, dispose_count_reaches(["T1", "T2"], 1))
    assert srv.terminate() == 0, srv.stderr()
    lines = read_trace(trace_file)
    for name in ("T1", "T2"):
        ev = events_of(lines, name)
        for e in ("global-stoplistening", "terminate", "global-terminate"):
            assert ev.count(e) == 1, (e, ev)
        assert ev.index("global-stoplistening") < ev.index("terminate")
        assert ev.index("global-stoplistening") < ev.index("global-terminate")
        assert ev.index("dispose") < ev.index("terminate")
        assert "create" not in ev[ev.index("terminate"):]


# --------------------------------------------------------------------------
# module context, DisableNotifications
# --------------------------------------------------------------------------

def test_module_context(server_factory, site, trace_file):
    srv = server_factory(root=site, modules=[("Ctx", module_path("context"))],
                         env={"IISD_TEST_TRACE": str(trace_file)})
    c = srv.client()
    c.send(build_request("GET", "/index.html?first") + build_request("GET", "/a.txt?second"))
    r1 = c.read_response()
    r2 = c.read_response()
    assert (r1.status, r1.body) == (200, INDEX_BODY)
    assert (r2.status, r2.body) == (200, b"AAAA")
    assert r1.header("X-Context") == "Ctx:/index.html:first"
    assert r2.header("X-Context") == "Ctx:/a.txt:second"
    for r in (r1, r2):
        # HRESULT_FROM_WIN32(ERROR_ALREADY_ASSIGNED = 85)
        assert (r.header("X-Second-Set") or "").lower() == "0x80070055"
    wait_trace(trace_file, lambda ls: ls.count("Ctx cleanup") >= 2)
    time.sleep(0.1)
    assert read_trace(trace_file).count("Ctx cleanup") == 2


def test_module_context_is_per_module(server_factory, site, tmp_path, trace_file):
    mods = [(n, copy_module("context", tmp_path / "mods", "context_" + n)) for n in ("K1", "K2")]
    srv = server_factory(root=site, modules=mods, env={"IISD_TEST_TRACE": str(trace_file)})
    resp = srv.get("/index.html?q")
    assert resp.status == 200
    assert split_list(resp.header("X-Context")) == ["K1:/index.html:q", "K2:/index.html:q"]
    lines = wait_trace(trace_file, lambda ls: ls.count("K1 cleanup") + ls.count("K2 cleanup") >= 2)
    assert lines.count("K1 cleanup") == 1 and lines.count("K2 cleanup") == 1


def test_disable_notifications(server_factory, site):
    srv = server_factory(root=site, modules=[("Ctx", module_path("context"))])
    enabled = srv.get("/index.html")
    assert enabled.header("X-Authorize-Called") == "yes"
    disabled = srv.get("/index.html?disable-authorize")
    assert disabled.status == 200
    assert not disabled.has("X-Authorize-Called")
    # Only that request was affected.
    again = srv.get("/index.html")
    assert again.header("X-Authorize-Called") == "yes"


# --------------------------------------------------------------------------
# request body, flush
# --------------------------------------------------------------------------

@pytest.fixture
def echo_srv(server_factory, site):
    return server_factory(root=site, modules=[("Echo", module_path("echo"))])


@pytest.mark.parametrize("size", [0, 10, 1024 * 1024])
def test_echo_content_length(echo_srv, size):
    body = os.urandom(size)
    c = echo_srv.client(timeout=15)
    c.request("POST", "/echo", body=body)
    resp = c.read_response()
    assert resp.status == 200
    assert resp.header("Content-Type") == "application/octet-stream"
    assert len(resp.body) == size
    assert resp.body == body
    assert resp.header("X-Remaining-Before") == str(size)


def test_echo_body_arriving_in_pieces(echo_srv):
    body = b"0123456789abcdefghij" * 50
    c = echo_srv.client()
    c.send(build_request("POST", "/echo", headers=[("Content-Length", str(len(body)))]))
    for i in range(0, len(body), 200):
        time.sleep(0.05)
        c.send(body[i:i + 200])
    resp = c.read_response()
    assert (resp.status, resp.body) == (200, body)


def test_echo_chunked(echo_srv):
    body = os.urandom(200 * 1024 + 17)
    c = echo_srv.client(timeout=15)
    c.send(build_request("POST", "/echo", headers=[("Transfer-Encoding", "chunked")])
           + chunked(body, (1, 8192, 333, 65536)))
    resp = c.read_response()
    assert resp.status == 200
    assert resp.body == body
    assert resp.has("X-Remaining-Before")
    c.request("GET", "/a.txt")
    assert c.read_response().body == b"AAAA"


@pytest.fixture
def flush_srv(server_factory, site):
    return server_factory(root=site, modules=[("Flush", module_path("flush"))])


def test_flush_gives_chunked_response(flush_srv):
    c = flush_srv.client()
    c.request("GET", "/flush")
    resp = c.read_response()
    assert resp.status == 200
    assert resp.chunked, resp.headers
    assert not resp.has("Content-Length")
    assert resp.body == b"part1part2"
    c.request("GET", "/a.txt")  # framing intact: next response on the connection
    assert c.read_response().body == b"AAAA"


def test_flush_to_http10_client_is_close_delimited(flush_srv):
    c = flush_srv.client()
    c.send(b"GET /flush HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    resp = c.read_response()
    assert resp.status == 200
    assert not resp.chunked, "chunked coding sent to an HTTP/1.0 client"
    assert resp.body == b"part1part2"
    assert c.eof, "close-delimited body but the connection stayed open"


# --------------------------------------------------------------------------
# concurrency, server variables
# --------------------------------------------------------------------------

@pytest.fixture
def sleep_srv(server_factory, site):
    return server_factory(root=site, modules=[("Sleep", module_path("sleep"))])


@pytest.mark.parametrize("workers", [None, 1, 4])
def test_blocking_module_does_not_stall_other_connections(server_factory, site, workers):
    sleep_srv = server_factory(root=site, modules=[("Sleep", module_path("sleep"))],
                               workers=workers)
    slow = sleep_srv.client()
    start_slow = time.monotonic()
    slow.request("GET", "/sleep")
    time.sleep(0.2)  # the slow request is now inside OnBeginRequest
    start = time.monotonic()
    resp = sleep_srv.get("/fast")
    elapsed = time.monotonic() - start
    assert (resp.status, resp.body) == (200, b"fast")
    assert elapsed < 1.0, "request on another connection took %.2fs" % elapsed
    sresp = slow.read_response()
    assert (sresp.status, sresp.body) == (200, b"slept")
    assert time.monotonic() - start_slow >= 1.9


def test_pipelined_responses_keep_request_order(sleep_srv):
    c = sleep_srv.client()
    c.send(build_request("GET", "/sleep") + build_request("GET", "/fast")
           + build_request("GET", "/fast?2"))
    bodies = [c.read_response().body for _ in range(3)]
    assert bodies == [b"slept", b"fast", b"fast"]


def test_server_variables(sleep_srv):
    c = sleep_srv.client()
    local_port = c.sock.getsockname()[1]
    c.request("GET", "/vars?a=1&b=two", headers=[("X-Custom", "custom value"),
                                                   ("User-Agent", "blackbox/1.0")])
    resp = c.read_response()
    assert resp.status == 200
    assert resp.header("X-Method") == "GET"
    assert resp.header("X-Query") == "a=1&b=two"
    assert resp.header("X-Remote-Addr") == "127.0.0.1"
    assert resp.header("X-Remote-Port") == str(local_port)
    assert resp.header("X-Server-Port") == str(sleep_srv.port)
    assert resp.header("X-Custom") == "custom value"
    assert resp.header("X-User-Agent") == "blackbox/1.0"
    assert resp.header("X-Url-W") == "/vars"  # PCWSTR overload
    assert resp.header("X-Unknown-Hr").lower() == "0x80070585"  # ERROR_INVALID_INDEX
    raw = resp.body.decode("latin-1")
    assert "X-Custom: custom value" in raw
    assert "User-Agent: blackbox/1.0" in raw
    c.request("POST", "/vars", body=b"ignored")
    resp = c.read_response()
    assert resp.header("X-Method") == "POST"
    assert resp.header("X-Query") in (None, "")
    # absent request header: empty value or ERROR_INVALID_INDEX
    assert resp.header("X-Custom") in (None, "", "hr=0x80070585")


# --------------------------------------------------------------------------
# graceful shutdown
# --------------------------------------------------------------------------

def test_sigterm_finishes_in_flight_request(sleep_srv):
    c = sleep_srv.client()
    c.request("GET", "/sleep")
    time.sleep(0.4)
    sleep_srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.4)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", sleep_srv.port), timeout=1).close()
    resp = c.read_response()
    assert (resp.status, resp.body) == (200, b"slept")
    assert sleep_srv.wait_exit() == 0, sleep_srv.stderr()


def test_sigterm_with_idle_keep_alive_connection(server_factory, site):
    srv = server_factory(root=site)
    c = srv.client()
    c.request("GET", "/a.txt")
    assert c.read_response().status == 200
    start = time.monotonic()
    assert srv.terminate() == 0
    assert time.monotonic() - start < 5.0
    assert c.wait_closed(1.0)


# --------------------------------------------------------------------------
# start-up failures
# --------------------------------------------------------------------------

def run_failing_server(tmp_path, args):
    try:
        proc = subprocess.run([str(IISD_BIN)] + [str(a) for a in args],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=10, cwd=tmp_path)
    except subprocess.TimeoutExpired:
        pytest.fail("iisd kept running although a module failed to load")
    assert proc.returncode > 0, "expected a non-zero exit status, got %d" % proc.returncode
    return proc.stderr.decode(errors="replace")


@pytest.mark.parametrize("via", ["cli", "config"])
def test_register_module_failure(tmp_path, site, via):
    image = module_path("fail_register")
    port = free_port()
    if via == "cli":
        args = ["--port", port, "--path", site, "--module", "BadReg=%s" % image]
    else:
        cfg = make_config(tmp_path / "bad.config", port, site, modules=[("BadReg", image)])
        args = ["--config", cfg]
    err = run_failing_server(tmp_path, args)
    assert "BadReg" in err
    assert str(image) in err
    assert "0x80004005" in err.lower()


def test_module_without_register_module(tmp_path, site):
    image = module_path("noexport")
    err = run_failing_server(tmp_path, ["--port", free_port(), "--path", site,
                                        "--module", "NoExport=%s" % image])
    assert "NoExport" in err
    assert str(image) in err
    assert "RegisterModule" in err


def test_missing_module_file(tmp_path, site):
    image = tmp_path / "no-such-module.so"
    err = run_failing_server(tmp_path, ["--port", free_port(), "--path", site,
                                        "--module", "Ghost=%s" % image])
    assert "Ghost" in err
    assert str(image) in err
    assert "No such file" in err or "cannot open" in err


# --------------------------------------------------------------------------
# symbol isolation
# --------------------------------------------------------------------------

def test_modules_do_not_share_symbols(server_factory, site):
    srv = server_factory(root=site, modules=[("TagA", module_path("tag_a")),
                                             ("TagB", module_path("tag_b"))])
    resp = srv.get("/index.html")
    assert resp.status == 200
    assert resp.header("X-Tag-TagA") == "alpha"
    assert resp.header("X-Tag-TagB") == "beta"
    assert resp.header("X-Class-TagA") == "class-alpha"
    assert resp.header("X-Class-TagB") == "class-beta"
