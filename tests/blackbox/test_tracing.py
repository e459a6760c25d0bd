"""Tracing: IHttpTraceContext and GL_TRACE_EVENT (through the tracer test module), and
FailedRequestsTracingModule (<traceFailedRequests> rules, <traceFailedRequestsLogging>)."""

import re
import time
import xml.etree.ElementTree as ET

import pytest

from iisdtest import AppHostConfig, free_port, module_path, poll, read_trace

TEST_PROVIDER = "{5b2c9d1e-7a40-4c8e-9f31-0d6e2a7b8c15}"
WWW_SERVER = "{3a2a4e84-4c21-4981-ae10-3fda0d9b0f83}"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class Traced:
    def __init__(self, srv, frdir):
        self.srv = srv
        self.frdir = frdir

    def files(self):
        return sorted(p.name for p in self.frdir.iterdir()) if self.frdir.exists() else []

    def wait_files(self, names, timeout=5.0):
        got = poll(lambda: self.files() == names and self.files(), timeout)
        assert self.files() == names
        return got

    def parse(self, name):
        return ET.parse(str(self.frdir / name)).getroot()


@pytest.fixture
def traced(server_factory, tmp_path, site):
    """start(rules=[(path, {failureDefinitions attrs}, [(provider, areas, verbosity)])],
    logging={traceFailedRequestsLogging attrs}, tracer=False, env=None)."""
    def start(rules=(), logging=None, tracer=False, env=None):
        cfg = AppHostConfig()
        port = free_port()
        el = cfg.add_site("Default Web Site", 1, ["127.0.0.1:%d:" % port], site)
        base = tmp_path / "frlogs"
        attrs = {"enabled": "true", "directory": str(base)}
        attrs.update(logging or {})
        ET.SubElement(el, "traceFailedRequestsLogging", attrs)
        sec = cfg.section("system.webServer/tracing/traceFailedRequests")
        for path, failure, areas in rules:
            add = ET.SubElement(sec, "add", {"path": path})
            ta = ET.SubElement(add, "traceAreas")
            for provider, names, verbosity in areas:
                ET.SubElement(ta, "add", {"provider": provider, "areas": names, "verbosity": verbosity})
            ET.SubElement(add, "failureDefinitions", failure)
        if tracer:
            cfg.add_global_module("TracerModule", module_path("tracer"))
            cfg.enable_module("TracerModule")
        path = tmp_path / ("applicationHost-%d.config" % port)
        cfg.write(path)
        return Traced(server_factory(config_file=path, port=port, env=env), base / "W3SVC1")
    return start


WWW_ALL = [("WWW Server", "RequestNotifications,Module,StaticFile", "Verbose")]


def events(root):
    return root.findall("event")


def data(ev):
    return {d.get("name"): d.text or "" for d in ev.findall("data")}


# ---- FailedRequestsTracingModule ------------------------------------------------------------


def test_status_rule_writes_one_file_with_every_notification(traced):
    t = traced(rules=[("*.txt", {"statusCodes": "404,500-599"}, WWW_ALL)])
    assert t.srv.get("/hello.txt").status == 200      # rule matches, status does not
    assert t.srv.get("/missing.htm").status == 404    # status matches, path does not
    before = time.time()
    assert t.srv.get("/missing.txt?a=1&b=<2>").status == 404
    t.wait_files(["fr000001.xml"])
    time.sleep(0.3)
    assert t.files() == ["fr000001.xml"]
    root = t.parse("fr000001.xml")
    assert root.tag == "failedRequest"
    assert root.get("url") == "/missing.txt" and root.get("query") == "a=1&b=<2>"
    assert root.get("verb") == "GET" and root.get("siteId") == "1"
    assert root.get("failureReason") == "STATUS_CODE" and root.get("rule") == "*.txt"
    assert (root.get("statusCode"), root.get("subStatusCode"), root.get("win32Status")) == ("404", "0", "2")
    assert root.get("timeTaken").isdigit() and root.get("truncated") == "false"
    assert re.match(r"^\{[0-9a-f-]{36}\}$", root.get("activityId"))
    assert ISO_UTC.match(root.get("startTime"))
    evs = events(root)
    assert int(root.get("eventCount")) == len(evs) > 10
    offsets = [float(e.get("offsetMs")) for e in evs]
    assert offsets == sorted(offsets)
    for e in evs:
        assert ISO_UTC.match(e.get("time")) and e.get("providerGuid") == WWW_SERVER
        assert e.get("provider") == "WWW Server"
    starts = [e for e in evs if e.get("name") == "NOTIFY_MODULE_START"]
    ends = [e for e in evs if e.get("name") == "NOTIFY_MODULE_END"]
    assert len(starts) == len(ends) > 5
    assert all(float(e.get("durationMs")) >= 0 for e in ends)
    first = data(starts[0])
    assert first["fIsPostNotification"] == "false" and first["Notification"] == "1"
    assert starts[0].find("data[@name='Notification']").get("text") == "BEGIN_REQUEST"
    # the module view: one entry per module call, with its timing and result
    mods = root.find("notifications").findall("module")
    assert len(mods) == len(starts)
    seen = {(m.get("name"), m.get("notification")) for m in mods}
    assert ("HttpLoggingModule", "LOG_REQUEST") in seen
    assert ("RequestFilteringModule", "BEGIN_REQUEST") in seen
    assert any(n == "SEND_RESPONSE" for _, n in seen)
    assert all(m.get("status") == "CONTINUE" and float(m.get("durationMs")) >= 0 for m in mods)
    assert "FailedRequestsTracingModule" not in {m.get("name") for m in mods}
    assert before <= time.time()


