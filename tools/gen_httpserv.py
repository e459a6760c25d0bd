#!/usr/bin/env python3
"""Generate the module headers with two bindings (C++ classes, C vtable structs)
and their vtable-slot tests from the specs in tools/.

Each spec lists the interfaces of one header once, in C++ form and in vtable
slot order. From them this script writes:

  tools/gen_httpserv.spec  -> include/httpserv.h   (IIS native module API)
                              tests/abi/slots_cxx.gen.cpp, tests/abi/slots_c.gen.c
  tools/gen_iisd_com.spec  -> include/iisd_com.h   (IUnknown, IDispatch, BSTR, VARIANT)
                              tests/abi/slots_com_cxx.gen.cpp, tests/abi/slots_com_c.gen.c
  tools/gen_ahadmin.spec   -> include/ahadmin.h    (AppHost configuration COM API)
                              tests/abi/slots_ahadmin_cxx.gen.cpp, tests/abi/slots_ahadmin_c.gen.c

The slots_*cxx programs print the Itanium slot of every C++ method, the
slots_*c programs the slot of every C vtable member.

Usage:
  python3 tools/gen_httpserv.py            regenerate the files
  python3 tools/gen_httpserv.py --check    exit 1 if a file is out of date

The output is run through clang-format (repository .clang-format) when it is
installed, so that it passes `clang-format --dry-run -Werror`.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Target:
    """One generated header and its two slot tests."""

    def __init__(self, spec, header, slots_cxx, slots_c, includes, legacy=False):
        self.spec = os.path.join(ROOT, "tools", spec)
        self.spec_rel = "tools/" + spec
        self.outputs = {
            "header": os.path.join("include", header),
            "slots_cxx": os.path.join("tests", "abi", slots_cxx),
            "slots_c": os.path.join("tests", "abi", slots_c),
        }
        self.includes = includes  # headers the slot tests include
        self.legacy = legacy  # httpserv.h: overview, prelude and tails live in this script


TARGETS = [
    Target("gen_httpserv.spec", "httpserv.h", "slots_cxx.gen.cpp", "slots_c.gen.c",
           ["windows.h", "sal.h", "httpserv.h"], legacy=True),
    Target("gen_iisd_com.spec", "iisd_com.h", "slots_com_cxx.gen.cpp", "slots_com_c.gen.c",
           ["windows.h", "oaidl.h"]),
    Target("gen_ahadmin.spec", "ahadmin.h", "slots_ahadmin_cxx.gen.cpp", "slots_ahadmin_c.gen.c",
           ["windows.h", "ahadmin.h"]),
]
COMMAND = "python3 tools/gen_httpserv.py"
C_COLUMNS = 110  # ColumnLimit of .clang-format


class SpecError(Exception):
    pass


# --------------------------------------------------------------------------
# Spec parsing
# --------------------------------------------------------------------------


class Param:
    def __init__(self, text):
        text = text.strip()
        self.default = None
        if "=" in text:
            text, self.default = [t.strip() for t in text.split("=", 1)]
        self.decl = text  # declaration without the default argument
        m = re.search(r"(\w+)\s*(\[[^\]]*\])?\s*$", text)
        if not m:
            raise SpecError("cannot find the parameter name in %r" % text)
        self.name = m.group(1)

    def cxx(self):
        return self.decl + (" = " + self.default if self.default is not None else "")


class Method:
    def __init__(self, line, owner, doc):
        self.owner = owner  # declaring class name
        self.doc = doc
        self.c_names = None
        self.deprecated = False
        self.pure = False
        self.body = None
        self.const = False
        self.is_dtor = False

        text = line.strip()
        m = re.search(r"\s@c\s+([\w ]+)$", text)
        if m:
            self.c_names = m.group(1).split()
            text = text[: m.start()].rstrip()
        if text.endswith("@deprecated"):
            self.deprecated = True
            text = text[: -len("@deprecated")].rstrip()
        m = re.search(r"\{(.*)\}$", text)
        if m:
            self.body = m.group(1).strip()
            text = text[: m.start()].rstrip()
        if text.endswith("= 0"):
            self.pure = True
            text = text[:-3].rstrip()
        if text.endswith("const"):
            self.const = True
            text = text[:-5].rstrip()
        m = re.match(r"^(.*?)(~?\w+)\((.*)\)$", text)
        if not m:
            raise SpecError("cannot parse method %r" % line)
        self.ret = m.group(1).strip()
        self.name = m.group(2)
        self.params = [Param(p) for p in split_params(m.group(3))]
        if self.name.startswith("~"):
            self.is_dtor = True
            if not self.c_names or len(self.c_names) != 2:
                raise SpecError("a destructor needs '@c D1NAME D0NAME'")
        else:
            if not self.ret:
                raise SpecError("method %s has no return type" % self.name)
            if self.c_names and len(self.c_names) != 1:
                raise SpecError("method %s: one C name expected" % self.name)
        if not self.c_names:
            self.c_names = [self.name]

    @property
    def slot_count(self):
        return 2 if self.is_dtor else 1


def split_params(text):
    text = text.strip()
    if text in ("", "VOID", "void"):
        return []
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


class Iface:
    def __init__(self, kind, name, base, default):
        self.kind = kind  # "interface" or "moduleclass"
        self.name = name
        self.base = base
        self.default = default
        self.uuid = None
        self.doc = None
        self.own = []
        self.base_iface = None
        self.cxx_extra = []  # non-virtual C++ members, copied into the class as is

    def all_methods(self):
        chain = []
        i = self
        while i is not None:
            chain.insert(0, i)
            i = i.base_iface
        out = []
        for c in chain:
            out.extend(c.own)
        return out


class Spec:
    def __init__(self):
        self.verbatim = {}
        self.opaque = []
        self.ifaces = []
        self.options = set()
        self.imported = {}  # interfaces of imported specs, by name (bases only, not emitted)


def parse_spec(path):
    spec = Spec()
    byname = {}
    cur = None
    verb = None
    pending_doc = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for lineno, raw in enumerate(lines, 1):
        try:
            if verb is not None:
                if raw.strip() == "%end":
                    spec.verbatim[verb] = "\n".join(spec.verbatim[verb]).strip("\n")
                    verb = None
                else:
                    spec.verbatim[verb].append(raw)
                continue
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("%verbatim"):
                verb = line.split()[1]
                spec.verbatim[verb] = []
                continue
            if line.startswith("opaque "):
                spec.opaque.extend(line.split()[1:])
                continue
            if line.startswith("import ") and cur is None:
                other = parse_spec(os.path.join(os.path.dirname(path), line.split()[1]))
                for i in list(other.imported.values()) + other.ifaces:
                    spec.imported[i.name] = i
                    byname[i.name] = i
                continue
            if line.startswith("option ") and cur is None:
                spec.options.update(line.split()[1:])
                continue
            m = re.match(r"^(interface|moduleclass)\s+(\w+)(?:\s*:\s*(\w+))?(?:\s+(\w+))?$", line)
            if m and cur is None:
                kind, name, base, default = m.groups()
                if kind == "moduleclass" and not default:
                    raise SpecError("moduleclass needs a default return value")
                cur = Iface(kind, name, base, default)
                if base:
                    if base not in byname:
                        raise SpecError("base %s must be declared before %s" % (base, name))
                    cur.base_iface = byname[base]
                continue
            if cur is None:
                raise SpecError("unexpected line outside an interface: %r" % line)
            if line == "end":
                if not cur.doc:
                    raise SpecError("%s has no doc line" % cur.name)
                if cur.kind == "interface" and not cur.uuid:
                    raise SpecError("%s has no uuid" % cur.name)
                spec.ifaces.append(cur)
                byname[cur.name] = cur
                cur = None
                continue
            if line.startswith("uuid "):
                cur.uuid = line.split()[1].lower()
                if not re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", cur.uuid):
                    raise SpecError("bad uuid %s" % cur.uuid)
                continue
            if line.startswith("doc "):
                cur.doc = line[4:].strip()
                continue
            if line.startswith("cxx "):
                cur.cxx_extra.append(raw.rstrip()[raw.index("cxx ") + 4 :])
                continue
            if line.startswith("//"):
                pending_doc.append(line[2:].strip())
                continue
            meth = Method(line, cur.name, " ".join(pending_doc))
            pending_doc = []
            if meth.is_dtor and cur.kind != "moduleclass":
                raise SpecError("only a moduleclass may have a destructor")
            cur.own.append(meth)
        except SpecError as e:
            raise SpecError("%s:%d: %s" % (path, lineno, e))
    if cur is not None or verb is not None:
        raise SpecError("%s: unterminated block at end of file" % path)
    for i in spec.ifaces:
        seen = set()
        for m in i.all_methods():
            for c in m.c_names:
                if c in seen:
                    raise SpecError("%s: C name %s used twice; add '@c NAME'" % (i.name, c))
                seen.add(c)
    return spec


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def guid_initializer(uuid):
    p = uuid.split("-")
    tail = p[3] + p[4]
    b = ", ".join("0x" + tail[i : i + 2] for i in range(0, 16, 2))
    return "{0x%s, 0x%s, 0x%s, {%s}}" % (p[0], p[1], p[2], b)


def join_ret(ret, rest):
    return ret + rest if ret.endswith("*") else ret + " " + rest


def doc_comment(text, indent="", opener="/**"):
    """A comment, wrapped to the column limit (the C binding is not clang-formatted)."""
    one = "%s%s %s */" % (indent, opener, text)
    if len(one) <= C_COLUMNS:
        return one + "\n"
    lines = textwrap.wrap(text, C_COLUMNS - len(indent) - 4)
    rest = "".join("%s * %s\n" % (indent, l) for l in lines[1:])
    return "%s%s %s\n%s%s */\n" % (indent, opener, lines[0], rest, indent)


def slots(iface):
    """(slot, method, c_name) for every vtable slot of iface."""
    out = []
    n = 0
    for m in iface.all_methods():
        for c in m.c_names:
            out.append((n, m, c))
            n += 1
    return out


# --------------------------------------------------------------------------
# httpserv.h
# --------------------------------------------------------------------------

OVERVIEW = """\
/*
 * httpserv.h - the IIS 7+ native module API for iisd (x86-64 Linux).
 *
 * GENERATED FILE - DO NOT EDIT. Generated by %(cmd)s from
 * tools/gen_httpserv.spec; edit the spec and regenerate.
 *
 * Modules include <windows.h>, <sal.h> and <httpserv.h> (in that order or
 * alone) exactly as on Windows. This one header carries two bindings of the
 * same ABI:
 *
 * C++ (#ifdef __cplusplus)
 *   Every interface is a class with only pure virtual methods declared in
 *   the Itanium vtable slot order; derived interfaces (IHttpContext2, ...)
 *   use public single inheritance and declare only their new methods, with
 *   the Windows SDK default arguments. CHttpModule and CGlobalModule have
 *   default method bodies that report the missing override on stderr
 *   (OutputDebugStringA), call DebugBreak() (SIGTRAP: ignored by the server,
 *   stops a debugger) and continue. RegisterModule is pre-declared
 *   extern "C" with default visibility, so a module that defines it without
 *   extern "C" still exports the plain name.
 *   __uuidof(T) takes an interface TYPE and yields its IID (through
 *   IisdUuidOf<T>); use IISD_DECLARE_UUIDOF to add your own interfaces.
 *   A derived interface that adds an overload hides the base one (as with
 *   MSVC): call the older overload through a base-class pointer.
 *
 * C (#ifndef __cplusplus)
 *   Every interface X is `struct X { const struct XVtbl *lpVtbl; }` and
 *   XVtbl lists ALL slots, inherited ones included, as function pointers
 *   whose first parameter is `X *This`; call p->lpVtbl->Method(p, ...).
 *   There are no default arguments: pass every argument. Methods keep their
 *   C++ names, except overloads, which are named:
 *     IHttpRequest   0 GetRawHttpRequest        1 GetRawHttpRequestConst
 *                    2 GetHeaderByName          3 GetHeaderById
 *                    4 SetHeaderByName          5 SetHeaderById
 *                    6 DeleteHeaderByName       7 DeleteHeaderById
 *                   10 SetUrlW (PCWSTR)        11 SetUrlA (PCSTR)
 *     IHttpResponse  0 GetRawHttpResponse       1 GetRawHttpResponseConst
 *                    4 SetHeaderByName          5 SetHeaderById
 *                    6 DeleteHeaderByName       7 DeleteHeaderById
 *                    8 GetHeaderByName          9 GetHeaderById
 *     IHttpContext  15 GetServerVariableW (PCWSTR *)
 *                   16 GetServerVariableA (PCSTR *)
 *     IHttpRequest3 25 ReadEntityBodyEx (completion-callback form)
 *     IHttpRequest4 26 ReadEntityBodyWithFlags
 *     IHttpResponse2 28 WriteEntityChunksEx      29 FlushEx
 *     IHttpContext3 43 PostCompletionEx
 *     IHttpServer2  28 GetExtendedInterfaceByGuid
 *     CHttpModule   30 Destructor               31 DeletingDestructor
 *   A C module implements CHttpModule, CGlobalModule and IHttpModuleFactory
 *   by filling their Vtbl structs; the CHttpModule destructor slots may be
 *   NULL (the server only ever calls Dispose, slot 29).
 *   IIDs are `static const GUID IID_<Interface>` in both languages.
 *
 * Linux conventions (see windows.h and http.h): WCHAR is wchar_t (UTF-32);
 * file HANDLEs carry file descriptors (IisdFdToHandle/IisdHandleToFd);
 * PSOCKADDR is a native Linux socket address.
 *
 * Building a module: g++ -shared -fPIC -I include (add -fvisibility=hidden
 * to export nothing but RegisterModule). The server loads modules with
 * dlopen(RTLD_LOCAL), so the weak C++ symbols every module defines
 * (vtables of its classes, CHttpModule's vtable) never clash.
 * See docs/c-binding.md for the full description.
 */
