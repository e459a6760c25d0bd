"""The per-request server objects, driven by tests/modules/objects.cpp (one operation per request,
named by op= in the query string) on the server's default configuration."""

import base64
import hashlib

import pytest

from iisdtest import AppHostConfig, free_port, module_path, read_trace, wait_trace

AUTH = "system.webServer/security/authentication/"


def lines_of(resp):
    out = {}
    for line in resp.body.decode("utf-8").splitlines():
        k, _, v = line.partition("=")
        out[k] = v
    return out


def sha_hash(password):
    return "{SHA}" + base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()


def basic(user, password):
    return "Basic " + base64.b64encode((user + ":" + password).encode()).decode()


class Setup:
    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.root = tmp_path / "www"
        self.root.mkdir(exist_ok=True)
        (self.root / "hello.txt").write_bytes(b"Hello static\n")
        self.port = free_port()
        self.cfg = AppHostConfig()
        self.cfg.add_site("Default Web Site", 1, ["127.0.0.1:%d:" % self.port], self.root)
        self.cfg.add_global_module("Objects", module_path("objects"))
        self.cfg.enable_module("Objects")
        self.trace = tmp_path / "trace.log"
        self.trace.write_bytes(b"")

    def basic_auth(self):
        users = self.tmp / "users.htpasswd"
        users.write_text("alice:" + sha_hash("alice-pw") + ":editors, staff\n"
                         "bob:" + sha_hash("bob-pw") + "\n")
        self.cfg.section(AUTH + "basicAuthentication").set("enabled", "true")
        self.cfg.section(AUTH + "basicAuthentication").set("htpasswdFile", str(users))

    def start(self, server_factory):
        path = self.cfg.write(self.tmp / "applicationHost.config")
        return server_factory(config_file=path, port=self.port, env={"IISD_TEST_TRACE": str(self.trace)})


@pytest.fixture
def setup(tmp_path):
    return Setup(tmp_path)


def op(srv, query, path="/x", headers=()):
    resp = srv.get(path + "?" + query, headers=list(headers))
    assert resp.status == 200, resp
    return lines_of(resp)


# ---- IHttpUser ------------------------------------------------------------------------------

def test_anonymous_user_is_a_server_user(setup, server_factory):
    srv = setup.start(server_factory)
    v = op(srv, "op=user&role=staff")
    assert v["name"] == "" and v["remote"] == "" and v["type"] == "" and v["password"] == ""
    assert v["roles"] == "0"
    assert v["role"] == "staff:0:0x00000000"
    assert v["tokens"] == "null" and v["sid"] == "null"


def test_basic_user_roles_and_reference_past_the_request(setup, server_factory):
    setup.basic_auth()
    srv = setup.start(server_factory)
    auth = [("Authorization", basic("alice", "alice-pw"))]
    v = op(srv, "op=user&role=Editors", headers=auth)
    assert (v["name"], v["remote"], v["type"], v["password"]) == ("alice", "alice", "Basic", "alice-pw")
    assert v["roles"] == "1" and v["role"] == "Editors:1:0x00000000"
    assert op(srv, "op=user&role=admins", headers=auth)["role"] == "admins:0:0x00000000"
    # an htpasswd line without roles: roles are supported, the user is in none
    v = op(srv, "op=user&role=staff", headers=[("Authorization", basic("bob", "bob-pw"))])
    assert v["roles"] == "1" and v["role"] == "staff:0:0x00000000"
    # a reference taken in one request keeps the user valid after that request ended
    assert op(srv, "op=keepuser", headers=auth)["kept"] == "yes"
    assert op(srv, "op=user")["name"] == "", "the next request is anonymous"
    assert op(srv, "op=kept")["kept"] == "alice"


def test_module_supplied_user_reference_counting(setup, server_factory):
    srv = setup.start(server_factory)
    v = op(srv, "op=ownuser", headers=[("X-Own-User", "zed")])
    assert v["same"] == "1"
    assert v["refs"] == "2", "the module's reference and the request's"
    assert v["auth_type"] == "Own" and v["logon_user"] == "zed"
    lines = wait_trace(setup.trace, lambda ls: "user zed freed" in ls)
    assert lines.count("user zed freed") == 1
    refs = [line for line in lines if line.startswith("user zed refs")]
    assert sorted(refs) == ["user zed refs 0", "user zed refs 1"]