def test_status_codes_with_substatus_and_module_events(traced):
    rules = [("*", {"statusCodes": "401.3, 503"},
              [("WWW Server", "RequestNotifications,Module", "Verbose")])]
    t = traced(rules=rules, tracer=True)
    assert t.srv.get("/tracer/status?code=401&sub=1").status == 401   # other sub-status
    assert t.srv.get("/tracer/status?code=401&sub=3").status == 401
    t.wait_files(["fr000001.xml"])
    assert t.srv.get("/tracer/status?code=503&sub=7").status == 503   # any sub-status
    t.wait_files(["fr000001.xml", "fr000002.xml"])
    one, two = t.parse("fr000001.xml"), t.parse("fr000002.xml")
    assert (one.get("statusCode"), one.get("subStatusCode"), one.get("win32Status")) == ("401", "3", "5")
    assert (two.get("statusCode"), two.get("subStatusCode")) == ("503", "7")
    err = [e for e in events(one) if e.get("name") == "MODULE_SET_RESPONSE_ERROR_STATUS"]
    assert len(err) == 1
    d = data(err[0])
    assert d["ModuleName"] == "TracerModule" and d["HttpStatus"] == "401" and d["HttpSubStatus"] == "3"
    assert d["HttpReason"] == "Traced" and d["ErrorCode"] == str(0x80070005)
    assert err[0].get("levelName") == "Warning" and err[0].get("area") == "512"
    quick = [data(e) for e in events(one) if e.get("name") == "MODULE_QUICK_TRACE"]
    assert {"ModuleName": "TracerModule", "Data1": "tracer", "Data2": "/tracer/status",
            "ErrorCode": "0"} in quick
    tracer_calls = [m for m in one.find("notifications").findall("module") if m.get("name") == "TracerModule"]
    assert [(m.get("notification"), m.get("status")) for m in tracer_calls] == [("BEGIN_REQUEST",
                                                                                "FINISH_REQUEST")]


def test_areas_select_events(traced):
    t = traced(rules=[("*", {"statusCodes": "500"}, [("WWW Server", "Module", "Verbose")])], tracer=True)
    assert t.srv.get("/tracer/status?code=500").status == 500
    t.wait_files(["fr000001.xml"])
    names = {e.get("name") for e in events(t.parse("fr000001.xml"))}
    assert names == {"MODULE_QUICK_TRACE", "MODULE_SET_RESPONSE_ERROR_STATUS"}


def test_time_taken(traced):
    t = traced(rules=[("sleep", {"timeTaken": "00:00:01"}, WWW_ALL)], tracer=True)
    assert t.srv.get("/tracer/sleep?ms=20").body == b"slept"
    time.sleep(0.3)
    assert t.files() == []
    r = t.srv.get("/tracer/sleep?ms=1200")
    assert r.status == 200 and r.body == b"slept"
    t.wait_files(["fr000001.xml"])
    root = t.parse("fr000001.xml")
    assert root.get("failureReason") == "TIME_TAKEN" and root.get("statusCode") == "200"
    assert int(root.get("timeTaken")) >= 1200
    begin = [m for m in root.find("notifications").findall("module")
             if m.get("name") == "TracerModule" and m.get("notification") == "BEGIN_REQUEST"]
    assert len(begin) == 1 and float(begin[0].get("durationMs")) >= 1100


def test_max_log_files_deletes_the_oldest(traced):
    t = traced(rules=[("*", {"statusCodes": "404"}, WWW_ALL)], logging={"maxLogFiles": "2"})
    for n in range(1, 5):
        assert t.srv.get("/missing-%d.txt" % n).status == 404
        poll(lambda: "fr%06d.xml" % n in t.files(), 5.0)
    t.wait_files(["fr000003.xml", "fr000004.xml"])
    assert t.parse("fr000003.xml").get("url") == "/missing-3.txt"
    assert t.parse("fr000004.xml").get("url") == "/missing-4.txt"


def test_nothing_written_when_logging_disabled(traced):
    t = traced(rules=[("*", {"statusCodes": "404"}, WWW_ALL)], logging={"enabled": "false"})
    assert t.srv.get("/missing.txt").status == 404
    time.sleep(0.4)
    assert not t.frdir.parent.exists()


