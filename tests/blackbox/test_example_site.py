"""The example site as `make run` serves it: `iisd --path examples/site` with the built-in
default configuration, where default documents, no directory listing, compression, W3C
logging and IIS-style error pages all work together."""

import gzip
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parents[2] / "examples" / "site"


@pytest.fixture
def srv(server_factory):
    return server_factory(root=SITE, use_config=False)


def test_default_document_and_folders(srv):
    r = srv.get("/")
    assert r.status == 200
    assert r.body == (SITE / "index.html").read_bytes()
    assert srv.get("/docs/").body == (SITE / "docs" / "index.html").read_bytes()
    r = srv.get("/docs")
    assert r.status == 301 and r.header("Location").endswith("/docs/")


def test_directory_listing_is_off(srv):
    r = srv.get("/files/")
    assert r.status == 403
    assert "403.14" in r.body.decode()
    assert "readme.txt" not in r.body.decode()


def test_compression(srv):
    headers = {"Accept-Encoding": "gzip"}
    first = srv.get("/docs/tour.html", headers=headers)
    assert first.status == 200 and first.header("Vary") == "Accept-Encoding"
    # static compression starts with the second request for the file within ten seconds
    second = srv.get("/docs/tour.html", headers=headers)
    assert second.header("Content-Encoding") == "gzip"
    assert gzip.decompress(second.body) == (SITE / "docs" / "tour.html").read_bytes()


def test_error_pages(srv):
    r = srv.get("/missing.htm")
    assert r.status == 404
    body = r.body.decode()
    assert "HTTP Error 404.0 - Not Found" in body
    assert "Detailed Error Information" in body
    # request filtering answers with its sub-status, on the same kind of page
    r = srv.get("/web.config")
    assert r.status == 404 and "404.8" in r.body.decode()


def test_every_request_is_logged(srv, tmp_path):
    for path in ("/", "/hello.txt", "/missing.htm"):
        srv.get(path)
    assert srv.terminate() == 0
    logs = list((tmp_path / "logs" / "W3SVC1").glob("u_ex*.log"))
    assert len(logs) == 1
    text = logs[0].read_text().splitlines()
    fields = [l for l in text if l.startswith("#Fields: ")][0].split()[1:]
    rows = [dict(zip(fields, l.split(" "))) for l in text if not l.startswith("#")]
    # (separate connections: the lines may come in any order)
    assert sorted((r["cs-uri-stem"], r["sc-status"]) for r in rows) == [
        ("/", "200"), ("/hello.txt", "200"), ("/missing.htm", "404")]
