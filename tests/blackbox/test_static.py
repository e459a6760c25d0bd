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


# ---------------------------------------------------------------------------
# <staticContent>, conditional requests, ranges (stock configuration plus
# web.config files in folders)
# ---------------------------------------------------------------------------

BODY = bytes(range(256)) * 4  # 1024 bytes, every offset recognisable


def web_config(inner):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<configuration>\n'
            "  <system.webServer>\n%s\n  </system.webServer>\n</configuration>\n" % inner)


@pytest.fixture
def site(tmp_path):
    r = tmp_path / "stock"
    r.mkdir()
    (r / "data.bin").write_bytes(BODY)
    (r / "empty.txt").write_bytes(b"")
    for name in ("a.json", "a.svg", "a.woff2", "a.webp", "a.mp4", "a.wasm", "a.css", "a.js",
                 "UPPER.TXT", "a.unknownext", "noextension"):
        (r / name).write_bytes(b"x")
    (r / "docs").mkdir()
    (r / "docs" / "index.htm").write_bytes(BODY)
    (r / "mime").mkdir()
    (r / "mime" / "web.config").write_text(web_config(
        '    <staticContent>\n      <remove fileExtension=".txt" />\n'
        '      <mimeMap fileExtension=".foo" mimeType="application/x-foo" />\n'
        '    </staticContent>'))
    for name in ("a.txt", "b.FOO", "c.html"):
        (r / "mime" / name).write_bytes(b"m")
    (r / "any").mkdir()
    (r / "any" / "web.config").write_text(web_config(
        '    <staticContent>\n      <clear />\n'
        '      <mimeMap fileExtension=".*" mimeType="application/octet-stream" />\n'
        '      <mimeMap fileExtension=".txt" mimeType="text/plain" />\n'
        '    </staticContent>'))
    for name in ("a.txt", "b.whatever", "noext"):
        (r / "any" / name).write_bytes(b"y")
    caches = {
        "maxage": '<clientCache cacheControlMode="UseMaxAge" cacheControlMaxAge="01:00:00" />',
        "nocache": '<clientCache cacheControlMode="DisableCache" />',
        "expires": '<clientCache cacheControlMode="UseExpires" '
                   'httpExpires="Fri, 01 Jan 2100 12:00:00 GMT" />',
        "custom": '<clientCache cacheControlMode="UseMaxAge" cacheControlMaxAge="2.00:00:00" '
                  'cacheControlCustom="public" />',
        "noetag": '<clientCache setEtag="false" />',
    }
    for name, element in caches.items():
        (r / name).mkdir()
        (r / name / "web.config").write_text(web_config(
            "    <staticContent>\n      %s\n    </staticContent>" % element))
        (r / name / "f.txt").write_bytes(b"cached\n")
    return r


@pytest.fixture
def stock(server_factory, site):
    return server_factory(root=site, use_config=False)


@pytest.mark.parametrize("name,expected", [
    ("a.json", "application/json"), ("a.svg", "image/svg+xml"), ("a.woff2", "font/woff2"),
    ("a.webp", "image/webp"), ("a.mp4", "video/mp4"), ("a.wasm", "application/wasm"),
    ("a.css", "text/css"), ("a.js", "text/javascript"), ("UPPER.TXT", "text/plain")])
def test_default_mime_map(stock, name, expected):
    resp = stock.get("/" + name)
    assert resp.status == 200, resp
    assert mime(resp) == expected


@pytest.mark.parametrize("path", ["/a.unknownext", "/noextension", "/mime/a.txt"])
def test_unmapped_extension_is_404_3(stock, path):
    resp = stock.get(path)
    assert resp.status == 404
    assert b"404.3" in resp.body
    assert b"x" != resp.body


def test_web_config_mime_map(stock):
    resp = stock.get("/mime/b.FOO")
    assert (resp.status, mime(resp), resp.body) == (200, "application/x-foo", b"m")
    assert mime(stock.get("/mime/c.html")) == "text/html"  # inherited
    assert stock.get("/a.foo").status == 404  # only in that folder


def test_wildcard_mime_map(stock):
    assert mime(stock.get("/any/a.txt")) == "text/plain"
    for path in ("/any/b.whatever", "/any/noext"):
        resp = stock.get(path)
        assert (resp.status, mime(resp), resp.body) == (200, "application/octet-stream", b"y")


