"""HttpCacheModule (system.webServer/caching): responses stored by the policy a
module sets through IHttpCachePolicy or by <profiles>, served again from the
cache with the status, headers and body they had, per variant, until they expire
or their file changes; and what is never cached."""

import os
import time
import xml.etree.ElementTree as ET

import pytest

from iisdtest import AppHostConfig, free_port, module_path, poll


def handlers_of(cfg):
    for loc in cfg.root.findall("location"):
        h = loc.find("system.webServer/handlers")
        if h is not None:
            return h
    return cfg.element("system.webServer/handlers")


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "www"
    r.mkdir()
    (r / "page.htm").write_text("version 1")
    (r / "plain.txt").write_text("plain text")
    return r


def start(server_factory, tmp_path, root, profiles=(), caching=None, hold=False):
    port = free_port()
    cfg = AppHostConfig()
    cfg.add_site("Site", 1, ["127.0.0.1:%d:" % port], root)
    cfg.add_global_module("Counter", module_path("counter"))
    cfg.enable_module("Counter")
    if hold:  # ?holdstate=<file> holds a request between its handler and the cache update
        cfg.add_global_module("EndHold", module_path("endhold"))
        cfg.enable_module("EndHold")
    handlers = handlers_of(cfg)
    handlers.insert(0, ET.Element("add", {"name": "Counter", "path": "*.cnt", "verb": "*",
                                          "modules": "Counter"}))
    section = cfg.section("system.webServer/caching")
    for k, v in (caching or {}).items():
        section.set(k, v)
    if profiles:
        p = cfg.element("profiles", section)
        for attrs in profiles:
            ET.SubElement(p, "add", attrs)
    return server_factory(config_file=cfg.write(tmp_path / "applicationHost.config"), port=port)


@pytest.fixture
def srv(server_factory, tmp_path, root):
    return start(server_factory, tmp_path, root)


def count(r):
    assert r.status == 200, r
    assert r.body.startswith(b"count="), r.body
    return int(r.body[6:])


def test_user_cache_time_to_live(srv):
    first = srv.get("/a.cnt?ttl=1&vq=ttl")
    again = srv.get("/a.cnt?ttl=1&vq=ttl")
    assert count(again) == count(first)
    # the stored status line, headers and body come back; the connection headers are new
    assert again.reason == "Counted"
    assert again.header("X-Cached") == "0"
    assert again.header("Content-Type") == "text/plain"
    assert again.header("X-Pre") == first.header("X-Pre")  # the handler stages did not run again
    assert again.header("Date") is not None
    assert int(again.header("Content-Length")) == len(again.body)
    time.sleep(1.2)
    assert count(srv.get("/a.cnt?ttl=1&vq=ttl")) > count(first)


def test_head_is_served_from_a_stored_get(srv):
    first = srv.get("/h.cnt?ttl=30&vq=ttl")
    r = srv.get("/h.cnt?ttl=30&vq=ttl", method="HEAD")
    assert r.status == 200 and r.body == b""
    assert int(r.header("Content-Length")) == len(first.body)
    assert r.header("X-Pre") == first.header("X-Pre")


def test_no_policy_no_cache(srv):
    assert count(srv.get("/b.cnt")) != count(srv.get("/b.cnt"))


def test_paths_are_separate_entries(srv):
    a = count(srv.get("/p1.cnt?ttl=30&vq=ttl"))
    b = count(srv.get("/p2.cnt?ttl=30&vq=ttl"))
    assert a != b
    assert count(srv.get("/P1.cnt?ttl=30&vq=ttl")) == a  # URLs are case-insensitive


def test_vary_by_header(srv):
    url = "/v.cnt?ttl=30&vq=ttl&vh=X-Lang"
    en = count(srv.get(url, headers={"X-Lang": "en"}))
    de = count(srv.get(url, headers={"X-Lang": "de"}))
    none = count(srv.get(url))
    assert len({en, de, none}) == 3
    assert count(srv.get(url, headers={"X-Lang": "en"})) == en
    assert count(srv.get(url, headers={"X-Lang": "de"})) == de
    assert count(srv.get(url)) == none


def test_vary_by_query_string_parameter(srv):
    one = count(srv.get("/q.cnt?ttl=30&vq=id&id=1"))
    two = count(srv.get("/q.cnt?ttl=30&vq=id&id=2"))
    assert one != two
    # other parameters do not matter
    assert count(srv.get("/q.cnt?ttl=30&vq=id&id=1&junk=x")) == one


def test_query_strings_are_not_cached_unless_something_varies_by_them(srv):
    assert count(srv.get("/n.cnt?ttl=30")) != count(srv.get("/n.cnt?ttl=30"))


def test_vary_by_value(srv):
    a = count(srv.get("/vv.cnt?ttl=30&vq=vv&vv=A"))
    assert count(srv.get("/vv.cnt?ttl=30&vq=vv&vv=A")) == a
    assert count(srv.get("/vv.cnt?ttl=30&vq=vv&vv=B")) != a


