#!/bin/sh
# tests/abi/run.sh - build and run the ABI tests of the module headers in
# include/ (windows.h, sal.h, http.h, httptrace.h, httpserv.h, and the COM
# headers iisd_com.h, ahadmin.h, comdef.h, atlbase.h, ...).
#
# Usage: sh tests/abi/run.sh          (from any directory)
# Environment: CC (default gcc), CXX (default g++), ABI_BUILD_DIR (build
# directory; default $BUILD/abi when BUILD is set, as `make abi` does, else
# build/abi under the repository root).
#
# Only gcc/g++ and binutils' nm are required. Two extra checks run when the
# tools exist and are reported as skipped otherwise: the generated files are
# up to date (python3 + clang-format) and the sources are clang-formatted.
#
# Prints "ok - NAME" / "not ok - NAME" per check and finally exactly
# "N passed, M failed"; exits non-zero if anything failed.

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T="$ROOT/tests/abi"
if [ -n "${ABI_BUILD_DIR:-}" ]; then
    B=$ABI_BUILD_DIR
elif [ -n "${BUILD:-}" ]; then
    B="$BUILD/abi"
else
    B="$ROOT/build/abi"
fi
CC=${CC:-gcc}
CXX=${CXX:-g++}
INC="-I$ROOT/include"
WARN="-Wall -Wextra -Werror"

mkdir -p "$B" || exit 1

pass=0
fail=0

# run NAME COMMAND...: runs the command with its output in $B/NAME.log.
run() {
    name=$1
    shift
    log="$B/$name.log"
    if "$@" >"$log" 2>&1; then
        pass=$((pass + 1))
        echo "ok - $name"
    else
        fail=$((fail + 1))
        echo "not ok - $name"
        sed -n '1,40s/^/#   /p' "$log"
    fi
}

skip() {
    echo "# skip - $1: $2"
}

# --- 1. Every header compiles on its own, as C and as C++ -----------------

for h in sal.h windows.h winerror.h basetsd.h guiddef.h http.h httptrace.h httpserv.h iisd_com.h unknwn.h \
    wtypes.h oaidl.h oleauto.h objbase.h ole2.h ahadmin.h strsafe.h iisd_crt.h; do
    base=$(echo "$h" | tr . _)
    printf '#include <%s>\ntypedef int alone_not_empty;\n' "$h" >"$B/alone_$base.c"
    printf '#include <%s>\n' "$h" >"$B/alone_$base.cpp"
    run "alone-gnu11-$h" $CC -std=gnu11 $WARN -pedantic-errors $INC -c "$B/alone_$base.c" -o "$B/alone_$base.c.o"
    run "alone-c++11-$h" $CXX -std=c++11 $WARN -pedantic-errors $INC -c "$B/alone_$base.cpp" -o "$B/alone_$base.o"
    run "alone-gnu++17-$h" $CXX -std=gnu++17 $WARN $INC -c "$B/alone_$base.cpp" -o "$B/alone_$base.o"
done
# C++-only headers (comdef.h & co.); in C they must stop with #error.
for h in comdef.h comutil.h comip.h atlbase.h; do
    base=$(echo "$h" | tr . _)
    printf '#include <%s>\n' "$h" >"$B/alone_$base.cpp"
    run "alone-c++11-$h" $CXX -std=c++11 $WARN -pedantic-errors $INC -c "$B/alone_$base.cpp" -o "$B/alone_$base.o"
    run "alone-gnu++17-$h" $CXX -std=gnu++17 $WARN $INC -c "$B/alone_$base.cpp" -o "$B/alone_$base.o"
    run "alone-no-exceptions-$h" $CXX -std=c++11 $WARN -fno-exceptions $INC -c "$B/alone_$base.cpp" -o "$B/alone_$base.o"
done
run "comdef.h-is-c++-only" sh -c "! $CC -std=gnu11 $INC -fsyntax-only -x c '$B/alone_comdef_h.cpp' 2>/dev/null"
run "alone-strict-c11-ahadmin.h" $CC -std=c11 $WARN -pedantic-errors $INC -c "$B/alone_ahadmin_h.c" \
    -o "$B/alone_strict_ahadmin.o"

