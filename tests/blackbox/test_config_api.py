"""A module reads its own configuration section through IHttpServer::
GetAdminManager() (ahadmin.h) at the request's configuration path
(IHttpContext::GetMetadata()->GetMetaPath()).

Module: tests/modules/config_reader.cpp (C++, _bstr_t/_variant_t) and its C
twin config_reader_c.c; schema: tests/modules/schema/config_reader_schema.xml
(system.webServer/testSection)."""

import shutil
import subprocess
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

from iisdtest import IISD_BIN, REPO_ROOT, AppHostConfig, free_port, module_path
from test_config import SITE, body_text, web_config

SCHEMA_FILE = REPO_ROOT / "tests" / "modules" / "schema" / "config_reader_schema.xml"
SECTION = "system.webServer/testSection"
DEFAULTS = "greeting=hello;count=1;enabled=true;items="
# VARIANT types: VT_BSTR 8, VT_BOOL 11, VT_I4 3 (int and enum), VT_UI4 19, VT_I8 20
TYPES = "greeting=8,count=19,enabled=11,level=3,offset=3,big=20"


def reader_config(tmp_path, port, register=True, apps=()):
    www = tmp_path / "www"
    www.mkdir(exist_ok=True)
    cfg = AppHostConfig()
    cfg.add_global_module("ConfigReader", module_path("config_reader"))
    cfg.add_global_module("ConfigReaderC", module_path("config_reader_c"))
    cfg.enable_module("ConfigReader")
    cfg.enable_module("ConfigReaderC")
    if register:
        cfg.register_section(SECTION, overrideModeDefault="Allow")
    cfg.add_site(SITE, 1, ["127.0.0.1:%d:" % port], www, apps=apps)
    return cfg


def schema_beside(config_dir):
    d = config_dir / "schema"
    d.mkdir(exist_ok=True)
    shutil.copyfile(SCHEMA_FILE, d / SCHEMA_FILE.name)


def start(server_factory, cfg, tmp_path, port, schema_dir=None):
    path = cfg.write(tmp_path / "applicationHost.config")
    extra = ["--schema-dir", schema_dir] if schema_dir is not None else []
    return server_factory(config_file=path, port=port, extra_args=extra)


def read(srv, path):
    r = srv.get(path)
    assert r.status == 200, r
    text = body_text(r)
    assert not text.startswith("error="), "%s: %s (X-Meta-Path %r)" % (path, text,
                                                                     r.header("X-Meta-Path"))
    return r, text


def test_metadata_path(server_factory, tmp_path):
    """GetMetadata()->GetMetaPath(): MACHINE/WEBROOT/APPHOST/<site><URL>, no trailing '/'."""
    port = free_port()
    app = tmp_path / "appdir"
    app.mkdir()
    cfg = reader_config(tmp_path, port, apps=[("/app", app)])
    schema_beside(tmp_path)
    srv = start(server_factory, cfg, tmp_path, port)
    base = "MACHINE/WEBROOT/APPHOST/" + SITE
    for url, meta in (("/config", base + "/config"),
                      ("/config/", base + "/config"),
                      ("/config/sub/file.txt", base + "/config/sub/file.txt"),
                      ("/app/config/x.txt", base + "/app/config/x.txt"),
                      ("/with%20space/config", base + "/with space/config")):
        r = srv.get(url)
        assert r.status == 200, r
        assert r.header("X-Meta-Path") == meta, url


def test_defaults_with_schema_beside_the_config(server_factory, tmp_path):
    port = free_port()
    cfg = reader_config(tmp_path, port)
    schema_beside(tmp_path)
    srv = start(server_factory, cfg, tmp_path, port)
    r, text = read(srv, "/config/x.txt")
    assert text == DEFAULTS
    assert r.header("X-Types") == TYPES
    assert r.header("X-Extra") == "level=1;offset=-5;big=5000000000"
    assert r.header("X-Meta-Path") == "MACHINE/WEBROOT/APPHOST/%s/config/x.txt" % SITE
    r, text = read(srv, "/config")
    assert r.header("X-Meta-Path") == "MACHINE/WEBROOT/APPHOST/%s/config" % SITE


