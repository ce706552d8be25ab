#!/bin/sh
# install.sh - `cmake --install` into a fresh prefix, then use the result as a
# user of libdangan would: build tests/packaging/hello_libdangan.c against the
# installed header and library with `pkg-config --cflags --libs dangan` and
# run it. Fails if a file is missing (programs, library, headers, dangan.pc,
# manual pages, bash completion), if the installed dangan.h needs a
# header that is not installed (dangan's internal ones are not), if the
# library exports more than dangan.h's API and the generated protobuf code,
# or if the program does not behave as documented.
#
#   install.sh CMAKE BUILD_DIR LIBDIR MANDIR DATADIR CC SOURCE_DIR [CFLAGS...]
#
# LIBDIR, MANDIR and DATADIR are CMAKE_INSTALL_LIBDIR, _MANDIR and _DATADIR;
# CFLAGS are added when compiling (the sanitizer flags of a sanitizer build).
set -eu
cmake=$1 build=$2 libdir=$3 mandir=$4 datadir=$5 cc=$6 src=$7
shift 7

fail() {
    echo "install.sh: $*" >&2
    exit 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" || {
    cat "$tmp/install.log" >&2
    fail "cmake --install failed"
}

for f in bin/dangan bin/dangand include/dangan/dangan.h include/dangan/dangan.pb-c.h \
    "$libdir/libdangan.so" "$libdir/pkgconfig/dangan.pc" "$mandir/man1/dangan.1" \
    "$mandir/man8/dangand.8" "$datadir/bash-completion/completions/dangan"; do
    [ -e "$prefix/$f" ] || fail "not installed: $f"
done

# Only the installed headers are on the include path: an #include of one of
# dangan's own headers (dg.h, alloc.h...) fails here.
export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
flags=$(pkg-config --cflags --libs dangan) || fail "pkg-config does not know dangan"
# shellcheck disable=SC2086 # flags are words
"$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror "$@" -o "$tmp/hello" \
    "$src/tests/packaging/hello_libdangan.c" $flags || fail "cannot build against the installed dangan.h"

exported=$(nm -D --defined-only "$prefix/$libdir/libdangan.so" | awk '{print $3}' |
    grep -v -E '^(dg_client_|dg_reply_|dangan__v1__)' || true)
[ -z "$exported" ] || fail "libdangan.so exports internal symbols: $(echo "$exported" | head -5)"

LD_LIBRARY_PATH="$prefix/$libdir" "$tmp/hello" >"$tmp/out" || {
    cat "$tmp/out" >&2
    fail "the program built against libdangan failed"
}
cat "$tmp/out"
version=$(sed -n 's/^libdangan //p' "$tmp/out")
[ "$version" = "$("$prefix/bin/dangan" --version | sed 's/^dangan //')" ] ||
    fail "libdangan says it is version \"$version\", dangan says otherwise"
