"""StaticCompressionModule and DynamicCompressionModule (system.webServer/httpCompression
and urlCompression): Accept-Encoding negotiation with q-values, gzip / deflate / br / zstd
bodies that decode to the original, Vary, the ETag of compressed responses, the static
cache on disk (reuse, invalidation), the responses that are never compressed, streamed
dynamic compression, and IHttpResponse::GetRawHttpResponse (which the modules use).

Servers run the built-in default configuration (use_config=False) with web.config files
in the site; dynamic responses come from the dyncontent test module."""

import ctypes
import ctypes.util
import os
import time
import zlib

import pytest

from iisdtest import module_path


# ---- decoders (zlib from Python; brotli and zstd through the libraries iisd links) ----

def _lib(name, soname):
    path = ctypes.util.find_library(name) or soname
    return ctypes.CDLL(path)


_brotli = _lib("brotlidec", "libbrotlidec.so.1")
_brotli.BrotliDecoderDecompress.restype = ctypes.c_int
_brotli.BrotliDecoderDecompress.argtypes = [ctypes.c_size_t, ctypes.c_char_p,
                                            ctypes.POINTER(ctypes.c_size_t), ctypes.c_char_p]
_zstd = _lib("zstd", "libzstd.so.1")
_zstd.ZSTD_decompress.restype = ctypes.c_size_t
_zstd.ZSTD_decompress.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
_zstd.ZSTD_isError.restype = ctypes.c_uint
_zstd.ZSTD_isError.argtypes = [ctypes.c_size_t]

CAP = 8 << 20


def decode(coding, data):
    if coding == "gzip":
        d = zlib.decompressobj(wbits=31)
        out = d.decompress(data) + d.flush()
        assert d.eof and not d.unused_data, "truncated or padded gzip stream"
        return out
    if coding == "deflate":
        d = zlib.decompressobj(wbits=15)
        out = d.decompress(data) + d.flush()
        assert d.eof, "truncated deflate stream"
        return out
    if coding == "br":
        out = ctypes.create_string_buffer(CAP)
        size = ctypes.c_size_t(CAP)
        assert _brotli.BrotliDecoderDecompress(len(data), data, ctypes.byref(size), out) == 1, \
            "not a valid brotli stream"
        return out.raw[:size.value]
    if coding == "zstd":
        out = ctypes.create_string_buffer(CAP)
        n = _zstd.ZSTD_decompress(out, CAP, data, len(data))
        assert not _zstd.ZSTD_isError(n), "not a valid zstd frame"
        return out.raw[:n]
    raise AssertionError("unknown coding %r" % coding)


def text(n):
    out = []
    i = 0
    while sum(len(x) for x in out) < n:
        out.append("line %06d: the quick brown fox jumps over the lazy dog\n" % i)
        i += 1
    return "".join(out).encode()[:n]


def web_config(inner):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<configuration>\n  <system.webServer>\n'
            + inner + "  </system.webServer>\n</configuration>\n")


def vary_has_ae(r):
    return any(t.strip().lower() == "accept-encoding" for t in (r.header("Vary") or "").split(","))


BIG = text(40000)


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


@pytest.fixture
def root(tmp_path, cache):
    r = tmp_path / "www"
    r.mkdir()
    r.joinpath("web.config").write_text(web_config(
        '    <httpCompression directory="%s" staticCompressionIgnoreHitFrequency="true" />\n' % cache))
    r.joinpath("big.txt").write_bytes(BIG)
    r.joinpath("page.html").write_bytes(b"<html><body>" + BIG + b"</body></html>")
    r.joinpath("small.txt").write_bytes(b"tiny file\n")
    r.joinpath("pic.png").write_bytes(BIG)
    r.joinpath("pic.svg").write_bytes(b"<svg>" + BIG + b"</svg>")
    sub = {
        "hits": '    <httpCompression staticCompressionIgnoreHitFrequency="false" />\n',
        "off": '    <urlCompression doStaticCompression="false" doDynamicCompression="false" />\n',
        "http10": '    <httpCompression noCompressionForHttp10="false" noCompressionForProxies="false" '
                  'noCompressionForRange="false" />\n',
        "cachehdr": '    <httpCompression sendCacheHeaders="true" />\n',
        "cpu": '    <httpCompression staticCompressionDisableCpuUsage="0" '
               'dynamicCompressionDisableCpuUsage="0" />\n',
        "nogzip": '    <httpCompression>\n      <remove name="gzip" />\n'
                  '      <scheme name="gzip" doStaticCompression="false" doDynamicCompression="false" />\n'
                  '      <scheme name="deflate" />\n'
                  '    </httpCompression>\n',
        "min": '    <httpCompression minFileSizeForComp="100000" />\n',
        "types": '    <httpCompression>\n      <staticTypes>\n        <clear />\n'
                 '        <add mimeType="text/html" enabled="true" />\n'
                 '        <add mimeType="*/*" enabled="false" />\n      </staticTypes>\n'
                 '    </httpCompression>\n',
    }
    for name, cfg in sub.items():
        d = r / name
        d.mkdir()
        d.joinpath("web.config").write_text(web_config(cfg))
        d.joinpath("big.txt").write_bytes(BIG)
        d.joinpath("page.html").write_bytes(BIG)
    return r