"""

PRELUDE = """\
#ifndef IISD_HTTPSERV_H
#define IISD_HTTPSERV_H

#include "sal.h"
#include "windows.h"
#include "http.h"
#include "httptrace.h"
#ifndef __cplusplus
#include <stdbool.h>
#endif

#if defined(__GNUC__)
#define IISD_EXPORT          __attribute__((visibility("default")))
#define IISD_INLINE_HIDDEN   __attribute__((visibility("hidden")))
#define IISD_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#define IISD_EXPORT
#define IISD_INLINE_HIDDEN
#define IISD_DEPRECATED(msg)
#endif
"""

CXX_TAIL = """\
/* ------------------------------------------------------------------------ */
/* __uuidof and HttpGetExtendedInterface                                    */
/* ------------------------------------------------------------------------ */

/*
 * IisdUuidOf<T>::Value() is the IID of interface T. It is specialised for
 * every interface above; use IISD_DECLARE_UUIDOF(T, l, w1, w2, b1, ..., b8)
 * at global scope for an interface of your own.
 */
template <class T> struct IisdUuidOf;
#define IISD_DECLARE_UUIDOF(T, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8)                                     \\
    template <> struct IisdUuidOf<T> {                                                                        \\
        IISD_INLINE_HIDDEN static GUID Value()                                                                \\
        {                                                                                                     \\
            GUID g = {l, w1, w2, {b1, b2, b3, b4, b5, b6, b7, b8}};                                           \\
            return g;                                                                                         \\
        }                                                                                                     \\
    }