# ---- IHttpContext -------------------------------------------------------------------------

def test_url_info_is_shared_per_url_and_frequently_hit(setup, server_factory):
    srv = setup.start(server_factory)
    first = op(srv, "op=urlinfo", path="/u1")
    assert first["same"] == "1" and first["hits"] == "1" and first["frequent"] == "0"
    second = op(srv, "op=urlinfo", path="/u1")
    assert second["hits"] == "2", "the URL's module container keeps its context"
    assert second["frequent"] == "1", "two requests within the hit period"
    assert op(srv, "op=urlinfo", path="/u2")["hits"] == "1"


def test_file_info_of_the_requested_file(setup, server_factory):
    srv = setup.start(server_factory)
    v = op(srv, "op=fileinfo", path="/hello.txt")
    assert v["size"] == "13" and v["path"] == str((setup.root / "hello.txt").resolve())
    assert v["same"] == "1"
    assert op(srv, "op=fileinfo", path="/no-such-file.txt")["file"] == "none"


def test_named_context_container(setup, server_factory):
    srv = setup.start(server_factory)
    v = op(srv, "op=named")
    assert v["dup"] == "0x80070055", "ERROR_ALREADY_ASSIGNED"
    assert v["a"] == "a" and v["missing"] == "1" and v["samecontainer"] == "1"
    lines = wait_trace(setup.trace, lambda ls: "named a cleanup" in ls and "named b cleanup" in ls)
    assert lines.index("named b cleanup") < lines.index("named a cleanup"), "the last one set first"


def test_connection_module_contexts_live_with_the_connection(setup, server_factory):
    srv = setup.start(server_factory)
    c = srv.client()
    seen = []
    for _ in range(3):
        c.request("GET", "/x?op=conn")
        seen.append(lines_of(c.read_response()))
    assert [s["conn"] for s in seen] == ["1", "2", "3"]
    assert len({s["id"] for s in seen}) == 1 and seen[0]["plain"] == "1"
    conn_id = seen[0]["id"]
    assert not [line for line in read_trace(setup.trace) if line.startswith("conn ")]
    c.close()
    lines = wait_trace(setup.trace, lambda ls: "conn %s cleanup" % conn_id in ls)
    assert lines.index("conn %s disconnect" % conn_id) < lines.index("conn %s cleanup" % conn_id)
    other = op(srv, "op=conn")
    assert other["conn"] == "1" and other["id"] != conn_id


def test_server_variable_changes(setup, server_factory):
    srv = setup.start(server_factory)
    v = op(srv, "op=svchanges")
    assert v["first"] == "0x00000000:2:2:0,1,-1"
    assert v["names"] == "X_ONE,X_TWO"
    assert v["again"] == "0:0:-1", "nothing changed: same number, nothing diffed"
    assert v["second"] == "3:2:1,2,-1", "X_TWO changed, X_THREE is new"
    assert v["value1"] == "two"


def test_header_changes(setup, server_factory):
    srv = setup.start(server_factory)
    v = op(srv, "op=hdrchanges", headers=[("User-Agent", "agent/1"), ("X-Client", "c")])
    assert v["req0"] == "localhost:1", "the Host header, and one unknown header (X-Client)"
    assert v["req-same"] == "0:-1:0"
    assert v["req1"] == "1:40:changed-agent:X-Added=yes"
    assert v["resp1"] == "22:\"e1\":X-Resp=r", "HttpHeaderEtag is response header 22"
    assert v["resp2"] == "0:0"


def test_set_http_variable_sets_the_request_header(setup, server_factory):
    srv = setup.start(server_factory)
    v = op(srv, "op=setvar&v=example.org")
    assert v["hr"] == "0x00000000"
    assert v["header"] == "example.org" and v["var"] == "example.org" and v["exact"] == "example.org"
    assert v["agent"] == "set-agent"


