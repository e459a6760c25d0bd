"""HttpLoggingModule: W3C extended log files per site as IIS writes them
(<sites><siteDefaults|site><logFile>, system.applicationHost/log and
system.webServer/httpLogging). Log files are read after the server has
stopped (SIGTERM must flush every buffered line) unless a test checks the
periodic flush."""

import datetime
import re
import socket
import threading
import xml.etree.ElementTree as ET

import pytest

from iisdtest import AppHostConfig, build_request, free_port, module_path, poll

DEFAULT_FIELDS = ("date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
                  "cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken")
ALL_FLAGS = ("Date, Time, ClientIP, UserName, SiteName, ComputerName, ServerIP, Method, UriStem, "
             "UriQuery, HttpStatus, Win32Status, BytesSent, BytesRecv, TimeTaken, ServerPort, "
             "UserAgent, Cookie, Referer, ProtocolVersion, Host, HttpSubStatus")
ALL_FIELDS = ("date time s-sitename s-computername s-ip cs-method cs-uri-stem cs-uri-query s-port "
              "cs-username c-ip cs-version cs(User-Agent) cs(Cookie) cs(Referer) cs-host sc-status "
              "sc-substatus sc-win32-status sc-bytes cs-bytes time-taken")


def read(path):
    return path.read_bytes().decode("utf-8")  # (read_text would turn CR LF into LF)


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def daily_name(when=None):
    return "u_ex%s.log" % (when or utc_now()).strftime("%y%m%d")


class Logged:
    """A started server with its log folder."""

    def __init__(self, srv, logdir):
        self.srv = srv
        self.logdir = logdir

    def stop(self):
        assert self.srv.terminate() == 0, self.srv.stderr()

    def files(self, site_id=1):
        d = self.logdir / ("W3SVC%d" % site_id)
        return sorted(p.name for p in d.iterdir()) if d.exists() else []

    def text(self, name=None, site_id=1):
        path = self.logdir / ("W3SVC%d" % site_id) / (name or daily_name())
        return path.read_bytes().decode("utf-8")


def entries(text):
    """(fields, [rows]) of a log text; rows are lists of values. Checks that
    every header block is complete and every line ends with CR LF."""
    assert text.endswith("\r\n"), repr(text[-80:])
    lines = text[:-2].split("\r\n")
    fields, rows = None, []
    for line in lines:
        assert "\n" not in line and "\r" not in line
        if line.startswith("#Fields: "):
            fields = line[len("#Fields: "):].split(" ")
        elif not line.startswith("#"):
            assert fields is not None, "a line before any #Fields header"
            values = line.split(" ")
            assert len(values) == len(fields), (fields, line)
            rows.append(dict(zip(fields, values)))
    return fields, rows


@pytest.fixture
def logged(server_factory, tmp_path, site):
    """start(edit=None, env=None): a server whose one site (id 1) logs to
    tmp_path/logs; edit(cfg, site_element) changes the configuration first."""
    def start(edit=None, env=None, site_id=1, cli_modules=()):
        cfg = AppHostConfig()
        port = free_port()
        el = cfg.add_site("Default Web Site", site_id, ["127.0.0.1:%d:" % port], site)
        logdir = tmp_path / "logs"
        cfg.element("system.applicationHost/sites/siteDefaults/logFile").set("directory", str(logdir))
        if edit is not None:
            edit(cfg, el)
        path = tmp_path / ("applicationHost-%d.config" % port)
        cfg.write(path)
        return Logged(server_factory(config_file=path, port=port, env=env, cli_modules=cli_modules), logdir)
    return start


def site_log_file(site_el, **attrs):
    lf = site_el.find("logFile")
    if lf is None:
        lf = ET.SubElement(site_el, "logFile")
    for k, v in attrs.items():
        lf.set(k, v)
    return lf