# The COM headers and httpserv.h in every order, as C and C++ (shared forward
# declarations, identical IISD_DECLARE_UUIDOF/IISD_INLINE_HIDDEN definitions).
for order in "httpserv.h ahadmin.h comdef.h" "ahadmin.h httpserv.h comdef.h" "comdef.h httpserv.h ahadmin.h" \
    "oaidl.h httpserv.h atlbase.h ahadmin.h" "atlbase.h comdef.h ahadmin.h httpserv.h"; do
    oname=$(echo "$order" | tr ' ' '+')
    : >"$B/order_$oname.cpp"
    : >"$B/order_$oname.c"
    for h in $order; do
        echo "#include <$h>" >>"$B/order_$oname.cpp"
        case $h in comdef.h | atlbase.h) ;; *) echo "#include <$h>" >>"$B/order_$oname.c" ;; esac
    done
    echo 'IAppHostAdminManager *order_check(IHttpServer *s);' >>"$B/order_$oname.cpp"
    echo 'IAppHostAdminManager *order_check(IHttpServer *s) { return s->GetAdminManager(); }' >>"$B/order_$oname.cpp"
    echo 'IAppHostAdminManager *order_check(IHttpServer *s);' >>"$B/order_$oname.c"
    echo 'IAppHostAdminManager *order_check(IHttpServer *s) { return s->lpVtbl->GetAdminManager(s); }' \
        >>"$B/order_$oname.c"
    run "order-c++11-$oname" $CXX -std=c++11 $WARN -pedantic-errors $INC -c "$B/order_$oname.cpp" -o "$B/order.o"
    run "order-gnu11-$oname" $CC -std=gnu11 $WARN -pedantic-errors $INC -c "$B/order_$oname.c" -o "$B/order.o"
done

run "alone-strict-c11-httpserv.h" $CC -std=c11 $WARN -pedantic-errors $INC -c "$B/alone_httpserv_h.c" \
    -o "$B/alone_strict.o"
run "alone-no-short-sal-httpserv.h" $CXX -std=c++11 $WARN -DIISD_SAL_NO_SHORT_IN_OUT $INC -c \
    "$B/alone_httpserv_h.cpp" -o "$B/alone_nosal.o"

printf '#define IISD_NO_KEYWORD_MACROS\n#include <httpserv.h>\nint f(void);\nint f(void)\n{\n    int interface = 1, IN = 2;\n    return interface + IN;\n}\n' \
    >"$B/no_keyword_macros.c"
run "alone-no-keyword-macros-httpserv.h" $CC -std=gnu11 $WARN -pedantic-errors $INC -c "$B/no_keyword_macros.c" \
    -o "$B/no_keyword_macros.o"

# --- 2. Standard headers still work after the module headers --------------

run "std-headers-c" sh -c "$CC -std=gnu11 $WARN -pedantic-errors $INC '$T/std_headers.c' -o '$B/std_c' && '$B/std_c'"
run "std-headers-c++17" sh -c "$CXX -std=gnu++17 $WARN $INC '$T/std_headers.cpp' -o '$B/std_cxx' && '$B/std_cxx'"

# --- 3. Type widths, struct layouts and constants --------------------------

run "layout-gnu11" sh -c "$CC -std=gnu11 $WARN -pedantic-errors $INC '$T/layout.c' -o '$B/layout_c' && '$B/layout_c'"
run "layout-c++11" sh -c "$CXX -x c++ -std=c++11 $WARN $INC '$T/layout.c' -o '$B/layout_cxx11' && '$B/layout_cxx11'"
run "layout-gnu++17" sh -c "$CXX -x c++ -std=gnu++17 $WARN $INC '$T/layout.c' -o '$B/layout_cxx17' && '$B/layout_cxx17'"

# --- 3b. COM layouts: VARIANT, DECIMAL, SAFEARRAY, ..., IIDs ---------------

run "com-layout-gnu11" sh -c "$CC -std=gnu11 $WARN -pedantic-errors $INC '$T/com_layout.c' -o '$B/com_layout_c' && \
    '$B/com_layout_c'"
run "com-layout-c11" sh -c "$CC -std=c11 $WARN -pedantic-errors $INC '$T/com_layout.c' -o '$B/com_layout_c11' && \
    '$B/com_layout_c11'"
run "com-layout-c++11" sh -c "$CXX -x c++ -std=c++11 $WARN $INC '$T/com_layout.c' -o '$B/com_layout_cxx' && \
    '$B/com_layout_cxx'"
