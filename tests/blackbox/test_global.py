"""Process-wide (global) notifications and the IHttpServer services behind them:
file change monitors, cache operations, application start/stop/resolve/preload,
cache cleanup and health checks, thread cleanup, RSCA queries, custom notifications.

The test modules (tests/modules/globals.cpp, globals_c.c) record what they see and
report it on /_globals and /_globals_c; every wait below polls those reports."""

import os
import signal
import time
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

import pytest

from iisdtest import free_port, module_path

ROOT_APP = "MACHINE/WEBROOT/APPHOST/Default Web Site"
APP2 = ROOT_APP + "/app2"
APP3 = ROOT_APP + "/app3"
ERROR_NOT_FOUND = "0x80070490"


def write_config(path, port, www):
    q = quoteattr
    apps = []
    for app, preload in (("/", False), ("/app2", False), ("/app3", True), ("/slow", False)):
        phys = www if app == "/" else www / app[1:]
        phys.mkdir(exist_ok=True)
        (phys / "hello.txt").write_text("hello from %s\n" % app)
        apps.append('        <application path=%s preloadEnabled="%s">'
                    '<virtualDirectory path="/" physicalPath=%s/></application>'
                    % (q(app), "true" if preload else "false", q(str(phys))))
    mods = [("Globals", module_path("globals")), ("GlobalsC", module_path("globals_c"))]
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
        *["      <add name=%s image=%s/>" % (q(n), q(str(i))) for n, i in mods],
        "    </globalModules>",
        "    <modules>",
        *["      <add name=%s/>" % q(n) for n, _ in mods],
        "    </modules>",
        "  </system.webServer>",
        "</configuration>",
        "",
    ])
    Path(path).write_text(text)


@pytest.fixture
def gsrv(server_factory, tmp_path):
    port = free_port()
    www = tmp_path / "www"
    www.mkdir()
    cfg = tmp_path / "applicationHost.config"
    write_config(cfg, port, www)
    events = tmp_path / "events.txt"
    srv = server_factory(config_file=cfg, port=port, workers=1, env={"GLOBALS_EVENTS": str(events)})
    srv.events = events
    srv.cfg = cfg
    srv.www = www
    return srv


def report(srv, query, path="/_globals"):
    resp = srv.get(path + ("?" + query if query else ""))
    assert resp.status == 200, resp
    return resp.body.decode()


def facts(srv, query):
    """key=value lines of a report as a dict."""
    out = {}
    for line in report(srv, query).splitlines():
        k, _, v = line.partition("=")
        out[k] = v
    return out


