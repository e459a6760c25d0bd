"""RQ_NOTIFICATION_PENDING with completions from other threads, and custom notifications."""
import socket
import threading
import time

import pytest

from iisdtest import build_request, module_path, poll, read_trace, wait_trace


def start(server_factory, site, trace_file, workers=None):
    return server_factory(modules=[("Async", module_path("async"))], root=site,
                          env={"IISD_TEST_TRACE": str(trace_file)}, workers=workers)


def test_indicate_completion_finish_from_another_thread(server_factory, site, trace_file):
    srv = start(server_factory, site, trace_file)
    resp = srv.get("/indicate")
    assert (resp.status, resp.body) == (200, b"indicated")


def test_indicate_completion_continue_runs_the_rest_of_the_pipeline(server_factory, site, trace_file):
    (site / "indicate-continue").write_bytes(b"")  # not served: the URL has no MIME type
    srv = start(server_factory, site, trace_file)
    # CONTINUE resumes with the next module: the static handler answers
    resp = srv.get("/indicate-continue")
    assert resp.status == 404


def test_post_completion_reenters_through_on_async_completion(server_factory, site, trace_file):
    srv = start(server_factory, site, trace_file)
    resp = srv.get("/post")
    assert resp.status == 200
    # 42 bytes, pending notification RQ_BEGIN_REQUEST (0x1), not a post-notification
    assert resp.body == b"posted 42 0x1 0 hr=0x00000000"


def test_completion_arriving_before_pending_is_returned(server_factory, site, trace_file):
    srv = start(server_factory, site, trace_file)
    for _ in range(3):
        resp = srv.get("/early")
        assert (resp.status, resp.body) == (200, b"posted 7 0x1 0 hr=0x00000000")


def test_pending_requests_do_not_block_the_connection_loop(server_factory, site, trace_file):
    srv = start(server_factory, site, trace_file, workers=1)
    results = []

    def slow():
        results.append(srv.get("/indicate").body)

    threads = [threading.Thread(target=slow) for _ in range(8)]
    start_t = time.monotonic()
    for t in threads:
        t.start()
    fast = srv.get("/hello.txt")
    for t in threads:
        t.join(5)
    assert fast.body == b"Hello static\n"
    assert results == [b"indicated"] * 8
    # eight 50 ms completions overlap instead of queueing behind each other
    assert time.monotonic() - start_t < 2.0


def test_keep_alive_after_async_completion(server_factory, site, trace_file):
    srv = start(server_factory, site, trace_file)
    c = srv.client()
    for path, body in (("/post", b"posted 42 0x1 0 hr=0x00000000"), ("/indicate", b"indicated"),
                       ("/hello.txt", b"Hello static\n")):
        c.request("GET", path)
        resp = c.read_response()
        assert (resp.status, resp.body) == (200, body)


def test_custom_notifications_request_and_global(server_factory, site, trace_file):
    srv = start(server_factory, site, trace_file)
    resp = srv.get("/custom")
    assert resp.status == 200
    assert resp.body == b"request-custom=1 hr=0x00000000 expected=0 global-custom=1 status=0"


def test_thread_cleanup_notification_at_shutdown(server_factory, site, trace_file):
    srv = start(server_factory, site, trace_file, workers=2)
    assert srv.get("/hello.txt").status == 200
    assert srv.terminate() == 0
    lines = read_trace(trace_file)
    # one GL_THREAD_CLEANUP per worker thread, at least
    assert sum(1 for l in lines if l == "Async thread-cleanup") >= 2


# ---- asynchronous entity-body I/O ---------------------------------------------------------------

def start_io(server_factory, site, trace_file, extra_modules=()):
    modules = [("Async", module_path("async")), ("AsyncC", module_path("async_c"))] + list(extra_modules)
    return server_factory(modules=modules, root=site, env={"IISD_TEST_TRACE": str(trace_file)},
                          workers=1)


def trace_count(trace_file, line):
    try:
        return read_trace(trace_file).count(line)
    except FileNotFoundError:
        return 0