%(uuidofs)s

/*
 * __uuidof(T): the IID of interface type T, as a GUID value (a temporary,
 * so it binds to REFGUID/const GUID & parameters but has no address).
 */
#if !defined(_MSC_VER) && !defined(__uuidof)
#define __uuidof(T) (IisdUuidOf<T>::Value())
#endif

/*
 * Converts pInput (an interface the module holds, type T1) into the
 * extended interface T2 (e.g. IHttpContext -> IHttpContext3) by asking the
 * server: IHttpServer::GetExtendedInterface(HTTP_SERVER_INTERFACE_V2) for
 * IHttpServer2, then IHttpServer2::GetExtendedInterface(IID_T1, pInput,
 * IID_T2, ppOutput). *ppOutput is written only on success.
 */
template <class T1, class T2>
static inline HRESULT HttpGetExtendedInterface(IHttpServer *pHttpServer, T1 *pInput, T2 **ppOutput)
{
    PVOID pvServer2 = NULL;
    PVOID pvOutput = NULL;
    HRESULT hr = pHttpServer->GetExtendedInterface(HTTP_SERVER_INTERFACE_V2, &pvServer2);
    if (FAILED(hr)) {
        return hr;
    }
    hr = static_cast<IHttpServer2 *>(pvServer2)->GetExtendedInterface(__uuidof(T1), pInput, __uuidof(T2), &pvOutput);
    if (SUCCEEDED(hr)) {
        *ppOutput = static_cast<T2 *>(pvOutput);
    }
    return hr;
}

