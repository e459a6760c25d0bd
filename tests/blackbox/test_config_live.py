"""Live configuration changes: web.config files and applicationHost.config are
picked up without a restart (within 2 seconds; the tests allow 3)."""

import re
import threading
import time
import xml.etree.ElementTree as ET

from iisdtest import (SLOWDOWN, AppHostConfig, RawClient, copy_module, free_port, line_of,
                      module_path, poll)
from test_config import SITE, add_header_modules, body_text, modules_section, web_config, x_modules

PICKUP = 3.0 * SLOWDOWN  # seconds allowed for a change to take effect (the contract says 2)


def live_site(tmp_path, port, extra_modules=()):
    """Site root www/ (a.txt) with HeaderA enabled; application /app (appdir/,
    b.txt, sub/c.txt) whose web.config swaps HeaderA for HeaderB."""
    www, app = tmp_path / "www", tmp_path / "appdir"
    www.mkdir()
    app.mkdir()
    (app / "sub").mkdir()
    (www / "a.txt").write_bytes(b"root file\n")
    (app / "b.txt").write_bytes(b"app file\n")
    (app / "sub" / "c.txt").write_bytes(b"sub file\n")
    (app / "web.config").write_text(web_config(modules_section("-HeaderA", "+HeaderB")))
    cfg = AppHostConfig()
    add_header_modules(cfg, tmp_path)
    for name, image in extra_modules:
        cfg.add_global_module(name, image)
    cfg.enable_module("HeaderA")
    cfg.add_site(SITE, 1, ["127.0.0.1:%d:" % port], www, apps=[("/app", app)])
    return cfg


def wait_modules(srv, path, expected, host="localhost"):
    """Polls until X-Modules of `path` is `expected` (a list); returns the last response."""
    last = []

    def check():
        r = srv.get(path, host=host)
        last[:] = [r]
        return r.status == 200 and x_modules(r) == expected
    poll(check, PICKUP)
    return last[0]


def wait_status(srv, path, status, host="localhost"):
    last = []

    def check():
        r = srv.get(path, host=host)
        last[:] = [r]
        return r.status == status
    poll(check, PICKUP)
    return last[0]


def test_web_config_edits_are_live(server_factory, tmp_path):
    port = free_port()
    cfg = live_site(tmp_path, port)
    srv = server_factory(config_file=cfg.write(tmp_path / "applicationHost.config"), port=port)
    app_wc = tmp_path / "appdir" / "web.config"

    r = srv.get("/app/b.txt")
    assert (r.status, x_modules(r)) == (200, ["HeaderB"])

    # rewrite in place (same size, as an editor that truncates and writes)
    app_wc.write_text(web_config(modules_section("-HeaderA", "+HeaderC")))
    r = wait_modules(srv, "/app/b.txt", ["HeaderC"])
    assert x_modules(r) == ["HeaderC"], "web.config change not picked up within %.0fs" % PICKUP
    assert x_modules(srv.get("/app/sub/c.txt")) == ["HeaderC"]
    assert x_modules(srv.get("/a.txt")) == ["HeaderA"]

    # a malformed web.config created in a folder: 500.19 there, 200 elsewhere
    sub_wc = tmp_path / "appdir" / "sub" / "web.config"
    sub_wc.write_text("<configuration>\n  <system.webServer>\n    <defaultDocument enabled=\n"
                      "</configuration>\n")
    r = wait_status(srv, "/app/sub/c.txt", 500)
    assert r.status == 500 and "500.19" in body_text(r), r
    r = srv.get("/app/b.txt")
    assert (r.status, x_modules(r)) == (200, ["HeaderC"])
    assert srv.get("/a.txt").status == 200

    # fixed: back to 200
    sub_wc.write_text(web_config("  <system.webServer>\n"
                                 '    <directoryBrowse enabled="false" />\n'
                                 "  </system.webServer>\n"))
    r = wait_status(srv, "/app/sub/c.txt", 200)
    assert (r.status, r.body, x_modules(r)) == (200, b"sub file\n", ["HeaderC"])

    # deleted: /app inherits the root's module list again
    app_wc.unlink()
    r = wait_modules(srv, "/app/b.txt", ["HeaderA"])
    assert x_modules(r) == ["HeaderA"], "web.config deletion not picked up"

    # created again
    app_wc.write_text(web_config(modules_section("+HeaderB")))
    r = wait_modules(srv, "/app/b.txt", ["HeaderA", "HeaderB"])
    assert x_modules(r) == ["HeaderA", "HeaderB"], "web.config creation not picked up"


