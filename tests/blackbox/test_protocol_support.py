"""ProtocolSupportModule (system.webServer/httpProtocol): custom and redirect
headers from web.config files, allowKeepAlive, and the OPTIONS and TRACE
handlers of the stock configuration (servers started without a config file)."""

import pytest


def web_config(system_web_server):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<configuration>\n'
            "  <system.webServer>\n" + system_web_server
            + "  </system.webServer>\n</configuration>\n")


def http_protocol(inner, attrs=""):
    return "    <httpProtocol%s>\n%s    </httpProtocol>\n" % (attrs, inner)


CUSTOM = ('      <customHeaders>\n'
          '        <add name="X-Powered-By" value="iisd" />\n'
          '        <add name="X-Frame-Options" value="DENY" />\n'
          '      </customHeaders>\n'
          '      <redirectHeaders>\n'
          '        <add name="X-Redirected" value="yes" />\n'
          '      </redirectHeaders>\n')


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "www"
    r.mkdir()
    (r / "hello.txt").write_bytes(b"Hello static\n")
    h = r / "hdr"
    h.mkdir()
    (h / "web.config").write_text(web_config(http_protocol(CUSTOM)))
    (h / "a.txt").write_bytes(b"a")
    (h / "folder").mkdir()
    (h / "folder" / "index.htm").write_bytes(b"<p>index</p>")
    rm = h / "rm"
    rm.mkdir()
    (rm / "web.config").write_text(web_config(http_protocol(
        '      <customHeaders>\n        <remove name="X-Frame-Options" />\n'
        '        <remove name="X-Powered-By" />\n'
        '        <add name="X-Powered-By" value="child" />\n      </customHeaders>\n')))
    (rm / "b.txt").write_bytes(b"b")
    nk = r / "nokeep"
    nk.mkdir()
    (nk / "web.config").write_text(web_config(http_protocol("", ' allowKeepAlive="false"')))
    (nk / "c.txt").write_bytes(b"c")
    tr = r / "trace"
    tr.mkdir()
    (tr / "web.config").write_text(web_config(
        "    <security>\n      <requestFiltering>\n        <verbs>\n"
        '          <add verb="TRACE" allowed="true" />\n'
        "        </verbs>\n      </requestFiltering>\n    </security>\n"))
    (tr / "t.txt").write_bytes(b"t")
    return r


@pytest.fixture
def srv(server_factory, root):
    return server_factory(root=root, use_config=False)


def test_no_custom_headers_by_default(srv):
    r = srv.get("/hello.txt")
    assert r.status == 200
    assert not r.has("X-Powered-By")
    assert not r.has("X-Redirected")


def test_custom_headers_added(srv):
    r = srv.get("/hdr/a.txt")
    assert r.status == 200, r
    assert r.header("X-Powered-By") == "iisd"
    assert r.header("X-Frame-Options") == "DENY"
    assert r.body == b"a"


def test_custom_headers_on_errors(srv):
    r = srv.get("/hdr/missing.txt")
    assert r.status == 404
    assert r.header("X-Powered-By") == "iisd"


def test_redirect_headers_only_on_3xx(srv):
    r = srv.get("/hdr/a.txt")
    assert not r.has("X-Redirected")
    r = srv.get("/hdr/folder")  # static file: 301 to the folder with a slash
    assert r.status == 301, r
    assert r.header("X-Redirected") == "yes"
    assert r.header("X-Powered-By") == "iisd"
    r = srv.get("/hdr/folder/")
    assert r.status == 200
    assert not r.has("X-Redirected")


def test_custom_header_removed_and_replaced_in_child(srv):
    # a child re-adding an inherited name without <remove> is a duplicate entry (500.19), as in IIS
    r = srv.get("/hdr/rm/b.txt")
    assert r.status == 200, r
    assert not r.has("X-Frame-Options")
    assert r.header_list("X-Powered-By") == ["child"]


def test_keep_alive_by_default(srv):
    c = srv.client()
    c.request("GET", "/hello.txt")
    r = c.read_response()
    assert r.status == 200
    assert "close" not in r.conn_tokens()
    c.request("GET", "/hello.txt")
    assert c.read_response().status == 200
    c.close()


def test_allow_keep_alive_false_closes(srv):
    c = srv.client()
    c.request("GET", "/nokeep/c.txt")
    r = c.read_response()
    assert r.status == 200
    assert r.body == b"c"
    assert "close" in r.conn_tokens()
    c.wait_closed(2.0)
    c.close()


def test_options_answered(srv):
    for path in ("/", "/hello.txt", "/nothing/here"):
        r = srv.get(path, method="OPTIONS")
        assert r.status == 200, r
        allow = [v.strip() for v in r.header("Allow").split(",")]
        assert allow == ["OPTIONS", "TRACE", "GET", "HEAD", "POST"]
        assert r.header("Public") == r.header("Allow")
        assert r.header("Content-Length") == "0"
        assert r.body == b""


def test_options_gets_custom_headers(srv):
    r = srv.get("/hdr/a.txt", method="OPTIONS")
    assert r.status == 200
    assert r.header("X-Powered-By") == "iisd"


def test_trace_off_by_default(srv):
    r = srv.get("/hello.txt", method="TRACE", headers={"X-Probe": "secret"})
    assert r.status == 501, r
    assert b"secret" not in r.body


def test_trace_enabled_by_request_filtering(srv):
    r = srv.get("/trace/t.txt", method="TRACE", headers={"X-Probe": "echo-me"})
    assert r.status == 200, r
    assert r.header("Content-Type") == "message/http"
    assert r.body.startswith(b"TRACE /trace/t.txt HTTP/1.1\r\n")
    assert b"X-Probe: echo-me\r\n" in r.body
    assert b"Host: localhost" in r.body
