"""HttpRedirectionModule (system.webServer/httpRedirect): web.config files in
folders of a server started without a config file (stock configuration)
redirect requests before the handler runs: destination with the rest of the
path and the query string (or exactly), childOnly, the four status codes and
wildcard rules."""

import pytest

from iisdtest import IISD_BIN, AppHostConfig, free_port


def web_config(attrs, inner=""):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<configuration>\n'
            "  <system.webServer>\n    <httpRedirect %s>\n%s    </httpRedirect>\n"
            "  </system.webServer>\n</configuration>\n" % (attrs, inner))


def folder(root, name, attrs, inner="", files=("f.txt",)):
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "web.config").write_text(web_config(attrs, inner))
    for f in files:
        (d / f).write_bytes(b"content of " + f.encode())
    return d


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "www"
    r.mkdir()
    (r / "hello.txt").write_bytes(b"Hello static\n")
    folder(r, "old", 'enabled="true" destination="/new"', files=("a.htm",))
    (r / "old" / "sub").mkdir()
    (r / "old" / "sub" / "b.txt").write_bytes(b"b")
    folder(r, "old/keep", 'enabled="false"', files=("k.txt",))
    folder(r, "old/deeper", 'enabled="true" destination="/other"', files=("q.txt",))
    folder(r, "abs", 'enabled="true" destination="http://example.com/base/"')
    folder(r, "exact", 'enabled="true" destination="http://example.com/landing" exactDestination="true"')
    folder(r, "child", 'enabled="true" destination="/new" childOnly="true"', files=("index.htm", "f.txt"))
    for name, code in (("Permanent", 301), ("Found", 302), ("Temporary", 307), ("PermRedirect", 308)):
        folder(r, "s%d" % code, 'enabled="true" destination="/dest" httpResponseStatus="%s"' % name)
    folder(r, "wild", 'enabled="true" destination="/new"',
           '      <add wildcard="*.htm" destination="/new/page.htm" />\n'
           '      <add wildcard="*.php" destination="/scripts$S$Q" />\n',
           files=("x.htm", "z.txt"))
    folder(r, "wildonly", 'enabled="true" exactDestination="true" destination="/fallback.htm"',
           '      <add wildcard="*/img/*" destination="/images/" />\n')
    folder(r, "loop", 'enabled="true" exactDestination="true" destination="/loop/target.htm"',
           files=("target.htm", "f.txt"))
    return r


SO_IMAGE = IISD_BIN.parent / "modules" / "http_redirection.so"


@pytest.fixture(params=["linked", "so"])
def srv(request, server_factory, root, tmp_path):
    """The stock configuration, with the linked-in module or (so) the same source built as
    an image and named in <globalModules> with image=, as a third-party module is."""
    if request.param == "linked":
        return server_factory(root=root, use_config=False)
    assert SO_IMAGE.exists(), "%s is missing (make modules)" % SO_IMAGE
    port = free_port()
    cfg = AppHostConfig()
    cfg.add_site("Default Web Site", 1, ["127.0.0.1:%d:" % port], root)
    entry = [e for e in cfg.section("system.webServer/globalModules") if e.get("name") == "HttpRedirectionModule"]
    assert len(entry) == 1
    entry[0].set("image", str(SO_IMAGE))
    s = server_factory(config_file=cfg.write(tmp_path / "applicationHost.config"), port=port)
    maps = open("/proc/%d/maps" % s.proc.pid).read()
    assert str(SO_IMAGE) in maps, "the image is not loaded"
    return s


def loc(resp):
    value = resp.header("Location")
    assert value is not None, resp
    return value


def test_no_redirect_by_default(srv):
    r = srv.get("/hello.txt")
    assert r.status == 200
    assert not r.has("Location")


def test_appends_rest_of_path_and_query(srv):
    r = srv.get("/old/a.htm")
    assert r.status == 302, r
    assert r.reason == "Found"
    assert loc(r) == "http://localhost/new/a.htm"
    r = srv.get("/old/sub/b.txt?x=1&y=2")
    assert r.status == 302
    assert loc(r) == "http://localhost/new/sub/b.txt?x=1&y=2"
    r = srv.get("/old/missing/file.txt")
    assert r.status == 302
    assert loc(r) == "http://localhost/new/missing/file.txt"


def test_folder_itself(srv):
    assert loc(srv.get("/old/")) == "http://localhost/new/"
    assert loc(srv.get("/old")) == "http://localhost/new"


def test_absolute_destination_with_slash(srv):
    r = srv.get("/abs/f.txt?q=1")
    assert r.status == 302
    assert loc(r) == "http://example.com/base/f.txt?q=1"


def test_handler_does_not_run(srv):
    r = srv.get("/old/a.htm", method="POST", body=b"data")
    assert r.status == 302
    assert b"content of" not in r.body
    r = srv.get("/old/a.htm")
    assert b"content of" not in r.body


def test_disabled_in_child_folder(srv):
    r = srv.get("/old/keep/k.txt")
    assert r.status == 200, r
    assert r.body == b"content of k.txt"


def test_child_folder_overrides_destination(srv):
    assert loc(srv.get("/old/deeper/q.txt")) == "http://localhost/other/q.txt"


def test_exact_destination(srv):
    for path in ("/exact/f.txt", "/exact/", "/exact/a/b/c.htm?z=9"):
        r = srv.get(path)
        assert r.status == 302, r
        assert loc(r) == "http://example.com/landing"


def test_child_only(srv):
    r = srv.get("/child/")
    assert r.status == 200, r
    assert r.body == b"content of index.htm"
    r = srv.get("/child/f.txt")
    assert r.status == 302
    assert loc(r) == "http://localhost/new/f.txt"


@pytest.mark.parametrize("code,reason", [(301, "Moved Permanently"), (302, "Found"),
                                         (307, "Temporary Redirect"), (308, "Permanent Redirect")])
def test_status_codes(srv, code, reason):
    r = srv.get("/s%d/f.txt" % code)
    assert r.status == code, r
    assert r.reason == reason
    assert loc(r) == "http://localhost/dest/f.txt"


def test_wildcard_rules(srv):
    r = srv.get("/wild/x.htm?a=1")
    assert r.status == 302
    assert loc(r) == "http://localhost/new/page.htm"
    r = srv.get("/wild/dir/y.php?a=b")
    assert loc(r) == "http://localhost/scripts/dir/y.php?a=b"
    r = srv.get("/wild/dir/y.php")
    assert loc(r) == "http://localhost/scripts/dir/y.php"
    # no wildcard matches: the section's destination
    assert loc(srv.get("/wild/z.txt")) == "http://localhost/new/z.txt"


def test_wildcard_with_exact_fallback(srv):
    assert loc(srv.get("/wildonly/img/logo.png")) == "http://localhost/images/"
    assert loc(srv.get("/wildonly/f.txt")) == "http://localhost/fallback.htm"


def test_no_redirect_to_itself(srv):
    assert loc(srv.get("/loop/f.txt")) == "http://localhost/loop/target.htm"
    r = srv.get("/loop/target.htm")
    assert r.status == 200, r
    assert r.body == b"content of target.htm"
