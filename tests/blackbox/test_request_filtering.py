"""RequestFilteringModule (system.webServer/security/requestFiltering): the
stock configuration (servers started without a config file) rejects hidden
segments, denied extensions and double-escaped URLs; web.config files in
folders change the verbs, limits, sequences and rules for their URLs."""

import pytest


def web_config(body):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<configuration>\n'
            "  <system.webServer>\n    <security>\n" + body
            + "    </security>\n  </system.webServer>\n</configuration>\n")


def rf(inner, attrs=""):
    return "      <requestFiltering%s>\n%s      </requestFiltering>\n" % (attrs, inner)


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "www"
    r.mkdir()
    (r / "hello.txt").write_bytes(b"Hello static\n")
    (r / "web.config").write_text('<?xml version="1.0"?>\n<configuration />\n')
    (r / "bin").mkdir()
    (r / "bin" / "x.txt").write_bytes(b"bin")
    (r / "App_Data").mkdir()
    (r / "App_Data" / "db.txt").write_bytes(b"data")
    (r / "code.cs").write_bytes(b"class A {}")
    (r / "a%41.txt").write_bytes(b"percent")
    (r / "binary.txt").write_bytes(b"not hidden")
    return r


def add_dir(root, name, body, files=("f.txt",)):
    d = root / name
    d.mkdir()
    (d / "web.config").write_text(web_config(body))
    for f in files:
        (d / f).write_bytes(b"ok " + f.encode())
    return d


def get(srv, path, method="GET", headers=None, body=None):
    c = srv.client()
    c.request(method, path, headers=headers, body=body)
    resp = c.read_response(head=(method == "HEAD"))
    c.close()
    return resp


def assert_rejected(resp, status, sub):
    assert resp.status == status, (resp.status, resp.body)
    code = "%d.%d" % (status, sub) if sub else "%d" % status
    assert code.encode() in resp.body, resp.body


@pytest.fixture
def srv(server_factory, root):
    return server_factory(root=root, use_config=False)


def test_allowed_requests_pass(srv):
    resp = get(srv, "/hello.txt")
    assert (resp.status, resp.body) == (200, b"Hello static\n")
    assert get(srv, "/hello.txt?a=1&b=%41").status == 200
    assert get(srv, "/binary.txt").status == 200, "a segment only starting with 'bin' is not hidden"
    assert get(srv, "/a%2541.txt").status == 404  # double escaped, see below
    assert get(srv, "/hello.txt", method="HEAD").status == 200


def test_web_config_is_hidden_segment(srv):
    # the hidden segment check runs before the file extension check: 404.8
    assert_rejected(get(srv, "/web.config"), 404, 8)
    assert_rejected(get(srv, "/WEB.CONFIG"), 404, 8)


def test_hidden_segments(srv):
    assert_rejected(get(srv, "/bin/x.txt"), 404, 8)
    assert_rejected(get(srv, "/Bin/x.txt"), 404, 8)
    assert_rejected(get(srv, "/app_data/db.txt"), 404, 8)
    assert_rejected(get(srv, "/%62in/x.txt"), 404, 8)


def test_denied_extensions(srv, root):
    (root / "other.config").write_bytes(b"<x/>")
    assert_rejected(get(srv, "/code.cs"), 404, 7)
    assert_rejected(get(srv, "/CODE.CS"), 404, 7)
    assert_rejected(get(srv, "/other.config"), 404, 7)
    assert_rejected(get(srv, "/missing.mdb"), 404, 7)


def test_double_escaping(srv):
    assert_rejected(get(srv, "/a%2541.txt"), 404, 11)
    assert_rejected(get(srv, "/x%252e%252e/hello.txt"), 404, 11)
    # a '+' in the path is ambiguous (space or plus) and counts as double escaping, as in IIS
    assert_rejected(get(srv, "/a+b.txt"), 404, 11)
    assert_rejected(get(srv, "/a%2Bb.txt"), 404, 11)
    # but not in the query string
    assert get(srv, "/hello.txt?a=b+c&d=%2541").status == 200


def test_double_escaping_allowed_by_web_config(server_factory, root):
    d = add_dir(root, "de", rf("", ' allowDoubleEscaping="true"'))
    (d / "a%41.txt").write_bytes(b"percent")
    srv = server_factory(root=root, use_config=False)
    resp = get(srv, "/de/a%2541.txt")
    assert (resp.status, resp.body) == (200, b"percent")


def test_denied_verb(server_factory, root):
    add_dir(root, "verbs", rf('        <verbs>\n          <add verb="DELETE" allowed="false" />\n'
                             "        </verbs>\n"))
    add_dir(root, "onlyget", rf('        <verbs allowUnlisted="false">\n'
                                '          <add verb="GET" allowed="true" />\n        </verbs>\n'))
    srv = server_factory(root=root, use_config=False)
    assert_rejected(get(srv, "/verbs/f.txt", method="DELETE"), 404, 6)
    assert get(srv, "/verbs/f.txt").status == 200
    assert get(srv, "/onlyget/f.txt").status == 200
    assert_rejected(get(srv, "/onlyget/f.txt", method="POST", body=b"x"), 404, 6)
    # the root is unaffected
    resp = get(srv, "/hello.txt", method="DELETE")
    assert b"404.6" not in resp.body


