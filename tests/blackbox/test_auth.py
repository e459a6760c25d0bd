"""AnonymousAuthenticationModule, BasicAuthenticationModule and
UrlAuthorizationModule, and the engine's 401.2 when authentication ends
without a user.  The test module whoami.c (mapped to /whoami) answers with
the server variables and the IHttpUser the request ended up with.  Basic
credentials are checked against htpasswd files written here ({SHA}, bcrypt,
SHA-512 crypt), and against PAM through a service file the test writes to
/etc/pam.d and removes again (only when running as root)."""

import base64
import ctypes
import hashlib
import os
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from iisdtest import AppHostConfig, free_port, module_path, write_atomic

AUTH = "system.webServer/security/authentication/"
ANON = AUTH + "anonymousAuthentication"
BASIC = AUTH + "basicAuthentication"
AUTHZ = "system.webServer/security/authorization"


def _libcrypt():
    try:
        lib = ctypes.CDLL("libcrypt.so.1")
    except OSError:
        return None
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    return lib


LIBCRYPT = _libcrypt()


def crypt_hash(prefix, password, rounds=0):
    if LIBCRYPT is None:
        pytest.skip("libcrypt.so.1 is not available to compute crypt(3) hashes")
    salt = LIBCRYPT.crypt_gensalt(prefix.encode(), rounds, None, 0)
    return LIBCRYPT.crypt(password.encode("utf-8"), salt).decode()


def sha_hash(password):
    return "{SHA}" + base64.b64encode(hashlib.sha1(password.encode("utf-8")).digest()).decode()


def basic(user, password):
    raw = (user + ":" + password).encode("utf-8") if isinstance(user, str) else user + b":" + password
    return "Basic " + base64.b64encode(raw).decode()


def vars_of(resp):
    out = {}
    for line in resp.body.decode("utf-8").splitlines():
        k, _, v = line.partition("=")
        out[k] = v
    return out