def wait_count(trace_file, line, n):
    assert poll(lambda: trace_count(trace_file, line) >= n, 10), "no %r (x%d) in the trace" % (line, n)


def slow_chunked_read(srv, trace_file, path, pending_line):
    """Sends a chunked body in three pieces, each after the module's read went pending, and answers
    a request on another connection while the first one waits. Returns the response."""
    c = srv.client()
    c.send(build_request("POST", path, headers=[("Transfer-Encoding", "chunked")]) + b"6\r\nhello \r\n")
    wait_count(trace_file, pending_line, 1)
    # the request waits on no thread: the only loop answers another connection meanwhile
    other = srv.get("/hello.txt")
    assert (other.status, other.body) == (200, b"Hello static\n")
    c.send(b"5\r\nworld\r\n")
    wait_count(trace_file, pending_line, 2)
    c.send(b"0\r\n\r\n")
    return c.read_response()


@pytest.mark.parametrize("path", ["/aread", "/aread-ex"])
def test_async_read_of_a_slow_chunked_body(server_factory, site, trace_file, path):
    srv = start_io(server_factory, site, trace_file)
    resp = slow_chunked_read(srv, trace_file, path, "Async read-pending")
    assert resp.status == 200
    # two reads went pending; the second completed with ERROR_HANDLE_EOF (0x80070026) when the
    # last chunk came
    assert resp.body == b"pending=2 eof=async hr=0x80070026 sizes=6,5, body=hello world"


def test_async_read_from_a_c_module(server_factory, site, trace_file):
    srv = start_io(server_factory, site, trace_file)
    resp = slow_chunked_read(srv, trace_file, "/c-aread", "AsyncC read-pending")
    assert resp.status == 200
    # the last completion carries the end of the body
    assert resp.body == b"c pending=2 completions=2 body=hello world"


def test_async_read_of_a_body_already_received_completes_synchronously(server_factory, site, trace_file):
    srv = start_io(server_factory, site, trace_file)
    body = b"0123456789abcdefXYZ"  # 16 + 3 bytes
    resp = srv.get("/aread", method="POST", body=body)
    assert resp.status == 200
    assert resp.body == b"pending=0 eof=sync hr=0x80070026 sizes=16,3, body=" + body


def test_async_read_at_the_end_of_a_content_length_body(server_factory, site, trace_file):
    srv = start_io(server_factory, site, trace_file)
    c = srv.client()
    c.send(build_request("POST", "/aread", headers=[("Content-Length", "8")]) + b"abc")
    wait_count(trace_file, "Async read-pending", 1)
    c.send(b"defgh")
    resp = c.read_response()
    assert resp.status == 200
    # the completion brings the last bytes; the read after it finds the end at once
    assert resp.body == b"pending=1 eof=sync hr=0x80070026 sizes=3,5, body=abcdefgh"


def test_async_read_with_the_fill_flag(server_factory, site, trace_file):
    srv = start_io(server_factory, site, trace_file)
    c = srv.client()
    c.send(build_request("POST", "/aread-fill", headers=[("Content-Length", "12")]) + b"abcde")
    wait_count(trace_file, "Async read-pending", 1)
    c.send(b"fghijkl")
    resp = c.read_response()
    # the first read completes only with its 10-byte buffer full
    assert resp.body == b"pending=1 eof=sync hr=0x80070026 sizes=10,2, body=abcdefghijkl"


def test_async_read_when_the_client_goes_away(server_factory, site, trace_file):
    srv = start_io(server_factory, site, trace_file)
    c = srv.client()
    c.send(build_request("POST", "/aread", headers=[("Content-Length", "100")]) + b"abc")
    wait_count(trace_file, "Async read-pending", 1)
    c.close()
    # the completion reports the failure, and the server carries on
    assert poll(lambda: srv.get("/hello.txt").status == 200, 5)