run "com-layout-gnu++17" sh -c "$CXX -x c++ -std=gnu++17 $WARN $INC '$T/com_layout.c' -o '$B/com_layout_cxx17' && \
    '$B/com_layout_cxx17'"

# --- 4. Vtable slots: C structs == C++ classes == fact sheet --------------

run "slots-build-c" $CC -std=gnu11 $WARN -pedantic-errors $INC "$T/slots_c.gen.c" -o "$B/slots_c"
run "slots-build-c++" $CXX -std=c++11 $WARN $INC "$T/slots_cxx.gen.cpp" -o "$B/slots_cxx"
if [ -x "$B/slots_c" ] && [ -x "$B/slots_cxx" ] && "$B/slots_c" >"$B/slots_c.txt" &&
    "$B/slots_cxx" >"$B/slots_cxx.txt"; then
    grep -v ' #total ' "$B/slots_c.txt" | sort >"$B/slots_c.sorted"
    awk '{ print $1, $2, $3 }' "$B/slots_cxx.txt" | sort >"$B/slots_cxx.c_names"
    # iisd's own extension interfaces (IIisd*) are not in the IIS fact sheet
    awk '$1 !~ /^IIisd/ { print $1, $2, $4 }' "$B/slots_cxx.txt" | sort >"$B/slots_cxx.cxx_names"
    sort "$T/expected_slots.txt" >"$B/slots_expected.sorted"
    awk '{ n[$1]++ } END { for (c in n) print c, "#total", n[c] }' "$T/expected_slots.txt" | sort \
        >"$B/slots_expected.totals"
    grep ' #total ' "$B/slots_c.txt" | grep -v '^IIisd' | sort >"$B/slots_c.totals"
    run "slots-c-equals-c++" diff "$B/slots_cxx.c_names" "$B/slots_c.sorted"
    run "slots-c++-equal-fact-sheet" diff "$B/slots_expected.sorted" "$B/slots_cxx.cxx_names"
    run "slots-vtbl-sizes-equal-fact-sheet" diff "$B/slots_expected.totals" "$B/slots_c.totals"
    echo "# $(wc -l <"$B/slots_expected.sorted") slots of $(wc -l <"$B/slots_c.totals") classes compared"
else
    run "slots-run" false
fi

# --- 4b. COM vtable slots: C == C++ == researched order -------------------
# iisd_com.h (IUnknown, IDispatch) and ahadmin.h (IAppHost*) against
# tests/abi/expected_slots_com.txt (comment lines start with #).

for g in com ahadmin; do
    run "slots-$g-build-c" $CC -std=gnu11 $WARN -pedantic-errors $INC "$T/slots_${g}_c.gen.c" -o "$B/slots_${g}_c"
    run "slots-$g-build-c++" $CXX -std=c++11 $WARN $INC "$T/slots_${g}_cxx.gen.cpp" -o "$B/slots_${g}_cxx"
done
if [ -x "$B/slots_com_c" ] && [ -x "$B/slots_ahadmin_c" ] && [ -x "$B/slots_com_cxx" ] &&
    [ -x "$B/slots_ahadmin_cxx" ] && "$B/slots_com_c" >"$B/slots_com_all_c.txt" &&
    "$B/slots_ahadmin_c" >>"$B/slots_com_all_c.txt" && "$B/slots_com_cxx" >"$B/slots_com_all_cxx.txt" &&
    "$B/slots_ahadmin_cxx" >>"$B/slots_com_all_cxx.txt"; then
    grep -v ' #total ' "$B/slots_com_all_c.txt" | sort >"$B/slots_com_c.sorted"
    awk '{ print $1, $2, $3 }' "$B/slots_com_all_cxx.txt" | sort >"$B/slots_com_cxx.c_names"
    awk '{ print $1, $2, $4 }' "$B/slots_com_all_cxx.txt" | sort >"$B/slots_com_cxx.cxx_names"
    grep -v '^#' "$T/expected_slots_com.txt" | sort >"$B/slots_com_expected.sorted"
    grep -v '^#' "$T/expected_slots_com.txt" | awk '{ n[$1]++ } END { for (c in n) print c, "#total", n[c] }' |
        sort >"$B/slots_com_expected.totals"
    grep ' #total ' "$B/slots_com_all_c.txt" | sort >"$B/slots_com_c.totals"
    run "slots-com-c-equals-c++" diff "$B/slots_com_cxx.c_names" "$B/slots_com_c.sorted"
    run "slots-com-c++-equal-research" diff "$B/slots_com_expected.sorted" "$B/slots_com_cxx.cxx_names"
    run "slots-com-vtbl-sizes-equal-research" diff "$B/slots_com_expected.totals" "$B/slots_com_c.totals"
    echo "# $(wc -l <"$B/slots_com_expected.sorted") COM slots of $(wc -l <"$B/slots_com_c.totals") interfaces compared"