def test_no_cache_headers_by_default(stock):
    resp = stock.get("/data.bin")
    assert not resp.has("Cache-Control") and not resp.has("Expires")


@pytest.mark.parametrize("folder,cache_control,expires", [
    ("maxage", "max-age=3600", None),
    ("nocache", "no-cache", None),
    ("expires", None, "Fri, 01 Jan 2100 12:00:00 GMT"),
    ("custom", "max-age=172800, public", None),
])
def test_client_cache(stock, folder, cache_control, expires):
    resp = stock.get("/%s/f.txt" % folder)
    assert resp.status == 200
    assert resp.header("Cache-Control") == cache_control
    assert resp.header("Expires") == expires
    # a 304 carries them too
    resp = stock.get("/%s/f.txt" % folder, headers={"If-Modified-Since": resp.header("Last-Modified")})
    assert resp.status == 304
    assert resp.header("Cache-Control") == cache_control
    assert resp.header("Expires") == expires


def test_set_etag_false(stock):
    resp = stock.get("/noetag/f.txt")
    assert resp.status == 200 and not resp.has("ETag") and resp.has("Last-Modified")


def test_etag_format_is_iis_style_and_strong(stock, site):
    etag = stock.get("/data.bin").header("ETag")
    assert re.fullmatch(r'"[0-9a-f]+:0"', etag), etag
    # the hex part is the FILETIME (100 ns since 1601) of the modification time
    filetime = int(etag[1:].split(":")[0], 16)
    mtime_ns = (site / "data.bin").stat().st_mtime_ns
    assert filetime == mtime_ns // 100 + 116444736000000000


def conditional(srv, headers, path="/data.bin", method="GET"):
    c = srv.client()
    c.request(method, path, headers=headers)
    resp = c.read_response(head=(method == "HEAD"))
    # nothing may follow a 304 or a HEAD response on the wire
    c.request("GET", "/a.json")
    follow = c.read_response()
    assert (follow.status, follow.body) == (200, b"x")
    return resp


def test_if_none_match(stock):
    first = stock.get("/data.bin")
    etag, lm = first.header("ETag"), first.header("Last-Modified")
    for value in (etag, "W/" + etag, '"nope", ' + etag, "*"):
        resp = conditional(stock, {"If-None-Match": value})
        assert resp.status == 304, value
        assert resp.header("ETag") == etag
        assert not resp.has("Content-Type") and resp.header("Content-Length") in (None, "0")
    resp = conditional(stock, {"If-None-Match": '"nope"'})
    assert (resp.status, resp.body) == (200, BODY)
    # If-None-Match decides: If-Modified-Since is then not evaluated
    resp = conditional(stock, {"If-None-Match": '"nope"', "If-Modified-Since": lm})
    assert resp.status == 200
    assert conditional(stock, {"If-None-Match": etag}, method="HEAD").status == 304


def test_if_modified_since(stock, site):
    lm = stock.get("/data.bin").header("Last-Modified")
    mtime = int((site / "data.bin").stat().st_mtime)
    assert conditional(stock, {"If-Modified-Since": lm}).status == 304
    assert conditional(stock, {"If-Modified-Since": email.utils.formatdate(mtime + 60, usegmt=True)}).status == 304
    resp = conditional(stock, {"If-Modified-Since": email.utils.formatdate(mtime - 60, usegmt=True)})
    assert (resp.status, resp.body) == (200, BODY)
    # the obsolete formats are accepted, invalid dates ignored
    t = time.gmtime(mtime)
    rfc850 = time.strftime("%A, %d-%b-%y %H:%M:%S GMT", t)
    asctime = time.strftime("%a %b ", t) + ("%2d" % t.tm_mday) + time.strftime(" %H:%M:%S %Y", t)
    assert conditional(stock, {"If-Modified-Since": rfc850}).status == 304
    assert conditional(stock, {"If-Modified-Since": asctime}).status == 304
    assert conditional(stock, {"If-Modified-Since": "yesterday"}).status == 200