def read_chunked_slowly(sock):
    data = b""
    while True:
        part = sock.recv(65536)
        if not part:
            return data
        data += part
        if data.endswith(b"\r\n0\r\n\r\n"):
            return data


def dechunk(payload):
    out, pos = b"", 0
    while True:
        eol = payload.index(b"\r\n", pos)
        size = int(payload[pos:eol], 16)
        if size == 0:
            return out
        out += payload[eol + 2:eol + 2 + size]
        pos = eol + 2 + size + 2


@pytest.mark.parametrize("path", ["/awrite", "/awrite-ex", "/aflush-ex"])
def test_async_write_to_a_slow_reader_completes_after_it_drains(server_factory, site, trace_file, path):
    srv = start_io(server_factory, site, trace_file)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window
    sock.settimeout(30)
    sock.connect(("127.0.0.1", srv.port))
    try:
        sock.sendall(build_request("GET", path))
        wait_count(trace_file, "Async write-pending", 1)
        # the loop is free meanwhile, and the completion waits for the client
        assert srv.get("/hello.txt").status == 200
        assert not any(l.startswith("Async write-complete") for l in read_trace(trace_file))
        raw = read_chunked_slowly(sock)
    finally:
        sock.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert dechunk(payload) == b"w" * (8 << 20)
    wait_count(trace_file, "Async write-pending", 1)
    lines = [l for l in read_trace(trace_file) if l.startswith("Async write-complete")]
    assert len(lines) == 1
    n, hr = lines[0].split()[2:]
    assert hr == "hr=0x00000000"
    if path == "/aflush-ex":
        assert int(n) > 8 << 20  # what went out: the head, the body and its chunk framing
    else:
        assert int(n) == 8 << 20  # the body bytes of the write


def test_async_write_that_fits_completes_synchronously(server_factory, site, trace_file):
    srv = start_io(server_factory, site, trace_file)
    # a normal reader takes 8 MiB quickly, but the first send still fills the socket: whichever way
    # it went, exactly one completion or synchronous result is reported with the whole body
    resp = srv.get("/awrite", timeout=30)
    assert resp.body == b"w" * (8 << 20)
    lines = wait_trace(trace_file, lambda ls: any(l.startswith("Async write-complete") for l in ls))
    assert [l for l in lines if l.startswith("Async write-complete")] == [
        "Async write-complete %d hr=0x00000000" % (8 << 20)]


def test_post_completion_ex_from_another_thread(server_factory, site, trace_file):
    srv = start_io(server_factory, site, trace_file)
    resp = srv.get("/postex")
    assert (resp.status, resp.body) == (200, b"routine err=0 bytes=17 ctx=ok")


def test_post_completion_ex_routine_then_the_request_continues(server_factory, site, trace_file):
    srv = start_io(server_factory, site, trace_file)
    resp = srv.get("/hello.txt?postex-continue")
    assert (resp.status, resp.body) == (200, b"Hello static\n")
    assert trace_count(trace_file, "Async routine 17") == 1


def test_insert_entity_body_then_read(server_factory, site, trace_file):
    srv = start_io(server_factory, site, trace_file)
    resp = srv.get("/insert-read", method="POST", body=b"world")
    assert resp.status == 200
    # the inserted buffer is read back (synchronously); the client has nothing left to send
    assert resp.header("X-Remaining") == "0"
    assert resp.body == b"pending=0 eof=sync hr=0x80070026 sizes=11, body=hello world"


def test_insert_entity_body_is_what_the_handler_reads_first(server_factory, site, trace_file):
    srv = start_io(server_factory, site, trace_file, extra_modules=[("Echo", module_path("echo"))])
    c = srv.client()
    # the module takes "hello" and puts "[hello]" back; the handler reads it, then the rest of the
    # body, which the client sends only now (Content-Length stays 11)
    c.send(build_request("POST", "/echo-insert", headers=[("Content-Length", "11")]) + b"hello")
    c.send(b" world")
    resp = c.read_response()
    assert resp.status == 200
    assert resp.body == b"[hello] world"