else
    run "slots-com-run" false
fi

# --- 5. Win32 helper behaviour ------------------------------------------

run "winapi-helpers-gnu11" sh -c "$CC -std=gnu11 $WARN -pedantic-errors $INC '$T/winapi_helpers.c' \
    '$T/winapi_helpers2.c' -o '$B/helpers_c' -pthread && '$B/helpers_c'"
run "winapi-helpers-c++11" sh -c "$CXX -x c++ -std=c++11 $WARN $INC '$T/winapi_helpers.c' \
    '$T/winapi_helpers2.c' -o '$B/helpers_cxx' -pthread && '$B/helpers_cxx'"

# --- 5b. BSTR / VARIANT / SAFEARRAY helpers and the comdef.h classes -----

run "com-helpers-gnu11" sh -c "$CC -std=gnu11 $WARN -pedantic-errors $INC '$T/com_helpers.c' -o '$B/com_helpers_c' && \
    '$B/com_helpers_c'"
run "com-helpers-c++11" sh -c "$CXX -x c++ -std=c++11 $WARN $INC '$T/com_helpers.c' -o '$B/com_helpers_cxx' && \
    '$B/com_helpers_cxx'"
run "comdef-c++11" sh -c "$CXX -std=c++11 $WARN -pedantic-errors $INC '$T/comdef_test.cpp' -o '$B/comdef_cxx11' && \
    '$B/comdef_cxx11'"
run "comdef-gnu++17" sh -c "$CXX -std=gnu++17 $WARN $INC '$T/comdef_test.cpp' -o '$B/comdef_cxx17' && \
    '$B/comdef_cxx17'"

# --- 6. Modules: build, exported and imported symbols ---------------------

# check_exports SO: RegisterModule is exported unmangled; no header helper is.
check_exports() {
    syms=$(nm -D --defined-only "$1") || return 1
    echo "$syms"
    echo "$syms" | awk '$2 == "T" && $3 == "RegisterModule" { found = 1 } END { exit !found }' || {
        echo "RegisterModule is not exported as an unmangled function"
        return 1
    }
    if echo "$syms" | grep -E 'OutputDebugString|DebugBreak|LastError|Interlocked|CriticalSection|SRWLock|EventSource|ReportEvent|StringFromGUID|StringC[cb]|_s$|iisd__|Iisd|IID_|GUID_IIS|_ZN11CHttpModule|_ZN13CGlobalModule|HttpGetExtendedInterface'; then
        echo "a header helper is exported (above)"
        return 1
    fi
}

# check_imports SO: only libc/libstdc++/libgcc symbols (versioned) or weak ones.
check_imports() {
    syms=$(nm -D --undefined-only --with-symbol-versions "$1") || return 1
    echo "$syms"
    bad=$(echo "$syms" | awk '$1 != "w" && $2 !~ /@(GLIBC_|GLIBCXX_|CXXABI_|GCC_)/')
    if [ -n "$bad" ]; then
        echo "unexpected undefined symbols:"
        echo "$bad"
        return 1
    fi
}

# The hello-world module is built exactly as the brief says: g++ -shared -fPIC -I include.
run "module-hello-build" $CXX -shared -fPIC $INC $WARN "$T/hello_module.cpp" -o "$B/hello_module.so"
run "module-hello-exports" check_exports "$B/hello_module.so"
run "module-hello-imports" check_imports "$B/hello_module.so"
run "module-ext-build" $CXX -std=c++11 -shared -fPIC -fvisibility=hidden $INC $WARN -pedantic-errors \
    "$T/ext_module.cpp" -o "$B/ext_module.so"
run "module-ext-exports" check_exports "$B/ext_module.so"
run "module-ext-imports" check_imports "$B/ext_module.so"
run "module-c-build" $CC -std=gnu11 -shared -fPIC $INC $WARN -pedantic-errors "$T/c_module.c" -o "$B/c_module.so"
run "module-c-exports" check_exports "$B/c_module.so"
run "module-c-imports" check_imports "$B/c_module.so"