def poll(fn, timeout=15.0):
    """Calls fn until it returns something true; returns that (fails on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            pytest.fail("condition not met within %.0f s (last: %r)" % (timeout, v))
        time.sleep(0.05)


def write_file(path, text):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


# --------------------------------------------------------------------------
# GL_FILE_CHANGE and IHttpFileMonitor
# --------------------------------------------------------------------------

def test_file_monitor_raises_file_change_with_its_monitor(gsrv, tmp_path):
    watched = tmp_path / "watched"
    watched.mkdir()
    assert report(gsrv, "op=watch&dir=" + quote(str(watched))) == "ok\n"
    target = watched / "settings.json"
    write_file(target, "{}")
    # the monitor's own module sees the change, with the monitor and its stored context
    poll(lambda: "%s 1" % target in report(gsrv, "op=changes").splitlines())
    # and so does every other module listening for GL_FILE_CHANGE (the C binding)
    poll(lambda: "file %s monitor=1" % target in report(gsrv, "", "/_globals_c").splitlines())
    assert report(gsrv, "op=unwatch") == "ok\n"


def test_file_monitor_on_a_missing_folder_fails(gsrv, tmp_path):
    body = report(gsrv, "op=watch&dir=" + quote(str(tmp_path / "nowhere")))
    assert body == "hr=0x80070003\n"  # ERROR_PATH_NOT_FOUND


def test_notify_file_change_reaches_every_module_without_a_monitor(gsrv):
    report(gsrv, "notify=/srv/some/file.txt", "/_globals_c")
    assert "file /srv/some/file.txt monitor=0" in report(gsrv, "", "/_globals_c").splitlines()
    assert "/srv/some/file.txt 0" in report(gsrv, "op=changes").splitlines()


# --------------------------------------------------------------------------
# DoCacheOperation and GL_CACHE_OPERATION
# --------------------------------------------------------------------------

def cache(srv, **kw):
    return report(srv, "op=cache&" + "&".join("%s=%s" % (k, v) for k, v in kw.items()))


def test_cache_operations_round_trip(gsrv):
    assert cache(gsrv, do="add", key="user-1", val="alice").startswith("hr=0x00000000\n")
    assert "val=alice" in cache(gsrv, do="get", key="user-1").splitlines()
    # ADD replaces an equal key
    cache(gsrv, do="add", key="user-1", val="alicia")
    assert "val=alicia" in cache(gsrv, do="get", key="user-1").splitlines()
    cache(gsrv, do="add", key="user-2", val="bob")
    cache(gsrv, do="add", key="group-1", val="staff")
    keys = [l for l in cache(gsrv, do="enum").splitlines() if l.startswith("key=")]
    assert sorted(keys) == ["key=group-1", "key=user-1", "key=user-2"]
    # DELETE, then RETRIEVE finds nothing
    assert cache(gsrv, do="del", key="user-2").startswith("hr=0x00000000\n")
    assert cache(gsrv, do="get", key="user-2").startswith("hr=%s\n" % ERROR_NOT_FOUND)
    assert cache(gsrv, do="del", key="user-2").startswith("hr=%s\n" % ERROR_NOT_FOUND)
    # FLUSH_PREFIX removes every key the given key is a prefix of
    assert cache(gsrv, do="flush", key="user").startswith("hr=0x00000000\n")
    assert cache(gsrv, do="get", key="user-1").startswith("hr=%s\n" % ERROR_NOT_FOUND)
    assert "val=staff" in cache(gsrv, do="get", key="group-1").splitlines()
    # every operation was announced with GL_CACHE_OPERATION first, ADD with its record
    ops = [l for l in cache(gsrv, do="enum").splitlines() if l.startswith("ops=")][0]
    assert ops.startswith("ops=add,retrieve,add,retrieve,add,add,enum,delete,retrieve,delete,flush,")


def test_file_cache_entries_answer_cache_operations(gsrv):
    data = gsrv.www / "data.txt"
    data.write_text("data\n")
    f = facts(gsrv, "op=filecache&path=" + quote(str(data)))
    assert f == {"name": "FILE", "retrieve": "0x00000000", "same": "1", "delete": "0x00000000",
                 "flushed": "1"}


# --------------------------------------------------------------------------
# applications: RESOLVE_MODULES, START, STOP, PRELOAD; warm-up; recycling
# --------------------------------------------------------------------------

def test_resolve_modules_adds_a_module_to_one_application(gsrv):
    r = gsrv.get("/app2/hello.txt")
    assert r.status == 200 and r.body == b"hello from /app2\n"
    assert r.header("X-App-Module") == "1"
    r = gsrv.get("/hello.txt")
    assert r.status == 200 and r.body == b"hello from /\n"
    assert not r.has("X-App-Module")
    r = gsrv.get("/app3/hello.txt")
    assert r.status == 200 and not r.has("X-App-Module")


def test_applications_start_at_their_first_request_or_preloaded(gsrv):
    # /app3 has preloadEnabled: started (and preloaded) before any request
    apps = report(gsrv, "op=apps").splitlines()
    assert "resolve " + APP3 in apps and "start " + APP3 in apps
    assert apps.index("resolve " + APP3) < apps.index("start " + APP3)
    assert "start " + APP2 not in apps
    f = facts(gsrv, "op=counts")
    assert f["preload"] == "1" and f["recycled"] == "0"
    gsrv.get("/app2/hello.txt")
    gsrv.get("/app2/hello.txt")
    apps = report(gsrv, "op=apps").splitlines()
    assert apps.count("start " + APP2) == 1 and apps.count("resolve " + APP2) == 1
    assert apps.count("start " + ROOT_APP) == 1
    assert "stop " + APP2 not in apps
    c_lines = report(gsrv, "", "/_globals_c").splitlines()
    assert "start %s /LM/W3SVC/1/ROOT/app2" % APP2 in c_lines
    assert "start %s /LM/W3SVC/1/ROOT" % ROOT_APP in c_lines


def test_an_application_whose_start_blocks(gsrv):
    # its first request waits for GL_APPLICATION_START (which blocks past the hand-off
    # threshold: the loop goes on on another thread and takes the request up again)
    c1, c2 = gsrv.client(), gsrv.client()
    c1.request("GET", "/slow/hello.txt")
    c2.request("GET", "/slow/hello.txt")
    for c in (c1, c2):
        r = c.read_response()
        assert r.status == 200 and r.body == b"hello from /slow\n"
    r = gsrv.get("/hello.txt")
    assert r.status == 200
    apps = report(gsrv, "op=apps").splitlines()
    assert apps.count("start " + ROOT_APP + "/slow") == 1


def test_recycle_application_stops_and_restarts_it(gsrv):
    gsrv.get("/app2/hello.txt")
    assert report(gsrv, "op=recycle") == "ok\n"
    poll(lambda: "stop " + APP2 in report(gsrv, "op=apps").splitlines())
    apps = report(gsrv, "op=apps").splitlines()
    assert "stop " + APP3 in apps and "stop " + ROOT_APP in apps
    r = gsrv.get("/app2/hello.txt")
    assert r.header("X-App-Module") == "1"  # registered again by the new RESOLVE_MODULES
    apps = report(gsrv, "op=apps").splitlines()
    assert apps.count("start " + APP2) == 2 and apps.count("resolve " + APP2) == 2
    f = facts(gsrv, "op=counts")
    assert f["preload"] == "2" and f["recycled"] == "1"


def test_applications_stop_at_shutdown(gsrv):
    gsrv.get("/app2/hello.txt")
    gsrv.get("/hello.txt")
    assert gsrv.terminate() == 0
    events = gsrv.events.read_text().splitlines()
    # every started application stops once; /app2 after it started
    for app in (ROOT_APP, APP2, APP3):
        assert events.count("stop " + app) == 1
        assert events.index("start " + app) < events.index("stop " + app)


def test_application_warmup_is_tracked(gsrv):
    assert report(gsrv, "op=warmup&do=begin") == "warming=1\n"
    assert facts(gsrv, "op=counts")["warming"] == "1"
    assert report(gsrv, "op=warmup&do=begin") == "warming=1\n"
    assert report(gsrv, "op=warmup&do=end") == "warming=1\n"
    assert report(gsrv, "op=warmup&do=end") == "warming=0\n"
    assert report(gsrv, "op=warmup&do=end") == "warming=0\n"


def test_metadata_of_a_url_outside_a_request(gsrv):
    f = facts(gsrv, "op=metadata&site=Default+Web+Site&url=/_globals")
    assert f["vr"].rstrip("/") == str(gsrv.www)
    del f["vr"]
    assert f == {"hr": "0x00000000", "path": ROOT_APP + "/_globals", "same": "1"}
    f = facts(gsrv, "op=metadata&site=Default+Web+Site&url=/app2/docs/")
    assert f["path"] == APP2 + "/docs" and f["vr"].rstrip("/") == str(gsrv.www / "app2")
    assert facts(gsrv, "op=metadata&site=Nowhere&url=/") == {"hr": ERROR_NOT_FOUND}


def test_app_pool_config_file_is_the_configuration_read(gsrv):
    f = facts(gsrv, "op=poolfile")
    assert f["file"] == str(gsrv.cfg.resolve())
    assert f["len"] == str(len(str(gsrv.cfg.resolve())))


# --------------------------------------------------------------------------
# periodic notifications, threads, RSCA, custom notifications
# --------------------------------------------------------------------------

def test_cache_cleanup_and_health_check_are_periodic(gsrv):
    poll(lambda: int(facts(gsrv, "op=counts")["cleanup"]) >= 2)
    poll(lambda: int(facts(gsrv, "op=counts")["health"]) >= 1)


def test_thread_cleanup_after_a_blocking_module_hands_its_thread_back(gsrv):
    before = int(facts(gsrv, "op=counts")["thread"])
    # blocking past the takeover threshold detaches the thread; when it is done it
    # goes back to the pool and GL_THREAD_CLEANUP names the application it ran
    assert report(gsrv, "op=sleep&ms=300") == "slept\n"
    f = poll(lambda: (lambda f: f if int(f["thread"]) > before else None)(facts(gsrv, "op=counts")))
    assert f["thread_app"] == ROOT_APP


def test_rsca_query_on_sigusr1(gsrv):
    gsrv.proc.send_signal(signal.SIGUSR1)
    hit = gsrv.wait_for_log(lambda lvl, msg: "RSCA query GetStatus()" in msg, timeout=10)
    assert hit is not None
    assert "handled" in hit[1] and "globals rsca GetStatus" in hit[1]
    assert facts(gsrv, "op=counts")["rsca"] == "1"


def test_custom_notification_from_the_server(gsrv):
    assert report(gsrv, "op=custom") == "ok\n"
    assert report(gsrv, "op=custom") == "ok\n"
    assert facts(gsrv, "op=counts")["custom"] == "2"