/*
 * iisd extension: once a module has called ISendResponseProvider::SetLogData, the request's named
 * context IISD_LOG_DATA_CONTEXT_NAME (IHttpContext3::GetNamedContextContainer) is this stored
 * context, which points to the record set (the last one) until the request ends. The server owns it.
 */
struct IISD_LOG_DATA_CONTEXT : public IHttpStoredContext {
    HTTP_LOG_DATA *pLogData;
};

/*
 * The module entry point, exported unmangled with default visibility even
 * if the module is built with -fvisibility=hidden and defines it without
 * extern "C".
 */
extern "C" IISD_EXPORT HRESULT WINAPI RegisterModule(DWORD dwServerVersion, IHttpModuleRegistrationInfo *pModuleInfo,
                                                     IHttpServer *pGlobalInfo);
"""

C_TAIL = """\
/*
 * iisd extension: once a module has called ISendResponseProvider::SetLogData, the request's named
 * context IISD_LOG_DATA_CONTEXT_NAME (IHttpContext3::GetNamedContextContainer) is this stored
 * context, which points to the record set (the last one) until the request ends. The server owns it.
 */
typedef struct IISD_LOG_DATA_CONTEXT {
    IHttpStoredContext Base;
    HTTP_LOG_DATA *pLogData;
} IISD_LOG_DATA_CONTEXT;

/* The module entry point, exported with default visibility. */
IISD_EXPORT HRESULT WINAPI RegisterModule(DWORD dwServerVersion, IHttpModuleRegistrationInfo *pModuleInfo,
                                          IHttpServer *pGlobalInfo);