# The AppHost configuration module: g++ -shared -fPIC -I include, as the brief
# for modules says, and with -fvisibility=hidden under -std=c++11 -pedantic.
# check_com_exports: none of the COM support code (comdef.h, atlbase.h,
# iisd_com.h helpers) appears among the exported symbols.
check_com_exports() {
    syms=$(nm -D --defined-only "$1" | c++filt) || return 1
    if echo "$syms" | grep -E '_bstr_t|_variant_t|_com_ptr_t|_com_error|_com_util|_com_issue|CComPtr|CComQIPtr|CComBSTR|IisdUuidOf|IisdCom|SysAlloc|SysFree|SysString|Variant|SafeArray|IID_'; then
        echo "COM support code is exported (above)"
        return 1
    fi
}
run "module-ahadmin-build" $CXX -shared -fPIC $INC $WARN "$T/ahadmin_module.cpp" -o "$B/ahadmin_module.so"
run "module-ahadmin-exports" check_exports "$B/ahadmin_module.so"
run "module-ahadmin-com-exports" check_com_exports "$B/ahadmin_module.so"
run "module-ahadmin-imports" check_imports "$B/ahadmin_module.so"
run "module-ahadmin-hidden-build" $CXX -std=c++11 -shared -fPIC -fvisibility=hidden $INC $WARN -pedantic-errors \
    "$T/ahadmin_module.cpp" -o "$B/ahadmin_module_hidden.so"
run "module-ahadmin-hidden-imports" check_imports "$B/ahadmin_module_hidden.so"

# The Windows compatibility test module (strsafe.h, secure CRT, locks, Event Log), as C++11
# -pedantic and with -fvisibility=hidden: no helper exported, nothing imported beyond libc.
run "module-wincompat-build" $CXX -std=c++11 -shared -fPIC $INC $WARN -pedantic-errors \
    "$ROOT/tests/modules/wincompat.cpp" -o "$B/wincompat_module.so"
run "module-wincompat-exports" check_exports "$B/wincompat_module.so"
run "module-wincompat-imports" check_imports "$B/wincompat_module.so"
run "module-wincompat-hidden-build" $CXX -std=gnu++17 -shared -fPIC -fvisibility=hidden $INC $WARN \
    "$ROOT/tests/modules/wincompat.cpp" -o "$B/wincompat_module_hidden.so"
run "module-wincompat-hidden-imports" check_imports "$B/wincompat_module_hidden.so"

# --- 7. C server <-> C++/C module calls through the vtables --------------

run "harness-build" $CC -std=gnu11 $WARN $INC "$T/xlang_harness.c" -o "$B/xlang_harness" -ldl
run "xlang-hello-module" "$B/xlang_harness" hello "$B/hello_module.so"
run "xlang-ext-module" "$B/xlang_harness" ext "$B/ext_module.so"
run "xlang-c-module" "$B/xlang_harness" c "$B/c_module.so"

# Configuration objects implemented in C, read by the C++ module.
run "ahadmin-test-module-build" $CXX -std=c++11 -shared -fPIC -fvisibility=hidden $INC $WARN \
    -DIISD_AHADMIN_TEST_EXPORT "$T/ahadmin_module.cpp" -o "$B/ahadmin_module_test.so"
run "ahadmin-harness-build" $CC -std=gnu11 $WARN -pedantic-errors $INC "$T/ahadmin_harness.c" -o "$B/ahadmin_harness" -ldl
run "xlang-ahadmin-module" "$B/ahadmin_harness" "$B/ahadmin_module_test.so"

# --- 8. Generated files and formatting (need python3 / clang-format) -----

if command -v python3 >/dev/null 2>&1 && command -v clang-format >/dev/null 2>&1; then
    run "generated-files-up-to-date" python3 "$ROOT/tools/gen_httpserv.py" --check
else
    skip "generated-files-up-to-date" "python3 or clang-format not installed"
fi
if command -v clang-format >/dev/null 2>&1; then
    run "clang-format-clean" sh -c "cd '$ROOT' && clang-format --style=file --dry-run -Werror include/*.h \
        tests/abi/*.c tests/abi/*.cpp"
else
    skip "clang-format-clean" "clang-format not installed"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
