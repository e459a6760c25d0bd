"""The configuration system: sites and Host routing, applications, web.config
files merged down the path, <location>, delegation and locking (500.19).

Every configuration here starts from `iisd --print-default-config` and is
edited the way an IIS administrator edits applicationHost.config
(AppHostConfig in iisdtest.py).  Modules: header.cpp (appends its registered
name to X-Modules and lets the static file answer) and sleep.c (/vars)."""

import re
import subprocess
import xml.etree.ElementTree as ET

import pytest

from iisdtest import (IISD_BIN, AppHostConfig, RawClient, copy_module, default_config_text,
                      free_port, line_of, module_path)

SITE = "Default Web Site"
HEADERS = ("HeaderA", "HeaderB", "HeaderC")


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def web_config(body):
    """A web.config whose <configuration> holds `body` (line 3 is body's first line)."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<configuration>\n' + body
            + "</configuration>\n")


def modules_section(*entries):
    """<system.webServer><modules> with entries like "+HeaderB", "-HeaderA", "clear"."""
    lines = ["  <system.webServer>", "    <modules>"]
    for e in entries:
        if e == "clear":
            lines.append("      <clear />")
        elif e.startswith("-"):
            lines.append('      <remove name="%s" />' % e[1:])
        else:
            lines.append('      <add name="%s" />' % e.lstrip("+"))
    lines += ["    </modules>", "  </system.webServer>"]
    return "\n".join(lines) + "\n"


def x_modules(resp):
    """The names in X-Modules, in order (one field line or several)."""
    return [v.strip() for v in (resp.header("X-Modules") or "").split(",") if v.strip()]


def body_text(resp):
    return resp.body.decode("utf-8", "replace")


def assert_500_19(resp, file=None, line=None, words=()):
    """A 500.19 answer naming `file` and `line` and containing `words`
    (case-insensitive)."""
    text = body_text(resp)
    assert resp.status == 500, "expected 500.19, got %d: %s" % (resp.status, text[:400])
    assert "500.19" in text, "no 500.19 in body: %s" % text[:600]
    if file is not None:
        # (a doubled "/" inside the path is tolerated here: same file)
        assert str(file) in re.sub(r"/{2,}", "/", text), \
            "config file %s not named in: %s" % (file, text[:800])
    if line is not None:
        assert re.search(r"(?is)\bline\b\D{0,40}?\b%d\b|:%d\b" % (line, line), text), \
            "line %d not named in: %s" % (line, text[:800])
    for w in words:
        assert w.lower() in text.lower(), "%r not in: %s" % (w, text[:800])


def logged_config_error(srv, file, line, timeout=2.0):
    """A log line that names `file` and `line`."""
    pat = re.compile(r"(?i)(:%d\b|\bline\D{0,10}%d\b)" % (line, line))
    return srv.wait_for_log(
        lambda level, msg: str(file) in re.sub(r"/{2,}", "/", msg) and pat.search(msg),
        timeout=timeout)


def add_header_modules(cfg, tmp_path, names=HEADERS):
    for n in names:
        cfg.add_global_module(n, copy_module("header", tmp_path / "mods", "header_" + n))


def start(server_factory, cfg, tmp_path, port, **kw):
    path = cfg.write(tmp_path / "applicationHost.config")
    return server_factory(config_file=path, port=port, **kw)


@pytest.fixture
def tree(tmp_path):
    """www/ (site root) with a.txt, open/, locked/ ...; appdir/ (the /app
    application) with b.txt and sub/c.txt."""
    www = tmp_path / "www"
    www.mkdir()
    (www / "a.txt").write_bytes(b"root file\n")
    for d in ("open", "locked", "he1", "he2", "he3", "bad"):
        (www / d).mkdir()
        (www / d / "x.txt").write_bytes(b"x in " + d.encode() + b"\n")
    app = tmp_path / "appdir"
    app.mkdir()
    (app / "b.txt").write_bytes(b"app file\n")
    (app / "sub").mkdir()
    (app / "sub" / "c.txt").write_bytes(b"sub file\n")
    (app / "other").mkdir()
    (app / "other" / "d.txt").write_bytes(b"other file\n")
    return tmp_path


# --------------------------------------------------------------------------
# the default configuration
# --------------------------------------------------------------------------

def test_print_default_config_registers_the_stock_delegation():
    proc = subprocess.run([str(IISD_BIN), "--print-default-config"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=10)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    assert proc.stdout.decode("utf-8") == default_config_text()
    cfg = AppHostConfig()
    reg = cfg.section_registration
    mods = reg("system.webServer/modules")
    assert mods is not None, "system.webServer/modules is not registered"
    assert mods.get("allowDefinition") == "MachineToApplication"
    assert mods.get("overrideModeDefault") == "Deny"
    for name in ("anonymousAuthentication", "basicAuthentication", "windowsAuthentication"):
        r = reg("system.webServer/security/authentication/" + name)
        assert r is not None and r.get("overrideModeDefault") == "Deny", name
    for name in ("defaultDocument", "directoryBrowse", "httpErrors", "staticContent"):
        r = reg("system.webServer/" + name)
        assert r is not None and r.get("overrideModeDefault", "Allow") == "Allow", name
    # modules and handlers are unlocked by <location path="" overrideMode="Allow">
    unlocked = [loc for loc in cfg.root.findall("location")
                if loc.get("path") in ("", ".") and loc.get("overrideMode") == "Allow"]
    assert any(loc.find("system.webServer/modules") is not None for loc in unlocked)
    assert any(loc.find("system.webServer/handlers") is not None for loc in unlocked)


# --------------------------------------------------------------------------
# 1. sites and Host routing
# --------------------------------------------------------------------------

def test_two_sites_on_one_port_split_by_host(server_factory, tmp_path):
    port = free_port()
    alpha, beta = tmp_path / "alpha", tmp_path / "beta"
    alpha.mkdir()
    beta.mkdir()
    (alpha / "page.txt").write_bytes(b"alpha page\n")
    (beta / "page.txt").write_bytes(b"beta page, longer\n")
    (beta / "only-beta.txt").write_bytes(b"beta only\n")
    cfg = AppHostConfig()
    cfg.add_site("Alpha Site", 11, ["127.0.0.1:%d:alpha.test" % port], alpha)
    cfg.add_site("Beta Site", 12, ["127.0.0.1:%d:beta.test" % port], beta)
    srv = start(server_factory, cfg, tmp_path, port)

    r = srv.get("/page.txt", host="alpha.test")
    assert (r.status, r.body) == (200, b"alpha page\n")
    r = srv.get("/page.txt", host="beta.test")
    assert (r.status, r.body) == (200, b"beta page, longer\n")
    # the port in Host and the case of the name do not matter
    r = srv.get("/page.txt", host="beta.test:%d" % port)
    assert (r.status, r.body) == (200, b"beta page, longer\n")
    r = srv.get("/page.txt", host="ALPHA.Test")
    assert (r.status, r.body) == (200, b"alpha page\n")
    # each site has its own root
    assert srv.get("/only-beta.txt", host="alpha.test").status == 404
    assert srv.get("/only-beta.txt", host="beta.test").status == 200
    # no binding for this host name: 404, logged
    assert srv.get("/page.txt", host="other.test").status == 404
    assert srv.wait_for_log(lambda level, msg: "404" in msg), srv.stderr()[-2000:]
    # HTTP/1.0 without Host matches no host-name binding
    assert srv.get("/page.txt", host=None, version="HTTP/1.0").status == 404


def test_sites_and_applications_in_server_variables(server_factory, tmp_path):
    port = free_port()
    alpha, beta, alpha_app = tmp_path / "alpha", tmp_path / "beta", tmp_path / "alpha-app"
    for d in (alpha, beta, alpha_app):
        d.mkdir()
    cfg = AppHostConfig()
    cfg.add_global_module("Vars", module_path("sleep"))
    cfg.enable_module("Vars")
    cfg.add_site("Alpha Site", 5, ["127.0.0.1:%d:alpha.test" % port], alpha,
                 apps=[("/app", alpha_app)])
    cfg.add_site("Beta Site", 9, ["127.0.0.1:%d:beta.test" % port], beta)
    srv = start(server_factory, cfg, tmp_path, port)

    def vars_of(path, host):
        r = srv.get(path, host=host)
        assert r.status == 200, r
        return (r.header("X-Instance-Id"), r.header("X-Instance-Name"),
                r.header("X-Appl-Md-Path"), r.header("X-Appl-Physical-Path"))

    assert vars_of("/vars", "alpha.test") == (
        "5", "Alpha Site", "/LM/W3SVC/5/ROOT", str(alpha.resolve()) + "/")
    assert vars_of("/vars", "beta.test") == (
        "9", "Beta Site", "/LM/W3SVC/9/ROOT", str(beta.resolve()) + "/")
    assert vars_of("/app/vars", "alpha.test") == (
        "5", "Alpha Site", "/LM/W3SVC/5/ROOT/app", str(alpha_app.resolve()) + "/")
    # an application path is a whole segment: /application is not /app
    assert vars_of("/application/vars", "alpha.test")[2] == "/LM/W3SVC/5/ROOT"
    assert srv.get("/vars", host="gamma.test").status == 404


def test_binding_precedence(server_factory, tmp_path):
    """A binding with a host name beats one without; a specific IP beats *."""
    port = free_port()
    roots = {}
    for name in ("wild", "local", "named", "wildnamed"):
        roots[name] = tmp_path / name
        roots[name].mkdir()
        (roots[name] / "who.txt").write_bytes(name.encode())
    cfg = AppHostConfig()
    cfg.add_site("Local", 1, ["127.0.0.1:%d:" % port], roots["local"])
    cfg.add_site("Wild", 2, ["*:%d:" % port], roots["wild"])
    cfg.add_site("Named", 3, ["127.0.0.1:%d:named.test" % port], roots["named"])
    cfg.add_site("WildNamed", 4, ["*:%d:wildnamed.test" % port], roots["wildnamed"])
    start(server_factory, cfg, tmp_path, port)

    def who(addr, host):
        try:
            c = RawClient(port, host=addr)
        except OSError as e:
            pytest.fail("cannot connect to %s:%d (a * binding listens on every address): %s"
                        % (addr, port, e))
        try:
            c.request("GET", "/who.txt", host=host)
            r = c.read_response()
        finally:
            c.close()
        return r.body.decode() if r.status == 200 else r.status

    assert who("127.0.0.1", "x.test") == "local"        # IP beats *
    assert who("127.0.0.1", "named.test") == "named"    # host name beats no host name
    assert who("127.0.0.1", "wildnamed.test") == "wildnamed"
    assert who("127.0.0.2", "x.test") == "wild"
    assert who("127.0.0.2", "named.test") == "wild"     # named.test is bound on 127.0.0.1 only
    assert who("127.0.0.2", "wildnamed.test") == "wildnamed"


# --------------------------------------------------------------------------
# 2. <modules> per application and per folder
# --------------------------------------------------------------------------

def module_tree_config(tree, port):
    cfg = AppHostConfig()
    add_header_modules(cfg, tree)
    cfg.enable_module("HeaderA")
    cfg.add_site(SITE, 1, ["127.0.0.1:%d:" % port], tree / "www",
                 apps=[("/app", tree / "appdir")])
    (tree / "appdir" / "web.config").write_text(web_config(modules_section("-HeaderA", "+HeaderB")))
    (tree / "appdir" / "sub" / "web.config").write_text(
        web_config(modules_section("-HeaderB", "+HeaderC")))
    return cfg


def test_modules_per_application(server_factory, tree):
    port = free_port()
    cfg = module_tree_config(tree, port)
    srv = start(server_factory, cfg, tree, port)

    r = srv.get("/a.txt")
    assert (r.status, r.body, x_modules(r)) == (200, b"root file\n", ["HeaderA"])
    r = srv.get("/app/b.txt")
    assert (r.status, r.body, x_modules(r)) == (200, b"app file\n", ["HeaderB"])
    r = srv.get("/app/other/d.txt")
    assert (r.status, x_modules(r)) == (200, ["HeaderB"])
    # with the stock registration (MachineToApplication) <modules> is not
    # allowed in a folder below the application root
    sub_cfg = tree / "appdir" / "sub" / "web.config"
    r = srv.get("/app/sub/c.txt")
    assert_500_19(r, file=sub_cfg, line=4)
    assert srv.get("/app/sub/").status == 500
    # the rest is unaffected
    assert x_modules(srv.get("/app/b.txt")) == ["HeaderB"]
    assert x_modules(srv.get("/a.txt")) == ["HeaderA"]
    assert logged_config_error(srv, sub_cfg, 4), srv.stderr()[-2000:]


def test_modules_per_folder_when_registered_everywhere(server_factory, tree):
    port = free_port()
    cfg = module_tree_config(tree, port)
    cfg.register_section("system.webServer/modules", allowDefinition="Everywhere",
                         overrideModeDefault="Allow")
    srv = start(server_factory, cfg, tree, port)

    r = srv.get("/app/sub/c.txt")
    assert (r.status, r.body, x_modules(r)) == (200, b"sub file\n", ["HeaderC"])
    assert x_modules(srv.get("/app/b.txt")) == ["HeaderB"]
    assert x_modules(srv.get("/app/other/d.txt")) == ["HeaderB"]
    assert x_modules(srv.get("/a.txt")) == ["HeaderA"]


def test_modules_location_in_applicationhost(server_factory, tree):
    """<location path="Site/app"> in applicationHost.config adds a module for that application."""
    port = free_port()
    cfg = AppHostConfig()
    add_header_modules(cfg, tree)
    cfg.enable_module("HeaderA")
    cfg.add_site(SITE, 1, ["127.0.0.1:%d:" % port], tree / "www",
                 apps=[("/app", tree / "appdir")])
    loc_mods = cfg.section("system.webServer/modules", location=SITE + "/app")
    ET.SubElement(loc_mods, "add", {"name": "HeaderC"})
    srv = start(server_factory, cfg, tree, port)

    assert x_modules(srv.get("/a.txt")) == ["HeaderA"]
    assert x_modules(srv.get("/app/b.txt")) == ["HeaderA", "HeaderC"]


def test_module_must_be_in_global_modules(server_factory, tree):
    """A web.config that enables a module <globalModules> does not list: 500.19 there."""
    port = free_port()
    cfg = AppHostConfig()
    add_header_modules(cfg, tree, ("HeaderA",))
    cfg.enable_module("HeaderA")
    cfg.add_site(SITE, 1, ["127.0.0.1:%d:" % port], tree / "www",
                 apps=[("/app", tree / "appdir")])
    (tree / "appdir" / "web.config").write_text(web_config(modules_section("+NoSuchModule")))
    srv = start(server_factory, cfg, tree, port)
    assert srv.get("/app/b.txt").status == 500
    assert "500.19" in body_text(srv.get("/app/b.txt"))
    assert x_modules(srv.get("/a.txt")) == ["HeaderA"]


def test_builtin_module_lock_item(server_factory, tree):
    """The stock <modules> entries carry lockItem="true": a web.config cannot remove them."""
    port = free_port()
    cfg = module_tree_config(tree, port)
    (tree / "appdir" / "sub" / "web.config").unlink()
    (tree / "appdir" / "web.config").write_text(web_config(modules_section("-StaticFileModule")))
    srv = start(server_factory, cfg, tree, port)
    assert_500_19(srv.get("/app/b.txt"), file=tree / "appdir" / "web.config", line=5,
                  words=("StaticFileModule",))
    assert srv.get("/a.txt").status == 200


def test_allow_sub_dir_config_false(server_factory, tree):
    """allowSubDirConfig="false": web.config files below the virtual directory's
    root are not read (the one at its root is)."""
    port = free_port()
    cfg = AppHostConfig()
    add_header_modules(cfg, tree)
    cfg.enable_module("HeaderA")
    cfg.add_site(SITE, 1, ["127.0.0.1:%d:" % port], tree / "www",
                 apps=[("/app", tree / "appdir", {"allowSubDirConfig": "false"})])
    (tree / "appdir" / "web.config").write_text(web_config(modules_section("+HeaderB")))
    (tree / "appdir" / "sub" / "web.config").write_text("<configuration><this is not XML")
    srv = start(server_factory, cfg, tree, port)
    assert x_modules(srv.get("/app/b.txt")) == ["HeaderA", "HeaderB"]
    r = srv.get("/app/sub/c.txt")
    assert (r.status, x_modules(r)) == (200, ["HeaderA", "HeaderB"])


# --------------------------------------------------------------------------
# 3. delegation and locking: 500.19
# --------------------------------------------------------------------------

ANON_OFF = ("  <system.webServer>\n"
            "    <security>\n"
            "      <authentication>\n"
            '        <anonymousAuthentication enabled="false" />\n'
            "      </authentication>\n"
            "    </security>\n"
            "  </system.webServer>\n")
ANON_LINE = 6


def locking_config(tree, port):
    cfg = AppHostConfig()
    cfg.add_site(SITE, 1, ["127.0.0.1:%d:" % port], tree / "www",
                 apps=[("/app", tree / "appdir")])
    return cfg


def test_locked_section_gives_500_19(server_factory, tree):
    port = free_port()
    cfg = locking_config(tree, port)
    wc = tree / "www" / "locked" / "web.config"
    wc.write_text(web_config(ANON_OFF))
    srv = start(server_factory, cfg, tree, port)

    r = srv.get("/locked/x.txt")
    assert_500_19(r, file=wc, line=ANON_LINE, words=("lock",))
    assert_500_19(srv.get("/locked/"), file=wc)
    assert_500_19(srv.get("/locked/no-such-file.txt"), file=wc)
    assert srv.get("/open/x.txt").status == 200
    assert srv.get("/a.txt").status == 200
    assert srv.get("/app/b.txt").status == 200
    assert logged_config_error(srv, wc, ANON_LINE), srv.stderr()[-2000:]


def test_location_override_mode_allow_unlocks(server_factory, tree):
    """<location path="Site/locked" overrideMode="Allow"> in applicationHost.config
    unlocks the section for that folder only."""
    port = free_port()
    cfg = locking_config(tree, port)
    cfg.location(SITE + "/locked", override_mode="Allow")
    cfg.section("system.webServer/security/authentication/anonymousAuthentication",
                location=SITE + "/locked")
    for d in ("locked", "open"):
        (tree / "www" / d / "web.config").write_text(web_config(ANON_OFF))
    srv = start(server_factory, cfg, tree, port)
    r = srv.get("/locked/x.txt")
    assert r.status != 500, body_text(r)
    assert_500_19(srv.get("/open/x.txt"), file=tree / "www" / "open" / "web.config")


def test_lock_attributes(server_factory, tree):
    port = free_port()
    cfg = locking_config(tree, port)
    he = cfg.section("system.webServer/httpErrors")
    stock = [a for a in (he.get("lockAttributes") or "").split(",") if a]
    he.set("lockAttributes", ",".join(["errorMode"] + stock))
    # he1 sets the locked attribute, he2 an unlocked one of the same element
    (tree / "www" / "he1" / "web.config").write_text(web_config(
        "  <system.webServer>\n"
        '    <httpErrors errorMode="Detailed" />\n'
        "  </system.webServer>\n"))
    (tree / "www" / "he2" / "web.config").write_text(web_config(
        "  <system.webServer>\n"
        '    <httpErrors existingResponse="PassThrough" />\n'
        "  </system.webServer>\n"))
    # he3 sets defaultPath, locked by the stock configuration itself
    (tree / "www" / "he3" / "web.config").write_text(web_config(
        "  <system.webServer>\n"
        '    <httpErrors defaultPath="/tmp/x.htm" />\n'
        "  </system.webServer>\n"))
    srv = start(server_factory, cfg, tree, port)
    assert_500_19(srv.get("/he1/x.txt"), file=tree / "www" / "he1" / "web.config", line=4,
                  words=("errorMode", "lock"))
    assert srv.get("/he2/x.txt").status == 200
    assert_500_19(srv.get("/he3/x.txt"), file=tree / "www" / "he3" / "web.config", line=4,
                  words=("defaultPath",))
    assert srv.get("/open/x.txt").status == 200


def test_lock_elements(server_factory, tree):
    port = free_port()
    cfg = locking_config(tree, port)
    cfg.section("system.webServer/defaultDocument").set("lockElements", "files")
    (tree / "www" / "locked" / "web.config").write_text(web_config(
        "  <system.webServer>\n"
        "    <defaultDocument>\n"
        "      <files>\n"
        '        <add value="x.txt" />\n'
        "      </files>\n"
        "    </defaultDocument>\n"
        "  </system.webServer>\n"))
    (tree / "www" / "open" / "web.config").write_text(web_config(
        "  <system.webServer>\n"
        '    <defaultDocument enabled="false" />\n'
        "  </system.webServer>\n"))
    srv = start(server_factory, cfg, tree, port)
    assert_500_19(srv.get("/locked/x.txt"), file=tree / "www" / "locked" / "web.config",
                  words=("files",))
    assert srv.get("/open/x.txt").status == 200


def test_invalid_enum_value(server_factory, tree):
    port = free_port()
    cfg = locking_config(tree, port)
    wc = tree / "www" / "bad" / "web.config"
    wc.write_text(web_config(
        "  <system.webServer>\n"
        "\n"
        '    <httpErrors errorMode="Sometimes" />\n'
        "  </system.webServer>\n"))
    srv = start(server_factory, cfg, tree, port)
    assert_500_19(srv.get("/bad/x.txt"), file=wc, line=5,
                  words=("errorMode", "DetailedLocalOnly", "Custom", "Detailed"))
    assert srv.get("/open/x.txt").status == 200
    assert logged_config_error(srv, wc, 5), srv.stderr()[-2000:]


def test_malformed_web_config(server_factory, tree):
    port = free_port()
    cfg = locking_config(tree, port)
    wc = tree / "appdir" / "web.config"
    wc.write_text('<?xml version="1.0"?>\n<configuration>\n  <system.webServer>\n'
                  '    <defaultDocument enabled="true">\n'
                  "  </system.webServer>\n</configuration>\n")
    srv = start(server_factory, cfg, tree, port)
    r = srv.get("/app/b.txt")
    assert_500_19(r, file=wc)
    assert_500_19(srv.get("/app/sub/c.txt"), file=wc)
    assert srv.get("/a.txt").status == 200
    assert srv.get("/open/x.txt").status == 200


def test_unknown_section_and_attribute(server_factory, tree):
    port = free_port()
    cfg = locking_config(tree, port)
    (tree / "www" / "bad" / "web.config").write_text(web_config(
        "  <system.webServer>\n"
        "    <noSuchSection enabled=\"true\" />\n"
        "  </system.webServer>\n"))
    (tree / "www" / "locked" / "web.config").write_text(web_config(
        "  <system.webServer>\n"
        '    <directoryBrowse enabled="false" noSuchAttribute="1" />\n'
        "  </system.webServer>\n"))
    srv = start(server_factory, cfg, tree, port)
    assert_500_19(srv.get("/bad/x.txt"), file=tree / "www" / "bad" / "web.config", line=4,
                  words=("noSuchSection",))
    assert_500_19(srv.get("/locked/x.txt"), file=tree / "www" / "locked" / "web.config",
                  line=4, words=("noSuchAttribute",))
    assert srv.get("/open/x.txt").status == 200


def test_invalid_applicationhost_config_stops_startup(tmp_path):
    """An invalid applicationHost.config at start-up: exit non-zero, naming file and line."""
    port = free_port()
    (tmp_path / "www").mkdir()
    cfg = AppHostConfig()
    cfg.add_site(SITE, 1, ["127.0.0.1:%d:" % port], tmp_path / "www")
    cfg.section("system.webServer/directoryBrowse").set("enabled", "sometimes")
    text = cfg.text()
    line = line_of(text, 'enabled="sometimes"')
    path = tmp_path / "applicationHost.config"
    path.write_text(text)
    proc = subprocess.run([str(IISD_BIN), "--config", str(path)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=10, cwd=tmp_path)
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode != 0, err
    assert str(path) in err or "applicationHost.config" in err, err
    assert re.search(r":%d\b|line %d\b" % (line, line), err), err
    assert "enabled" in err, err


def test_port_and_path_override_the_first_site_only(server_factory, tmp_path):
    """--port / --path change the first site's first binding and root directory."""
    port, port2, unused = free_port(), free_port(), free_port()
    for d in ("configured", "override", "second"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "who.txt").write_bytes(d.encode())
    cfg = AppHostConfig()
    cfg.add_site("First", 1, ["127.0.0.1:%d:" % unused], tmp_path / "configured")
    cfg.add_site("Second", 2, ["127.0.0.1:%d:" % port2], tmp_path / "second")
    path = cfg.write(tmp_path / "applicationHost.config")
    srv = server_factory(config_file=path, port=port,
                         extra_args=["--port", port, "--path", tmp_path / "override"])
    assert srv.get("/who.txt").body == b"override"
    c = RawClient(port2)
    try:
        c.request("GET", "/who.txt")
        assert c.read_response().body == b"second"
    finally:
        c.close()
    try:
        RawClient(unused, timeout=1).close()
        pytest.fail("the overridden port %d is listened on" % unused)
    except OSError:
        pass


def test_config_without_config_sections_uses_builtin_registrations(server_factory, tmp_path):
    """A configuration file with no <configSections> (make_config's minimal
    file) gets the built-in registrations, delegation included."""
    www = tmp_path / "www"
    www.mkdir()
    for d in ("locked", "open"):
        (www / d).mkdir()
        (www / d / "x.txt").write_bytes(b"x")
    (www / "locked" / "web.config").write_text(web_config(ANON_OFF))
    (www / "open" / "web.config").write_text(web_config(
        "  <system.webServer>\n"
        '    <directoryBrowse enabled="false" />\n'
        "  </system.webServer>\n"))
    srv = server_factory(root=www)
    assert "<configSections" not in (tmp_path / ("applicationHost-%d.config" % srv.port)).read_text()
    assert_500_19(srv.get("/locked/x.txt"), file=www / "locked" / "web.config", line=ANON_LINE)
    assert srv.get("/open/x.txt").status == 200