# --------------------------------------------------------------------------
# IHttpContext::CancelIo: a pending read or write completes with ERROR_OPERATION_ABORTED
# --------------------------------------------------------------------------

ERROR_OPERATION_ABORTED = "0x800703e3"


def read_response(sock):
    """One response with a Content-Length: its head and its body."""
    data = b""
    while b"\r\n\r\n" not in data:
        part = sock.recv(65536)
        assert part, "connection closed before the response: %r" % data
        data += part
    head, _, body = data.partition(b"\r\n\r\n")
    length = int([l.split(b":", 1)[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
    while len(body) < length:
        part = sock.recv(65536)
        assert part
        body += part
    return head, body


def read_all(sock):
    data = b""
    while True:
        part = sock.recv(65536)
        if not part:
            return data
        data += part


@pytest.mark.parametrize("how", ["cancel", "cancel-now"])
def test_cancel_io_ends_a_pending_read(server_factory, site, trace_file, how):
    srv = start_io(server_factory, site, trace_file)
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    try:
        # 3 of the 10 body bytes: the first read takes them, the second one waits for the rest
        sock.sendall(build_request("POST", "/aread?" + how, headers=[("Content-Length", "10")]) + b"abc")
        head, body = read_response(sock)
    finally:
        sock.close()
    assert head.startswith(b"HTTP/1.1 200"), head
    assert body == b"pending=1 eof=async hr=%s sizes=3, body=abc" % ERROR_OPERATION_ABORTED.encode()
    wait_count(trace_file, "Async cancel hr=0x00000000", 1)
    # the server goes on serving
    assert srv.get("/hello.txt").status == 200


@pytest.mark.parametrize("how", ["cancel", "cancel-now"])
def test_cancel_io_ends_a_pending_write(server_factory, site, trace_file, how):
    srv = start_io(server_factory, site, trace_file)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: the write waits
    sock.settimeout(30)
    sock.connect(("127.0.0.1", srv.port))
    try:
        sock.sendall(build_request("GET", "/awrite?" + how))
        lines = wait_trace(trace_file, lambda ls: any(l.startswith("Async write-complete") for l in ls))
        assert [l for l in lines if l.startswith("Async write-complete")] == [
            "Async write-complete 0 hr=%s" % ERROR_OPERATION_ABORTED]
        # the response is cut short: the connection closes after the request
        raw = read_all(sock)
    finally:
        sock.close()
    assert raw.startswith(b"HTTP/1.1 200")
    assert len(raw) < 8 << 20
    assert srv.get("/hello.txt").status == 200


def test_cancel_io_racing_the_end_it_causes(server_factory, site, trace_file):
    # CancelIo from another thread as the module returns RQ_NOTIFICATION_PENDING: the cancel lets the
    # request end at once, and the next request (on the same loop) reuses its memory while the call
    # may still be under way. Every cancel is taken, the answers are all whole, and a sanitizer
    # build reports nothing.
    srv = start_io(server_factory, site, trace_file)
    rounds = 100
    for i in range(rounds):
        sock = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
        try:
            sock.sendall(build_request("POST", "/aread?cancel-race", headers=[("Content-Length", "10")]) + b"abc")
            head, body = read_response(sock)
        finally:
            sock.close()
        assert head.startswith(b"HTTP/1.1 200"), (i, head)
        assert body == b"pending=1 eof=async hr=%s sizes=3, body=abc" % ERROR_OPERATION_ABORTED.encode(), i
    wait_count(trace_file, "Async cancel hr=0x00000000", rounds)
    assert srv.get("/hello.txt").status == 200


def test_cancel_io_with_nothing_pending(server_factory, site, trace_file):
    srv = start_io(server_factory, site, trace_file)
    # the body is all there: every read completes at once, there is nothing to cancel
    resp = srv.get("/aread?cancel-now", method="POST", body=b"0123456789")
    assert resp.body == b"pending=0 eof=sync hr=0x80070026 sizes=10, body=0123456789"