def test_every_iis_server_variable(setup, server_factory):
    srv = setup.start(server_factory)
    names = ["ALL_HTTP", "ALL_RAW", "APPL_MD_PATH", "APPL_PHYSICAL_PATH", "APP_POOL_CONFIG", "APP_POOL_ID",
             "AUTH_PASSWORD", "AUTH_TYPE", "AUTH_USER", "CACHE_URL", "CERT_COOKIE", "CERT_FLAGS",
             "CERT_ISSUER", "CERT_KEYSIZE", "CERT_SECRETKEYSIZE", "CERT_SERIALNUMBER", "CERT_SERVER_ISSUER",
             "CERT_SERVER_SUBJECT", "CERT_SUBJECT", "CONTENT_LENGTH", "CONTENT_TYPE", "DOCUMENT_ROOT",
             "GATEWAY_INTERFACE", "HTTPS", "HTTPS_KEYSIZE", "HTTPS_SECRETKEYSIZE", "HTTPS_SERVER_ISSUER",
             "HTTPS_SERVER_SUBJECT", "HTTP_URL", "HTTP_METHOD", "HTTP_VERSION", "INSTANCE_ID",
             "INSTANCE_META_PATH", "INSTANCE_NAME", "LOCAL_ADDR", "LOGON_USER", "PATH_INFO", "PATH_TRANSLATED",
             "QUERY_STRING", "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_PORT", "REMOTE_USER", "REQUEST_FILENAME",
             "REQUEST_METHOD", "REQUEST_URI", "SCRIPT_FILENAME", "SCRIPT_NAME", "SCRIPT_TRANSLATED",
             "SERVER_ADDR", "SERVER_NAME", "SERVER_PORT", "SERVER_PORT_SECURE", "SERVER_PROTOCOL",
             "SERVER_SOFTWARE", "SSI_EXEC_DISABLED", "UNENCODED_URL", "UNMAPPED_REMOTE_USER", "URL",
             "URL_PATH_INFO", "HTTP_X_MY_HEADER", "HEADER_X_Under_Score", "HEADER_X-My-Header"]
    v = op(srv, "op=vars&names=" + ",".join(names), path="/dir/page.txt",
           headers=[("X-My-Header", "dash"), ("X_Under_Score", "under")])
    for n in names:
        assert n in v and not v[n].startswith("(fail"), (n, v.get(n))
        assert "disagrees" not in v[n], n
    for n in [x for x in names if x.startswith("CERT_") or x.startswith("HTTPS_")]:
        assert v[n] == "", n
    assert v["HTTPS"] == "off" and v["SERVER_PORT"] == str(setup.port)
    assert v["LOCAL_ADDR"] == "127.0.0.1" and v["SERVER_ADDR"] == "127.0.0.1", "the address the site is bound to"
    assert v["URL"] == "/dir/page.txt" and v["URL_PATH_INFO"] == "/dir/page.txt"
    assert v["HTTP_X_MY_HEADER"] == "dash", "HTTP_ turns underscores into dashes"
    assert v["HEADER_X_Under_Score"] == "under", "HEADER_ takes the name as it is"
    assert v["HEADER_X-My-Header"] == "dash"
    assert v["INSTANCE_META_PATH"] == "/LM/W3SVC/1"
    assert v["SSI_EXEC_DISABLED"] == "0"


def test_perf_counters_are_readable(setup, server_factory):
    srv = setup.start(server_factory)
    assert op(srv, "op=perf&idx=3&n=5")["perf"] == "ok"
    assert op(srv, "op=perf&idx=3&n=2")["perf"] == "ok"
    names = "IISD_PERF_COUNTER_3,IISD_SERVER_PERF_COUNTER_3,IISD_PERF_COUNTERS,IISD_SERVER_PERF_COUNTERS," \
            "IISD_PERF_COUNTER_64"
    v = op(srv, "op=vars&names=" + names)
    assert v["IISD_PERF_COUNTER_3"] == "7" and v["IISD_SERVER_PERF_COUNTER_3"] == "14"
    assert v["IISD_PERF_COUNTERS"] == "3=7" and v["IISD_SERVER_PERF_COUNTERS"] == "3=14"
    assert v["IISD_PERF_COUNTER_64"].startswith("(fail"), "out of range: no such variable"