def test_values_from_applicationhost_with_schema_dir(server_factory, tmp_path):
    port = free_port()
    cfg = reader_config(tmp_path, port)
    sec = cfg.section(SECTION)
    sec.attrib.update({"greeting": "hi there", "count": "7", "enabled": "false", "level": "high",
                       "offset": "-42", "big": "-9000000000"})
    ET.SubElement(sec, "add", {"name": "a", "value": "1"})
    ET.SubElement(sec, "add", {"name": "b", "value": "2"})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copyfile(SCHEMA_FILE, elsewhere / "reader.xml")
    srv = start(server_factory, cfg, tmp_path, port, schema_dir=elsewhere)
    r, text = read(srv, "/config/x.txt")
    assert text == "greeting=hi there;count=7;enabled=false;items=a:1,b:2"
    assert r.header("X-Types") == TYPES
    assert r.header("X-Extra") == "level=2;offset=-42;big=-9000000000"
    # the C binding reads the same attribute
    r = srv.get("/cconfig/x.txt")
    assert (r.status, body_text(r)) == (200, "greeting=hi there;vt=8")


def test_web_config_overrides_and_merges_items(server_factory, tmp_path):
    port = free_port()
    app = tmp_path / "appdir"
    app.mkdir()
    cfg = reader_config(tmp_path, port, apps=[("/app", app)])
    sec = cfg.section(SECTION)
    sec.set("greeting", "from apphost")
    sec.set("count", "7")
    ET.SubElement(sec, "add", {"name": "a", "value": "1"})
    ET.SubElement(sec, "add", {"name": "b", "value": "2"})
    schema_beside(tmp_path)
    www = tmp_path / "www"
    (www / "config" / "sub" / "deeper").mkdir(parents=True)
    (www / "config" / "rm").mkdir()
    (www / "config" / "clr").mkdir()
    (www / "config" / "sub" / "web.config").write_text(web_config(
        "  <system.webServer>\n"
        '    <testSection count="9">\n'
        '      <add name="c" value="3" />\n'
        "    </testSection>\n"
        "  </system.webServer>\n"))
    (www / "config" / "sub" / "deeper" / "web.config").write_text(web_config(
        "  <system.webServer>\n"
        '    <testSection enabled="false">\n'
        '      <add name="d" value="4" />\n'
        "    </testSection>\n"
        "  </system.webServer>\n"))
    (www / "config" / "rm" / "web.config").write_text(web_config(
        "  <system.webServer>\n"
        "    <testSection>\n"
        '      <remove name="a" />\n'
        "    </testSection>\n"
        "  </system.webServer>\n"))
    (www / "config" / "clr" / "web.config").write_text(web_config(
        "  <system.webServer>\n"
        '    <testSection greeting="cleared">\n'
        "      <clear />\n"
        '      <add name="z" value="26" />\n'
        "    </testSection>\n"
        "  </system.webServer>\n"))
    # <location> in a web.config
    (www / "web.config").write_text(web_config(
        '  <location path="config/loc">\n'
        "    <system.webServer>\n"
        '      <testSection greeting="from location" />\n'
        "    </system.webServer>\n"
        "  </location>\n"
        '  <location path="cloc">\n'
        "    <system.webServer>\n"
        '      <testSection greeting="from c location" />\n'
        "    </system.webServer>\n"
        "  </location>\n"))
    (app / "config").mkdir()
    (app / "web.config").write_text(web_config(
        "  <system.webServer>\n"
        '    <testSection count="42" />\n'
        "  </system.webServer>\n"))
    srv = start(server_factory, cfg, tmp_path, port)

    assert read(srv, "/config/x.txt")[1] == \
        "greeting=from apphost;count=7;enabled=true;items=a:1,b:2"
    r, text = read(srv, "/config/sub/x.txt")
    assert text == "greeting=from apphost;count=9;enabled=true;items=a:1,b:2,c:3"
    assert r.header("X-Meta-Path") == "MACHINE/WEBROOT/APPHOST/%s/config/sub/x.txt" % SITE
    assert read(srv, "/config/sub/deeper/x.txt")[1] == \
        "greeting=from apphost;count=9;enabled=false;items=a:1,b:2,c:3,d:4"
    assert read(srv, "/config/rm/x.txt")[1] == \
        "greeting=from apphost;count=7;enabled=true;items=b:2"
    assert read(srv, "/config/clr/x.txt")[1] == \
        "greeting=cleared;count=7;enabled=true;items=z:26"
    assert read(srv, "/config/loc/x.txt")[1] == \
        "greeting=from location;count=7;enabled=true;items=a:1,b:2"
    r, text = read(srv, "/app/config/x.txt")
    assert text == "greeting=from apphost;count=42;enabled=true;items=a:1,b:2"
    assert r.header("X-Meta-Path") == "MACHINE/WEBROOT/APPHOST/%s/app/config/x.txt" % SITE
    assert body_text(srv.get("/cconfig/sub/x.txt")) == "greeting=from apphost;vt=8"
    assert body_text(srv.get("/cloc/cconfig/")) == "greeting=from c location;vt=8"

    # an explicit configuration path (?path=) reads that level
    q = urllib.parse.quote("MACHINE/WEBROOT/APPHOST/%s/config/sub" % SITE)
    r, text = read(srv, "/config/?path=" + q)
    assert text == "greeting=from apphost;count=9;enabled=true;items=a:1,b:2,c:3"
    q = urllib.parse.quote("MACHINE/WEBROOT/APPHOST")
    assert read(srv, "/config/?path=" + q)[1] == \
        "greeting=from apphost;count=7;enabled=true;items=a:1,b:2"


