"""CustomErrorModule (system.webServer/httpErrors): error responses of a server
started without a config file (stock configuration) get the detailed page for
local clients, the configured custom pages (File, ExecuteURL, Redirect, per
language and sub-status) where web.config files ask for them, and the
existingResponse rules for modules that set fTrySkipCustomErrors."""

import html
from pathlib import Path

import pytest

from iisdtest import AppHostConfig, free_port, module_path

REPO = Path(__file__).resolve().parents[2]


def web_config(attrs, inner=""):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<configuration>\n'
            "  <system.webServer>\n    <httpErrors %s>\n%s    </httpErrors>\n"
            "  </system.webServer>\n</configuration>\n" % (attrs, inner))


def folder(root, name, attrs, inner=""):
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "web.config").write_text(web_config(attrs, inner))
    (d / "ok.txt").write_bytes(b"fine\n")
    return d


@pytest.fixture
def pages(tmp_path):
    p = tmp_path / "errs"
    for lang in ("en-US", "de-DE", "fr"):
        (p / lang).mkdir(parents=True)
        (p / lang / "nf.htm").write_text("<p>not found (%s)</p>" % lang)
    (p / "en-US" / "nf3.htm").write_text("<p>no MIME type</p>")
    return p


@pytest.fixture
def root(tmp_path, pages):
    r = tmp_path / "www"
    r.mkdir()
    (r / "hello.txt").write_bytes(b"Hello static\n")
    (r / "errors").mkdir()
    (r / "errors" / "gone.htm").write_text("<p>executed page</p>")
    (r / "errors" / "rel.htm").write_text("<p>relative file</p>")
    prefix = 'prefixLanguageFilePath="%s"' % pages
    folder(r, "custom", 'errorMode="Custom"')
    folder(r, "lang", 'errorMode="Custom"',
           '      <remove statusCode="404" />\n'
           '      <error statusCode="404" %s path="nf.htm" />\n'
           '      <error statusCode="404" subStatusCode="3" %s path="nf3.htm" />\n' % (prefix, prefix))
    folder(r, "redir", 'errorMode="Custom"',
           '      <remove statusCode="404" />\n'
           '      <error statusCode="404" path="http://example.com/notfound" responseMode="Redirect" />\n')
    folder(r, "exec", 'errorMode="Custom"',
           '      <remove statusCode="404" />\n'
           '      <error statusCode="404" path="/errors/gone.htm" responseMode="ExecuteURL" />\n')
    folder(r, "rel", 'errorMode="Custom"',
           '      <remove statusCode="404" />\n'
           '      <error statusCode="404" path="errors\\rel.htm" />\n')
    folder(r, "dflt", 'errorMode="Custom" defaultPath="/errors/gone.htm" defaultResponseMode="ExecuteURL"',
           "      <clear />\n")
    folder(r, "none", 'errorMode="Custom"', "      <clear />\n")
    folder(r, "detailed", 'errorMode="Detailed"')
    return r


@pytest.fixture
def srv(server_factory, root):
    return server_factory(root=root, use_config=False,
                          cli_modules=[("StatusModule", module_path("status"))])


def status_srv(server_factory, tmp_path, existing, mode="Custom"):
    r = tmp_path / "www2"
    r.mkdir()
    (r / "web.config").write_text(web_config('errorMode="%s" existingResponse="%s"' % (mode, existing)))
    return server_factory(root=r, use_config=False,
                          cli_modules=[("StatusModule", module_path("status"))])


def test_local_client_gets_the_detailed_page(srv, root):
    r = srv.get("/missing.txt")
    assert r.status == 404
    assert r.header("Content-Type") == "text/html"
    body = r.body.decode()
    assert "HTTP Error 404.0 - Not Found" in body
    assert "<th>Module</th><td>IIS Web Core</td>" in body
    assert "<th>Notification</th><td>MapRequestHandler</td>" in body
    assert "<th>Handler</th><td>StaticFile</td>" in body
    assert "<th>Error Code</th><td>0x80070002</td>" in body
    assert "<th>Physical Path</th><td>%s</td>" % html.escape(str(root / "missing.txt")) in body
    assert "/missing.txt</td>" in body


def test_detailed_page_names_the_module_and_notification_that_failed(srv):
    r = srv.get("/status/x?code=503&sub=7")
    assert r.status == 503
    body = r.body.decode()
    assert "HTTP Error 503.7 - Test Reason" in body
    assert "<th>Module</th><td>StatusModule</td>" in body
    assert "<th>Notification</th><td>BeginRequest</td>" in body
    assert "<th>Error Code</th><td>0x80070005</td>" in body


def test_detailed_page_escapes_the_url(srv):
    r = srv.get("/%3Cscript%3Ealert(1)%3C/script%3E.txt")
    assert r.status == 404
    body = r.body.decode()
    assert "<script>" not in body
    assert "&lt;script&gt;alert(1)" in body


def test_custom_mode_serves_the_stock_page(srv):
    r = srv.get("/custom/missing.txt")
    assert r.status == 404
    assert r.header("Content-Type") == "text/html"
    assert r.body == (REPO / "custerr" / "en-US" / "404.htm").read_bytes()


def test_custom_mode_without_a_page_sends_the_short_page(srv):
    r = srv.get("/none/missing.txt")
    assert r.status == 404
    body = r.body.decode()
    assert "404.0 - Not Found" in body
    assert "Detailed Error Information" not in body
    assert "Physical Path" not in body


