"""The built-in static file module (no test modules loaded)."""

import calendar
import email.utils
import os
import re
import time

import pytest

IMF_FIXDATE_RE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} GMT$")


@pytest.fixture
def www(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "hello.txt").write_bytes(b"Hello static\n")
    (root / "page.html").write_bytes(b"<html><body>page</body></html>\n")
    (root / "big.bin").write_bytes(os.urandom(300 * 1024))
    (root / "with space.txt").write_bytes(b"spaced\n")
    (root / "sub").mkdir()
    (root / "sub" / "index.html").write_bytes(b"<p>sub index</p>\n")
    (root / "sub" / "other.txt").write_bytes(b"other\n")
    (root / "legacy").mkdir()
    (root / "legacy" / "default.htm").write_bytes(b"<p>legacy default</p>\n")
    (root / "empty").mkdir()
    (tmp_path / "secret.txt").write_bytes(b"TOP-SECRET-OUTSIDE-ROOT\n")
    return root


@pytest.fixture(params=["cli", "config"])
def srv(request, server_factory, www):
    """The same site served via --path/--port and via an applicationHost.config."""
    return server_factory(root=www, use_config=(request.param == "config"))


CACHE_WINDOW = 2.0


def fresh_get(srv, path, want, window=CACHE_WINDOW + 0.5):
    """GET path until its body is `want` or the cache window has passed."""
    deadline = time.monotonic() + window
    while True:
        resp = srv.get(path)
        if resp.body == want or time.monotonic() > deadline:
            return resp
        time.sleep(0.02)


def mime(resp):
    return (resp.header("Content-Type") or "").split(";")[0].strip().lower()


def test_text_file(srv):
    resp = srv.get("/hello.txt")
    assert resp.status == 200
    assert resp.body == b"Hello static\n"
    assert mime(resp) == "text/plain"
    assert resp.header("Content-Length") == "13"
    assert resp.header("Accept-Ranges") == "bytes"
    etag = resp.header("ETag")
    assert etag and re.fullmatch(r'(W/)?"[^"]+"', etag), etag


def test_last_modified_matches_file(srv, www):
    resp = srv.get("/hello.txt")
    lm = resp.header("Last-Modified")
    assert lm and IMF_FIXDATE_RE.match(lm), lm
    stamp = calendar.timegm(email.utils.parsedate(lm))
    assert abs(stamp - int((www / "hello.txt").stat().st_mtime)) <= 1


def test_etag_changes_with_content(srv, www):
    first = srv.get("/hello.txt").header("ETag")
    assert srv.get("/hello.txt").header("ETag") == first, "ETag not stable"
    (www / "hello.txt").write_bytes(b"Hello static, changed\n")
    os.utime(www / "hello.txt", (1_700_000_000, 1_700_000_000))
    # the open-file cache sees the change when its folder notification arrives,
    # and in any case within its documented window (2 s)
    resp = fresh_get(srv, "/hello.txt", b"Hello static, changed\n")
    assert resp.body == b"Hello static, changed\n"
    assert resp.header("ETag") != first


def test_html_file(srv):
    resp = srv.get("/page.html")
    assert resp.status == 200
    assert mime(resp) == "text/html"
    assert resp.body == b"<html><body>page</body></html>\n"


def test_binary_file_exact(srv, www):
    resp = srv.get("/big.bin")
    assert resp.status == 200
    assert resp.header("Content-Length") == str(300 * 1024)
    assert resp.body == (www / "big.bin").read_bytes()


def test_head(srv):
    c = srv.client()
    c.request("HEAD", "/page.html")
    resp = c.read_response(head=True)
    assert resp.status == 200
    assert resp.header("Content-Length") == str(len(b"<html><body>page</body></html>\n"))
    assert mime(resp) == "text/html"
    c.request("GET", "/hello.txt")  # nothing may have been left on the wire
    assert c.read_response().body == b"Hello static\n"


def test_query_string_is_not_part_of_the_path(srv):
    resp = srv.get("/hello.txt?x=1&y=2")
    assert (resp.status, resp.body) == (200, b"Hello static\n")


def test_percent_decoded_path(srv):
    resp = srv.get("/with%20space.txt")
    assert (resp.status, resp.body) == (200, b"spaced\n")


def test_missing_file_404(srv):
    resp = srv.get("/does-not-exist.txt")
    assert resp.status == 404
    resp = srv.get("/sub/nope/deeper.txt")
    assert resp.status == 404


def test_directory_without_slash_redirects(srv):
    resp = srv.get("/sub")
    assert resp.status == 301
    loc = resp.header("Location")
    assert loc is not None
    assert re.fullmatch(r"(https?://[^/]+)?/sub/", loc), loc


def test_default_document_index_html(srv):
    resp = srv.get("/sub/")
    assert resp.status == 200
    assert resp.body == b"<p>sub index</p>\n"
    assert mime(resp) == "text/html"


def test_default_document_default_htm(srv):
    resp = srv.get("/legacy/")
    assert resp.status == 200
    assert resp.body == b"<p>legacy default</p>\n"
    assert mime(resp) == "text/html"


def test_directory_without_default_document_is_not_served(srv):
    resp = srv.get("/empty/")
    assert resp.status in (403, 404), resp


@pytest.mark.parametrize("path", ["/../secret.txt", "/sub/../../secret.txt",
                                  "/%2e%2e/secret.txt", "/sub/%2E%2E/%2e%2e/secret.txt",
                                  "/..%2fsecret.txt"])
def test_no_escape_from_root(srv, path):
    c = srv.client()
    c.send(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    resp = c.read_response()
    assert b"TOP-SECRET" not in resp.body
    assert resp.status in (400, 403, 404), resp


def test_root_serves_nothing_unexpected(srv):
    # The site root has no default document.
    resp = srv.get("/")
    assert resp.status in (403, 404), resp