def test_malformed_web_config_at_application_root_live(server_factory, tmp_path):
    """A web.config at an application's root (where <modules> is resolved)
    turns malformed: that application answers 500.19, the rest of the site
    does not; fixed, it serves again."""
    port = free_port()
    cfg = live_site(tmp_path, port)
    srv = server_factory(config_file=cfg.write(tmp_path / "applicationHost.config"), port=port)
    app_wc = tmp_path / "appdir" / "web.config"
    assert x_modules(srv.get("/app/b.txt")) == ["HeaderB"]
    app_wc.write_text("<configuration>\n  <system.webServer>\n    <modules>\n"
                      "</configuration>\n")
    r = wait_status(srv, "/app/b.txt", 500)
    assert r.status == 500 and "500.19" in body_text(r), r
    assert srv.get("/app/sub/c.txt").status == 500
    r = srv.get("/a.txt")
    assert (r.status, x_modules(r)) == (200, ["HeaderA"])
    app_wc.write_text(web_config(modules_section("-HeaderA", "+HeaderC")))
    r = wait_modules(srv, "/app/b.txt", ["HeaderC"])
    assert (r.status, x_modules(r)) == (200, ["HeaderC"])


def test_web_config_replaced_by_rename(server_factory, tmp_path):
    """Editors often write a new file and rename it over the old one."""
    port = free_port()
    cfg = live_site(tmp_path, port)
    srv = server_factory(config_file=cfg.write(tmp_path / "applicationHost.config"), port=port)
    assert x_modules(srv.get("/app/b.txt")) == ["HeaderB"]
    tmp = tmp_path / "appdir" / "web.config.new"
    tmp.write_text(web_config(modules_section("-HeaderA", "+HeaderC", "+HeaderB")))
    tmp.rename(tmp_path / "appdir" / "web.config")
    r = wait_modules(srv, "/app/b.txt", ["HeaderC", "HeaderB"])
    assert x_modules(r) == ["HeaderC", "HeaderB"]


def test_request_in_flight_keeps_its_configuration(server_factory, tmp_path):
    """The root web.config enables Sleep (which answers /sleep after 2 s); it
    changes (HeaderC instead of Sleep) while a /sleep request runs: that request completes on the
    configuration it started with, new requests use the new one."""
    port = free_port()
    cfg = live_site(tmp_path, port, extra_modules=[("Sleep", module_path("sleep"))])
    root_wc = tmp_path / "www" / "web.config"
    root_wc.write_text(web_config(modules_section("+Sleep")))
    srv = server_factory(config_file=cfg.write(tmp_path / "applicationHost.config"), port=port)
    r = srv.get("/a.txt")
    assert r.body == b"fast"  # (Sleep clears the response, X-Modules included)

    result = {}

    def slow():
        try:
            result["resp"] = srv.get("/sleep", timeout=10)
        except Exception as e:  # reported below
            result["error"] = e
    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.6)  # /sleep is in its 2 s sleep now
    root_wc.write_text(web_config(modules_section("+HeaderC")))
    r = wait_modules(srv, "/a.txt", ["HeaderA", "HeaderC"])
    t.join(10)
    assert x_modules(r) == ["HeaderA", "HeaderC"], "change not picked up"
    assert r.body == b"root file\n"  # Sleep is gone: the static file answers
    assert "error" not in result, result.get("error")
    slow_resp = result["resp"]
    assert (slow_resp.status, slow_resp.body) == (200, b"slept")
    assert srv.get("/sleep").status == 404  # no such file, and no Sleep module any more


def test_applicationhost_config_edits_are_live(server_factory, tmp_path):
    port = free_port()
    cfg = live_site(tmp_path, port)
    ah = cfg.write(tmp_path / "applicationHost.config")
    srv = server_factory(config_file=ah, port=port)
    assert x_modules(srv.get("/a.txt")) == ["HeaderA"]
    assert srv.get("/new.txt", host="new.test").status == 404

    # a new site on the same port, bound to a host name
    new_root = tmp_path / "newsite"
    new_root.mkdir()
    (new_root / "new.txt").write_bytes(b"the new site\n")
    cfg.add_site("New Site", 2, ["127.0.0.1:%d:new.test" % port], new_root)
    cfg.write(ah)
    r = wait_status(srv, "/new.txt", 200, host="new.test")
    assert (r.status, r.body) == (200, b"the new site\n"), "new site not picked up"
    assert srv.get("/a.txt").body == b"root file\n"

    # a changed module list (modules already in <globalModules>)
    cfg.disable_module("HeaderA")
    cfg.enable_module("HeaderC")
    cfg.write(ah)
    r = wait_modules(srv, "/a.txt", ["HeaderC"])
    assert x_modules(r) == ["HeaderC"], "module list change not picked up"
    assert x_modules(srv.get("/app/b.txt")) == ["HeaderC", "HeaderB"]
    assert x_modules(srv.get("/new.txt", host="new.test")) == ["HeaderC"]