def test_map_handler(setup, server_factory):
    srv = setup.start(server_factory)
    v = op(srv, "op=maphandler&path=/some/file.txt&verb=GET")
    assert v["name"] == "StaticFile" and "StaticFileModule" in v["modules"]
    assert v["othersite"] == "0x80070032", "ERROR_NOT_SUPPORTED"
    v = op(srv, "op=maphandler&path=/some/file.txt&verb=GET&nowild=1")
    assert v["hr"] == "0x80070490", "ERROR_NOT_FOUND: only the wildcard entry matches"


def test_inherit_server_variable(setup, server_factory):
    srv = setup.start(server_factory)
    v = op(srv, "op=inherit")
    assert v["query"] == "0x00000000" and v["absent"] == "0x00000000"
    assert v["absent-fail"] == "0x80070585", "ERROR_INVALID_INDEX"
    assert v["value"] == "op=inherit"


def test_child_inherits_a_parent_variable(setup, server_factory):
    srv = setup.start(server_factory)
    v = op(srv, "op=inheritchild")
    assert v["before"] == "(none)", "set on the parent after the clone was made"
    assert v["hr"] == "0x00000000" and v["after"] == "from-parent"


def test_extended_interfaces(setup, server_factory):
    srv = setup.start(server_factory)
    v = op(srv, "op=extended")
    assert (v["context3"], v["request2"], v["response4"], v["userfactory"]) == ("1", "1", "1", "1")
    assert v["made"] == "made:1:1:0"
    assert v["deprecated"] == "0x80004002:null", "E_NOINTERFACE"


# ---- trailers ---------------------------------------------------------------------------------

def test_trailers_sent_when_the_client_accepts_them(setup, server_factory):
    srv = setup.start(server_factory)
    c = srv.client()
    c.request("GET", "/x?op=trailer&v=c0ffee", headers=[("TE", "trailers")])
    resp = c.read_response()
    assert resp.status == 200 and resp.body == b"trailer body"
    assert resp.chunked, "a complete response with trailers goes out chunked"
    assert resp.header("Trailer") == "X-Checksum, X-Multi"
    assert resp.trailers == [b"X-Checksum: c0ffee", b"X-Multi: 1, 2"]
    assert resp.header("X-Trailer-Check") == "c0ffee:6:0x00000000:0x80070490:gone"
    # flushed before the end: chunked anyway, trailers in the last chunk
    c.request("GET", "/x?op=trailer&v=f1&flush=1", headers=[("TE", "deflate;q=0.5, trailers")])
    resp = c.read_response()
    assert resp.body == b"trailer body" and resp.trailers == [b"X-Checksum: f1", b"X-Multi: 1, 2"]


def test_trailers_dropped_without_te(setup, server_factory):
    srv = setup.start(server_factory)
    resp = srv.get("/x?op=trailer")
    assert resp.status == 200 and resp.body == b"trailer body"
    assert not resp.chunked and resp.header("Content-Length") == "12"
    assert not resp.has("Trailer")
    c = srv.client()
    c.request("GET", "/x?op=trailer&flush=1")
    resp = c.read_response()
    assert resp.chunked and resp.trailers == []


# ---- the same objects through the C binding ---------------------------------------------------

def test_objects_through_the_c_binding(setup, server_factory):
    setup.cfg.add_global_module("ObjectsC", module_path("objects_c"))
    setup.cfg.enable_module("ObjectsC")
    srv = setup.start(server_factory)
    c = srv.client()
    for n in (1, 2):
        c.request("GET", "/x?op=c", headers=[("TE", "trailers")])
        resp = c.read_response()
        assert resp.status == 200, resp
        v = lines_of(resp)
        assert (v["named"], v["urlinfo"], v["perf"], v["user"]) == ("ok", "1", "ok", "none")
        assert v["conn"] == str(n)
        assert resp.trailers == [b"X-C-Trailer: c-value"]
    c.close()
    lines = wait_trace(setup.trace, lambda ls: "c-conn cleanup" in ls and ls.count("c-named cleanup") == 2)
    assert lines.count("c-named cleanup") == 2 and lines.count("c-conn cleanup") == 1
    assert op(srv, "op=vars&names=IISD_PERF_COUNTER_7")["IISD_PERF_COUNTER_7"] == "6"
