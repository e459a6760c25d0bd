#!/usr/bin/env python3
"""Runs the conformance suite: the modules of tests/conformance/ in a real iisd.

    python3 tests/conformance/run.py [--iisd build/iisd] [--modules build/tests/conformance]
                                     [--json build/conformance.json] [--only PREFIX]

The modules are built beforehand (`make conformance` does both). The driver
starts iisd with a configuration that loads every module, sends the requests
listed in run_requests() below, stops the server, and then reads

  - the lines the modules wrote with CHECK() (to $IISD_CONFORMANCE_OUT), and
  - what it checked itself on the responses, with expect().

A method passes when all its checks passed. Every check named in the
sources must have reported; a check that never ran is a failure. The table
goes to stdout; the exit status is 1 when any method failed. See
docs/conformance-suite.md.
"""

import argparse
import json
import os
import re
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

# CHECK(<name>, ...) in the modules, expect(<name>, ...) here; <name> is "Interface::Method".
CHECK_RE = re.compile(r'\bCHECK\(\s*"(\w+)::(\w+)"')
EXPECT_RE = re.compile(r'\bexpect\(\s*"(\w+)::(\w+)"')

# The modules, in the order the configuration loads them: (configured name, image base name).
MODULES = [
    ("ConfServer", "server"),
    ("ConfRequest", "request"),
    ("ConfResponse", "response"),
    ("ConfContext", "context"),
    ("ConfProviders", "providers"),
    ("ConfBindingC", "binding_c"),
]


def declared_checks(directory=HERE):
    """{(binding, name): first source file} of every check in the sources."""
    out = {}
    for path in sorted(directory.iterdir()):
        if path.suffix == ".cpp":
            binding, pattern = "C++", CHECK_RE
        elif path.suffix == ".c":
            binding, pattern = "C", CHECK_RE
        elif path.suffix == ".py":
            binding, pattern = "driver", EXPECT_RE
        else:
            continue
        for m in pattern.finditer(path.read_text()):
            out.setdefault((binding, "%s::%s" % m.groups()), path.name)
    return out


# ---- results -------------------------------------------------------------

RESULTS = {}  # (binding, name) -> list of failure reasons ([] = passed)


def record(binding, name, ok, reason=""):
    fails = RESULTS.setdefault((binding, name), [])
    if not ok:
        fails.append(reason or "failed")


def expect(name, ok, reason=""):
    """A check the driver makes on what the client received."""
    record("driver", name, bool(ok), reason)
    return ok


def read_module_results(path):
    line_re = re.compile(r"^(PASS|FAIL) (C\+\+|C) (\w+::\w+)(?:: (.*))?$")
    if not path.exists():
        return
    for line in path.read_text(errors="replace").splitlines():
        m = line_re.match(line)
        if m:
            record(m.group(2), m.group(3), m.group(1) == "PASS", m.group(4) or "")
        elif line.strip():
            record("driver", "conformance::output", False, "unreadable line %r" % line)


# ---- the requests ----------------------------------------------------------

def hdr(resp, name):
    return resp.header(name) if resp is not None else None


def raw_exchange(port, path, timeout=5.0):
    """Sends GET path on a fresh connection and returns every byte received until the
    server closes it (b"" when it closes or resets without answering)."""
    data = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (path, port)).encode())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            except socket.timeout:
                return None
            if not chunk:
                break
            data += chunk
    return data