# ---- IHttpTraceContext and GL_TRACE_EVENT (tracer module) ----------------------------------


def lines_for(path, url):
    return [l for l in read_trace(path) if (" url=%s " % url) in l]


def test_raise_trace_event_reaches_subscribers(traced, trace_file):
    t = traced(tracer=True, env={"IISD_TEST_TRACE": str(trace_file)})
    assert t.srv.get("/tracer/raise?area=2&level=4").body == b"raised hr=0x00000000"
    got = poll(lambda: [l for l in lines_for(trace_file, "/tracer/raise") if "TEST_EVENT" in l], 3.0)
    assert got == ["event TEST_EVENT provider=%s area=2 level=4 sub=1 url=/tracer/raise "
                   "items=Value=42;Text=a<b&c;" % TEST_PROVIDER]
    trace_file.write_bytes(b"")
    # an area outside the subscription, a level above it: no one is told
    assert t.srv.get("/tracer/raise?area=8&level=4").status == 200
    assert t.srv.get("/tracer/raise?area=4&level=5").status == 200
    assert t.srv.get("/tracer/raise?area=4&level=1").status == 200
    time.sleep(0.2)
    assert [l.split(" url=")[0] for l in read_trace(trace_file)] == [
        "event TEST_EVENT provider=%s area=4 level=1 sub=1" % TEST_PROVIDER]


def test_quick_trace_and_trace_configuration(traced, trace_file):
    t = traced(tracer=True, env={"IISD_TEST_TRACE": str(trace_file)})
    r = t.srv.get("/tracer/quick")
    assert r.body == b"before=0 after=1 areas=512 verbosity=5"
    time.sleep(0.2)
    got = lines_for(trace_file, "/tracer/quick")
    # the QuickTrace before the request subscribed reached no one; the one after did, and so
    # did the module's SetStatus(200) (area Module, verbose)
    assert got == ["event MODULE_QUICK_TRACE provider=%s area=512 level=3 sub=1 url=/tracer/quick "
                   "items=ModuleName=TracerModule;Data1=first;Data2=second;ErrorCode=%d;"
                   % (WWW_SERVER, 0x80004005),
                   "event MODULE_SET_RESPONSE_SUCCESS_STATUS provider=%s area=512 level=5 sub=1 "
                   "url=/tracer/quick items=ModuleName=TracerModule;Notification=1;HttpStatus=200;"
                   "HttpReason=OK;HttpSubStatus=0;ErrorCode=0;" % WWW_SERVER]


def test_engine_events_only_for_subscribed_requests(traced, trace_file):
    t = traced(tracer=True, env={"IISD_TEST_TRACE": str(trace_file)})
    assert t.srv.get("/hello.txt").status == 200
    assert t.srv.get("/tracer/notify").status == 404
    def logging_events():
        return [l for l in lines_for(trace_file, "/tracer/notify")
                if "ModuleName=HttpLoggingModule;Notification=1024;" in l]
    poll(lambda: len(logging_events()) >= 2, 3.0)  # the end event is written after the response
    assert len(logging_events()) == 2  # start and end
    lines = lines_for(trace_file, "/tracer/notify")
    assert ("event NOTIFY_MODULE_END provider=%s area=256 level=5 sub=1 url=/tracer/notify "
            "items=ModuleName=TracerModule;Notification=1;fIsPostNotificationEvent=0;NotificationStatus=0;"
            % WWW_SERVER) in lines
    assert not any("NOTIFY_MODULE_START" in l and "ModuleName=TracerModule;Notification=1;" in l
                   for l in lines)  # it subscribed during that call
    assert lines_for(trace_file, "/hello.txt") == []


def test_check_subscription_is_per_module(traced, trace_file):
    # failed-request tracing subscribes the request; the tracer sees the events, not as a subscriber
    t = traced(rules=[("*.txt", {"statusCodes": "404"}, [("WWW Server", "RequestNotifications", "Verbose")])],
               tracer=True, env={"IISD_TEST_TRACE": str(trace_file)})
    assert t.srv.get("/missing.txt").status == 404
    t.wait_files(["fr000001.xml"])
    lines = lines_for(trace_file, "/missing.txt")
    assert lines and all(" sub=0 " in l for l in lines)


def test_activity_id_and_errors(traced):
    t = traced(tracer=True)
    one, two = t.srv.get("/tracer/activity").body.decode(), t.srv.get("/tracer/activity").body.decode()
    m1 = re.match(r"^activity=(\{[0-9a-f-]{36}\}) same=1$", one)
    m2 = re.match(r"^activity=(\{[0-9a-f-]{36}\}) same=1$", two)
    assert m1 and m2 and m1.group(1) != m2.group(1)
    assert m1.group(1) != "{00000000-0000-0000-0000-000000000000}"
    assert t.srv.get("/tracer/errors").body == b"notfound=0x80070490 invalid=0x80070057"
