#!/usr/bin/env python3
"""Checks that a warm request allocates nothing on the heap (`make check-alloc`).

Starts iisd with its embedded default configuration (the whole pipeline: request
filtering, static compression, custom errors, W3C logging) and the example hello
module, with tests/alloc/alloccount.so preloaded. Each endpoint is warmed up, the
allocation counter is reset, the endpoint is requested again many times, on
keep-alive connections and on new connections, and the allocations made meanwhile
are printed. Any allocation fails the check, and the return addresses of the first
ones are resolved to function and line with addr2line. Last, it holds 1,000 idle
keep-alive connections and checks that each holds at most 512 bytes of heap.

    python3 tests/alloc/check_alloc.py BUILD_DIR
"""
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WARM = 300  # requests before counting
COUNTED = 2000  # requests counted per endpoint and mode
IDLE = 1000  # idle keep-alive connections held at the end
IDLE_MAX = 512  # heap bytes an idle connection may hold
ENDPOINTS = [
    ("/hello", {}, 200),
    ("/hello.txt", {}, 200),
    ("/static/4k.bin", {}, 200),
    ("/static/4k.bin", {"Range": "bytes=100-199"}, 206),
    ("/hello.txt", {"If-None-Match": None}, 304),  # the ETag is filled in at run time
    ("/text/big.txt", {"Accept-Encoding": "gzip"}, 200),
    ("/missing", {}, 404),
]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def read_response(sock, buf):
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed before the response head")
        buf += data
    head, buf = buf.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ", 2)[1])
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    need = int(m.group(1)) if m else 0
    while len(buf) < need:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed inside the body")
        buf += data
    return status, head, buf[need:]


def request(port, path, headers, n, keepalive):
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if not keepalive:
        lines.append("Connection: close")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode()
    statuses = set()
    sock = None
    buf = b""
    head = b""
    for _ in range(n):
        if sock is None:
            sock = socket.create_connection(("127.0.0.1", port), 5)
            buf = b""
        sock.sendall(raw)
        status, head, buf = read_response(sock, buf)
        statuses.add(status)
        if not keepalive:
            sock.close()
            sock = None
    if sock is not None:
        sock.close()
    return statuses, head


def resolve(pid, addrs):
    maps = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and "x" in parts[1]:
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                maps.append((lo, hi, int(parts[2], 16), parts[5]))
    out = []
    for a in addrs:
        for lo, hi, off, path in maps:
            if lo <= a < hi:
                rel = a - lo + off
                r = subprocess.run(["addr2line", "-f", "-C", "-e", path, hex(rel - 1)],
                                   capture_output=True, text=True)
                where = " at ".join(r.stdout.split("\n")[:2]) if r.returncode == 0 else ""
                out.append(f"{os.path.basename(path)}+{rel:#x} {where}")
                break
        else:
            out.append(hex(a))
    return out


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
    iisd = os.path.join(build, "iisd")
    hello = os.path.join(build, "examples", "hello.so")
    shim = os.path.join(build, "tests", "alloccount.so")
    tmp = tempfile.mkdtemp(prefix="iisd-alloc-")
    www = os.path.join(tmp, "www")
    os.makedirs(os.path.join(www, "static"))
    os.makedirs(os.path.join(www, "text"))
    with open(os.path.join(www, "hello.txt"), "w") as f:
        f.write("Hello, World!")
    with open(os.path.join(www, "static", "4k.bin"), "wb") as f:
        f.write(bytes(range(256)) * 16)
    with open(os.path.join(www, "text", "big.txt"), "w") as f:
        f.write("".join(f"line {i} of a text that compresses well\n" for i in range(3000)))
    counts_path = os.path.join(tmp, "counts")
    port = free_port()
    env = dict(os.environ, LD_PRELOAD=shim, ALLOCCOUNT_FILE=counts_path,
               IISD_LOG_DIR=os.path.join(tmp, "logs"), IISD_ROOT=tmp)
    log = open(os.path.join(tmp, "iisd.log"), "w")
    proc = subprocess.Popen([iisd, "--port", str(port), "--path", www, "--workers", "1",
                             "--module", "Hello=" + hello], env=env, stdout=log, stderr=log)
    failed = False
    try:
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise SystemExit("iisd did not start; see " + log.name)
                time.sleep(0.05)
        _, head = request(port, "/hello.txt", {}, 1, True)
        etag = re.search(rb"(?im)^etag:\s*(.+?)\s*$", head).group(1).decode()
        # Warm every endpoint first: folders seen for the first time are watched for
        # web.config by a background thread, and connection structures are pooled.
        for path, headers, want in ENDPOINTS:
            headers = {k: (etag if v is None else v) for k, v in headers.items()}
            for keepalive in (True, False):
                request(port, path, headers, WARM, keepalive)
        # Fill the connection pool: 64 connections at once, as a benchmark client opens.
        socks = [socket.create_connection(("127.0.0.1", port), 5) for _ in range(64)]
        for sock in socks:
            sock.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        for sock in socks:
            read_response(sock, b"")
            sock.close()
        time.sleep(0.5)  # the configuration watcher looks at new folders every 250 ms
        fd = os.open(counts_path, os.O_RDWR)
        print(f"{'endpoint':<32} {'mode':<10} {'status':>6} {'requests':>9} {'allocations':>12}")
        for path, headers, want in ENDPOINTS:
            headers = {k: (etag if v is None else v) for k, v in headers.items()}
            label = path + "".join(f" [{k}]" for k in headers)
            for keepalive in (True, False):
                request(port, path, headers, 50, keepalive)
                os.pwrite(fd, struct.pack("<4Q", 0, 0, 1, 0), 0)
                statuses, _ = request(port, path, headers, COUNTED, keepalive)
                n, nbytes, _, sites = struct.unpack("<4Q", os.pread(fd, 32, 0))
                os.pwrite(fd, struct.pack("<Q", 0), 16)
                mode = "keep-alive" if keepalive else "close"
                ok = statuses == {want} and n == 0
                failed |= not ok
                print(f"{label:<32} {mode:<10} {'/'.join(map(str, sorted(statuses))):>6} "
                      f"{COUNTED:>9} {n:>12}{'' if ok else '   FAIL'}")
                for site in range(min(sites, 3)):
                    addrs = struct.unpack("<4Q", os.pread(fd, 32, 32 + 32 * site))
                    print("    allocation", site + 1)
                    for line in resolve(proc.pid, [a for a in addrs if a]):
                        print("      from", line)
        # An idle keep-alive connection: the heap bytes it holds after its first request.
        os.pwrite(fd, struct.pack("<4Q", 0, 0, 0, 0), 0)
        idle = []
        for _ in range(IDLE):
            sock = socket.create_connection(("127.0.0.1", port), 5)
            sock.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            read_response(sock, b"")
            idle.append(sock)
        n, nbytes, _, _ = struct.unpack("<4Q", os.pread(fd, 32, 0))
        per = nbytes / IDLE
        ok = per <= IDLE_MAX
        failed |= not ok
        print(f"{IDLE} idle keep-alive connections: {per:.0f} heap bytes each (at most {IDLE_MAX})"
              f"{'' if ok else '   FAIL'}")
        for sock in idle:
            sock.close()
        os.close(fd)
    finally:
        proc.terminate()
        proc.wait(10)
    print("check-alloc:", "FAIL: warm requests allocate" if failed else "no allocation per warm request")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
