"""RQ_NOTIFICATION_PENDING with completions from other threads, and custom notifications."""
import threading
import time

from iisdtest import module_path, read_trace


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
