"""Helpers for the iisd black-box suite (imported by conftest.py and the tests).

Everything here talks to a real `iisd` process over loopback sockets.  The
server binary is $IISD_BIN (default: build/iisd under the repository root),
started behind the command in $IISD_WRAPPER when it is set (for instance
`valgrind --error-exitcode=99`: the timeouts below are then raised), with the
arguments in $IISD_EXTRA_ARGS added to every server's command line (for instance
`--takeover-ms 1`, to hand loops over between threads as often as can be), and the test
modules are looked up in $IISD_TEST_MODULES (default:
build/tests/modules, filled by `tests/modules/build.sh build/tests/modules`).

Only the Python standard library and pytest are used.
"""

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _env_path(var, default):
    value = os.environ.get(var)
    path = Path(value) if value else REPO_ROOT / default
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path


IISD_BIN = _env_path("IISD_BIN", "build/iisd")
MODULES_DIR = _env_path("IISD_TEST_MODULES", "build/tests/modules")

# A command the server runs under (a memory checker, say), and how much slower
# that makes it: the start, stop and I/O timeouts are multiplied by it.
IISD_WRAPPER = shlex.split(os.environ.get("IISD_WRAPPER", ""))
SLOWDOWN = float(os.environ.get("IISD_SLOWDOWN", "10" if IISD_WRAPPER else "1"))
IISD_EXTRA_ARGS = shlex.split(os.environ.get("IISD_EXTRA_ARGS", ""))

START_TIMEOUT = 10.0 * SLOWDOWN  # seconds for the port to start accepting
STOP_TIMEOUT = 10.0 * SLOWDOWN  # seconds for a graceful exit after SIGTERM
IO_TIMEOUT = 5.0 * SLOWDOWN  # default per-response socket timeout

# A log line: `2026-11-24T13:30:00Z [level] message`.
LOG_LINE_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z \[([A-Za-z]+)\] (.*)$"
)
# Levels that count as "info or above".
INFO_OR_ABOVE = {
    "info", "notice", "warn", "warning", "error", "err", "crit", "critical",
    "alert", "emerg", "emergency", "fatal",
}


def module_path(name):
    """Absolute path of a built test module (<MODULES_DIR>/<name>.so)."""
    path = MODULES_DIR / (name + ".so")
    if not path.is_file():
        pytest.fail(
            "test module %s is missing; build the modules with "
            "`tests/modules/build.sh %s` (or set IISD_TEST_MODULES)"
            % (path, MODULES_DIR)
        )
    return path


def copy_module(name, dest_dir, new_basename):
    """Copy a built module to a distinct file name (dlopen of one file
    returns one handle, so a module loaded under several names is copied)."""
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / (new_basename + ".so")
    shutil.copyfile(module_path(name), dest)
    return dest


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fmt_timespan(seconds):
    seconds = int(seconds)
    return "%02d:%02d:%02d" % (seconds // 3600, (seconds // 60) % 60, seconds % 60)


def make_config(path, port, root, modules=(), header_wait=None, conn_timeout=None,
                max_content=None, max_url=None, max_query=None):
    """Write an applicationHost.config to `path` and return `path`.

    modules: iterable of (name, image path) -> <globalModules> + <modules>,
    in the given order.  header_wait / conn_timeout are seconds (ints);
    None leaves the element out so the server default applies.
    """
    q = quoteattr
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<configuration>",
             "  <system.applicationHost>", "    <sites>"]
    if conn_timeout is not None:
        lines.append("      <siteDefaults><limits connectionTimeout=%s/></siteDefaults>"
                     % q(fmt_timespan(conn_timeout)))
    lines += [
        '      <site name="Default Web Site" id="1">',
        '        <application path="/">',
        "          <virtualDirectory path=\"/\" physicalPath=%s/>" % q(str(Path(root).resolve())),
        "        </application>",
        "        <bindings>",
        "          <binding protocol=\"http\" bindingInformation=%s/>" % q("127.0.0.1:%d:" % port),
        "        </bindings>",
        "      </site>",
        "    </sites>",
    ]
    if header_wait is not None:
        lines.append("    <webLimits headerWaitTimeout=%s/>" % q(fmt_timespan(header_wait)))
    lines += ["  </system.applicationHost>", "  <system.webServer>", "    <globalModules>"]
    for name, image in modules:
        lines.append("      <add name=%s image=%s/>" % (q(name), q(str(image))))
    lines += ["    </globalModules>", "    <modules>"]
    for name, _image in modules:
        lines.append("      <add name=%s/>" % q(name))
    lines.append("    </modules>")
    limits = []
    if max_content is not None:
        limits.append("maxAllowedContentLength=%s" % q(str(max_content)))
    if max_url is not None:
        limits.append("maxUrl=%s" % q(str(max_url)))
    if max_query is not None:
        limits.append("maxQueryString=%s" % q(str(max_query)))
    if limits:
        lines.append("    <security><requestFiltering><requestLimits %s/>"
                     "</requestFiltering></security>" % " ".join(limits))
    lines += ["  </system.webServer>", "</configuration>", ""]
    Path(path).write_text("\n".join(lines))
    return Path(path)