def test_applicationhost_config_new_port_is_live(server_factory, tmp_path):
    port, port2 = free_port(), free_port()
    cfg = live_site(tmp_path, port)
    ah = cfg.write(tmp_path / "applicationHost.config")
    srv = server_factory(config_file=ah, port=port)
    assert srv.get("/a.txt").status == 200
    site = cfg.site(SITE)
    ET.SubElement(site.find("bindings"), "binding",
                  {"protocol": "http", "bindingInformation": "127.0.0.1:%d:" % port2})
    cfg.write(ah)

    def on_port2():
        try:
            c = RawClient(port2, timeout=2)
        except OSError:
            return None
        try:
            c.request("GET", "/a.txt")
            return c.read_response()
        finally:
            c.close()
    r = poll(on_port2, PICKUP)
    assert r is not None, "no listener on the new binding's port %d" % port2
    assert (r.status, r.body) == (200, b"root file\n")


def test_broken_applicationhost_config_keeps_previous(server_factory, tmp_path):
    port = free_port()
    cfg = live_site(tmp_path, port)
    ah = cfg.write(tmp_path / "applicationHost.config")
    srv = server_factory(config_file=ah, port=port)
    assert x_modules(srv.get("/a.txt")) == ["HeaderA"]

    # malformed XML at a known line
    text = cfg.text()
    lines = text.splitlines()
    anchor = line_of(text, "<globalModules")
    lines.insert(anchor, "        <oops attr=novalue />")
    bad_line = anchor + 1
    ah.write_text("\n".join(lines) + "\n")

    def logged(line):
        pat = re.compile(r"(:%d\b|line\D{0,10}%d\b)" % (line, line))
        return srv.wait_for_log(
            lambda level, msg: str(ah) in re.sub(r"/{2,}", "/", msg) and pat.search(msg),
            timeout=PICKUP)
    assert logged(bad_line), "no log line naming %s:%d; stderr:\n%s" % (
        ah, bad_line, srv.stderr()[-3000:])
    for _ in range(3):
        r = srv.get("/a.txt")
        assert (r.status, r.body, x_modules(r)) == (200, b"root file\n", ["HeaderA"])
        assert x_modules(srv.get("/app/b.txt")) == ["HeaderB"]

    # well-formed, but an invalid value: also refused, also logged
    cfg.disable_module("HeaderA")
    cfg.enable_module("HeaderC")
    cfg.section("system.webServer/directoryBrowse").set("enabled", "sometimes")
    text = cfg.text()
    ah.write_text(text)
    assert logged(line_of(text, 'enabled="sometimes"')), srv.stderr()[-3000:]
    assert x_modules(srv.get("/a.txt")) == ["HeaderA"]

    # fixed: the new configuration is used
    cfg.section("system.webServer/directoryBrowse").set("enabled", "false")
    cfg.write(ah)
    r = wait_modules(srv, "/a.txt", ["HeaderC"])
    assert x_modules(r) == ["HeaderC"], "valid configuration after a broken one not picked up"
    # (the fixture checks that SIGTERM still ends the server with exit code 0)


def test_configuration_change_notification(server_factory, tmp_path):
    """GL_CONFIGURATION_CHANGE reaches global modules with the changed path."""
    port = free_port()
    cfg = live_site(tmp_path, port,
                    extra_modules=[("ConfigReader", copy_module("config_reader", tmp_path / "mods",
                                                                "config_reader"))])
    cfg.enable_module("ConfigReader")
    ah = cfg.write(tmp_path / "applicationHost.config")
    srv = server_factory(config_file=ah, port=port)

    def changes():
        r = srv.get("/config-changes")
        assert r.status == 200, r
        return [line for line in body_text(r).splitlines() if line]
    before = changes()
    (tmp_path / "appdir" / "web.config").write_text(
        web_config(modules_section("-HeaderA", "+HeaderC")))
    app_path = "MACHINE/WEBROOT/APPHOST/%s/app" % SITE
    got = poll(lambda: [c for c in changes()[len(before):] if c.startswith(app_path)], PICKUP)
    assert got, "no GL_CONFIGURATION_CHANGE for %s; seen: %r" % (app_path, changes())

    count = len(changes())
    cfg.enable_module("HeaderB")
    cfg.write(ah)
    got = poll(lambda: [c for c in changes()[count:] if c.startswith("MACHINE/WEBROOT/APPHOST")],
               PICKUP)
    assert got, "no GL_CONFIGURATION_CHANGE for applicationHost.config; seen: %r" % changes()