@pytest.fixture
def srv(server_factory, root):
    return server_factory(root=root, use_config=False,
                          cli_modules=[("Dyn", module_path("dyncontent"))])


def get(srv, path, ae=None, **kw):
    headers = dict(kw.pop("headers", {}))
    if ae is not None:
        headers["Accept-Encoding"] = ae
    return srv.get(path, headers=headers, **kw)


# ---- static ------------------------------------------------------------------------

@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_static_compressed(srv, coding):
    r = get(srv, "/big.txt", coding)
    assert r.status == 200, r
    assert r.header("Content-Encoding") == coding
    assert vary_has_ae(r)
    assert int(r.header("Content-Length")) == len(r.body) < len(BIG)
    assert decode(coding, r.body) == BIG
    assert not r.has("Accept-Ranges")
    plain = get(srv, "/big.txt")
    assert r.header("ETag") == plain.header("ETag")[:-1] + "-" + coding + '"'


def test_static_revalidation_with_the_compressed_tag(srv):
    r = get(srv, "/big.txt", "gzip")
    assert r.header("Content-Encoding") == "gzip"
    tag = r.header("ETag")
    again = get(srv, "/big.txt", "gzip", headers={"If-None-Match": tag})
    assert again.status == 304 and again.body == b""
    # If-Match compares strongly: the compressed copy's tag is not the file's
    assert get(srv, "/big.txt", headers={"If-Match": tag}).status == 412


def test_static_identity(srv):
    for ae in (None, "", "identity", "compress", "gzip;q=0", "*;q=0", "deflate"):
        r = get(srv, "/big.txt", ae)
        assert r.status == 200
        assert not r.has("Content-Encoding"), (ae, r)
        assert r.body == BIG
        assert vary_has_ae(r), "Vary tells caches the answer depends on Accept-Encoding"
        assert r.header("Accept-Ranges") == "bytes"


@pytest.mark.parametrize("ae,want", [
    ("gzip, deflate, br, zstd", "br"),        # equal q: the configured order (br, zstd, gzip)
    ("gzip, zstd", "zstd"),
    ("br;q=0.5, gzip;q=0.8", "gzip"),
    ("br;q=0.9, zstd;q=0.1, gzip;q=0.5", "br"),
    ("br;q=0, gzip", "gzip"),
    ("*", "br"),
    ("*;q=0.1, gzip;q=0.2", "gzip"),
    ("X-GZIP", "gzip"),
    ("gzip;q=0.5, identity", None),
    ("gzip;q=bad, br;q=1.5", None),
])
def test_static_negotiation(srv, ae, want):
    r = get(srv, "/big.txt", ae)
    assert r.status == 200
    assert r.header("Content-Encoding") == want
    assert (decode(want, r.body) if want else r.body) == BIG


def test_static_cache_file_reused_and_invalidated(srv, root, cache):
    r = get(srv, "/big.txt", "gzip")
    assert decode("gzip", r.body) == BIG
    files = [f for f in os.listdir(cache) if not f.startswith(".")]
    assert len(files) == 1 and files[0].endswith(".gzip"), files
    first = cache / files[0]
    stamp = first.stat().st_mtime_ns
    r2 = get(srv, "/big.txt", "gzip")
    assert r2.body == r.body
    assert first.stat().st_mtime_ns == stamp, "the cached copy is reused, not made again"
    # the source changes: the next answer is the new content
    new = text(30000).replace(b"fox", b"cat")
    (root / "big.txt").write_bytes(new)
    os.utime(root / "big.txt", ns=(time.time_ns(), time.time_ns() + 5_000_000_000))
    r3 = get(srv, "/big.txt", "gzip")
    assert r3.header("Content-Encoding") == "gzip"
    assert decode("gzip", r3.body) == new
    assert len([f for f in os.listdir(cache) if f.endswith(".gzip")]) == 1
    assert not [f for f in os.listdir(cache) if ".gzip." in f], "no temporary files left"