# --------------------------------------------------------------------------
# Raw HTTP client
# --------------------------------------------------------------------------

class Response:
    def __init__(self, version, status, reason, headers, body, raw_head):
        self.version = version  # e.g. "HTTP/1.1"
        self.status = status  # int
        self.reason = reason
        self.headers = headers  # list of (name, value) in wire order
        self.body = body  # bytes (de-chunked)
        self.raw_head = raw_head  # bytes, status line + fields, no final CRLFCRLF
        self.chunked = False
        self.trailers = []

    def header_list(self, name):
        name = name.lower()
        return [v for n, v in self.headers if n.lower() == name]

    def header(self, name):
        """Single header value, or None.  Several field lines are joined with
        ", " like HTTP combines them."""
        values = self.header_list(name)
        return ", ".join(values) if values else None

    def has(self, name):
        return bool(self.header_list(name))

    def conn_tokens(self):
        value = self.header("Connection") or ""
        return {t.strip().lower() for t in value.split(",") if t.strip()}

    def __repr__(self):
        return "<Response %s %d %r headers=%r body=%r>" % (
            self.version, self.status, self.reason, self.headers, self.body[:200])


class ConnectionClosed(Exception):
    pass


STATUS_LINE_RE = re.compile(rb"^(HTTP/\d\.\d) (\d{3}) ([\t -~\x80-\xff]*)$")
FIELD_RE = re.compile(rb"^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$")