"""


def default_body(iface, m):
    lines = ["UNREFERENCED_PARAMETER(%s);" % p.name for p in m.params]
    msg = (
        "iisd: %s::%s called, but this module's class derived from %s does not override it although "
        "the module registered for the notification. Check that the override's signature matches "
        "httpserv.h exactly.\\n" % (iface.name, m.name, iface.name)
    )
    lines.append('OutputDebugStringA("%s");' % msg)
    lines.append("DebugBreak();")
    lines.append("return %s;" % iface.default)
    return lines


def gen_cxx_class(iface):
    out = [doc_comment(iface.doc + (" (IID %s)" % iface.uuid if iface.uuid else ""))]
    head = "class %s" % iface.name
    if iface.base:
        head += " : public %s" % iface.base
    out.append(head + "\n{\n  public:\n")
    for m in iface.own:
        if m.is_dtor:
            continue
        if m.doc:
            out.append(doc_comment(m.doc, "    "))
        params = ", ".join(p.cxx() for p in m.params)
        sig = join_ret(m.ret, "%s(%s)%s" % (m.name, params, " const" if m.const else ""))
        if iface.kind == "interface" or m.pure:
            prefix = "    "
            if m.deprecated:
                prefix += 'IISD_DEPRECATED("use HttpGetExtendedInterface instead") '
            out.append("%svirtual %s = 0;\n" % (prefix, sig))
            continue
        body = [m.body] if m.body else default_body(iface, m)
        out.append("    IISD_INLINE_HIDDEN virtual %s\n    {\n" % sig)
        for b in body:
            out.append("        %s\n" % b)
        out.append("    }\n")
    for line in iface.cxx_extra:
        out.append("    %s\n" % line)
    dtors = [m for m in iface.own if m.is_dtor]
    if dtors:
        d = dtors[0]
        out.append("\n  protected:\n")
        out.append("    IISD_INLINE_HIDDEN %s() {}\n" % iface.name)
        if d.doc:
            out.append(doc_comment(d.doc, "    "))
        out.append("    IISD_INLINE_HIDDEN virtual %s() {}\n" % d.name)
    out.append("};\n")
    return "".join(out)


def c_member(ret, name, params):
    """One function-pointer member, wrapped one parameter per line if long.

    The C binding is emitted inside "clang-format off" because clang-format
    wraps long function-pointer members badly; this keeps it readable.
    """
    head = "    " + join_ret(ret, "(*%s)(" % name)
    one = head + ", ".join(params) + ");"
    if len(one) <= C_COLUMNS:
        return one + "\n"
    pad = " " * len(head)
    if max(len(pad) + len(p) for p in params) + 2 > C_COLUMNS:
        pad = " " * 8
        return head + "\n" + pad + (",\n" + pad).join(params) + ");\n"
    return head + (",\n" + pad).join(params) + ");\n"


def gen_c_struct(iface):
    out = [doc_comment(iface.doc + (" (IID %s)" % iface.uuid if iface.uuid else ""))]
    out.append("typedef struct %sVtbl {\n" % iface.name)
    all_slots = slots(iface)
    for idx, (slot, m, cname) in enumerate(all_slots):
        if idx == 0 or all_slots[idx - 1][1].owner != m.owner:
            last = max(s for s, mm, _ in all_slots if mm.owner == m.owner)
            rng = "slot %d" % slot if last == slot else "slots %d-%d" % (slot, last)
            out.append("%s    /* %s methods, %s */\n" % ("\n" if idx else "", m.owner, rng))
        if m.is_dtor:
            kind = "complete-object" if cname == m.c_names[0] else "deleting"
            out.append("    /* slot %d: C++ %s (%s destructor); never called by the server */\n" % (slot, m.name, kind))
            out.append(c_member("void", cname, ["%s *This" % iface.name]))
            continue
        if m.doc:
            out.append(doc_comment(m.doc, "    ", "/*"))
        if cname != m.name:
            shown = ", ".join(re.sub(r"^_\w+_\s+", "", re.sub(r"\s*\b\w+\s*(\[[^\]]*\])?$", "", p.decl))
                              for p in m.params)
            out.append(doc_comment("slot %d: C++ %s(%s)%s" % (slot, m.name, shown, " const" if m.const else ""),
                                   "    ", "/*"))
        params = ["%s *This" % iface.name] + [p.decl for p in m.params]
        out.append(c_member(m.ret, cname, params))
    out.append("} %sVtbl;\n\n" % iface.name)
    out.append("struct %s {\n    const struct %sVtbl *lpVtbl;\n};\n" % (iface.name, iface.name))
    return "".join(out)


def gen_header(spec, target):
    if not target.legacy:
        return gen_header_generic(spec, target)
    names = [i.name for i in spec.ifaces]
    o = [OVERVIEW % {"cmd": COMMAND}, PRELUDE, "\n"]
    o.append("#ifdef __cplusplus\nextern \"C++\" {\n#endif\n\n")
    o.append(spec.verbatim["constants"] + "\n\n")
    o.append("/* ------------------------------------------------------------------------ */\n")
    o.append("/* Forward declarations                                                     */\n")
    o.append("/* ------------------------------------------------------------------------ */\n\n")
    o.append("/* Types the API only points to; other headers may define them. */\n")
    o.append("#ifdef __cplusplus\n")
    o.extend("class %s;\n" % n for n in spec.opaque)
    o.extend("class %s;\n" % n for n in names)
    o.append("#else\n")
    o.extend("typedef struct %s %s;\n" % (n, n) for n in spec.opaque)
    o.extend("typedef struct %s %s;\n" % (n, n) for n in names)
    o.append("#endif\n\n")
    o.append(spec.verbatim["typedefs"] + "\n\n")
    o.append("/* ------------------------------------------------------------------------ */\n")
    o.append("/* Interface identifiers (file-local constants: no symbols are created)    */\n")
    o.append("/* ------------------------------------------------------------------------ */\n\n")
    for i in spec.ifaces:
        if i.uuid:
            o.append("static const GUID IID_%s = %s;\n" % (i.name, guid_initializer(i.uuid)))
    o.append("\n#ifdef __cplusplus\n\n")
    o.append("/* ------------------------------------------------------------------------ */\n")
    o.append("/* C++ binding                                                              */\n")
    o.append("/* ------------------------------------------------------------------------ */\n\n")
    o.append("#if defined(__GNUC__)\n#pragma GCC diagnostic push\n")
    o.append("/* Derived interfaces add overloads that hide the base ones, as in the SDK. */\n")
    o.append('#pragma GCC diagnostic ignored "-Woverloaded-virtual"\n#endif\n\n')
    for i in spec.ifaces:
        o.append(gen_cxx_class(i) + "\n")
    o.append("#if defined(__GNUC__)\n#pragma GCC diagnostic pop\n")
    o.append("/* IHttpModuleFactory and CGlobalModule have no virtual destructor, yet IIS modules\n"
             "   free them with `delete this` in Terminate(), by design of the API: this warning\n"
             "   would only reject unchanged IIS module source under -Wall -Werror. */\n")
    o.append('#pragma GCC diagnostic ignored "-Wdelete-non-virtual-dtor"\n#endif\n\n')
    uuidofs = []
    for i in spec.ifaces:
        if i.uuid:
            g = guid_initializer(i.uuid)[1:-1].replace("{", "").replace("}", "")
            uuidofs.append("IISD_DECLARE_UUIDOF(%s, %s);" % (i.name, g))
    o.append(CXX_TAIL % {"uuidofs": "\n".join(uuidofs)})
    o.append("\n#else /* !__cplusplus */\n\n")
    o.append("/* ------------------------------------------------------------------------ */\n")
    o.append("/* C binding                                                                */\n")
    o.append("/* ------------------------------------------------------------------------ */\n\n")
    o.append("/* Laid out by the generator: clang-format wraps function-pointer members badly. */\n")
    o.append("/* clang-format off */\n\n")
    for i in spec.ifaces:
        o.append(gen_c_struct(i) + "\n")
    o.append("/* clang-format on */\n\n")
    o.append(C_TAIL)
    o.append("\n#endif /* __cplusplus */\n\n")
    o.append("#ifdef __cplusplus\n} /* extern \"C++\" */\n#endif\n\n")
    o.append("#endif /* IISD_HTTPSERV_H */\n")
    return "".join(o)


def gen_cobjmacros(iface):
    """C call macros (under COBJMACROS): X_Method(This, args...)."""
    out = []
    for slot, m, cname in slots(iface):
        args = ", ".join(["This"] + [p.name for p in m.params])
        out.append("#define %s_%s(%s) ((This)->lpVtbl->%s(%s))\n" % (iface.name, cname, args, cname, args))
    return "".join(out)


def gen_header_generic(spec, target):
    """A header whose overview, prelude and tails come from the spec's %verbatim blocks.

    Layout: overview, include guard, "prelude", extern "C++" {, "constants",
    forward declarations, "typedefs", IIDs, then the C++ binding ("cxx_head",
    classes, __uuidof specialisations, "cxx_tail") or the C binding (vtable
    structs, COBJMACROS call macros if the spec has "option cobjmacros",
    "c_tail"), then "tail" (both languages), } and the guard's #endif.
    """
    v = spec.verbatim
    guard = "IISD_%s" % re.sub(r"\W", "_", os.path.basename(target.outputs["header"])).upper()
    names = [i.name for i in spec.ifaces]
    o = [v["overview"].replace("@COMMAND@", COMMAND).replace("@SPEC@", target.spec_rel) + "\n"]
    o.append("#ifndef %s\n#define %s\n\n" % (guard, guard))
    if v.get("prelude"):
        o.append(v["prelude"] + "\n\n")
    o.append("#ifdef __cplusplus\nextern \"C++\" {\n#endif\n\n")
    if v.get("constants"):
        o.append(v["constants"] + "\n\n")
    o.append("/* ------------------------------------------------------------------------ */\n")
    o.append("/* Forward declarations                                                     */\n")
    o.append("/* ------------------------------------------------------------------------ */\n\n")
    o.append("#ifdef __cplusplus\n")
    o.extend("class %s;\n" % n for n in spec.opaque)
    o.extend("class %s;\n" % n for n in names)
    o.append("#else\n")
    o.extend("typedef struct %s %s;\n" % (n, n) for n in spec.opaque)
    o.extend("typedef struct %s %s;\n" % (n, n) for n in names)
    o.append("#endif\n\n")
    if v.get("typedefs"):
        o.append(v["typedefs"] + "\n\n")
    o.append("/* ------------------------------------------------------------------------ */\n")
    o.append("/* Interface identifiers (file-local constants: no symbols are created)    */\n")
    o.append("/* ------------------------------------------------------------------------ */\n\n")
    for i in spec.ifaces:
        o.append("static const GUID IID_%s = %s;\n" % (i.name, guid_initializer(i.uuid)))
    o.append("\n#ifdef __cplusplus\n\n")
    o.append("/* ------------------------------------------------------------------------ */\n")
    o.append("/* C++ binding                                                              */\n")
    o.append("/* ------------------------------------------------------------------------ */\n\n")
    if v.get("cxx_head"):
        o.append(v["cxx_head"] + "\n\n")
    for i in spec.ifaces:
        o.append(gen_cxx_class(i) + "\n")
    o.append("/* __uuidof(T) for the interfaces above. */\n")
    for i in spec.ifaces:
        g = guid_initializer(i.uuid)[1:-1].replace("{", "").replace("}", "")
        o.append("IISD_DECLARE_UUIDOF(%s, %s);\n" % (i.name, g))
    o.append("\n")
    if v.get("cxx_tail"):
        o.append(v["cxx_tail"] + "\n")
    o.append("\n#else /* !__cplusplus */\n\n")
    o.append("/* ------------------------------------------------------------------------ */\n")
    o.append("/* C binding                                                                */\n")
    o.append("/* ------------------------------------------------------------------------ */\n\n")
    o.append("/* Laid out by the generator: clang-format wraps function-pointer members badly. */\n")
    o.append("/* clang-format off */\n\n")
    for i in spec.ifaces:
        o.append(gen_c_struct(i) + "\n")
    if "cobjmacros" in spec.options:
        o.append("/* With COBJMACROS defined, X_Method(p, args...) calls p->lpVtbl->Method(p, args...). */\n")
        o.append("#ifdef COBJMACROS\n")
        for i in spec.ifaces:
            o.append(gen_cobjmacros(i))
        o.append("#endif /* COBJMACROS */\n\n")
    o.append("/* clang-format on */\n")
    if v.get("c_tail"):
        o.append("\n" + v["c_tail"] + "\n")
    o.append("\n#endif /* __cplusplus */\n\n")
    if v.get("tail"):
        o.append(v["tail"] + "\n\n")
    o.append("#ifdef __cplusplus\n} /* extern \"C++\" */\n#endif\n\n")
    o.append("#endif /* %s */\n" % guard)
    return "".join(o)


# --------------------------------------------------------------------------
# Slot tests
# --------------------------------------------------------------------------

TEST_BANNER = """\
/*
 * GENERATED FILE - DO NOT EDIT. Generated by %s from %s.
 * %s
 */
