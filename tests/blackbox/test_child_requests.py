"""Child requests (IHttpContext::CloneContext, ExecuteRequest, ReleaseClonedContext,
GetParentContext, GetRootContext), driven by the ChildModule test module
(tests/modules/child.cpp): how the clone copies the request, what each
EXECUTE_FLAG_* does to the child and to the client's response, the nesting
limit, the release rules, and CustomErrorModule's ExecuteURL with a page that a
module produces."""

import pytest

from iisdtest import module_path

CLONE_BASICS, CLONE_HEADERS, CLONE_ENTITY, CLONE_NO_PRECONDITION, CLONE_NO_DAV = 1, 2, 4, 8, 16
NO_HEADERS, IGNORE_INTERCEPTOR, IGNORE_APPPOOL, DISABLE_CUSTOM_ERROR = 1, 2, 4, 8
SAME_URL, BUFFER_RESPONSE, HTTP_CACHE_ELIGIBLE = 16, 32, 64

ERROR_NOT_SUPPORTED = 0x80070032
ERROR_STACK_OVERFLOW = 0x800703E9
ERROR_INVALID_PARAMETER = 0x80070057


def fields(body):
    """The key=value lines of a body, as a dict (the last value of a key wins)."""
    out = {}
    for line in body.decode().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v
    return out