def test_static_one_cache_file_per_coding(srv, cache):
    for coding in ("gzip", "br", "zstd"):
        assert decode(coding, get(srv, "/page.html", coding).body).startswith(b"<html>")
    names = sorted(f.rsplit(".", 1)[1] for f in os.listdir(cache))
    assert names == ["br", "gzip", "zstd"]
    assert (cache.stat().st_mode & 0o077) == 0, "the cache folder is private"


def test_static_not_compressed(srv):
    r = get(srv, "/small.txt", "gzip")  # below minFileSizeForComp (2700)
    assert not r.has("Content-Encoding") and not vary_has_ae(r)
    assert r.body == b"tiny file\n"
    r = get(srv, "/pic.png", "gzip")  # image/png: not in staticTypes
    assert not r.has("Content-Encoding") and not vary_has_ae(r)
    assert r.body == BIG
    r = get(srv, "/pic.svg", "gzip")  # image/svg+xml is
    assert r.header("Content-Encoding") == "gzip"
    r = get(srv, "/min/big.txt", "gzip")  # minFileSizeForComp="100000"
    assert not r.has("Content-Encoding")
    r = get(srv, "/types/big.txt", "gzip")  # staticTypes cleared: only text/html
    assert not r.has("Content-Encoding")
    assert get(srv, "/types/page.html", "gzip").header("Content-Encoding") == "gzip"


def test_static_head_and_missing(srv):
    r = get(srv, "/big.txt", "gzip", method="HEAD")
    assert r.status == 200 and not r.has("Content-Encoding")
    # an error page is dynamic content: it is compressed like any other
    r = get(srv, "/nothere.txt", "gzip")
    assert r.status == 404 and r.header("Content-Encoding") == "gzip"
    assert b"Not Found" in decode("gzip", r.body)


def test_request_exclusions(srv):
    # HTTP/1.0, a proxy (Via) and Range requests are not compressed by default
    r = get(srv, "/big.txt", "gzip", version="HTTP/1.0")
    assert not r.has("Content-Encoding") and r.body == BIG
    r = get(srv, "/big.txt", "gzip", headers={"Via": "1.1 proxy"})
    assert not r.has("Content-Encoding") and r.body == BIG
    r = get(srv, "/big.txt", "gzip", headers={"Range": "bytes=0-99"})
    assert not r.has("Content-Encoding")
    # ... unless noCompressionForHttp10 / ForProxies / ForRange say otherwise
    r = get(srv, "/http10/big.txt", "gzip", version="HTTP/1.0")
    assert r.header("Content-Encoding") == "gzip" and decode("gzip", r.body) == BIG
    r = get(srv, "/http10/big.txt", "gzip", headers={"Via": "1.1 proxy"})
    assert r.header("Content-Encoding") == "gzip"
    r = get(srv, "/dyn?n=20000", "gzip", version="HTTP/1.0")
    assert not r.has("Content-Encoding") and r.body == text(20000)


def test_url_compression_off(srv):
    r = get(srv, "/off/big.txt", "gzip, br")
    assert not r.has("Content-Encoding") and r.body == BIG


def test_scheme_settings(srv):
    # gzip re-added with compression off, deflate added: only deflate and br are used there
    r = get(srv, "/nogzip/big.txt", "gzip")
    assert not r.has("Content-Encoding")
    r = get(srv, "/nogzip/big.txt", "gzip, deflate")
    assert r.header("Content-Encoding") == "deflate" and decode("deflate", r.body) == BIG
    r = get(srv, "/nogzip/big.txt", "gzip, br")
    assert r.header("Content-Encoding") == "br"