"""


DTOR_PROBE = (
    "/* Checks the two CHttpModule destructor slots by calling them. */\n"
    "namespace {\nint g_dtor_runs;\nint g_deletes;\n"
    "class DtorProbe : public CHttpModule\n{\n  public:\n"
    "    ~DtorProbe() { g_dtor_runs++; }\n"
    "    static void operator delete(void *p)\n    {\n        g_deletes++;\n        ::operator delete(p);\n    }\n"
    "};\n\n"
    "typedef void (*DtorFn)(void *);\n\n"
    "DtorFn vtable_entry(void *obj, int slot)\n{\n    void **vtbl;\n    DtorFn fn;\n"
    "    std::memcpy(&vtbl, obj, sizeof vtbl);\n    std::memcpy(&fn, &vtbl[slot], sizeof fn);\n    return fn;\n}\n"
    "} // namespace\n\n"
)


def gen_slots_cxx(spec, target):
    o = [TEST_BANNER % (COMMAND, target.spec_rel, "Prints \"<class> <slot> <C name> <C++ name>\" for every virtual method, with the slot "
                        "computed by the compiler (Itanium pointer-to-member: ptr = 1 + byte offset in the vtable).")]
    o.append("".join("#include <%s>\n" % h for h in target.includes))
    o.append("\n#include <cstddef>\n#include <cstdio>\n#include <cstring>\n\n")
    o.append('#pragma GCC diagnostic ignored "-Wdeprecated-declarations"\n\n')
    o.append("template <class P> static long slot_of(P pmf)\n{\n")
    o.append("    struct {\n        std::ptrdiff_t ptr;\n        std::ptrdiff_t adj;\n    } rep;\n")
    o.append('    static_assert(sizeof(pmf) == sizeof(rep), "Itanium pointer to member function");\n')
    o.append("    std::memcpy(&rep, &pmf, sizeof rep);\n")
    o.append("    if ((rep.ptr & 1) == 0 || rep.adj != 0) {\n        return -1;\n    }\n")
    o.append("    return (long)((rep.ptr - 1) / (std::ptrdiff_t)sizeof(void *));\n}\n\n")
    o.append("static void emit(const char *cls, long slot, const char *cname, const char *cxxname)\n{\n")
    o.append('    std::printf("%s %ld %s %s\\n", cls, slot, cname, cxxname);\n}\n\n')
    if any(m.is_dtor for i in spec.ifaces for m in i.own):
        o.append(DTOR_PROBE)
    o.append("int main()\n{\n")
    for i in spec.ifaces:
        o.append('    static_assert(sizeof(%s) == sizeof(void *), "%s is a single vptr");\n' % (i.name, i.name))
    o.append("\n")
    for i in spec.ifaces:
        for slot, m, cname in slots(i):
            if m.is_dtor:
                continue
            params = ", ".join(p.decl for p in m.params)
            decl = join_ret(m.ret, "(%s::*pmf)(%s)%s" % (i.name, params, " const" if m.const else ""))
            o.append("    {\n        %s = &%s::%s;\n" % (decl, m.owner, m.name))
            o.append('        emit("%s", slot_of(pmf), "%s", "%s");\n    }\n' % (i.name, cname, m.name))
    for i in spec.ifaces:
        for slot, m, cname in slots(i):
            if not m.is_dtor:
                continue
            d1, d0 = m.c_names
            if cname != d1:
                continue
            o.append("    {\n")
            o.append("        /* Slot %d must destroy without freeing, slot %d destroy and free. */\n" % (slot, slot + 1))
            o.append("        DtorProbe *a = new DtorProbe;\n        vtable_entry(a, %d)(a);\n" % slot)
            o.append("        bool d1_ok = g_dtor_runs == 1 && g_deletes == 0;\n        ::operator delete(a);\n")
            o.append("        DtorProbe *b = new DtorProbe;\n        vtable_entry(b, %d)(b);\n" % (slot + 1))
            o.append("        bool d0_ok = g_dtor_runs == 2 && g_deletes == 1;\n")
            o.append('        emit("%s", d1_ok ? %d : -1, "%s", "%s");\n' % (i.name, slot, d1, m.name))
            o.append('        emit("%s", d0_ok ? %d : -1, "%s", "%s");\n' % (i.name, slot + 1, d0, m.name))
            o.append("    }\n")
    o.append("    return 0;\n}\n")
    return "".join(o)


def gen_slots_c(spec, target):
    o = [TEST_BANNER % (COMMAND, target.spec_rel, "Prints \"<struct> <slot> <member>\" for every member of every C vtable struct, and "
                        "\"<struct> #total <n>\" with sizeof(Vtbl) in pointers.")]
    o.append("".join("#include <%s>\n" % h for h in target.includes))
    o.append("\n#include <stddef.h>\n#include <stdio.h>\n\n")
    o.append("#define SLOT(s, m) printf(\"%s %zu %s\\n\", #s, offsetof(s##Vtbl, m) / sizeof(void *), #m)\n")
    o.append("#define TOTAL(s) printf(\"%s #total %zu\\n\", #s, sizeof(s##Vtbl) / sizeof(void *))\n\n")
    for i in spec.ifaces:
        o.append('_Static_assert(sizeof(%s) == sizeof(void *), "%s is a single vtable pointer");\n' % (i.name, i.name))
    o.append("\nint main(void)\n{\n")
    for i in spec.ifaces:
        for slot, m, cname in slots(i):
            o.append("    SLOT(%s, %s);\n" % (i.name, cname))
        o.append("    TOTAL(%s);\n" % i.name)
    o.append("    return 0;\n}\n")
    return "".join(o)


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------


def clang_format(path):
    exe = shutil.which("clang-format")
    if exe is None:
        sys.stderr.write("gen_httpserv: clang-format not found; output left unformatted\n")
        return
    # clang-format 14 is not idempotent on some long declarations: repeat until stable.
    for _ in range(5):
        with open(path, encoding="utf-8") as f:
            before = f.read()
        subprocess.run([exe, "-i", "--style=file:" + os.path.join(ROOT, ".clang-format"), path], check=True)
        with open(path, encoding="utf-8") as f:
            if f.read() == before:
                return
    sys.stderr.write("gen_httpserv: clang-format output of %s does not converge\n" % path)


def generate(dest_root, targets):
    for target in targets:
        spec = parse_spec(target.spec)
        texts = {
            "header": gen_header(spec, target),
            "slots_cxx": gen_slots_cxx(spec, target),
            "slots_c": gen_slots_c(spec, target),
        }
        for key, rel in target.outputs.items():
            path = os.path.join(dest_root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(texts[key])
            clang_format(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="only report whether the outputs are up to date")
    args = ap.parse_args()
    targets = TARGETS
    try:
        if not args.check:
            generate(ROOT, targets)
            return 0
        with tempfile.TemporaryDirectory() as tmp:
            generate(tmp, targets)
            stale = []
            for rel in [r for t in targets for r in t.outputs.values()]:
                with open(os.path.join(tmp, rel), encoding="utf-8") as a:
                    want = a.read()
                try:
                    with open(os.path.join(ROOT, rel), encoding="utf-8") as b:
                        have = b.read()
                except FileNotFoundError:
                    have = None
                if want != have:
                    stale.append(rel)
            for rel in stale:
                sys.stderr.write("gen_httpserv: %s is out of date; run %s\n" % (rel, COMMAND))
            return 1 if stale else 0
    except SpecError as e:
        sys.stderr.write("gen_httpserv: %s\n" % e)
        return 2


if __name__ == "__main__":
    sys.exit(main())
