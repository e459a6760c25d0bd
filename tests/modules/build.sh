#!/usr/bin/env bash
# Build every test module in tests/modules/ (or SRCDIR) into <outdir>/<basename>.so.
#
#   tests/modules/build.sh build/tests/modules
#   tests/modules/build.sh build/tests/conformance tests/conformance
#
# C++ modules (*.cpp): g++ -std=gnu++17 -shared -fPIC -Wall -Wextra -Werror -I include
# C modules   (*.c):   gcc -std=gnu11   -shared -fPIC -Wall -Wextra -Werror -I include
# (include = the repository's include/ directory). CXX/CC override the
# compilers; EXTRA_CFLAGS is appended to both command lines (e.g. sanitizers).
# Prints one line per module and exits non-zero if any module fails to build.
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 OUTDIR [SRCDIR]" >&2
    exit 2
fi

root=$(cd "$(dirname "$0")/../.." && pwd)
here=$(cd "${2:-$root/tests/modules}" && pwd) || exit 1
outdir=$1
mkdir -p "$outdir" || exit 1

CXX=${CXX:-g++}
CC=${CC:-gcc}
read -r -a extra <<< "${EXTRA_CFLAGS:-}"

failed=0
built=0
shopt -s nullglob
for src in "$here"/*.cpp "$here"/*.c; do
    name=$(basename "$src")
    base=${name%.*}
    out="$outdir/$base.so"
    case "$src" in
        *.cpp) cmd=("$CXX" -std=gnu++17 -shared -fPIC -Wall -Wextra -Werror -I "$root/include") ;;
        *.c) cmd=("$CC" -std=gnu11 -shared -fPIC -Wall -Wextra -Werror -I "$root/include") ;;
    esac
    if "${cmd[@]}" "${extra[@]}" -o "$out.tmp" "$src"; then
        mv -f "$out.tmp" "$out"
        echo "built  $out"
        built=$((built + 1))
    else
        rm -f "$out.tmp"
        echo "FAILED $name" >&2
        failed=$((failed + 1))
    fi
done

echo "$built module(s) built, $failed failed"
[ "$failed" -eq 0 ] && [ "$built" -gt 0 ]