@pytest.fixture
def htpasswd(tmp_path):
    path = tmp_path / "users.htpasswd"
    lines = [
        "# users for the tests",
        "alice:" + sha_hash("alice-pw") + ":editors, staff",
        "bob:" + sha_hash("bob-pw"),
        "carol:" + crypt_hash("$2b$", "carol-pw", 5),
        "dave:" + crypt_hash("$6$", "dave-pw"),
        "plain:plain-pw",
        "j\u00f6s\u00e9:" + sha_hash("p\u00e4ss"),
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


class Site:
    """A configuration built from the server's default one, with whoami mapped to /whoami."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.root = tmp_path / "www"
        self.root.mkdir(exist_ok=True)
        (self.root / "hello.txt").write_bytes(b"Hello static\n")
        for d in ("secure", "secure/sub", "open"):
            (self.root / d).mkdir(exist_ok=True)
            (self.root / d / "f.txt").write_bytes(b"file in " + d.encode() + b"\n")
        self.port = free_port()
        self.cfg = AppHostConfig()
        self.cfg.add_site("Default Web Site", 1, ["127.0.0.1:%d:" % self.port], self.root)
        self.cfg.add_global_module("WhoAmI", module_path("whoami"))
        self.cfg.enable_module("WhoAmI")
        handlers = None
        for loc in self.cfg.root.findall("location"):
            if loc.get("path") in ("", ".") and loc.find("system.webServer/handlers") is not None:
                handlers = loc.find("system.webServer/handlers")
        handlers.insert(0, ET.Element("add", {"name": "WhoAmI", "path": "whoami", "verb": "*",
                                              "modules": "WhoAmI", "requireAccess": "None"}))

    def section(self, name, location=None, **attrs):
        sec = self.cfg.section(name, location="Default Web Site" + location if location else None)
        for k, v in attrs.items():
            sec.set(k, v)
        return sec

    def rules(self, location, *rules, clear=False):
        sec = self.section(AUTHZ, location)
        for el in list(sec):
            sec.remove(el)
        if clear:
            ET.SubElement(sec, "clear")
        for r in rules:
            ET.SubElement(sec, "add", r)

    def start(self, server_factory):
        path = self.cfg.write(self.tmp / "applicationHost.config")
        return server_factory(config_file=path, port=self.port)


@pytest.fixture
def site(tmp_path):
    return Site(tmp_path)


def basic_only(site, htpasswd, location=None, **attrs):
    site.section(ANON, location, enabled="false")
    site.section(BASIC, location, enabled="true", htpasswdFile=str(htpasswd), **attrs)


def get(srv, path="/whoami", auth=None, method="GET", headers=()):
    h = list(headers)
    if auth is not None:
        h.append(("Authorization", auth))
    return srv.get(path, method=method, headers=h)


def assert_401(resp, sub):
    assert resp.status == 401, resp
    assert resp.reason == "Unauthorized"
    assert ("401.%d" % sub).encode() in resp.body, resp.body
    assert b"LOGON_USER" not in resp.body


# ---- anonymous authentication -------------------------------------------------------

def test_default_configuration_serves_anonymous_requests(site, server_factory):
    srv = site.start(server_factory)
    resp = get(srv)
    assert resp.status == 200
    v = vars_of(resp)
    assert v["user"] == "set"
    assert v["name"] == "" and v["remote"] == "" and v["type"] == ""
    for name in ("LOGON_USER", "AUTH_TYPE", "REMOTE_USER", "AUTH_USER", "AUTH_PASSWORD"):
        assert v[name] == "", name
    assert get(srv, "/hello.txt").body == b"Hello static\n"
    assert not resp.has("WWW-Authenticate")


def test_no_enabled_authentication_is_401_2(site, server_factory):
    site.section(ANON, enabled="false")
    srv = site.start(server_factory)
    for path in ("/whoami", "/hello.txt"):
        resp = get(srv, path)
        assert_401(resp, 2)
        assert not resp.has("WWW-Authenticate")  # Basic is not enabled: no challenge


def test_anonymous_disabled_below_a_location_only(site, server_factory):
    site.section(ANON, "/secure", enabled="false")
    srv = site.start(server_factory)
    assert get(srv, "/open/f.txt").status == 200
    assert_401(get(srv, "/secure/f.txt"), 2)
    assert_401(get(srv, "/secure/sub/f.txt"), 2)


def test_without_authentication_modules_no_user_is_required(site, server_factory):
    site.section(ANON, enabled="false")
    site.cfg.disable_module("AnonymousAuthenticationModule")
    site.cfg.disable_module("BasicAuthenticationModule")
    srv = site.start(server_factory)
    resp = get(srv)
    assert resp.status == 200
    assert vars_of(resp)["user"] == "none"
    assert vars_of(resp)["LOGON_USER"] == ""
    assert get(srv, "/hello.txt").status == 200


def test_a_disabled_authentication_module_still_requires_a_user(site, server_factory):
    site.cfg.disable_module("AnonymousAuthenticationModule")
    srv = site.start(server_factory)
    assert_401(get(srv), 2)


# ---- basic authentication -------------------------------------------------------------

def test_basic_challenge_on_401_2(site, server_factory, htpasswd):
    basic_only(site, htpasswd, realm='iisd "test" realm')
    srv = site.start(server_factory)
    resp = get(srv)
    assert_401(resp, 2)
    assert resp.header("WWW-Authenticate") == 'Basic realm="iisd \\"test\\" realm"'


def test_basic_realm_defaults_to_server_name(site, server_factory, htpasswd):
    basic_only(site, htpasswd)
    srv = site.start(server_factory)
    resp = get(srv)
    assert resp.header("WWW-Authenticate") == 'Basic realm="localhost"'


@pytest.mark.parametrize("user,password", [
    ("alice", "alice-pw"),   # {SHA}
    ("carol", "carol-pw"),   # bcrypt $2b$
    ("dave", "dave-pw"),     # SHA-512 crypt $6$
])
def test_basic_valid_credentials(site, server_factory, htpasswd, user, password):
    basic_only(site, htpasswd)
    srv = site.start(server_factory)
    for _ in range(2):  # the second one comes from the verification cache
        resp = get(srv, auth=basic(user, password))
        assert resp.status == 200, resp
        v = vars_of(resp)
        assert v["LOGON_USER"] == user
        assert v["REMOTE_USER"] == user and v["AUTH_USER"] == user
        assert v["UNMAPPED_REMOTE_USER"] == user
        assert v["AUTH_TYPE"] == "Basic" and v["type"] == "Basic"
        assert v["AUTH_PASSWORD"] == password and v["password"] == password
        assert v["name"] == user and v["remote"] == user
        assert not resp.has("WWW-Authenticate")
    assert get(srv, "/hello.txt", auth=basic(user, password)).body == b"Hello static\n"


@pytest.mark.parametrize("auth", [
    basic("alice", "wrong"),
    basic("alice", ""),
    basic("nobody", "alice-pw"),
    basic("carol", "carol-pW"),
    basic("plain", "plain-pw"),          # plain-text entries are not accepted
    basic("alice", "alice-pw ")[:-1] + "!",  # not base64
    "Basic " + base64.b64encode(b"no-colon").decode(),
    "Basic " + base64.b64encode(b":alice-pw").decode(),  # empty user-id
    "Basic " + base64.b64encode(b"alice:alice-pw").decode() + "=",  # bad padding
    "Basic " + base64.b64encode(b"alice:alice-pw").decode() + " extra",
    "Basic " + base64.b64encode(b"al\x01ice:alice-pw").decode(),  # control character
    "Basic " + base64.b64encode("jösé:päss".encode("latin-1")).decode(),  # not UTF-8
    "Basic",
])
def test_basic_bad_credentials_are_401_1(site, server_factory, htpasswd, auth):
    basic_only(site, htpasswd, realm="r")
    srv = site.start(server_factory)
    resp = get(srv, auth=auth)
    assert_401(resp, 1)
    assert resp.header("WWW-Authenticate") == 'Basic realm="r"'


def test_basic_scheme_is_case_insensitive_and_utf8_names(site, server_factory, htpasswd):
    basic_only(site, htpasswd)
    srv = site.start(server_factory)
    token = base64.b64encode(b"bob:bob-pw").decode()
    for scheme in ("basic", "BASIC", "bAsIc"):
        assert get(srv, auth=scheme + "  " + token).status == 200
    resp = get(srv, auth=basic("j\u00f6s\u00e9", "p\u00e4ss"))
    assert resp.status == 200
    assert vars_of(resp)["LOGON_USER"] == "j\u00f6s\u00e9"
    assert vars_of(resp)["name"] == "j\u00f6s\u00e9"


def test_other_schemes_are_left_alone(site, server_factory, htpasswd):
    basic_only(site, htpasswd)
    srv = site.start(server_factory)
    resp = get(srv, auth="Bearer abc.def")
    assert_401(resp, 2)
    assert resp.header("WWW-Authenticate").startswith("Basic realm=")
    assert_401(get(srv, auth="BasicX " + base64.b64encode(b"bob:bob-pw").decode()), 2)


def test_basic_and_anonymous_together(site, server_factory, htpasswd):
    site.section(BASIC, enabled="true", htpasswdFile=str(htpasswd))
    srv = site.start(server_factory)
    v = vars_of(get(srv))
    assert v["user"] == "set" and v["AUTH_TYPE"] == "" and v["LOGON_USER"] == ""
    v = vars_of(get(srv, auth=basic("bob", "bob-pw")))
    assert v["AUTH_TYPE"] == "Basic" and v["LOGON_USER"] == "bob"
    # wrong credentials are refused even though anonymous access is allowed
    assert_401(get(srv, auth=basic("bob", "nope")), 1)


def test_basic_disabled_ignores_credentials(site, server_factory, htpasswd):
    site.section(BASIC, enabled="false", htpasswdFile=str(htpasswd))
    srv = site.start(server_factory)
    resp = get(srv, auth=basic("bob", "nope"))
    assert resp.status == 200
    assert vars_of(resp)["AUTH_TYPE"] == ""


def test_htpasswd_changes_are_picked_up(site, server_factory, htpasswd):
    basic_only(site, htpasswd)
    srv = site.start(server_factory)
    assert get(srv, auth=basic("bob", "bob-pw")).status == 200
    write_atomic(htpasswd, "bob:" + sha_hash("new-pw") + "\n")
    assert_401(get(srv, auth=basic("bob", "bob-pw")), 1)
    assert get(srv, auth=basic("bob", "new-pw")).status == 200
    assert_401(get(srv, auth=basic("alice", "alice-pw")), 1)


def test_missing_htpasswd_file_refuses_everyone(site, server_factory, tmp_path):
    basic_only(site, tmp_path / "does-not-exist")
    srv = site.start(server_factory)
    assert_401(get(srv, auth=basic("bob", "bob-pw")), 1)


# ---- URL authorization ------------------------------------------------------------------

def test_deny_anonymous_then_basic_login(site, server_factory, htpasswd):
    site.section(BASIC, enabled="true", htpasswdFile=str(htpasswd), realm="members")
    site.rules("/secure", {"accessType": "Deny", "users": "?"})
    srv = site.start(server_factory)
    assert get(srv, "/open/f.txt").status == 200
    resp = get(srv, "/secure/f.txt")
    assert_401(resp, 3)
    assert resp.header("WWW-Authenticate") == 'Basic realm="members"'
    resp = get(srv, "/secure/f.txt", auth=basic("bob", "bob-pw"))
    assert resp.status == 200 and resp.body == b"file in secure\n"


def test_allow_named_users_only(site, server_factory, htpasswd):
    basic_only(site, htpasswd)
    site.rules(None, {"accessType": "Allow", "users": "alice, carol"}, clear=True)
    srv = site.start(server_factory)
    assert get(srv, auth=basic("alice", "alice-pw")).status == 200
    assert get(srv, auth=basic("CAROL", "carol-pw")).status == 401  # htpasswd names are exact
    assert get(srv, auth=basic("carol", "carol-pw")).status == 200
    resp = get(srv, auth=basic("bob", "bob-pw"))
    assert_401(resp, 3)
    assert resp.has("WWW-Authenticate")


def test_deny_rules_come_before_allow_rules(site, server_factory, htpasswd):
    basic_only(site, htpasswd)
    site.rules(None, {"accessType": "Allow", "users": "*"}, {"accessType": "Deny", "users": "bob"},
               clear=True)
    srv = site.start(server_factory)
    assert_401(get(srv, auth=basic("bob", "bob-pw")), 3)
    assert get(srv, auth=basic("alice", "alice-pw")).status == 200


def test_child_cannot_allow_what_a_parent_denies(site, server_factory, htpasswd):
    basic_only(site, htpasswd)
    site.rules(None, {"accessType": "Allow", "users": "*"}, {"accessType": "Deny", "users": "bob"},
               clear=True)
    site.rules("/secure", {"accessType": "Allow", "users": "bob, carol"})
    srv = site.start(server_factory)
    assert_401(get(srv, "/secure/f.txt", auth=basic("bob", "bob-pw")), 3)
    assert get(srv, "/secure/f.txt", auth=basic("alice", "alice-pw")).status == 200


def test_rules_by_verb(site, server_factory):
    site.rules(None, {"accessType": "Allow", "users": "*"},
               {"accessType": "Deny", "users": "*", "verbs": "POST, PUT"}, clear=True)
    srv = site.start(server_factory)
    assert get(srv).status == 200
    assert get(srv, method="HEAD").status == 200
    assert_401(get(srv, method="POST"), 3)
    assert_401(get(srv, method="PUT"), 3)


def test_rules_by_role_from_htpasswd(site, server_factory, htpasswd):
    basic_only(site, htpasswd)
    site.rules(None, {"accessType": "Allow", "roles": "Editors"}, clear=True)
    srv = site.start(server_factory)
    resp = srv.get("/whoami?role=staff", headers=[("Authorization", basic("alice", "alice-pw"))])
    assert resp.status == 200
    assert vars_of(resp)["role"] == "staff:1"
    resp = srv.get("/whoami?role=admins", headers=[("Authorization", basic("alice", "alice-pw"))])
    assert vars_of(resp)["role"] == "admins:0"
    assert_401(get(srv, auth=basic("bob", "bob-pw")), 3)


def test_anonymous_user_matches_question_mark_and_star(site, server_factory):
    site.rules(None, {"accessType": "Allow", "users": "?"}, clear=True)
    site.rules("/secure", {"accessType": "Deny", "users": "*"})
    srv = site.start(server_factory)
    assert get(srv).status == 200
    assert_401(get(srv, "/secure/f.txt"), 3)


def test_no_rule_applies_is_denied(site, server_factory):
    site.rules(None, {"accessType": "Allow", "users": "someone"}, clear=True)
    srv = site.start(server_factory)
    assert_401(get(srv), 3)


def test_no_rules_at_all_is_not_restricted(site, server_factory):
    site.rules(None, clear=True)
    srv = site.start(server_factory)
    assert get(srv).status == 200


# ---- PAM ------------------------------------------------------------------------------------

PAM_MODULES = Path("/lib/x86_64-linux-gnu/security")


@pytest.fixture
def pam_service():
    """A PAM service that accepts the user root with any password and refuses everyone else."""
    if os.geteuid() != 0 or not os.access("/etc/pam.d", os.W_OK):
        pytest.skip("writing a PAM service file needs root")
    if not (PAM_MODULES / "pam_succeed_if.so").exists():
        pytest.skip("pam_succeed_if.so is not installed")
    name = "iisd-test-" + uuid.uuid4().hex[:12]
    path = Path("/etc/pam.d") / name
    path.write_text("auth required pam_succeed_if.so quiet user = root\n"
                    "auth required pam_permit.so\n"
                    "account required pam_permit.so\n")
    try:
        yield name
    finally:
        path.unlink()


def test_basic_with_pam(site, server_factory, pam_service):
    site.section(ANON, enabled="false")
    site.section(BASIC, enabled="true", pamService=pam_service)
    site.rules(None, {"accessType": "Allow", "roles": "root"}, clear=True)
    srv = site.start(server_factory)
    resp = srv.get("/whoami?role=root", headers=[("Authorization", basic("root", "anything"))])
    assert resp.status == 200, resp
    v = vars_of(resp)
    assert v["LOGON_USER"] == "root" and v["AUTH_TYPE"] == "Basic"
    assert v["role"] == "root:1"  # Unix groups are the roles of PAM users
    assert_401(get(srv, auth=basic("nobody", "anything")), 1)
    assert_401(get(srv), 2)