def test_send_cache_headers(srv):
    r = get(srv, "/cachehdr/big.txt", "gzip")
    assert r.header("Content-Encoding") == "gzip"
    assert r.header("Cache-Control") == "max-age=86400"
    assert r.header("Expires") == "Wed, 01 Jan 1997 12:00:00 GMT"
    r = get(srv, "/big.txt", "gzip")
    assert not r.has("Expires") and not r.has("Cache-Control")


def test_cpu_limit(srv):
    # a DisableCpuUsage of 0 % switches compression off
    r = get(srv, "/cpu/big.txt", "gzip")
    assert not r.has("Content-Encoding") and r.body == BIG


def test_hit_frequency(srv):
    # without staticCompressionIgnoreHitFrequency, a file is compressed from its second request
    r1 = get(srv, "/hits/big.txt", "gzip")
    assert not r1.has("Content-Encoding") and r1.body == BIG
    r2 = get(srv, "/hits/big.txt", "gzip")
    assert r2.header("Content-Encoding") == "gzip" and decode("gzip", r2.body) == BIG


def test_keep_alive_sequence(srv):
    """Compressed and plain responses one after the other on one connection."""
    c = srv.client()
    for ae, want in (("gzip", "gzip"), (None, None), ("zstd", "zstd"), ("br", "br")):
        hdrs = {"Accept-Encoding": ae} if ae else {}
        c.request("GET", "/big.txt", hdrs)
        r = c.read_response()
        assert r.header("Content-Encoding") == want
        assert (decode(want, r.body) if want else r.body) == BIG
        c.request("GET", "/dyn?n=5000", hdrs)
        r = c.read_response()
        assert r.header("Content-Encoding") == want
        assert (decode(want, r.body) if want else r.body) == text(5000)


# ---- dynamic -----------------------------------------------------------------------

@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_dynamic_compressed(srv, coding):
    r = get(srv, "/dyn?n=50000", coding)
    assert r.status == 200, r
    assert r.header("Content-Encoding") == coding
    assert vary_has_ae(r)
    assert int(r.header("Content-Length")) == len(r.body) < 50000
    assert decode(coding, r.body) == text(50000)


def test_dynamic_identity_and_defaults(srv):
    r = get(srv, "/dyn?n=5000")
    assert not r.has("Content-Encoding") and r.body == text(5000)
    assert vary_has_ae(r)
    # deflate is not one of the default schemes
    r = get(srv, "/dyn?n=5000", "deflate")
    assert not r.has("Content-Encoding") and r.body == text(5000)
    # the default order: br, zstd, gzip
    r = get(srv, "/dyn?n=5000", "gzip, deflate, br, zstd")
    assert r.header("Content-Encoding") == "br"