@pytest.fixture
def www(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    (root / "hello.txt").write_bytes(b"Hello static\n")
    return root


@pytest.fixture
def srv(server_factory, www):
    return server_factory(root=www, use_config=False,
                          cli_modules=[("ChildModule", module_path("child"))])


def run(srv, flags=0, url="/child/info", clone=None, headers=None, extra=""):
    q = "/child/run?flags=%d&url=%s" % (flags, url)
    if clone is not None:
        q += "&clone=%d" % clone
    return srv.get(q + extra, headers=headers)


def test_child_output_and_headers_go_to_the_client(srv):
    r = run(srv, url="/child/info:code=203")
    assert r.status == 203
    assert r.header("X-Child") == "1"
    f = fields(r.body)
    assert f["url"] == "/child/info"
    assert f["query"] == "code=203"
    assert f["method"] == "GET"
    assert f["depth"] == "1"
    assert f["root_is_top"] == "1"
    # the parent writes after ExecuteRequest returns: the child's output comes first
    assert r.body.index(b"url=") < r.body.index(b"hr=")
    assert int(f["hr"].split()[0], 16) == 0
    assert f["hr"].split()[1] == "pending=0"
    assert f["flags"] == "0x0"
    assert int(f["release"], 16) == 0
    assert r.header("Content-Length") == str(len(r.body))


def test_a_static_file_as_the_child(srv):
    r = run(srv, url="/hello.txt")
    assert r.status == 200
    assert r.body.startswith(b"Hello static\n\nhr=0x00000000")


def test_no_headers_keeps_the_parents_status_and_headers(srv):
    r = run(srv, NO_HEADERS, url="/child/info:code=203")
    assert r.status == 200
    assert not r.has("X-Child")
    f = fields(r.body)
    assert f["url"] == "/child/info"
    assert f["flags"] == "0x1"


def test_buffer_response_keeps_the_output_in_the_child(srv):
    r = run(srv, BUFFER_RESPONSE, url="/child/info:code=203")
    assert r.status == 200
    assert not r.has("X-Child")
    body = r.body.decode()
    # nothing of the child went out before the parent's report
    assert body.startswith("\nhr=0x00000000")
    f = fields(r.body)
    assert f["status"] == "203"
    assert f["type"] == "text/plain"
    assert f["x-child"] == "1"
    assert f["sent"] == "0"
    assert "body=url=/child/info\n" in body
    assert "flags=0x20" in body


def test_buffered_static_file_is_a_file_chunk(srv):
    r = run(srv, BUFFER_RESPONSE, url="/hello.txt")
    f = fields(r.body)
    assert f["status"] == "200"
    assert f["body"] in ("[file 13 bytes]", "Hello static")


def test_disable_custom_error(srv):
    plain = run(srv, BUFFER_RESPONSE, url="/missing.txt")
    f = fields(plain.body)
    assert f["status"] == "404"
    # a local client: the child's CustomErrorModule gave its detailed page
    assert "Detailed Error Information" in plain.body.decode()
    bare = run(srv, BUFFER_RESPONSE | DISABLE_CUSTOM_ERROR, url="/missing.txt")
    assert fields(bare.body)["status"] == "404"
    assert "404.0" in bare.body.decode()  # the static file handler's own page
    assert "Detailed Error Information" not in bare.body.decode()
    assert len(bare.body) < len(plain.body)


def test_unbuffered_error_child_sets_the_clients_status(srv):
    r = run(srv, DISABLE_CUSTOM_ERROR, url="/missing.txt")
    assert r.status == 404


def test_same_url_runs_the_parents_url(srv):
    # the clone's URL is set to /hello.txt, but SAME_URL runs /child/run again: as a child
    # it answers the info page
    r = run(srv, SAME_URL, url="/hello.txt")
    f = fields(r.body)
    assert f["url"] == "/child/run"
    assert f["query"].startswith("flags=16&")
    assert b"Hello static" not in r.body


def test_http_cache_eligible(srv):
    assert fields(run(srv).body)["kernel_cache"] == "0"
    assert fields(run(srv, HTTP_CACHE_ELIGIBLE).body)["kernel_cache"] == "1"


def test_ignore_apppool_is_accepted(srv):
    f = fields(run(srv, IGNORE_APPPOOL).body)
    assert f["url"] == "/child/info"
    assert f["flags"] == "0x4"


def test_clone_copies_headers_and_server_variables(srv):
    h = {"X-Foo": "bar", "If-None-Match": '"abc"'}
    f = fields(run(srv, headers=h).body)
    assert f["x-foo"] == "bar"
    assert f["if-none-match"] == '"abc"'
    assert f["x_test"] == "from-parent"
    f = fields(run(srv, clone=CLONE_BASICS | CLONE_HEADERS | CLONE_NO_PRECONDITION, headers=h).body)
    assert f["x-foo"] == "bar"
    assert f["if-none-match"] == "-"
    f = fields(run(srv, clone=CLONE_BASICS, headers=h).body)
    assert f["x-foo"] == "-"
    assert f["if-none-match"] == "-"


def test_child_method_can_change(srv):
    f = fields(run(srv, extra="&method=PUT").body)
    assert f["method"] == "PUT"


def test_request_body_only_with_clone_entity(srv):
    body = b"x" * 10
    r = srv.get("/child/run?url=/child/info&clone=%d" % (CLONE_BASICS | CLONE_HEADERS),
                method="POST", body=body)
    assert fields(r.body)["entity_left"] == "0"
    r = srv.get("/child/run?url=/child/info&clone=%d" % (CLONE_BASICS | CLONE_HEADERS | CLONE_ENTITY),
                method="POST", body=body)
    assert fields(r.body)["entity_left"] == "10"


def test_user_given_to_execute_request(srv):
    f = fields(run(srv).body)
    assert f["user"] == "-"  # RQ_BEGIN_REQUEST: the child is not authenticated yet
    f = fields(run(srv, extra="&user=1").body)
    assert f["user"] == "child-tester"
    assert f["user_refs"] == "0"  # the child's reference was given back at its end


def test_parent_and_root_of_the_clients_request(srv):
    f = fields(srv.get("/child/root").body)
    assert f["root_null"].split()[0] == "1"
    assert srv.get("/child/root").body.decode().strip() == "root_null=1 parent_null=1"


def test_recursion_limit(srv):
    r = srv.get("/child/loop")
    assert r.status == 200
    lines = r.body.decode().splitlines()
    assert lines[:11] == ["L%d" % i for i in range(11)]
    assert lines[11] == "stopped at 11: hr=0x%08x" % ERROR_STACK_OVERFLOW
    assert len(lines) == 12


def test_release_and_execute_rules(srv):
    f = fields(srv.get("/child/rules").body)
    assert int(f["release_root"], 16) == ERROR_INVALID_PARAMETER
    assert int(f["clone_null"], 16) == ERROR_INVALID_PARAMETER
    assert f["b_parent_is_a"] == "1 a_parent_is_root=1"
    assert f["b_root"] == "1"
    assert int(f["exec_self"], 16) == ERROR_NOT_SUPPORTED
    assert int(f["exec_grandchild"], 16) == ERROR_NOT_SUPPORTED
    assert int(f["exec_sync"], 16) == ERROR_NOT_SUPPORTED
    assert int(f["exec_once"], 16) == 0
    assert int(f["exec_twice"], 16) == ERROR_NOT_SUPPORTED
    assert int(f["release_a_first"], 16) == ERROR_INVALID_PARAMETER
    assert int(f["release_b"], 16) == 0
    assert int(f["release_a"], 16) == 0
    assert int(f["release_c"], 16) == 0


def test_unreleased_clones_go_with_the_request(srv):
    for _ in range(3):
        r = srv.get("/child/keep")
        assert r.body == b"kept=0x00000000,0x00000000\n"
    assert srv.get("/hello.txt").body == b"Hello static\n"


def test_keep_alive_after_children(srv):
    # several child requests on one connection, the response framing intact
    for flags in (0, BUFFER_RESPONSE, NO_HEADERS, 0):
        r = run(srv, flags)
        assert r.status == 200
        assert b"url=/child/info\n" in r.body
        assert r.body.endswith(b"release=0x00000000\n")


def test_execute_url_error_page_from_a_module(server_factory, www):
    (www / "web.config").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<configuration>\n  <system.webServer>\n'
        '    <httpErrors errorMode="Custom">\n      <remove statusCode="404" />\n'
        '      <error statusCode="404" path="/child/info?code=200" responseMode="ExecuteURL" />\n'
        "    </httpErrors>\n  </system.webServer>\n</configuration>\n")
    srv = server_factory(root=www, use_config=False,
                         cli_modules=[("ChildModule", module_path("child"))])
    r = srv.get("/missing.txt", method="HEAD")
    assert r.status == 404
    r = srv.get("/missing.txt")
    assert r.status == 404
    assert r.header("Content-Type") == "text/plain"
    f = fields(r.body)
    assert f["url"] == "/child/info"
    assert f["method"] == "GET"
    assert f["depth"] == "1"
    assert int(f["flags"], 16) == DISABLE_CUSTOM_ERROR | BUFFER_RESPONSE
    # the child's own headers stay in the child
    assert not r.has("X-Child")


