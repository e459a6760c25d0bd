"""IHttpRequest::GetRawHttpRequest: the HTTP_REQUEST a module reads (verb, raw and cooked
URL, headers) and edits (known and unknown headers, verb), kept in step with the request
methods both ways."""

from iisdtest import module_path


def facts(r):
    assert r.status == 200, r
    return dict(line.split("=", 1) for line in r.body.decode().splitlines())


def test_raw_request_reads_and_edits(server_factory):
    srv = server_factory(use_config=False, cli_modules=[("RawRequest", module_path("rawrequest"))])
    r = srv.get("/rawreq/a%20b?x=1&y=2", headers={"User-Agent": "probe/1", "X-One": "1", "X-Two": "2"})
    f = facts(r)
    assert f["verb"] == "4"  # HttpVerbGET
    assert f["rawurl"] == "/rawreq/a%20b?x=1&y=2"
    assert f["full"] == "http://localhost/rawreq/a b?x=1&y=2"
    assert f["host"] == "localhost"
    assert f["path"] == "/rawreq/a b"
    assert f["query"] == "?x=1&y=2"
    assert f["agent"] == "probe/1"
    assert f["unknown"].split(",") == ["X-One", "X-Two"]
    assert f["same"] == "1"
    # edits in the structure reach the request methods
    assert f["agent2"] == "edited"
    assert f["added"] == "yes"
    assert f["method2"] == "PUT"
    # and a SetHeader shows in the structure
    assert f["inraw"] == "1"


def test_unknown_verb(server_factory):
    srv = server_factory(use_config=False, cli_modules=[("RawRequest", module_path("rawrequest"))])
    f = facts(srv.get("/rawreq", method="PATCH"))
    assert f["verb"] == "1"  # HttpVerbUnknown
    assert f["query"] == ""
