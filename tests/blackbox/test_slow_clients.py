"""Slow and hostile clients: slowloris (slow headers), slow body (slow POST)
and slow read, run with slowhttptest while another client measures the
latency of /hello. The server must keep answering quickly and must not leak
connections once the attackers are gone."""

import os
import shutil
import socket
import subprocess
import threading
import time
import xml.etree.ElementTree as ET

import pytest

from iisdtest import AppHostConfig, free_port, module_path, poll

SITE = "Default Web Site"
ATTACK_SECONDS = 12


def open_sockets(pid):
    """The server's open socket fds (listening sockets and connections). Other
    fds are left out: the file cache keeps handles of files it served."""
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            n += os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:")
        except OSError:
            pass  # closed meanwhile
    return n


def hello_latencies(port, stop, out):
    """GET /hello on a new connection every 10 ms; appends each latency (s)."""
    req = b"GET /hello/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    while not stop.is_set():
        t0 = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(req)
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        out.append((time.monotonic() - t0, data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"Hello World")))
        stop.wait(0.01)


def slowhttptest(*args):
    return subprocess.Popen(["slowhttptest", "-l", str(ATTACK_SECONDS), "-v", "0", "-p", "3"] + list(args),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def raw_slow_clients(port, stop, count=40):
    """Slowloris in Python, next to slowhttptest's: many connections that each
    send one more header byte every half second."""
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    while not stop.wait(0.5):
        for s in socks:
            try:
                s.send(b"X")
            except OSError:
                pass
    for s in socks:
        s.close()


@pytest.mark.skipif(shutil.which("slowhttptest") is None, reason="slowhttptest is not installed")
def test_slow_clients_do_not_starve_others(server_factory, tmp_path):
    port = free_port()
    root, hello_dir = tmp_path / "www", tmp_path / "hello"
    root.mkdir()
    hello_dir.mkdir()
    (root / "index.html").write_bytes(b"<html>index</html>")
    (root / "big.bin").write_bytes(os.urandom(1 << 20))
    cfg = AppHostConfig()
    cfg.add_site(SITE, 1, ["127.0.0.1:%d:" % port], root, apps=[("/hello", hello_dir)])
    cfg.add_global_module("Hello", module_path("hello"))
    ET.SubElement(cfg.section("system.webServer/modules", location=SITE + "/hello"), "add",
                  {"name": "Hello"})
    limits = cfg.element("system.applicationHost/webLimits")
    limits.set("headerWaitTimeout", "00:00:03")
    srv = server_factory(config_file=cfg.write(tmp_path / "applicationHost.config"), port=port)
    pid = srv.proc.pid

    assert srv.get("/hello/", host="x").body == b"Hello World"
    assert srv.get("/big.bin", host="x").status == 200
    baseline = open_sockets(pid)

    url = "http://127.0.0.1:%d" % port
    attackers = [
        slowhttptest("-H", "-c", "200", "-r", "100", "-i", "1", "-u", url + "/"),
        slowhttptest("-B", "-c", "100", "-r", "100", "-i", "1", "-s", "100000", "-u", url + "/"),
        slowhttptest("-X", "-c", "100", "-r", "100", "-n", "1", "-z", "32", "-w", "512", "-y", "1024",
                     "-k", "3", "-u", url + "/big.bin"),
    ]
    stop = threading.Event()
    lat = []
    raw = threading.Thread(target=raw_slow_clients, args=(port, stop))
    probe = threading.Thread(target=hello_latencies, args=(port, stop, lat))
    raw.start()
    # measure once the attack holds its connections
    assert poll(lambda: open_sockets(pid) >= baseline + 200, 10.0), \
        "the attack did not get going: %d sockets" % open_sockets(pid)
    probe.start()
    peak = 0
    try:
        while any(p.poll() is None for p in attackers):
            peak = max(peak, open_sockets(pid))
            time.sleep(0.5)
        for p in attackers:
            p.wait(timeout=ATTACK_SECONDS + 30)
    finally:
        stop.set()
        probe.join()
        raw.join()
        for p in attackers:
            if p.poll() is None:
                p.kill()
                p.wait()

    assert peak >= baseline + 200, "the attack held only %d connections" % (peak - baseline)
    assert len(lat) >= 100, "only %d probes" % len(lat)
    assert all(ok for _t, ok in lat), "a /hello probe failed"
    times = sorted(t for t, _ok in lat)
    p99 = times[int(len(times) * 0.99) - 1]
    assert p99 < 0.100, "p99 of /hello under attack: %.1f ms (max %.1f ms, %d probes)" % (
        p99 * 1000, times[-1] * 1000, len(times))

    # every attack connection is gone again
    assert poll(lambda: open_sockets(pid) <= baseline, 20.0), \
        "open sockets: %d, baseline %d" % (open_sockets(pid), baseline)
    assert srv.get("/hello/", host="x").body == b"Hello World"