def test_default_header_and_fields(logged):
    lg = logged()
    before = utc_now()
    r = lg.srv.get("/hello.txt", headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)",
                                          "Referer": "http://example.com/a page"})
    assert r.status == 200
    assert lg.srv.get("/missing.txt?a=1&b=2").status == 404
    lg.stop()
    after = utc_now()
    names = lg.files()
    assert names in ([daily_name(before)], [daily_name(after)])
    text = lg.text(names[0])
    head = text.split("\r\n")[:4]
    assert re.match(r"^#Software: iisd/\S+$", head[0]), head
    assert head[1] == "#Version: 1.0"
    m = re.match(r"^#Date: (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)$", head[2])
    assert m, head
    stamp = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)
    assert before.replace(microsecond=0) <= stamp <= after  # UTC
    assert head[3] == "#Fields: " + DEFAULT_FIELDS
    fields, rows = entries(text)
    assert len(rows) == 2
    ok, missing = sorted(rows, key=lambda r: r["sc-status"])
    when = datetime.datetime.strptime(ok["date"] + " " + ok["time"], "%Y-%m-%d %H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)
    assert before.replace(microsecond=0) <= when <= after
    assert ok["s-ip"] == "127.0.0.1" and ok["c-ip"] == "127.0.0.1"
    assert ok["cs-method"] == "GET" and ok["cs-uri-stem"] == "/hello.txt"
    assert ok["cs-uri-query"] == "-"
    assert ok["s-port"] == str(lg.srv.port)
    assert ok["cs-username"] == "-"
    assert ok["cs(User-Agent)"] == "Mozilla/5.0+(X11;+Linux+x86_64)"
    assert ok["cs(Referer)"] == "http://example.com/a+page"
    assert (ok["sc-status"], ok["sc-substatus"], ok["sc-win32-status"]) == ("200", "0", "0")
    assert ok["time-taken"].isdigit()
    assert missing["cs-uri-stem"] == "/missing.txt" and missing["cs-uri-query"] == "a=1&b=2"
    assert missing["sc-status"] == "404" and missing["cs(Referer)"] == "-"


def test_every_flag_in_iis_order(logged):
    lg = logged(lambda cfg, el: site_log_file(el, logExtFileFlags=ALL_FLAGS))
    c = lg.srv.client()
    req = build_request("GET", "/a.txt?x=1", {"Cookie": "k=v; other=w", "User-Agent": "t"},
                        host="logs.example")
    c.send(req)
    r = c.read_response()
    assert r.status == 200
    c.close()
    lg.stop()
    text = lg.text()
    assert "#Fields: " + ALL_FIELDS + "\r\n" in text
    fields, rows = entries(text)
    assert fields == ALL_FIELDS.split(" ")
    (row,) = rows
    assert row["s-sitename"] == "W3SVC1"
    assert row["s-computername"] == socket.gethostname()
    assert row["cs-version"] == "HTTP/1.1"
    assert row["cs-host"] == "logs.example"
    assert row["cs(Cookie)"] == "k=v;+other=w"
    assert row["cs-uri-query"] == "x=1"
    assert row["sc-bytes"] == str(len(r.raw_head) + 4 + len(r.body))
    assert row["cs-bytes"] == str(len(req))


def test_site_name_without_site_id(logged):
    lg = logged(lambda cfg, el: site_log_file(el, logExtFileFlags="Date, SiteName, HttpStatus",
                                              logSiteId="false"))
    lg.srv.get("/a.txt")
    lg.stop()
    fields, rows = entries(lg.text())
    assert fields == ["date", "s-sitename", "sc-status"]
    assert rows[0]["s-sitename"] == "Default+Web+Site"


def test_burst_all_lines_flushed_on_sigterm(logged):
    lg = logged()
    nthreads, per = 8, 60

    def worker(t):
        c = lg.srv.client()
        for i in range(per):
            c.request("GET", "/a.txt?t=%d&i=%d" % (t, i))
            assert c.read_response().status == 200
        c.close()

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(nthreads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    lg.stop()  # straight away: the lines are still in the buffers
    _, rows = entries(lg.text())
    queries = [r["cs-uri-query"] for r in rows]
    assert sorted(queries) == sorted("t=%d&i=%d" % (t, i) for t in range(nthreads) for i in range(per))
    # each connection's lines keep their order
    for t in range(nthreads):
        mine = [q for q in queries if q.startswith("t=%d&" % t)]
        assert mine == ["t=%d&i=%d" % (t, i) for i in range(per)]


def test_lines_reach_the_file_while_running(logged):
    lg = logged()
    lg.srv.get("/a.txt?live=1")
    path = lg.logdir / "W3SVC1"

    def found():
        return any("live=1" in read(p) for p in path.glob("*.log")) if path.exists() else False

    assert poll(found, timeout=4.0), "the line was not flushed within a few seconds"


def test_restart_writes_a_new_header(logged, tmp_path):
    lg = logged()
    lg.srv.get("/a.txt?first")
    lg.stop()
    cfg_files = sorted(tmp_path.glob("applicationHost-*.config"))
    lg2 = logged()
    lg2.srv.get("/a.txt?second")
    lg2.stop()
    assert len(cfg_files) == 1
    text = lg2.text()
    assert text.count("#Software: ") == 2 and text.count("#Fields: ") == 2
    _, rows = entries(text)
    assert [r["cs-uri-query"] for r in rows] == ["first", "second"]


@pytest.mark.parametrize("attrs,logged_status", [
    ({"selectiveLogging": "LogAll"}, {"200", "404"}),
    ({"selectiveLogging": "LogSuccessful"}, {"200"}),
    ({"selectiveLogging": "LogError"}, {"404"}),
    ({"dontLog": "true"}, {"404"}),
])
def test_selective_logging(logged, attrs, logged_status):
    def edit(cfg, el):
        sec = cfg.section("system.webServer/httpLogging")
        for k, v in attrs.items():
            sec.set(k, v)
    lg = logged(edit)
    assert lg.srv.get("/a.txt").status == 200
    assert lg.srv.get("/nothing-here").status == 404
    lg.stop()
    names = lg.files()
    if not names:
        assert logged_status == set()
        return
    _, rows = entries(lg.text(names[0]))
    assert {r["sc-status"] for r in rows} == logged_status
    assert len(rows) == len(logged_status)


def test_selective_logging_per_location(logged, site):
    (site / "errors").mkdir()
    (site / "errors" / "e.txt").write_bytes(b"e")

    def edit(cfg, el):
        sec = cfg.section("system.webServer/httpLogging", location="Default Web Site/errors")
        sec.set("selectiveLogging", "LogError")
    lg = logged(edit)
    assert lg.srv.get("/errors/e.txt").status == 200
    assert lg.srv.get("/errors/none.txt").status == 404
    assert lg.srv.get("/a.txt").status == 200
    lg.stop()
    _, rows = entries(lg.text())
    # (a request is logged after its response is sent: requests on different connections may be
    # logged in either order)
    assert sorted((r["cs-uri-stem"], r["sc-status"]) for r in rows) == [
        ("/a.txt", "200"), ("/errors/none.txt", "404")]


def test_disabled_site_writes_nothing(logged):
    lg = logged(lambda cfg, el: site_log_file(el, enabled="false"))
    assert lg.srv.get("/a.txt").status == 200
    lg.stop()
    assert not (lg.logdir / "W3SVC1").exists()


def test_site_log_file_overrides_site_defaults(logged, tmp_path):
    own = tmp_path / "own logs"
    lg = logged(lambda cfg, el: site_log_file(el, directory=str(own), logExtFileFlags="Method, UriStem"),
                site_id=7)
    lg.srv.get("/a.txt")
    lg.stop()
    assert not (lg.logdir / "W3SVC7").exists()
    text = read(own / "W3SVC7" / daily_name())
    assert "#Fields: cs-method cs-uri-stem\r\n" in text
    assert text.endswith("GET /a.txt\r\n")


def test_period_names(logged):
    for period, fmt in (("Hourly", "%y%m%d%H"), ("Monthly", "%y%m")):
        lg = logged(lambda cfg, el: site_log_file(el, period=period))
        before = utc_now()
        lg.srv.get("/a.txt")
        lg.stop()
        after = utc_now()
        assert lg.files() in (["u_ex%s.log" % before.strftime(fmt)], ["u_ex%s.log" % after.strftime(fmt)])
        for p in (lg.logdir / "W3SVC1").iterdir():
            p.unlink()


def test_local_time_rollover_names_by_local_date(logged):
    # 14 hours east of UTC: the local date is often not the UTC date, the time column stays UTC
    lg = logged(lambda cfg, el: site_log_file(el, localTimeRollover="true", period="Hourly"),
                env={"TZ": "XXX-14"})
    before = utc_now()
    lg.srv.get("/a.txt")
    lg.stop()
    after = utc_now()
    shift = datetime.timedelta(hours=14)
    assert lg.files() in (["u_ex%s.log" % (before + shift).strftime("%y%m%d%H")],
                          ["u_ex%s.log" % (after + shift).strftime("%y%m%d%H")])
    _, rows = entries(lg.text(lg.files()[0]))
    assert rows[0]["time"][:2] in (before.strftime("%H"), after.strftime("%H"))


def test_max_size_rollover(logged):
    lg = logged(lambda cfg, el: site_log_file(el, period="MaxSize", truncateSize="1048576"))
    agent = "A" * 8000
    c = lg.srv.client()
    n = 200  # about 1.6 MB of lines
    for i in range(n):
        c.request("GET", "/a.txt?n=%d" % i, {"User-Agent": agent})
        assert c.read_response().status == 200
    c.close()
    lg.stop()
    assert lg.files() == ["u_extend1.log", "u_extend2.log"]
    seen = []
    for name in lg.files():
        path = lg.logdir / "W3SVC1" / name
        assert path.stat().st_size <= 1048576
        text = read(path)
        assert text.startswith("#Software: ")
        seen += [r["cs-uri-query"] for r in entries(text)[1]]
    assert seen == ["n=%d" % i for i in range(n)]


def test_max_size_continues_after_restart(logged):
    edit = lambda cfg, el: site_log_file(el, period="MaxSize", truncateSize="1048576")  # noqa: E731
    lg = logged(edit)
    lg.srv.get("/a.txt?one")
    lg.stop()
    (lg.logdir / "W3SVC1" / "u_extend3.log").write_text("#Software: old\r\n")
    lg2 = logged(edit)
    lg2.srv.get("/a.txt?two")
    lg2.stop()
    assert "two" in lg2.text("u_extend3.log")
    assert "two" not in lg2.text("u_extend1.log")


def test_unwritable_directory_reports_once_and_keeps_serving(logged, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    lg = logged(lambda cfg, el: site_log_file(el, directory=str(blocker / "logs")))
    for _ in range(5):
        assert lg.srv.get("/a.txt").status == 200
    lg.stop()
    errors = [msg for level, msg in lg.srv.log_lines() if level == "error" and "HttpLoggingModule" in msg]
    assert len(errors) == 1, lg.srv.stderr()
    assert str(blocker) in errors[0]


def test_central_w3c_log(logged, tmp_path):
    central = tmp_path / "central"

    def edit(cfg, el):
        log = cfg.element("system.applicationHost/log")
        log.set("centralLogFileMode", "CentralW3C")
        cfg.element("system.applicationHost/log/centralW3CLogFile").set("directory", str(central))
    lg = logged(edit)
    lg.srv.get("/a.txt")
    lg.stop()
    assert not (lg.logdir / "W3SVC1").exists()
    text = read(central / "W3SVC" / daily_name())
    fields, rows = entries(text)
    assert "s-sitename" in fields and rows[0]["s-sitename"] == "W3SVC1"
    assert rows[0]["cs-uri-stem"] == "/a.txt"


def test_other_log_formats_are_not_written(logged):
    lg = logged(lambda cfg, el: site_log_file(el, logFormat="NCSA"))
    assert lg.srv.get("/a.txt").status == 200
    assert lg.srv.get("/b.txt").status == 200
    lg.stop()
    assert not (lg.logdir / "W3SVC1").exists()
    warnings = [msg for level, msg in lg.srv.log_lines() if level == "warn" and "logFormat" in msg]
    assert len(warnings) == 1, lg.srv.stderr()


def test_server_variables_set_by_a_module_are_logged(logged):
    """The columns that are server variables (c-ip, cs-version...) show what a module set with
    SetServerVariable; the request's own values otherwise."""
    lg = logged(lambda cfg, el: site_log_file(el, logExtFileFlags=ALL_FLAGS),
                cli_modules=[("LogData", module_path("logdata"))])
    assert lg.srv.get("/a.txt?setvars=1").status == 200
    assert lg.srv.get("/a.txt?plain=1").status == 200
    lg.stop()
    _, rows = entries(lg.text())
    by_query = {row["cs-uri-query"]: row for row in rows}
    assert len(by_query) == 2
    changed, plain = by_query["setvars=1"], by_query["plain=1"]
    assert changed["c-ip"] == "198.51.100.7"
    assert changed["cs-version"] == "HTTP/9.9"
    assert plain["c-ip"] == "127.0.0.1"
    assert plain["cs-version"] == "HTTP/1.1"
    assert plain["s-port"] == changed["s-port"] == str(lg.srv.port)
    assert plain["s-ip"] == "127.0.0.1"
    assert plain["cs-method"] == "GET"


def test_log_record_set_by_a_module_is_written(logged):
    """A module that replaces the record with ISendResponseProvider::SetLogData in RQ_SEND_RESPONSE
    changes the line: cs-uri-stem and c-ip come from its record; the other fields are the request's."""
    lg = logged(lambda cfg, el: site_log_file(el, logExtFileFlags=ALL_FLAGS),
                cli_modules=[("LogData", module_path("logdata"))])
    r = lg.srv.get("/a.txt?rewrite=1", headers={"User-Agent": "agent-x"})
    assert r.status == 200
    # what GetLogData returned before the module replaced it
    assert r.header("X-Log-Stem") == "/a.txt"
    assert r.header("X-Log-Ip") == "127.0.0.1"
    assert r.header("X-Log-Method") == "GET"
    assert r.header("X-Log-Query") == "rewrite=1"
    assert r.header("X-Log-Agent") == "agent-x"
    assert r.header("X-Log-Port") == str(lg.srv.port)
    assert r.header("X-Log-Status") == "200.0"
    assert r.header("X-Log-Verb") == "4"  # HttpVerbGET
    assert r.header("X-Log-Set") is None
    # read but not replaced: the line is the request's
    assert lg.srv.get("/a.txt?keep=1").status == 200
    lg.stop()
    _, rows = entries(lg.text())
    assert len(rows) == 2
    # (a line is written after the response went out: the two may be logged in either order)
    by_query = {row["cs-uri-query"]: row for row in rows}
    changed, kept = by_query["rewrite=1"], by_query["keep=1"]
    assert changed["cs-uri-stem"] == "/rewritten/stem"
    assert changed["c-ip"] == "203.0.113.9"
    assert changed["cs(User-Agent)"] == "agent-x"
    assert changed["s-port"] == str(lg.srv.port)
    assert changed["s-sitename"] == "W3SVC1"
    assert changed["s-computername"] == socket.gethostname()
    assert changed["sc-status"] == "200"
    assert changed["sc-bytes"] != "-" and int(changed["sc-bytes"]) > 0
    assert kept["cs-uri-stem"] == "/a.txt"
    assert kept["c-ip"] == "127.0.0.1"