def test_request_limits(server_factory, root):
    add_dir(root, "lim", rf('        <requestLimits maxUrl="40" maxQueryString="10" '
                            'maxAllowedContentLength="100" />\n'))
    srv = server_factory(root=root, use_config=False)
    assert get(srv, "/lim/f.txt?q=short").status == 200
    assert_rejected(get(srv, "/lim/" + "a" * 40 + ".txt"), 404, 14)
    assert_rejected(get(srv, "/lim/f.txt?q=" + "x" * 20), 404, 15)
    resp = get(srv, "/lim/f.txt", method="POST", body=b"x" * 200)
    assert_rejected(resp, 413, 1)
    # a long URL elsewhere is fine
    (root / ("b" * 60 + ".txt")).write_bytes(b"long")
    assert get(srv, "/" + "b" * 60 + ".txt").status == 200


def test_header_limits(server_factory, root):
    add_dir(root, "hl", rf("        <requestLimits>\n          <headerLimits>\n"
                           '            <add header="X-Big" sizeLimit="8" />\n'
                           "          </headerLimits>\n        </requestLimits>\n"))
    srv = server_factory(root=root, use_config=False)
    assert get(srv, "/hl/f.txt", headers={"X-Big": "small"}).status == 200
    assert get(srv, "/hl/f.txt", headers={"X-Big": "y" * 9}).status == 431


def test_file_extensions_allow_unlisted_false(server_factory, root):
    add_dir(root, "ext", rf('        <fileExtensions allowUnlisted="false">\n'
                            '          <add fileExtension=".txt" allowed="true" />\n'
                            "        </fileExtensions>\n"), files=("f.txt", "g.htm"))
    srv = server_factory(root=root, use_config=False)
    assert get(srv, "/ext/f.txt").status == 200
    assert_rejected(get(srv, "/ext/g.htm"), 404, 7)
    assert_rejected(get(srv, "/ext/noext"), 404, 7)


def test_hidden_segment_added_by_web_config(server_factory, root):
    d = add_dir(root, "hs", rf('        <hiddenSegments>\n          <add segment="secret" />\n'
                               "        </hiddenSegments>\n"))
    (d / "secret").mkdir()
    (d / "secret" / "s.txt").write_bytes(b"s")
    srv = server_factory(root=root, use_config=False)
    assert_rejected(get(srv, "/hs/secret/s.txt"), 404, 8)
    assert get(srv, "/hs/f.txt").status == 200


def test_sequences_and_rules(server_factory, root):
    add_dir(root, "seq", rf('        <denyUrlSequences>\n          <add sequence="..." />\n'
                            '          <add sequence="evil" />\n        </denyUrlSequences>\n'
                            '        <denyQueryStringSequences>\n          <add sequence="drop" />\n'
                            "        </denyQueryStringSequences>\n"
                            "        <filteringRules>\n"
                            '          <filteringRule name="r" scanUrl="false" scanQueryString="true">\n'
                            '            <scanHeaders>\n              <add requestHeader="User-Agent" />\n'
                            "            </scanHeaders>\n"
                            '            <appliesTo>\n              <add fileExtension=".txt" />\n'
                            "            </appliesTo>\n"
                            '            <denyStrings>\n              <add string="badbot" />\n'
                            '              <add string="xp_cmd" />\n            </denyStrings>\n'
                            "          </filteringRule>\n        </filteringRules>\n"),
            files=("f.txt", "f.htm"))
    srv = server_factory(root=root, use_config=False)
    assert get(srv, "/seq/f.txt?q=ok").status == 200
    assert_rejected(get(srv, "/seq/EVIL.txt"), 404, 5)
    assert_rejected(get(srv, "/seq/a...b/f.txt"), 404, 5)
    assert_rejected(get(srv, "/seq/f.txt?q=DROP+table"), 404, 18)
    assert_rejected(get(srv, "/seq/f.txt?q=%64rop"), 404, 18)
    assert_rejected(get(srv, "/seq/f.txt?q=xp_cmd"), 404, 19)
    assert_rejected(get(srv, "/seq/f.txt", headers={"User-Agent": "a BadBot/1"}), 404, 19)
    # the rule applies to .txt only
    assert get(srv, "/seq/f.htm", headers={"User-Agent": "badbot"}).status == 200


def test_always_allowed_urls(server_factory, root):
    add_dir(root, "aa", rf('        <alwaysAllowedUrls>\n          <add url="/aa/bin/f.txt" />\n'
                           "        </alwaysAllowedUrls>\n"))
    (root / "aa" / "bin").mkdir()
    (root / "aa" / "bin" / "f.txt").write_bytes(b"allowed")
    srv = server_factory(root=root, use_config=False)
    resp = get(srv, "/aa/bin/f.txt")
    assert (resp.status, resp.body) == (200, b"allowed")


def test_high_bit_characters(server_factory, root):
    d = add_dir(root, "hb", rf("", ' allowHighBitCharacters="false"'))
    (d / "caf\u00e9.txt").write_bytes(b"cafe")
    srv = server_factory(root=root, use_config=False)
    assert_rejected(get(srv, "/hb/caf%C3%A9.txt"), 404, 12)
    assert get(srv, "/hb/f.txt").status == 200


def test_remove_server_header(server_factory, root):
    add_dir(root, "ns", rf("", ' removeServerHeader="true"'))
    srv = server_factory(root=root, use_config=False)
    assert get(srv, "/hello.txt").has("Server")
    resp = get(srv, "/ns/f.txt")
    assert resp.status == 200
    assert not resp.has("Server")
