"""Requests without a client connection: the warm-up requests a module makes in
GL_APPLICATION_PRELOAD with IGlobalApplicationPreloadProvider::CreateContext and
ExecuteRequest. The test module (tests/modules/warmup.cpp) makes them for the
application /warm, which has preloadEnabled, and reports what it saw on /_warmup."""

import time
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest

from iisdtest import free_port, module_path

ERROR_NOT_SUPPORTED = "0x80070032"
ERROR_INVALID_PARAMETER = "0x80070057"


def write_config(path, port, www):
    q = quoteattr
    apps = []
    for app, preload in (("/", False), ("/warm", True)):
        phys = www if app == "/" else www / app[1:]
        phys.mkdir(exist_ok=True)
        (phys / "hello.txt").write_text("hello from %s\n" % app)
        apps.append('        <application path=%s preloadEnabled="%s">'
                    '<virtualDirectory path="/" physicalPath=%s/></application>'
                    % (q(app), "true" if preload else "false", q(str(phys))))
    text = "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<configuration>",
        "  <system.applicationHost>",
        "    <sites>",
        '      <site name="Default Web Site" id="1">',
        *apps,
        '        <bindings><binding protocol="http" bindingInformation=%s/></bindings>'
        % q("127.0.0.1:%d:" % port),
        "      </site>",
        "    </sites>",
        "  </system.applicationHost>",
        "  <system.webServer>",
        "    <globalModules>",
        "      <add name=\"Warmup\" image=%s/>" % q(str(module_path("warmup"))),
        "    </globalModules>",
        "    <modules>",
        "      <add name=\"Warmup\"/>",
        "    </modules>",
        "  </system.webServer>",
        "</configuration>",
        "",
    ])
    Path(path).write_text(text)


@pytest.fixture
def wsrv(server_factory, tmp_path):
    port = free_port()
    www = tmp_path / "www"
    www.mkdir()
    cfg = tmp_path / "applicationHost.config"
    write_config(cfg, port, www)
    srv = server_factory(config_file=cfg, port=port, workers=1)
    srv.port = port
    return srv


def report(srv):
    r = srv.get("/_warmup")
    assert r.status == 200, r
    out = {}
    for line in r.body.decode().splitlines():
        k, _, v = line.partition("=")
        out[k] = v
    return out


def test_a_warm_up_request_runs_through_the_applications_pipeline(wsrv):
    f = report(wsrv)
    assert f["create"] == "0x00000000"
    # a new context is a GET of the application's root, for the site's first binding
    assert f["first_url"] == "/warm"
    assert f["first_method"] == "GET"
    assert f["first_host"] == "localhost:%d" % wsrv.port  # the binding names no host
    # the module set its URL and a header; the page module answered it
    assert f["page_hr"] == "0x00000000"
    assert f["page_status"] == "201"
    assert f["page_xpage"] == "1"
    assert f["page_body"] == "page url=/warm/page query=from=preload warmup=yes remote=127.0.0.1"
    assert f["page_release"] == "0x00000000"
    # RQ_BEGIN_REQUEST and RQ_LOG_REQUEST saw each of the three warm-up requests
    assert f["begin"] == "3"
    assert f["log"] == "3"


def test_a_static_file_goes_to_memory(wsrv):
    f = report(wsrv)
    assert f["file_hr"] == "0x00000000"
    assert f["file_status"] == "200"
    assert f["file_body"] == "hello from /warm"  # the module's report is line-based: up to the newline
    assert f["again"] == ERROR_NOT_SUPPORTED  # each context runs once


def test_a_pending_module_is_waited_for(wsrv):
    f = report(wsrv)
    assert f["pending_hr"] == "0x00000000"
    assert f["pending_status"] == "200"
    assert f["pending_body"] == "async done"


def test_bad_arguments(wsrv):
    f = report(wsrv)
    assert f["create_null"] == ERROR_INVALID_PARAMETER
    assert f["exec_null"] == ERROR_INVALID_PARAMETER


def test_client_requests_are_not_warm_up_requests(wsrv):
    r = wsrv.get("/warm/page?from=client")
    assert r.status == 201
    assert r.body == b"page url=/warm/page query=from=client warmup= remote=127.0.0.1"
    assert report(wsrv)["begin"] == "3"


def test_a_new_generation_warms_up_again(wsrv):
    # RecycleApplication loads a new generation; the preload (and its warm-up requests) runs on
    # the server's configuration thread this time
    assert wsrv.get("/_warmup?recycle=1").status == 200
    deadline = time.monotonic() + 15
    while report(wsrv)["log"] != "6":
        if time.monotonic() > deadline:
            pytest.fail("no second warm-up: %r" % report(wsrv))
        time.sleep(0.05)
    f = report(wsrv)
    assert f["begin"] == "6"
    assert f["page_status"] == "201" and f["file_status"] == "200" and f["pending_body"] == "async done"