def test_invalid_configuration_fails_get_admin_section(server_factory, tmp_path):
    port = free_port()
    cfg = reader_config(tmp_path, port)
    schema_beside(tmp_path)
    www = tmp_path / "www"
    (www / "bad").mkdir()
    (www / "bad" / "web.config").write_text(web_config(
        "  <system.webServer>\n"
        '    <testSection count="many" />\n'
        "  </system.webServer>\n"))
    srv = start(server_factory, cfg, tmp_path, port)
    r = srv.get("/bad/config/x.txt")
    assert r.status == 500 and "500.19" in body_text(r), r
    q = urllib.parse.quote("MACHINE/WEBROOT/APPHOST/%s/bad" % SITE)
    r = srv.get("/config/?path=" + q)
    text = body_text(r)
    assert text.startswith("error=GetAdminSection hr=0x"), text
    hr = int(r.header("X-Config-Hr"), 16)
    assert hr & 0x80000000, "GetAdminSection succeeded at an invalid path (hr 0x%08x)" % hr
    # other paths are fine
    assert read(srv, "/config/x.txt")[1] == DEFAULTS


def test_section_must_be_registered(tmp_path):
    """The schema alone does not make a section: without a <configSections>
    registration the configuration is refused at start-up."""
    port = free_port()
    cfg = reader_config(tmp_path, port, register=False)
    cfg.section(SECTION).set("greeting", "unregistered")
    schema_beside(tmp_path)
    path = cfg.write(tmp_path / "applicationHost.config")
    proc = subprocess.run([str(IISD_BIN), "--config", str(path)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=10, cwd=tmp_path)
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode != 0, err
    assert "testSection" in err, err


def test_section_without_schema_is_refused(tmp_path):
    port = free_port()
    cfg = reader_config(tmp_path, port)
    cfg.section(SECTION).set("greeting", "no schema")
    path = cfg.write(tmp_path / "applicationHost.config")
    proc = subprocess.run([str(IISD_BIN), "--config", str(path)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=10, cwd=tmp_path)
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode != 0, err
    assert "testSection" in err, err


@pytest.mark.parametrize("value", ["4294967296", "-1", "1.5"])
def test_invalid_uint_in_web_config(server_factory, tmp_path, value):
    port = free_port()
    cfg = reader_config(tmp_path, port)
    schema_beside(tmp_path)
    www = tmp_path / "www"
    (www / "config").mkdir()
    (www / "config" / "web.config").write_text(web_config(
        "  <system.webServer>\n"
        '    <testSection count="%s" />\n' % value +
        "  </system.webServer>\n"))
    srv = start(server_factory, cfg, tmp_path, port)
    r = srv.get("/config/x.txt")
    assert r.status == 500 and "500.19" in body_text(r) and "count" in body_text(r), r
    (www / "a.txt").write_bytes(b"A")
    assert srv.get("/a.txt").status == 200


def test_collections_prepend_or_append(server_factory, tmp_path):
    """defaultDocument <files> and <handlers> put a deeper level's entries first
    (mergeAppend="false"); other collections append them."""
    port = free_port()
    cfg = reader_config(tmp_path, port)
    ET.SubElement(cfg.section(SECTION), "add", {"name": "a", "value": "1"})
    schema_beside(tmp_path)
    www = tmp_path / "www"
    (www / "config" / "sub").mkdir(parents=True)
    (www / "web.config").write_text(web_config(
        "  <system.webServer>\n"
        "    <defaultDocument>\n"
        "      <files>\n"
        '        <add value="first.htm" />\n'
        '        <add value="first2.htm" />\n'
        "      </files>\n"
        "    </defaultDocument>\n"
        "    <handlers>\n"
        '      <add name="H1" path="*.h1" verb="*" modules="StaticFileModule" />\n'
        "    </handlers>\n"
        "    <testSection>\n"
        '      <add name="b" value="2" />\n'
        "    </testSection>\n"
        "  </system.webServer>\n"))
    (www / "config" / "sub" / "web.config").write_text(web_config(
        "  <system.webServer>\n"
        "    <defaultDocument>\n"
        "      <files>\n"
        '        <remove value="index.htm" />\n'
        '        <add value="second.htm" />\n'
        "      </files>\n"
        "    </defaultDocument>\n"
        "    <handlers>\n"
        '      <add name="H2" path="*.h2" verb="GET" modules="StaticFileModule" />\n'
        "    </handlers>\n"
        "    <testSection>\n"
        '      <add name="c" value="3" />\n'
        "    </testSection>\n"
        "  </system.webServer>\n"))
    srv = start(server_factory, cfg, tmp_path, port)
    stock_files = ["Default.htm", "Default.asp", "index.htm", "index.html", "iisstart.htm"]
    stock_handlers = ["TRACEVerbHandler", "OPTIONSVerbHandler", "StaticFile"]

    def listing(url, section, element="", attr="name"):
        q = "section=%s&attr=%s" % (urllib.parse.quote(section), attr)
        if element:
            q += "&element=" + element
        r, text = read(srv, url + "?" + q)
        assert text.startswith("list="), text
        return text[len("list="):].split(",") if text != "list=" else []

    files_root = listing("/config/", "system.webServer/defaultDocument", "files", "value")
    assert files_root == ["first.htm", "first2.htm"] + stock_files
    files_sub = listing("/config/sub/", "system.webServer/defaultDocument", "files", "value")
    assert files_sub == ["second.htm", "first.htm", "first2.htm"] + \
        [f for f in stock_files if f != "index.htm"]
    assert listing("/config/sub/", "system.webServer/handlers") == \
        ["H2", "H1"] + stock_handlers
    assert listing("/config/", "system.webServer/handlers") == ["H1"] + stock_handlers
    assert listing("/config/sub/", SECTION) == ["a", "b", "c"]
    # the built-in modules, lockItem or not, are a collection like any other
    mods = listing("/config/", "system.webServer/modules")
    assert mods[:2] == ["HttpCacheModule", "DynamicCompressionModule"]
    assert mods[-2:] == ["ConfigReader", "ConfigReaderC"]
