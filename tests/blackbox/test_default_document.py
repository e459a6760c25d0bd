"""DefaultDocumentModule (system.webServer/defaultDocument) and
DirectoryListingModule (system.webServer/directoryBrowse) in the stock
configuration (server started without a config file): a folder URL with a
trailing slash gets the first existing file of the <files> list, else a
listing when browsing is enabled, else 403.14; web.config files in folders
change the list and the settings."""

import pytest


def web_config(inner):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<configuration>\n'
            "  <system.webServer>\n%s\n  </system.webServer>\n</configuration>\n" % inner)


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "www"
    r.mkdir()
    (r / "index.htm").write_bytes(b"root index.htm")
    (r / "Default.htm").write_bytes(b"root Default.htm")
    (r / "later").mkdir()
    (r / "later" / "iisstart.htm").write_bytes(b"later iisstart")
    (r / "later" / "index.html").write_bytes(b"later index.html")
    (r / "custom").mkdir()
    (r / "custom" / "Default.htm").write_bytes(b"custom Default.htm")
    (r / "custom" / "start.htm").write_bytes(b"custom start.htm")
    (r / "custom" / "web.config").write_text(web_config(
        '    <defaultDocument>\n      <files>\n        <clear />\n'
        '        <add value="start.htm" />\n      </files>\n    </defaultDocument>'))
    (r / "off").mkdir()
    (r / "off" / "Default.htm").write_bytes(b"off Default.htm")
    (r / "off" / "web.config").write_text(web_config('    <defaultDocument enabled="false" />'))
    (r / "empty").mkdir()
    (r / "empty" / "a.txt").write_bytes(b"a")
    b = r / "browse"
    b.mkdir()
    (b / "web.config").write_text(web_config('    <directoryBrowse enabled="true" showFlags="Date, Size" />'))
    (b / "a.txt").write_bytes(b"12345")
    (b / "my file.txt").write_bytes(b"x")
    (b / "x&y.txt").write_bytes(b"x")
    (b / ".hidden").write_bytes(b"h")
    (b / "sub").mkdir()
    (b / "sub" / "c.txt").write_bytes(b"c")
    (b / "sub" / "web.config").write_text(web_config('    <directoryBrowse showFlags="Time, Size, Extension" />'))
    return r


@pytest.fixture
def srv(server_factory, root):
    return server_factory(root=root, use_config=False)


def test_default_document_for_root(srv):
    r = srv.get("/")
    assert r.status == 200, r
    assert r.body == b"root Default.htm"
    assert r.header("Content-Type").startswith("text/html")
    assert r.has("ETag") and r.has("Last-Modified")


def test_head_headers_only(srv):
    r = srv.get("/", method="HEAD")
    assert r.status == 200
    assert r.body == b""


def test_list_order(srv):
    r = srv.get("/later/")
    assert r.status == 200
    assert r.body == b"later index.html"


def test_folder_without_slash_redirects(srv):
    r = srv.get("/later")
    assert r.status == 301
    assert r.header("Location").endswith("/later/")


def test_web_config_replaces_list(srv):
    r = srv.get("/custom/")
    assert r.status == 200
    assert r.body == b"custom start.htm"
    assert srv.get("/custom/Default.htm").body == b"custom Default.htm"


def test_web_config_disables(srv):
    r = srv.get("/off/")
    assert r.status == 403
    assert b"403.14" in r.body


def test_no_default_document_and_no_browsing(srv):
    r = srv.get("/empty/")
    assert r.status == 403
    assert b"403.14" in r.body
    assert srv.get("/empty/a.txt").body == b"a"


def test_directory_listing(srv):
    r = srv.get("/browse/")
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("text/html")
    body = r.body.decode()
    # no Extension flag: names are shown without their extension
    assert '<A HREF="/browse/a.txt">a</A>' in body
    assert '<A HREF="/browse/sub/">sub</A>' in body
    assert "&lt;dir&gt;" in body
    assert "web.config" not in body
    assert ".hidden" not in body
    assert " - /browse/" in body
    assert " 5 <A HREF=\"/browse/a.txt\"" in body  # Size column
    assert "AM <A" not in body and "PM <A" not in body  # no Time column


def test_listing_parent_link(srv):
    r = srv.get("/browse/")
    assert '<A HREF="/">[To Parent Directory]</A>' in r.body.decode()


def test_listing_encoding(srv):
    body = srv.get("/browse/").body.decode()
    assert '<A HREF="/browse/my%20file.txt">my file</A>' in body
    assert '<A HREF="/browse/x%26y.txt">x&amp;y</A>' in body
    r = srv.get("/browse/my%20file.txt")
    assert r.status == 200 and r.body == b"x"


def test_listing_inherited_by_subfolder(srv):
    r = srv.get("/browse/sub/")
    assert r.status == 200
    body = r.body.decode()
    assert '<A HREF="/browse/">[To Parent Directory]</A>' in body
    # sub/web.config changes showFlags only: Time, Size and Extension
    assert '<A HREF="/browse/sub/c.txt">c.txt</A>' in body
    assert "M            1 <A" in body


def test_listing_head(srv):
    r = srv.get("/browse/", method="HEAD")
    assert r.status == 200
    assert r.body == b""