def run_requests(srv, only):
    port = srv.port
    host = "127.0.0.1:%d" % port

    def get(path, method="GET", headers=None, body=None):
        h = {"Host": host}
        h.update(headers or {})
        try:
            return srv.get(path, method=method, headers=h, body=body, host=None)
        except Exception as e:  # noqa: BLE001 - a broken exchange is a result, not a crash
            record("driver", "conformance::exchange", False, "%s %s: %s" % (method, path, e))
            return None

    def want(prefix):
        return only is None or prefix.startswith(only) or only.startswith(prefix)

    # -- IHttpRequest
    if want("/request/"):
        r = get("/request/basic?q=1", headers={"User-Agent": "conf-agent", "X-Conf": "abc", "Accept": "text/a"})
        expect("IHttpRequest::GetHeaderByName", r is not None and r.status == 200, repr(r))
        r = get("/request/body", method="POST", body=b"0123456789")
        expect("IHttpRequest::ReadEntityBody", r is not None and r.body == b"body done\n", repr(r))
        r = get("/request/body-ex", method="POST", body=b"0123456789")
        expect("IHttpRequest4::ReadEntityBodyWithFlags", r is not None and r.body == b"body-ex done\n", repr(r))
        r = get("/request/seturl-a?keep=1")
        expect("IHttpRequest::SetUrlA", r is not None and r.body == b"target /request/target-a?keep=1\n",
               "SetUrl(PCSTR, fResetQueryString=FALSE) keeps the query string: %r" % r)
        r = get("/request/seturl-w?drop=1")
        expect("IHttpRequest::SetUrlW", r is not None and r.body == b"target /request/target-w?\n",
               "SetUrl(PCWSTR, fResetQueryString=TRUE) drops the query string: %r" % r)

    # -- IHttpResponse
    if want("/response/"):
        r = get("/response/headers")
        expect("IHttpResponse::SetStatus", r is not None and r.status == 299 and r.reason == "Conf Status", repr(r))
        expect("IHttpResponse::SetHeaderByName", hdr(r, "X-A") in ("1,2", "1, 2") and hdr(r, "X-B") == "new",
               repr(r))
        expect("IHttpResponse::SetHeaderById", hdr(r, "Content-Type") == "text/x-conf", repr(r))
        expect("IHttpResponse::DeleteHeaderByName", r is not None and not r.has("X-Del"), repr(r))
        expect("IHttpResponse::DeleteHeaderById", r is not None and not r.has("Expires"), repr(r))
        expect("IHttpResponse::WriteEntityChunkByReference", r is not None and r.body == b"<hello world>",
               repr(r))
        r = get("/response/clear")
        expect("IHttpResponse::Clear", r is not None and r.status == 201 and r.body == b"clean", repr(r))
        expect("IHttpResponse::ClearHeaders", r is not None and not r.has("X-Gone") and not r.has("X-Gone2"), repr(r))
        r = get("/response/redirect?x=1")
        expect("IHttpResponse::Redirect", r is not None and r.status == 302
               and (hdr(r, "Location") or "").endswith("/response/elsewhere?x=1"), repr(r))
        r = get("/response/flush")
        expect("IHttpResponse::Flush", r is not None and r.body == b"one,two,three" and hdr(r, "X-Flushed") == "1",
               repr(r))
        expect("IHttpResponse::DisableBuffering", r is not None and r.body == b"one,two,three", repr(r))
        r = get("/response/buffered")
        expect("IHttpResponse::Flush", r is not None and r.body == b"buffered", repr(r))
        r = get("/response/ex")
        expect("IHttpResponse2::WriteEntityChunksEx", r is not None and r.body == b"ex-one,ex-two", repr(r))
        r = get("/response/goaway")
        expect("IHttpResponse4::SetNeedGoAway", r is not None and r.body == b"going away"
               and "close" in r.conn_tokens(), "HTTP/1.1: the connection closes after the response: %r" % r)
        data = raw_exchange(port, "/response/resetstream")
        expect("IHttpResponse4::ResetStream", data == b"", "HTTP/1.1: the connection is reset: %r" % data)
        r = get("/response/disconnect")
        expect("IHttpResponse::SetNeedDisconnect", r is not None and "close" in r.conn_tokens(), repr(r))
        data = raw_exchange(port, "/response/reset")
        expect("IHttpResponse::ResetConnection", data == b"", "the client received %r" % data)
        data = raw_exchange(port, "/response/close")
        expect("IHttpResponse::CloseConnection", data == b"", "the client received %r" % data)
        data = raw_exchange(port, "/response/suppress")
        expect("IHttpResponse::SuppressHeaders", data == b"raw body", "the client received %r" % data)

    # -- IHttpContext, IHttpSite, IHttpApplication, IHttpConnection, IMetadataInfo, ...
    if want("/context/"):
        for path in ("/context/basic", "/context/vars",
                     "/context/custom", "/context/cache"):
            r = get(path + "?from=driver")
            expect("IHttpContext::GetRequest", r is not None and r.status == 200, "%s: %r" % (path, r))
        r = get("/context/child")
        expect("IHttpContext::ExecuteRequest", r is not None and r.body == b"child|parent", repr(r))
        r = get("/context/child-async")
        expect("IHttpContext::ExecuteRequest", r is not None and r.body == b"child-async|parent",
               "a pending child completes its parent asynchronously: %r" % r)
        r = get("/context/async-post")
        expect("IHttpContext::PostCompletion", r is not None and r.body == b"posted", repr(r))
        r = get("/context/async-indicate")
        expect("IHttpContext::IndicateCompletion", r is not None and r.body == b"indicated", repr(r))
        r = get("/context/disable")
        expect("IHttpContext::DisableNotifications", r is not None and r.status == 404, repr(r))
        r = get("/context/file.txt")
        expect("IHttpContext::GetScriptMap", r is not None and r.body == b"file text\n", repr(r))
        r = get("/context/changes", headers={"User-Agent": "conformance-driver"})
        expect("IHttpContext::GetServerVarChanges", r is not None and r.body == b"changes", repr(r))
        r = get("/context/extra")
        expect("IHttpServer::GetPerfCounterInfo", r is not None and r.body == b"extra", repr(r))
        first, second = get("/context/hit"), get("/context/hit")
        expect("IHttpUrlInfo::IsFrequentlyHit", first is not None and first.body == b"not frequent" and
               second is not None and second.body == b"frequent", "%r, %r" % (first, second))
        r = get("/context/insert", method="POST", body=b"client body")
        expect("IHttpRequest::InsertEntityBody", r is not None and r.body == b"inserted+client body", repr(r))
        r = get("/context/async-post-ex")
        expect("IHttpContext3::PostCompletionEx", r is not None and r.body == b"routine", repr(r))
        r = get("/context/handled")
        expect("IHttpContext::SetRequestHandled", r is not None and r.status == 200 and r.body == b"handled",
               repr(r))

    # -- IHttpServer, IHttpModuleRegistrationInfo, the global providers
    if want("/server/"):
        for path in ("/server/basic", "/server/fileinfo", "/server/fragments", "/server/notify", "/server/trace",
                     "/server/server2", "/server/monitor", "/server/cache"):
            r = get(path)
            expect("IHttpServer::GetTraceContext", r is not None and r.status == 200, "%s: %r" % (path, r))
        r = get("/server/appmodule")
        expect("IHttpApplicationResolveModulesProvider::RegisterModule", r is not None and r.body == b"app module",
               repr(r))
        # SIGUSR1: a status query (GL_RSCA_QUERY); the server logs the answer
        srv.proc.send_signal(signal.SIGUSR1)
        found = srv.wait_for_log(lambda level, msg: msg.startswith("RSCA query GetStatus"), timeout=5.0)
        expect("IGlobalRSCAQueryProvider::SetResult", found is not None and "18 bytes: conformance-status" in found[1],
               "the log has %r" % (found,))

    # -- the request-level providers
    if want("/providers/"):
        r = get("/providers/event")
        expect("IHttpEventProvider::SetErrorStatus", r is not None and r.status == 200, repr(r))
        r = get("/providers/auth")
        expect("IAuthenticationProvider::SetUser", r is not None and r.body == b"user conf-user", repr(r))
        r = get("/providers/anonymous")
        expect("IHttpUser::GetUserName", r is not None and r.body == b"anonymous", repr(r))
        r = get("/providers/maphandler")
        expect("IMapHandlerProvider::SetScriptMap", r is not None and r.body == b"mapped", repr(r))
        r = get("/providers/mappath/x.txt")
        expect("IMapPathProvider::SetPhysicalPath", r is not None and r.body == b"file text\n", repr(r))
        r = get("/providers/send")
        expect("ISendResponseProvider::GetHeadersBeingSent", r is not None and r.body == b"sent", repr(r))
        expect("ISendResponseProvider::SetFlags", r is not None and "close" in r.conn_tokens(),
               "HTTP_SEND_RESPONSE_FLAG_DISCONNECT closes the connection: %r" % r)
        r = get("/providers/read", method="POST", body=b"abcdef")
        expect("IReadEntityProvider::SetEntity", r is not None and r.body == b"read XYZ", repr(r))

    # -- the C binding
    if want("/c/"):
        r = get("/c/binding?x=1", headers={"X-Conf": "c"})
        expect("IHttpResponse::SetHeaderByName", r is not None and hdr(r, "X-C-Binding") == "yes"
               and r.body == b"c binding", repr(r))
        r = get("/c/read", method="POST", body=b"abc")
        expect("IHttpRequest::ReadEntityBody", r is not None and r.body == b"c read", repr(r))
        r = get("/c/trace")
        expect("IHttpTraceContext::RaiseTraceEvent", r is not None and r.body == b"c trace", repr(r))
        r = get("/c/async")
        expect("IHttpContext::PostCompletion", r is not None and r.body == b"c async", repr(r))

    # -- last: RecycleApplication loads a new generation of the application (preloaded again)
    if want("/server/"):
        r = get("/server/generation")
        before = r.body if r is not None else b""
        expect("IGlobalApplicationPreloadProvider2::IsProcessRecycled", before.startswith(b"preloads=1 "),
               "one preload at start-up: %r" % before)
        get("/server/recycle")
        deadline = time.monotonic() + 5.0
        after = before
        while time.monotonic() < deadline:
            r = get("/server/generation")
            after = r.body if r is not None else b""
            if after.startswith(b"preloads=2 "):
                break
            time.sleep(0.02)
        expect("IHttpServer::RecycleApplication", after.startswith(b"preloads=2 "),
               "the new generation preloads the application again: %r" % after)
        r = get("/server/appmodule")
        expect("IHttpServer::RecycleApplication", r is not None and r.body == b"app module",
               "the new generation resolves the application's modules again: %r" % r)