def test_if_match_and_if_unmodified_since(stock, site):
    etag = stock.get("/data.bin").header("ETag")
    mtime = int((site / "data.bin").stat().st_mtime)
    assert conditional(stock, {"If-Match": etag}).status == 200
    assert conditional(stock, {"If-Match": "*"}).status == 200
    resp = conditional(stock, {"If-Match": '"other"'})
    assert resp.status == 412 and BODY not in resp.body
    assert conditional(stock, {"If-Match": "W/" + etag}).status == 412  # strong comparison
    early = email.utils.formatdate(mtime - 60, usegmt=True)
    late = email.utils.formatdate(mtime + 60, usegmt=True)
    assert conditional(stock, {"If-Unmodified-Since": early}).status == 412
    assert conditional(stock, {"If-Unmodified-Since": late}).status == 200
    assert conditional(stock, {"If-Unmodified-Since": "garbage"}).status == 200
    # If-Match present: If-Unmodified-Since is not evaluated
    assert conditional(stock, {"If-Match": etag, "If-Unmodified-Since": early}).status == 200


def test_single_ranges(stock):
    for spec, first, last in (("0-9", 0, 9), ("1000-", 1000, 1023), ("-24", 1000, 1023),
                              ("1020-5000", 1020, 1023), ("-5000", 0, 1023)):
        resp = stock.get("/data.bin", headers={"Range": "bytes=" + spec})
        assert resp.status == 206, spec
        assert resp.header("Content-Range") == "bytes %d-%d/1024" % (first, last)
        assert resp.header("Content-Length") == str(last - first + 1)
        assert resp.body == BODY[first:last + 1]
        assert mime(resp) == "application/octet-stream"


def test_unsatisfiable_range(stock):
    for spec in ("bytes=1024-", "bytes=5000-6000", "bytes=-0"):
        resp = stock.get("/data.bin", headers={"Range": spec})
        assert resp.status == 416, spec
        assert resp.header("Content-Range") == "bytes */1024"
    assert stock.get("/empty.txt", headers={"Range": "bytes=0-"}).status == 416


def test_invalid_range_is_ignored(stock):
    for spec in ("bytes=5-1", "bytes=abc", "items=0-1", "bytes=", "bytes=0-1;x"):
        resp = stock.get("/data.bin", headers={"Range": spec})
        assert (resp.status, resp.body) == (200, BODY), spec
        assert not resp.has("Content-Range")


def parse_multipart(resp):
    ctype = resp.header("Content-Type")
    m = re.fullmatch(r"multipart/byteranges; boundary=(\S+)", ctype)
    assert m, ctype
    delim = b"--" + m.group(1).encode()
    body = resp.body
    assert body.endswith(b"\r\n" + delim + b"--\r\n"), body[-80:]
    parts = []
    for raw in body[:-len(delim) - 4].split(delim)[1:]:
        head, _, data = raw.partition(b"\r\n\r\n")
        fields = dict(line.split(b": ", 1) for line in head.strip().split(b"\r\n"))
        if data.endswith(b"\r\n"):
            data = data[:-2]
        parts.append((fields[b"Content-Type"].decode(), fields[b"Content-Range"].decode(), data))
    return parts


def test_multiple_ranges(stock):
    resp = stock.get("/data.bin", headers={"Range": "bytes=500-509, 0-4, -3"})
    assert resp.status == 206
    assert not resp.has("Content-Range")
    assert resp.header("Content-Length") == str(len(resp.body))
    parts = parse_multipart(resp)
    assert parts == [
        ("application/octet-stream", "bytes 500-509/1024", BODY[500:510]),
        ("application/octet-stream", "bytes 0-4/1024", BODY[0:5]),
        ("application/octet-stream", "bytes 1021-1023/1024", BODY[1021:]),
    ]


def test_overlapping_ranges_are_coalesced(stock):
    resp = stock.get("/data.bin", headers={"Range": "bytes=0-99,50-149,150-199"})
    assert resp.status == 206
    assert resp.header("Content-Range") == "bytes 0-199/1024"
    assert resp.body == BODY[:200]


def test_too_many_ranges_are_ignored(stock):
    spec = "bytes=" + ",".join("%d-%d" % (i * 10, i * 10 + 1) for i in range(100))
    resp = stock.get("/data.bin", headers={"Range": spec})
    assert (resp.status, resp.body) == (200, BODY)