# --------------------------------------------------------------------------
# asynchronous execution: the parent pends until its child has ended
# --------------------------------------------------------------------------

def test_a_pending_child_completes_its_parent_asynchronously(srv):
    r = srv.get("/child/async?url=/child/pend")
    assert r.status == 200
    # ExecuteRequest returned at once with the completion expected; the child's output
    # reached the parent when it ended, then the parent's OnAsyncCompletion ran
    assert r.body == (b"hr=0x00000000 pending=1\npend\nchild async\n"
                      b"\ncompleted bytes=0 status=0x00000000\nrelease=0x00000000\n")


def test_a_child_that_pends_twice_keeps_its_parent_waiting(srv):
    r = srv.get("/child/async?url=/child/pend2")
    assert r.body == (b"hr=0x00000000 pending=1\npend\npend again\nchild async\n"
                      b"\ncompleted bytes=0 status=0x00000000\nrelease=0x00000000\n")


def test_a_child_completed_with_indicate_completion(srv):
    r = srv.get("/child/async?url=/child/pend:ind=1")
    assert r.body == (b"hr=0x00000000 pending=1\npend\nchild indicated\n"
                      b"\ncompleted bytes=0 status=0x00000000\nrelease=0x00000000\n")


def test_a_child_that_does_not_pend_completes_synchronously(srv):
    r = srv.get("/child/async?url=/child/info")
    assert r.status == 200
    assert r.body.startswith(b"url=/child/info\n")
    assert r.body.endswith(b"hr=0x00000000 pending=0\nrelease=0x00000000\n")
    assert b"completed" not in r.body


def test_a_buffered_asynchronous_child_keeps_its_response(srv):
    r = srv.get("/child/async?url=/child/pend&flags=%d" % BUFFER_RESPONSE)
    assert r.body == (b"hr=0x00000000 pending=1\n"
                      b"\ncompleted bytes=0 status=0x00000000\nrelease=0x00000000\n")


def test_without_pf_completion_expected_the_calling_thread_waits(srv):
    r = run(srv, url="/child/pend", extra="&nopending=1")
    assert r.body.startswith(b"pend\nchild async\n\nhr=0x00000000 pending=0\n")


def test_many_asynchronous_children_in_parallel(srv):
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        bodies = list(ex.map(lambda _: srv.get("/child/async?url=/child/pend2").body, range(32)))
    for b in bodies:
        assert b.endswith(b"child async\n\ncompleted bytes=0 status=0x00000000\nrelease=0x00000000\n")


def test_a_module_that_does_not_wait_for_its_asynchronous_child(srv):
    # the module returns RQ_NOTIFICATION_FINISH_REQUEST although the completion is expected: the
    # request still waits for the child, and the module hears of its end
    r = srv.get("/child/async?url=/child/pend&ignore=1")
    assert r.body == (b"hr=0x00000000 pending=1\npend\nchild async\n"
                      b"\ncompleted bytes=0 status=0x00000000\nrelease=0x00000000\n")
    assert "did not return RQ_NOTIFICATION_PENDING; the request waits for the child" in srv.stderr()