class RawClient:
    """A byte-exact HTTP/1.x client over one TCP connection."""

    def __init__(self, port, timeout=IO_TIMEOUT, host="127.0.0.1"):
        self.port = port
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.eof = False

    # -- sending --------------------------------------------------------
    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def request(self, method="GET", path="/", headers=None, body=None,
                version="HTTP/1.1", host="localhost"):
        self.send(build_request(method, path, headers, body, version, host))

    # -- receiving ------------------------------------------------------
    def _fill(self, deadline):
        """Receive more bytes into self.buf; raise ConnectionClosed at EOF."""
        if self.eof:
            raise ConnectionClosed("connection closed by server")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("timed out waiting for data")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
            raise ConnectionClosed("connection closed by server")
        self.buf += chunk

    def _read_line(self, deadline):
        while True:
            idx = self.buf.find(b"\r\n")
            if idx >= 0:
                line, self.buf = self.buf[:idx], self.buf[idx + 2:]
                return line
            self._fill(deadline)

    def _read_exact(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_response(self, head=False, timeout=None, allow_interim=False):
        """Read one complete response.  `head`: the request was HEAD (no body).
        Interim 1xx responses are returned as they are when allow_interim is
        set, otherwise they are skipped."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while True:
            while b"\r\n\r\n" not in self.buf:
                self._fill(deadline)
            idx = self.buf.index(b"\r\n\r\n")
            raw_head, self.buf = self.buf[:idx], self.buf[idx + 4:]
            lines = raw_head.split(b"\r\n")
            m = STATUS_LINE_RE.match(lines[0])
            assert m, "malformed status line %r" % lines[0]
            version = m.group(1).decode()
            status = int(m.group(2))
            reason = m.group(3).decode("latin-1")
            headers = []
            for line in lines[1:]:
                assert b"\n" not in line and b"\r" not in line, "bare CR/LF in %r" % raw_head
                fm = FIELD_RE.match(line)
                assert fm, "malformed header line %r in %r" % (line, raw_head)
                headers.append((fm.group(1).decode("latin-1"), fm.group(2).decode("latin-1")))
            resp = Response(version, status, reason, headers, b"", raw_head)
            if 100 <= status < 200:
                if allow_interim:
                    return resp
                continue
            self._read_body(resp, head, deadline)
            return resp

    def _read_body(self, resp, head, deadline):
        if head or resp.status in (204, 304):
            return
        te = resp.header("Transfer-Encoding")
        if te is not None:
            codings = [c.strip().lower() for c in te.split(",")]
            assert codings[-1] == "chunked", "unexpected Transfer-Encoding %r" % te
            assert not resp.has("Content-Length"), "both Content-Length and Transfer-Encoding"
            resp.chunked = True
            body = []
            while True:
                size_line = self._read_line(deadline)
                size_text = size_line.split(b";", 1)[0].strip()
                assert re.fullmatch(rb"[0-9A-Fa-f]+", size_text), "bad chunk size %r" % size_line
                size = int(size_text, 16)
                if size == 0:
                    break
                body.append(self._read_exact(size, deadline))
                assert self._read_exact(2, deadline) == b"\r\n", "chunk not followed by CRLF"
            while True:
                line = self._read_line(deadline)
                if not line:
                    break
                resp.trailers.append(line)
            resp.body = b"".join(body)
            return
        cl = resp.header_list("Content-Length")
        if cl:
            assert len(set(cl)) == 1, "conflicting Content-Length %r" % cl
            assert re.fullmatch(r"\d+", cl[0]), "bad Content-Length %r" % cl[0]
            resp.body = self._read_exact(int(cl[0]), deadline)
            return
        # close-delimited
        while True:
            try:
                self._fill(deadline)
            except ConnectionClosed:
                break
        resp.body, self.buf = self.buf, b""

    def wait_closed(self, timeout):
        """True if the server closes (EOF or reset) within `timeout` seconds.
        Any bytes received meanwhile are kept in self.buf."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._fill(deadline)
            except ConnectionClosed:
                return True
            except (socket.timeout, TimeoutError):
                return False

    def is_open(self, probe=0.05):
        """True if the server has not closed the connection (nothing arrives
        and no EOF within `probe` seconds)."""
        return not self.wait_closed(probe)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def build_request(method="GET", path="/", headers=None, body=None, version="HTTP/1.1",
                  host="localhost"):
    lines = ["%s %s %s" % (method, path, version)]
    hdrs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    names = {n.lower() for n, _ in hdrs}
    if host is not None and "host" not in names:
        lines.append("Host: %s" % host)
    if body is not None and "content-length" not in names and "transfer-encoding" not in names:
        hdrs.append(("Content-Length", str(len(body))))
    for n, v in hdrs:
        lines.append("%s: %s" % (n, v))
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    if body is not None:
        data += body if isinstance(body, bytes) else body.encode("latin-1")
    return data


def chunked(body, sizes=(7,)):
    """Encode `body` with the chunked transfer coding, cycling chunk sizes."""
    out = []
    pos = 0
    i = 0
    while pos < len(body):
        n = sizes[i % len(sizes)]
        i += 1
        piece = body[pos:pos + n]
        pos += n
        out.append(b"%x\r\n%s\r\n" % (len(piece), piece))
    out.append(b"0\r\n\r\n")
    return b"".join(out)


# --------------------------------------------------------------------------
# Server process management
# --------------------------------------------------------------------------

class Server:
    def __init__(self, args, port, workdir, env=None, cwd=None):
        self.args = args
        self.port = port
        self.workdir = Path(workdir)
        self.stderr_path = self.workdir / ("iisd-%d.stderr" % port)
        self.env = env
        self.cwd = cwd
        self.proc = None
        self.clients = []
        self.returncode = None

    # -- lifecycle ------------------------------------------------------
    def start(self):
        if not IISD_BIN.exists():
            pytest.fail("server binary %s does not exist (build it, or set IISD_BIN)" % IISD_BIN)
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            IISD_WRAPPER + [str(IISD_BIN)] + [str(a) for a in self.args] + IISD_EXTRA_ARGS,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
            env=self.env, cwd=self.cwd,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                pytest.fail("iisd exited with %s during start-up; stderr:\n%s"
                            % (self.proc.returncode, self.stderr()))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail("iisd did not accept on port %d within %.0fs; stderr:\n%s"
                            % (self.port, START_TIMEOUT, self.stderr()))
            time.sleep(0.02)

    def terminate(self):
        """Send SIGTERM and wait for the exit; returns the exit code (None on a hang)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            self.returncode = None
        self._stderr.close()
        return self.returncode

    def wait_exit(self, timeout=STOP_TIMEOUT):
        """Wait for the process to exit by itself; returns the exit code (None on a hang)."""
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._stderr.close()
        return self.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close_clients(self):
        for c in self.clients:
            c.close()
        self.clients = []

    # -- helpers --------------------------------------------------------
    def client(self, timeout=IO_TIMEOUT):
        c = RawClient(self.port, timeout=timeout)
        self.clients.append(c)
        return c

    def get(self, path="/", method="GET", headers=None, body=None, version="HTTP/1.1",
            timeout=IO_TIMEOUT, host="localhost"):
        """One request on a fresh connection; returns the Response.
        `host` is the Host header (None: none)."""
        c = self.client(timeout)
        try:
            c.request(method, path, headers, body, version, host=host)
            return c.read_response(head=(method == "HEAD"))
        finally:
            c.close()

    def stderr(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_lines(self):
        out = []
        for line in self.stderr().splitlines():
            m = LOG_LINE_RE.match(line)
            if m:
                out.append((m.group(1).lower(), m.group(2)))
        return out

    def wait_for_log(self, predicate, timeout=2.0):
        """Poll stderr until a parsed log line satisfies predicate(level, msg)."""
        deadline = time.monotonic() + timeout * SLOWDOWN
        while True:
            for level, msg in self.log_lines():
                if predicate(level, msg):
                    return level, msg
            if time.monotonic() > deadline:
                return None
            time.sleep(0.02)


def read_trace(path):
    return [line for line in Path(path).read_text().splitlines() if line]


def wait_trace(path, predicate, timeout=5.0):
    """Poll the trace file until predicate(lines) is true; return the lines."""
    deadline = time.monotonic() + timeout * SLOWDOWN
    while True:
        lines = read_trace(path)
        if predicate(lines):
            return lines
        if time.monotonic() > deadline:
            return lines
        time.sleep(0.02)


# --------------------------------------------------------------------------
# applicationHost.config written the way an IIS administrator writes one:
# start from the server's default (`iisd --print-default-config`), edit it.
# --------------------------------------------------------------------------

import xml.etree.ElementTree as ET  # noqa: E402  (kept with the helpers that use it)

_DEFAULT_CONFIG_TEXT = None
SITE_CONFIG_PREFIX = "MACHINE/WEBROOT/APPHOST"


def default_config_text():
    """The text `iisd --print-default-config` prints (cached per session)."""
    global _DEFAULT_CONFIG_TEXT
    if _DEFAULT_CONFIG_TEXT is None:
        if not IISD_BIN.exists():
            pytest.fail("server binary %s does not exist (build it, or set IISD_BIN)" % IISD_BIN)
        # (a sanitizer build's leak report would fail every test that builds a
        # configuration: test_config.py checks this command's exit code itself)
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
        proc = subprocess.run([str(IISD_BIN), "--print-default-config"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=10, env=env)
        if proc.returncode != 0 or b"<configuration" not in proc.stdout:
            pytest.fail("iisd --print-default-config failed (exit %s): %s"
                        % (proc.returncode, proc.stderr.decode(errors="replace")))
        _DEFAULT_CONFIG_TEXT = proc.stdout.decode("utf-8")
    return _DEFAULT_CONFIG_TEXT


class AppHostConfig:
    """An applicationHost.config: the server's default configuration, parsed
    with ElementTree, with helpers for the edits the tests make.  The default
    site is removed; add sites with add_site()."""

    def __init__(self, text=None):
        self.root = ET.fromstring(text if text is not None else default_config_text())
        sites = self.sites_element()
        for site in list(sites.findall("site")):
            sites.remove(site)

    # -- generic element access -------------------------------------------
    @staticmethod
    def _child(parent, tag, create=True, attrs=None):
        """The first child `tag` of parent (matching attrs), created when missing."""
        for el in parent.findall(tag):
            if all(el.get(k) == v for k, v in (attrs or {}).items()):
                return el
        if not create:
            return None
        return ET.SubElement(parent, tag, dict(attrs or {}))

    def element(self, path, parent=None, create=True):
        """configuration/<path> ("system.webServer/httpErrors"), created when missing."""
        el = self.root if parent is None else parent
        for part in path.split("/"):
            el = self._child(el, part, create)
            if el is None:
                return None
        return el

    def section(self, name, location=None):
        """The element of section `name` ("system.webServer/security/authentication/
        anonymousAuthentication"), at top level or inside <location path=location>."""
        parent = self.root if location is None else self.location(location)
        return self.element(name, parent)

    def location(self, path, override_mode=None):
        """The <location path=...> element (created at the end when missing)."""
        for loc in self.root.findall("location"):
            if loc.get("path") == path and (override_mode is None
                                            or loc.get("overrideMode") == override_mode):
                return loc
        loc = ET.SubElement(self.root, "location", {"path": path})
        if override_mode is not None:
            loc.set("overrideMode", override_mode)
        return loc

    # -- <configSections> --------------------------------------------------
    def register_section(self, name, **attrs):
        """Registers section `name` (e.g. "system.webServer/testSection") in
        <configSections>, or changes the attributes of its registration."""
        parts = name.split("/")
        el = self._child(self.root, "configSections")
        for group in parts[:-1]:
            el = self._child(el, "sectionGroup", attrs={"name": group})
        sec = self._child(el, "section", attrs={"name": parts[-1]})
        for k, v in attrs.items():
            sec.set(k, v)
        return sec

    def section_registration(self, name):
        parts = name.split("/")
        el = self.root.find("configSections")
        for group in parts[:-1]:
            el = None if el is None else self._child(el, "sectionGroup", False, {"name": group})
        return None if el is None else self._child(el, "section", False, {"name": parts[-1]})

    # -- sites -------------------------------------------------------------
    def sites_element(self):
        return self.element("system.applicationHost/sites")

    def add_site(self, name, site_id, bindings, root, apps=(), allow_subdir_config=None):
        """bindings: "IP:port:host" strings (http).  root: physical path of "/".
        apps: (path, physical path) pairs for further applications, or
        (path, physical path, {virtualDirectory attributes}) triples."""
        sites = self.sites_element()
        site = ET.Element("site", {"name": name, "id": str(site_id)})
        # sites keep <site> entries before siteDefaults & co., like IIS writes them
        index = 0
        for i, child in enumerate(list(sites)):
            if child.tag == "site":
                index = i + 1
        sites.insert(index, site)
        root_vdir = {"path": "/", "physicalPath": str(Path(root).resolve())}
        if allow_subdir_config is not None:
            root_vdir["allowSubDirConfig"] = "true" if allow_subdir_config else "false"
        app = ET.SubElement(site, "application", {"path": "/"})
        ET.SubElement(app, "virtualDirectory", root_vdir)
        for entry in apps:
            path, phys = entry[0], entry[1]
            extra = entry[2] if len(entry) > 2 else {}
            app = ET.SubElement(site, "application", {"path": path})
            vdir = {"path": "/", "physicalPath": str(Path(phys).resolve())}
            vdir.update(extra)
            ET.SubElement(app, "virtualDirectory", vdir)
        b = ET.SubElement(site, "bindings")
        for info in bindings:
            ET.SubElement(b, "binding", {"protocol": "http", "bindingInformation": info})
        return site

    def site(self, name):
        for site in self.sites_element().findall("site"):
            if site.get("name") == name:
                return site
        raise KeyError(name)

    # -- modules -------------------------------------------------------------
    def add_global_module(self, name, image):
        gm = self.element("system.webServer/globalModules")
        ET.SubElement(gm, "add", {"name": name, "image": str(image)})

    def server_modules(self):
        """The <modules> element every application inherits (the one in the
        default's <location path="" overrideMode="Allow">)."""
        for loc in self.root.findall("location"):
            if loc.get("path") in ("", ".") and loc.find("system.webServer/modules") is not None:
                return loc.find("system.webServer/modules")
        return self.element("system.webServer/modules")

    def enable_module(self, name):
        ET.SubElement(self.server_modules(), "add", {"name": name})

    def disable_module(self, name):
        mods = self.server_modules()
        for el in mods.findall("add"):
            if el.get("name") == name:
                mods.remove(el)

    # -- output ------------------------------------------------------------
    def text(self):
        root = self.root
        ET.indent(root, space="    ")
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

    def write(self, path):
        """Writes the file (atomically: a rename, as editors do) and returns its path."""
        path = Path(path)
        write_atomic(path, self.text())
        return path


def write_atomic(path, text):
    """Replaces `path` by a file with `text` through a rename (what most editors do)."""
    path = Path(path)
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def line_of(text, needle):
    """1-based number of the first line of `text` containing `needle`."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError("%r not in text" % needle)


def poll(fn, timeout, interval=0.05):
    """Calls fn() until it returns a true value or `timeout` seconds pass;
    returns the last value."""
    deadline = time.monotonic() + timeout * SLOWDOWN
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