# ---- main ------------------------------------------------------------------

def make_site(root):
    (root / "file.txt").write_bytes(b"file text\n")
    (root / "context").mkdir()
    (root / "context" / "file.txt").write_bytes(b"file text\n")
    (root / "context" / "handled").write_bytes(b"the static file handler ran\n")
    (root / "providers").mkdir()
    (root / "real.txt").write_bytes(b"file text\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iisd", default=str(ROOT / "build" / "iisd"))
    ap.add_argument("--modules", default=str(ROOT / "build" / "tests" / "conformance"))
    ap.add_argument("--json", default=None, help="write the results here")
    ap.add_argument("--only", default=None, help="send only the requests under this URL prefix")
    args = ap.parse_args()

    os.environ["IISD_BIN"] = str(Path(args.iisd).resolve())
    os.environ["IISD_TEST_MODULES"] = str(Path(args.modules).resolve())
    sys.path.insert(0, str(ROOT / "tests" / "blackbox"))
    import iisdtest  # noqa: E402 - reads the two variables above

    declared = declared_checks()
    with tempfile.TemporaryDirectory(prefix="iisd-conformance-") as tmp:
        tmp = Path(tmp)
        root = tmp / "www"
        root.mkdir()
        make_site(root)
        (tmp / "custerr").symlink_to(ROOT / "custerr")
        out = tmp / "results.txt"
        port = iisdtest.free_port()
        cfg = iisdtest.AppHostConfig()
        site = cfg.add_site("Default Web Site", 1, ["127.0.0.1:%d:" % port], root)
        site.find("application").set("preloadEnabled", "true")  # GL_APPLICATION_PRELOAD
        for name, image in MODULES:
            path = Path(args.modules) / (image + ".so")
            if not path.is_file():
                sys.exit("conformance: %s is missing (make conformance builds it)" % path)
            cfg.add_global_module(name, path.resolve())
            cfg.enable_module(name)
        # a folder of its own: the server watches the configuration's folder for changes, and the
        # results file and the server's stderr change all the time
        (tmp / "config").mkdir()
        config = cfg.write(tmp / "config" / "applicationHost.config")
        env = dict(os.environ, IISD_ROOT=str(tmp), IISD_CONFORMANCE_OUT=str(out),
                   IISD_CONFORMANCE_ROOT=str(root.resolve()))
        srv = iisdtest.Server(["--config", config], port, tmp, env=env, cwd=tmp)
        try:
            srv.start()
        except BaseException as e:  # pytest.fail raises outside pytest too
            sys.exit("conformance: iisd did not start: %s\n%s" % (e, srv.stderr()[-4000:]))
        try:
            run_requests(srv, args.only)
        finally:
            srv.close_clients()
            rc = srv.terminate()
        stderr = srv.stderr()
        expect("IGlobalStopListeningProvider::DrainRequestsGracefully", rc == 0, "iisd exit code %r" % rc)
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:", "Segmentation fault"):
            if marker in stderr:
                record("driver", "conformance::server", False, "iisd stderr contains %r" % marker)
        read_module_results(out)

    # every declared check must have reported (unless --only skipped it)
    if args.only is None:
        for key in declared:
            if key not in RESULTS:
                record(key[0], key[1], False, "never ran")
    for key in RESULTS:
        if key not in declared and not key[1].startswith("conformance::"):
            record(key[0], key[1], False, "reported but not declared in the sources")

    rows = []
    for (binding, name), fails in sorted(RESULTS.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        itf, method = name.split("::", 1)
        rows.append({"interface": itf, "method": method, "binding": binding,
                     "result": "pass" if not fails else "FAIL", "reasons": sorted(set(fails))})
    width_i = max([len("Interface")] + [len(r["interface"]) for r in rows])
    width_m = max([len("Method")] + [len(r["method"]) for r in rows])
    print("%-*s | %-*s | %-7s | result" % (width_i, "Interface", width_m, "Method", "binding"))
    print("%s-|-%s-|-%s-|-------" % ("-" * width_i, "-" * width_m, "-" * 7))
    for r in rows:
        line = "%-*s | %-*s | %-7s | %s" % (width_i, r["interface"], width_m, r["method"], r["binding"], r["result"])
        if r["reasons"]:
            line += ": " + "; ".join(r["reasons"])
        print(line)
    failed = [r for r in rows if r["result"] != "pass"]
    methods = {(r["interface"], r["method"]) for r in rows if r["binding"] != "driver"}
    print("\n%d checks over %d methods: %d passed, %d failed"
          % (len(rows), len(methods), len(rows) - len(failed), len(failed)))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"checks": rows, "failed": len(failed)}, indent=1) + "\n")
    if failed:
        print("\nstderr of iisd (tail):\n" + stderr[-3000:], file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