@pytest.mark.parametrize("accept,expected", [
    (None, "en-US"),
    ("de-DE,de;q=0.9,en;q=0.5", "de-DE"),
    ("de-de", "de-DE"),
    ("fr-CA;q=0.3, fr;q=0.8", "fr"),
    ("de-DE;q=0, fr;q=0.1", "fr"),
    ("it, *", "en-US"),
])
def test_file_page_follows_accept_language(srv, accept, expected):
    headers = {"Accept-Language": accept} if accept else None
    r = srv.get("/lang/missing.txt", headers=headers)
    assert r.status == 404
    assert r.body.decode() == "<p>not found (%s)</p>" % expected


def test_substatus_entry_wins_over_the_status_entry(srv, root):
    (root / "lang" / "file.zzz").write_bytes(b"x")
    r = srv.get("/lang/file.zzz")
    assert (r.status, r.body) == (404, b"<p>no MIME type</p>")


def test_redirect_mode(srv):
    r = srv.get("/redir/missing.txt")
    assert r.status == 302
    assert r.header("Location") == "http://example.com/notfound"


def test_execute_url_mode_keeps_the_status(srv):
    r = srv.get("/exec/missing.txt")
    assert (r.status, r.body) == (404, b"<p>executed page</p>")


def test_relative_file_path_is_taken_from_the_application_root(srv):
    r = srv.get("/rel/missing.txt")
    assert (r.status, r.body) == (404, b"<p>relative file</p>")


def test_default_path_is_locked_for_web_config(srv):
    # applicationHost.config locks defaultPath, as IIS's does: a web.config that sets it is invalid
    r = srv.get("/dflt/missing.txt")
    assert r.status == 500
    assert "HTTP Error 500.19" in r.body.decode()


def test_default_path_applies_when_no_entry_matches(server_factory, tmp_path, root):
    port = free_port()
    cfg = AppHostConfig()
    cfg.add_site("Site", 1, ["127.0.0.1:%d:" % port], root)
    errors = cfg.section("system.webServer/httpErrors")
    errors.set("errorMode", "Custom")
    errors.set("defaultPath", "/errors/gone.htm")
    errors.set("defaultResponseMode", "ExecuteURL")
    for e in list(errors):
        errors.remove(e)
    s = server_factory(config_file=cfg.write(tmp_path / "applicationHost.config"), port=port)
    r = s.get("/missing.txt")
    assert (r.status, r.body) == (404, b"<p>executed page</p>")


def test_success_and_redirect_responses_are_untouched(srv, root):
    r = srv.get("/custom/ok.txt")
    assert (r.status, r.body) == (200, b"fine\n")
    r = srv.get("/custom")
    assert r.status == 301
    assert "Server Error" not in r.body.decode(errors="replace")


def test_headers_of_the_error_are_kept(srv):
    r = srv.get("/status/x?code=401&sub=2&auth=Basic%20realm%3Dx")
    assert r.status == 401
    assert r.header("WWW-Authenticate") == "Basic%20realm%3Dx"
    assert "HTTP Error 401.2" in r.body.decode()
    r = srv.get("/hello.txt", method="DELETE")
    assert r.status == 405
    assert r.header("Allow") is not None
    assert "HTTP Error 405.0" in r.body.decode()


def test_head_gets_no_body(srv):
    r = srv.get("/missing.txt", method="HEAD")
    assert r.status == 404
    assert r.body == b""
    assert int(r.header("Content-Length")) > 0


def test_auto_leaves_a_response_that_asks_to_skip_custom_errors(server_factory, tmp_path):
    s = status_srv(server_factory, tmp_path, "Auto")
    r = s.get("/status/x?code=500&skip=1&body=module-body")
    assert (r.status, r.body) == (500, b"module-body")
    assert r.header("Content-Type") == "text/plain"
    r = s.get("/status/x?code=500&body=module-body")
    assert r.status == 500
    assert r.body == (REPO / "custerr" / "en-US" / "500.htm").read_bytes()


def test_replace_ignores_the_skip_flag(server_factory, tmp_path):
    s = status_srv(server_factory, tmp_path, "Replace")
    r = s.get("/status/x?code=500&skip=1&body=module-body")
    assert r.status == 500
    assert r.body == (REPO / "custerr" / "en-US" / "500.htm").read_bytes()


def test_detailed_mode_is_detailed_for_every_client(srv):
    r = srv.get("/detailed/missing.txt")
    assert r.status == 404
    assert "Detailed Error Information" in r.body.decode()


def test_passthrough_keeps_a_response_that_has_a_body(server_factory, tmp_path):
    s = status_srv(server_factory, tmp_path, "PassThrough")
    r = s.get("/status/x?code=500&body=module-body")
    assert (r.status, r.body) == (500, b"module-body")
    r = s.get("/status/x?code=500")
    assert r.status == 500
    assert r.body == (REPO / "custerr" / "en-US" / "500.htm").read_bytes()


def test_replaced_page_keeps_every_other_header(server_factory, tmp_path):
    s = status_srv(server_factory, tmp_path, "Replace")
    r = s.get("/status/x?code=503&body=x&auth=Token")
    assert r.status == 503
    assert r.header("WWW-Authenticate") == "Token"
    assert r.header("Content-Type") == "text/html"