@pytest.mark.parametrize("extra", ["&off=1", "&cookie=1", "&status=404", "&status=203"])
def test_responses_never_cached(srv, extra):
    url = "/x.cnt?ttl=30&vq=ttl" + extra
    r1, r2 = srv.get(url), srv.get(url)
    assert r1.header("X-Pre") != r2.header("X-Pre")  # the handler stages ran both times


def test_authorization_and_conditional_requests_bypass_the_cache(srv):
    url = "/c.cnt?ttl=30&vq=ttl"
    stored = count(srv.get(url))
    assert count(srv.get(url)) == stored
    for h in ({"Authorization": "Basic dTpw"}, {"If-None-Match": '"x"'}, {"Range": "bytes=0-1"}):
        assert count(srv.get(url, headers=h)) != stored


def test_kernel_policy_is_honoured_unless_disabled(server_factory, tmp_path, root):
    s = start(server_factory, tmp_path, root)
    k = count(s.get("/k.cnt?kttl=30&vq=kttl"))
    assert count(s.get("/k.cnt?kttl=30&vq=kttl")) == k
    (tmp_path / "b").mkdir()
    s2 = start(server_factory, tmp_path / "b", root, caching={"enableKernelCache": "false"})
    assert count(s2.get("/k.cnt?kttl=30&vq=kttl")) != count(s2.get("/k.cnt?kttl=30&vq=kttl"))


def test_caching_disabled(server_factory, tmp_path, root):
    s = start(server_factory, tmp_path, root, caching={"enabled": "false"})
    assert count(s.get("/d.cnt?ttl=30&vq=ttl")) != count(s.get("/d.cnt?ttl=30&vq=ttl"))


def test_profile_cache_until_change_for_static_files(server_factory, tmp_path, root):
    s = start(server_factory, tmp_path, root,
              profiles=[{"extension": ".htm", "policy": "CacheUntilChange"}])
    first = s.get("/page.htm")
    assert (first.status, first.body) == (200, b"version 1")
    again = s.get("/page.htm")
    assert again.body == b"version 1"
    assert again.header("X-Pre") == first.header("X-Pre")  # served by the cache
    assert again.header("ETag") == first.header("ETag")
    # other extensions have no profile
    assert s.get("/plain.txt").header("X-Pre") != s.get("/plain.txt").header("X-Pre")
    # a change of the file is seen (the open-file cache notices it within its window)
    (root / "page.htm").write_text("version 2, longer")
    changed = poll(lambda: (lambda r: r if r.body == b"version 2, longer" else None)(s.get("/page.htm")), 10.0)
    assert changed is not None
    assert changed.header("X-Pre") != first.header("X-Pre")
    os.remove(root / "page.htm")
    assert poll(lambda: s.get("/page.htm").status == 404, 10.0)


def test_a_file_changed_while_its_response_is_made_is_not_stored_as_current(server_factory, tmp_path, root):
    # The response is made from "version 1", then the file is replaced before the cache update
    # runs. Stored, the old body would carry the new file's size, time and inode, and every later
    # hit would take it for current.
    s = start(server_factory, tmp_path, root, hold=True,
              profiles=[{"extension": ".htm", "policy": "CacheUntilChange", "varyByQueryString": "*"}])
    release = tmp_path / "release"
    url = "/page.htm?holdstate=%s" % release
    c = s.client()
    c.request("GET", url)
    try:
        assert poll(lambda: os.path.exists("%s.held" % release), 10.0), "the request was not held"
        new = root / "page.new"
        new.write_text("version 2, longer")
        new.rename(root / "page.htm")
    finally:
        flag = tmp_path / "release.tmp"
        flag.write_bytes(b"")
        flag.rename(release)
    assert c.read_response().body == b"version 1"
    changed = poll(lambda: (lambda r: r if r.body == b"version 2, longer" else None)(s.get(url)), 10.0)
    assert changed is not None, "a stale body was stored as the new file's"


def test_profile_cache_for_time_period(server_factory, tmp_path, root):
    s = start(server_factory, tmp_path, root,
              profiles=[{"extension": ".cnt", "policy": "CacheForTimePeriod", "duration": "00:00:01"}])
    a = count(s.get("/t.cnt"))
    assert count(s.get("/t.cnt")) == a
    time.sleep(1.2)
    assert count(s.get("/t.cnt")) != a


def test_profile_location_client_is_not_cached_on_the_server(server_factory, tmp_path, root):
    s = start(server_factory, tmp_path, root,
              profiles=[{"extension": ".cnt", "policy": "CacheForTimePeriod", "location": "Client"}])
    assert count(s.get("/l.cnt")) != count(s.get("/l.cnt"))


def test_max_response_size(server_factory, tmp_path, root):
    s = start(server_factory, tmp_path, root, caching={"maxResponseSize": "4"},
              profiles=[{"extension": ".htm", "policy": "CacheUntilChange"}])
    assert s.get("/page.htm").header("X-Pre") != s.get("/page.htm").header("X-Pre")