def read_chunks(c, deadline=5.0):
    """Reads one chunked response from a RawClient; returns (head, [chunk bytes])."""
    end = time.monotonic() + deadline
    while b"\r\n\r\n" not in c.buf:
        c._fill(end)
    head, c.buf = c.buf.split(b"\r\n\r\n", 1)
    chunks = []
    while True:
        size = int(c._read_line(end).split(b";")[0], 16)
        if size == 0:
            assert c._read_line(end) == b""
            return head.decode("latin-1"), chunks
        chunks.append(c._read_exact(size, end))
        assert c._read_exact(2, end) == b"\r\n"


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_dynamic_streamed(srv, coding):
    """Each flush goes out compressed as it happens (chunked, length unknown); the
    compressed data of the first flush alone decodes to the first part."""
    n, parts = 40000, 4
    for extra in ("", "&cl=1"):  # a Content-Length the handler set is dropped
        c = srv.client()
        c.request("GET", "/dyn?n=%d&parts=%d%s" % (n, parts, extra), {"Accept-Encoding": coding})
        head, chunks = read_chunks(c)
        assert "Transfer-Encoding: chunked" in head
        assert "Content-Length" not in head
        assert "Content-Encoding: %s" % coding in head
        assert len(chunks) >= parts
        body = b"".join(chunks)
        assert decode(coding, body) == text(n)
        # the first flush (a sync flush of the coder) decodes on its own
        if coding == "gzip":
            d = zlib.decompressobj(wbits=31)
            assert d.decompress(chunks[0]) == text(n)[:n // parts]
        c.close()


def test_dynamic_large_streamed(srv):
    n = 600_000
    r = get(srv, "/dyn?n=%d&parts=30" % n, "gzip", timeout=30)
    assert r.chunked and r.header("Content-Encoding") == "gzip"
    assert decode("gzip", r.body) == text(n)


def test_dynamic_not_compressed(srv):
    r = get(srv, "/dyn?n=5000&ce=x-custom", "gzip")  # already encoded by the handler
    assert r.header("Content-Encoding") == "x-custom" and r.body == text(5000)
    r = get(srv, "/dyn?n=5000&type=image/png", "gzip")  # not in dynamicTypes
    assert not r.has("Content-Encoding") and not vary_has_ae(r) and r.body == text(5000)
    r = get(srv, "/dyn?n=5000&type=none", "gzip")  # no Content-Type
    assert not r.has("Content-Encoding")
    r = get(srv, "/dyn?n=0", "gzip")  # empty body
    assert not r.has("Content-Encoding") and r.body == b""
    for status in (204, 304):
        r = get(srv, "/dyn?n=5000&status=%d" % status, "gzip")
        assert r.status == status and not r.has("Content-Encoding")
    r = get(srv, "/dyn?n=5000", "gzip", method="HEAD")
    assert r.status == 200 and not r.has("Content-Encoding")
    r = get(srv, "/off/dyn?n=5000", "gzip")  # doDynamicCompression="false" there
    assert r.status == 200 and not r.has("Content-Encoding") and r.body == text(5000)
    r = get(srv, "/cpu/dyn?n=5000", "gzip")
    assert r.status == 200 and not r.has("Content-Encoding") and r.body == text(5000)
    r = get(srv, "/types/dyn?n=5000", "gzip")  # staticTypes changed there, dynamicTypes not
    assert r.status == 200 and r.header("Content-Encoding") == "gzip"


def test_dynamic_error_status_and_etag(srv):
    r = get(srv, "/dyn?n=5000&status=203", "gzip")
    assert r.status == 203 and r.header("Content-Encoding") == "gzip"
    assert decode("gzip", r.body) == text(5000)
    # error pages (CustomErrorModule's, which replace the handler's body first) are compressed too
    r = get(srv, "/dyn?n=5000&status=500", "gzip")
    assert r.status == 500 and r.header("Content-Encoding") == "gzip"
    assert b"500" in decode("gzip", r.body)
    r = get(srv, "/dyn?n=5000&etag=1", "zstd")
    assert r.header("ETag") == '"dyn1-zstd"'
    r = get(srv, "/dyn?n=5000&etag=1")
    assert r.header("ETag") == '"dyn1"'


def test_dynamic_content_type_parameters(srv):
    r = get(srv, "/dyn?n=5000&type=application/json;%20charset=utf-8", "gzip")
    assert r.header("Content-Encoding") == "gzip"


# ---- GetRawHttpResponse -------------------------------------------------------------

def test_raw_response_changes_are_sent(srv):
    """A module that sets the status, headers and body through the raw HTTP_RESPONSE."""
    r = get(srv, "/dyn?raw=1&n=4000")
    assert r.status == 201 and r.reason == "Created"
    assert r.header("Content-Language") == "x-raw"
    assert r.header("X-Raw") == "yes"
    assert r.header("Content-Type") == "text/plain"
    assert r.body == text(4000)
    # and the compression module works on top of it
    r = get(srv, "/dyn?raw=1&n=4000", "gzip")
    assert r.status == 201 and r.header("X-Raw") == "yes"
    assert r.header("Content-Encoding") == "gzip" and decode("gzip", r.body) == text(4000)


def test_unsafe_cache_folder(server_factory, tmp_path):
    """A cache folder others may write to is not used: static compression is off, with a
    warning; dynamic compression, which needs no folder, still works."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    root = tmp_path / "site"
    root.mkdir()
    root.joinpath("web.config").write_text(web_config(
        '    <httpCompression directory="%s" staticCompressionIgnoreHitFrequency="true" />\n' % shared))
    root.joinpath("big.txt").write_bytes(BIG)
    srv = server_factory(root=root, use_config=False, cli_modules=[("Dyn", module_path("dyncontent"))])
    r = get(srv, "/big.txt", "gzip")
    assert r.status == 200 and not r.has("Content-Encoding") and r.body == BIG
    assert os.listdir(shared) == []
    assert "static compression is off" in srv.stderr()
    r = get(srv, "/dyn?n=5000", "gzip")
    assert r.header("Content-Encoding") == "gzip"
