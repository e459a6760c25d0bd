"""pytest fixtures for the iisd black-box suite (helpers live in iisdtest.py)."""

import os
from pathlib import Path

import pytest

from iisdtest import Server, free_port, make_config, STOP_TIMEOUT


CRASH_MARKERS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "ThreadSanitizer",
                 "runtime error:", "Segmentation fault", "core dumped")


REPO_ROOT = Path(__file__).resolve().parents[2]


def install_root(tmp_path):
    """The test's folder as the installation folder (%IISD_ROOT%): %SystemDrive% and
    %IISD_LOG_DIR%, where W3C logs go by default, stay in it, and the stock error pages
    (custerr/) are linked in from the source tree."""
    link = tmp_path / "custerr"
    if not link.exists():
        link.symlink_to(REPO_ROOT / "custerr")
    return str(tmp_path)


@pytest.fixture
def server_factory(tmp_path):
    """Start iisd processes; all of them are stopped with SIGTERM at teardown,
    where a non-zero exit, a hang or a sanitizer report fails the test."""
    servers = []

    def start(modules=(), root=None, extra_args=(), use_config=True, env=None,
              header_wait=None, conn_timeout=None, max_content=None, max_url=None,
              max_query=None, cli_modules=(), workers=None, config_port=None,
              config_root=None, config_file=None, port=None):
        """config_port / config_root: write these into the config instead and
        override them with --port / --path (the server must use the latter).
        config_file: run this applicationHost.config as it is (no --port /
        --path); `port` is then the port the server is waited for on."""
        if config_file is not None:
            assert port is not None, "config_file needs the port its first binding uses"
            args = ["--config", Path(config_file)]
            for name, image in cli_modules:
                args += ["--module", "%s=%s" % (name, image)]
            if workers is not None:
                args += ["--workers", workers]
            args += list(extra_args)
            full_env = dict(os.environ)
            full_env.setdefault("IISD_ROOT", install_root(tmp_path))
            if env:
                full_env.update(env)
            srv = Server(args, port, tmp_path, env=full_env, cwd=tmp_path)
            servers.append(srv)
            return srv.start()
        port = free_port()
        if root is None:
            root = tmp_path / "www"
            root.mkdir(exist_ok=True)
        args = []
        if use_config:
            cfg = make_config(tmp_path / ("applicationHost-%d.config" % port),
                              config_port or port, config_root or root,
                              modules=modules, header_wait=header_wait,
                              conn_timeout=conn_timeout, max_content=max_content,
                              max_url=max_url, max_query=max_query)
            args += ["--config", cfg]
            if config_port is not None:
                args += ["--port", port]
            if config_root is not None:
                args += ["--path", Path(root).resolve()]
        else:
            assert not modules, "modules without a config go in cli_modules"
            args += ["--port", port, "--path", Path(root).resolve()]
        for name, image in cli_modules:
            args += ["--module", "%s=%s" % (name, image)]
        if workers is not None:
            args += ["--workers", workers]
        args += list(extra_args)
        full_env = dict(os.environ)
        full_env.setdefault("IISD_ROOT", install_root(tmp_path))
        if env:
            full_env.update(env)
        srv = Server(args, port, tmp_path, env=full_env, cwd=tmp_path)
        servers.append(srv)
        return srv.start()

    yield start

    problems = []
    for srv in servers:
        srv.close_clients()
        if srv.proc is None:
            continue
        rc = srv.terminate() if srv.proc.poll() is None else srv.proc.returncode
        mine = []
        if rc is None:
            mine.append("iisd (port %d) did not exit within %.0fs of SIGTERM"
                        % (srv.port, STOP_TIMEOUT))
        elif rc != 0:
            mine.append("iisd (port %d) exit code %d (expected 0)" % (srv.port, rc))
        text = srv.stderr()
        for marker in CRASH_MARKERS:
            if marker in text:
                mine.append("iisd (port %d) stderr contains %r" % (srv.port, marker))
        if mine:
            problems += mine
            problems.append("stderr of port %d (tail):\n%s" % (srv.port, text[-4000:]))
    if problems:
        pytest.fail("\n".join(problems))


@pytest.fixture
def site(tmp_path):
    """A small document root used by most tests."""
    root = tmp_path / "www"
    root.mkdir(exist_ok=True)
    (root / "hello.txt").write_bytes(b"Hello static\n")
    (root / "a.txt").write_bytes(b"AAAA")
    (root / "b.txt").write_bytes(b"BB")
    (root / "c.txt").write_bytes(b"C")
    (root / "index.html").write_bytes(b"<html><body>index</body></html>\n")
    return root


@pytest.fixture
def trace_file(tmp_path):
    path = tmp_path / "trace.log"
    path.write_bytes(b"")
    return path