def test_if_range(stock):
    first = stock.get("/data.bin")
    etag, lm = first.header("ETag"), first.header("Last-Modified")
    for value in (etag, lm):
        resp = stock.get("/data.bin", headers={"Range": "bytes=0-9", "If-Range": value})
        assert (resp.status, resp.body) == (206, BODY[:10]), value
    for value in ('"other"', "W/" + etag, "Thu, 01 Jan 1970 00:00:00 GMT"):
        resp = stock.get("/data.bin", headers={"Range": "bytes=0-9", "If-Range": value})
        assert (resp.status, resp.body) == (200, BODY), value


def test_head_ignores_range(stock):
    resp = conditional(stock, {"Range": "bytes=0-9"}, method="HEAD")
    assert resp.status == 200
    assert resp.header("Content-Length") == "1024"
    assert resp.header("Accept-Ranges") == "bytes"


def test_other_methods_405(stock):
    resp = stock.get("/data.bin", method="POST", body=b"x")
    assert resp.status == 405
    assert resp.header("Allow") == "GET, HEAD"


def test_default_document_is_served_like_a_file(stock):
    full = stock.get("/docs/")
    assert (full.status, full.body) == (200, BODY)
    assert full.header("Accept-Ranges") == "bytes"
    assert conditional(stock, {"If-None-Match": full.header("ETag")}, path="/docs/").status == 304
    resp = stock.get("/docs/", headers={"Range": "bytes=10-19"})
    assert (resp.status, resp.body) == (206, BODY[10:20])
    assert resp.header("Content-Range") == "bytes 10-19/1024"


def test_replaced_and_deleted_files_are_not_served_stale(stock, site, tmp_path):
    assert stock.get("/docs/index.htm").body == BODY
    new = tmp_path / "new.htm"
    new.write_bytes(b"replacement")
    os.rename(new, site / "docs" / "index.htm")
    assert fresh_get(stock, "/docs/index.htm", b"replacement").body == b"replacement"
    os.unlink(site / "docs" / "index.htm")
    deadline = time.monotonic() + CACHE_WINDOW + 0.5
    while stock.get("/docs/index.htm").status != 404:
        assert time.monotonic() < deadline, "deleted file still served"
        time.sleep(0.02)


def test_sendfile_without_reading_the_file(server_factory, site, tmp_path):
    """An uncompressed static GET goes out with sendfile; the file is never read()."""
    import shutil
    import subprocess
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed")
    srv = server_factory(root=site, use_config=False)
    out = tmp_path / "strace.txt"
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-p", str(srv.proc.pid), "-o", str(out),
                               "-e", "trace=openat,read,pread64,readv,preadv,preadv2,sendfile,mmap"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)  # strace has attached to every thread by then, or has given up
    if tracer.poll() is not None:
        err = tracer.stderr.read().decode(errors="replace")
        pytest.skip("strace cannot attach here: %s" % err.strip())
    try:
        for _ in range(3):
            resp = srv.get("/data.bin")
            assert (resp.status, resp.body) == (200, BODY)
        time.sleep(0.2)
    finally:
        tracer.terminate()
        tracer.wait(5)
    text = out.read_text()
    fds = set(re.findall(r'openat\([^,]+, "[^"]*/data\.bin", [^)]*\)\s*=\s*(\d+)', text))
    assert fds, "the file was not opened under strace:\n" + text[-2000:]
    assert re.search(r"sendfile\(\d+, (%s), " % "|".join(fds), text), text[-2000:]
    for fd in fds:
        assert not re.search(r"\b(read|pread64|readv|preadv2?)\(%s," % fd, text), \
            "the file was read into user space:\n" + text[-2000:]
    # no mmap of the file either: an mmap counts while its descriptor is the file's, from the
    # openat that returned it for data.bin to the next openat that returned the same number
    # (under valgrind the number is reused for the images the tool maps)
    holds = {}
    for line in text.splitlines():
        m = re.search(r'openat\([^,]+, "([^"]*)", [^)]*\)\s*=\s*(\d+)', line)
        if m:
            holds[m.group(2)] = m.group(1).endswith("/data.bin")
            continue
        m = re.search(r"mmap\((?:[^,)\n]*, ){4}(\d+), ", line)
        assert not (m and holds.get(m.group(1))), "the file was mapped:\n" + line
