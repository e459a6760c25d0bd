"""IpRestrictionModule (system.webServer/security/ipSecurity): entries are
tried in order and the first one that contains the client address decides;
allowUnlisted decides for the others; denyAction picks 403.503, 401.503,
404.503 or a reset connection; enableProxyMode also checks X-Forwarded-For.
Clients connect from several loopback addresses (127.0.0.x)."""

import socket

import pytest

from iisdtest import AppHostConfig, ConnectionClosed, RawClient, free_port


class SourceClient(RawClient):
    """A RawClient whose connection comes from a chosen local address."""

    def __init__(self, port, source, timeout=5.0):
        self.port = port
        self.timeout = timeout
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                             source_address=(source, 0))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.eof = False


def get_from(srv, source, path="/hello.txt", headers=None):
    c = SourceClient(srv.port, source)
    try:
        c.request("GET", path, headers=headers)
        return c.read_response()
    finally:
        c.close()


@pytest.fixture
def start(server_factory, tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    (root / "hello.txt").write_bytes(b"Hello static\n")
    (root / "secret").mkdir()
    (root / "secret" / "s.txt").write_bytes(b"secret\n")

    def run(attrs=None, entries=(), location=None):
        port = free_port()
        cfg = AppHostConfig()
        cfg.add_site("Default Web Site", 1, ["127.0.0.1:%d:" % port], root)
        sec = cfg.section("system.webServer/security/ipSecurity",
                          location="Default Web Site" + location if location else None)
        for k, v in (attrs or {}).items():
            sec.set(k, v)
        for e in entries:
            add = sec.makeelement("add", e)
            sec.append(add)
        path = cfg.write(tmp_path / ("applicationHost-%d.config" % port))
        return server_factory(config_file=path, port=port)

    return run


def assert_denied(resp, status, reason):
    assert resp.status == status, resp
    assert resp.reason == reason
    assert ("%d.503" % status).encode() in resp.body, resp.body
    assert b"Hello static" not in resp.body


def test_default_allows_everyone(start):
    srv = start()
    for src in ("127.0.0.1", "127.0.0.2"):
        resp = get_from(srv, src)
        assert resp.status == 200 and resp.body == b"Hello static\n"


def test_allow_unlisted_false_allows_only_listed(start):
    srv = start({"allowUnlisted": "false"}, [{"ipAddress": "127.0.0.1", "allowed": "true"}])
    assert get_from(srv, "127.0.0.1").status == 200
    assert_denied(get_from(srv, "127.0.0.2"), 403, "Forbidden")


def test_deny_entry_with_dotted_subnet_mask(start):
    srv = start(entries=[{"ipAddress": "127.0.0.0", "subnetMask": "255.255.255.248"}])
    assert_denied(get_from(srv, "127.0.0.5"), 403, "Forbidden")
    assert_denied(get_from(srv, "127.0.0.1"), 403, "Forbidden")
    assert get_from(srv, "127.0.0.9").status == 200


@pytest.mark.parametrize("entry", [
    {"ipAddress": "127.0.0.8", "subnetMask": "29"},
    {"ipAddress": "127.0.0.8/29"},
])
def test_prefix_length_forms(start, entry):
    srv = start(entries=[entry])
    assert_denied(get_from(srv, "127.0.0.9"), 403, "Forbidden")
    assert_denied(get_from(srv, "127.0.0.15"), 403, "Forbidden")
    assert get_from(srv, "127.0.0.16").status == 200
    assert get_from(srv, "127.0.0.7").status == 200


def test_first_matching_entry_decides(start):
    # an allow entry listed before the subnet it belongs to wins ...
    srv = start(entries=[{"ipAddress": "127.0.0.2", "allowed": "true"},
                         {"ipAddress": "127.0.0.0", "subnetMask": "255.255.255.0"}])
    assert get_from(srv, "127.0.0.2").status == 200
    assert_denied(get_from(srv, "127.0.0.3"), 403, "Forbidden")


def test_first_matching_entry_decides_reversed(start):
    # ... and listed after it, it is never reached
    srv = start(entries=[{"ipAddress": "127.0.0.0", "subnetMask": "255.255.255.0"},
                         {"ipAddress": "127.0.0.2", "allowed": "true"}])
    assert_denied(get_from(srv, "127.0.0.2"), 403, "Forbidden")


@pytest.mark.parametrize("action,status,reason", [
    ("Forbidden", 403, "Forbidden"),
    ("Unauthorized", 401, "Unauthorized"),
    ("NotFound", 404, "Not Found"),
])
def test_deny_action(start, action, status, reason):
    srv = start({"denyAction": action}, [{"ipAddress": "127.0.0.2"}])
    assert_denied(get_from(srv, "127.0.0.2"), status, reason)
    assert get_from(srv, "127.0.0.3").status == 200


def test_deny_action_abort_closes_without_response(start):
    srv = start({"denyAction": "AbortRequest"}, [{"ipAddress": "127.0.0.2"}])
    c = SourceClient(srv.port, "127.0.0.2")
    c.request("GET", "/hello.txt")
    with pytest.raises((ConnectionClosed, ConnectionResetError)):
        c.read_response()
    c.close()
    assert get_from(srv, "127.0.0.3").status == 200


def test_proxy_mode_checks_forwarded_addresses(start):
    srv = start({"enableProxyMode": "true"},
                [{"ipAddress": "192.0.2.0", "subnetMask": "24"},
                 {"ipAddress": "2001:db8::", "subnetMask": "32"}])
    ok = get_from(srv, "127.0.0.1", headers=[("X-Forwarded-For", "198.51.100.7")])
    assert ok.status == 200
    for xff in ("192.0.2.44", "198.51.100.7, 192.0.2.1", "192.0.2.9:8080", "2001:db8::5",
                "[2001:db8:1::1]:443", " 203.0.113.1 ,2001:DB8::abcd"):
        assert_denied(get_from(srv, "127.0.0.1", headers=[("X-Forwarded-For", xff)]), 403,
                      "Forbidden")
    assert get_from(srv, "127.0.0.1", headers=[("X-Forwarded-For", "2001:db9::1")]).status == 200
    # garbage in the header is no address at all
    assert get_from(srv, "127.0.0.1", headers=[("X-Forwarded-For", "unknown")]).status == 200


def test_forwarded_header_ignored_without_proxy_mode(start):
    srv = start(entries=[{"ipAddress": "192.0.2.44"}])
    assert get_from(srv, "127.0.0.1", headers=[("X-Forwarded-For", "192.0.2.44")]).status == 200


def test_restriction_at_a_location_only(start):
    srv = start({"allowUnlisted": "false"}, location="/secret")
    assert get_from(srv, "127.0.0.1", "/hello.txt").status == 200
    assert_denied(get_from(srv, "127.0.0.1", "/secret/s.txt"), 403, "Forbidden")


def test_ipv6_entry_does_not_match_ipv4_client(start):
    srv = start({"allowUnlisted": "false"}, [{"ipAddress": "::1", "allowed": "true"}])
    assert_denied(get_from(srv, "127.0.0.1"), 403, "Forbidden")


def test_domain_entries_never_match(start):
    srv = start({"allowUnlisted": "false", "enableReverseDns": "true"},
                [{"domainName": "localhost", "allowed": "true"}])
    assert_denied(get_from(srv, "127.0.0.1"), 403, "Forbidden")
