# MicroPython code: the REPL of a board, for the unix port behind a
# pseudo-terminal (tests/support/ptyboard.py), so that mpremote's serial
# transport talks to it as to a board over USB. As MicroPython's pyexec.c:
# the friendly REPL (a banner, ">>> ", lines run as typed), Ctrl-A to the raw
# REPL ("raw REPL; CTRL-B to exit\r\n>", code until Ctrl-D, "OK", output,
# "\x04", error, "\x04", ">"), raw-paste mode ("\x05A\x01": "R\x01", a
# window of 128 bytes, "\x01" for each next window, "\x04" when Ctrl-D ends
# the code), Ctrl-B back, Ctrl-C to cancel or interrupt (a byte while the
# REPL reads; while code runs, the terminal turns it into SIGINT, so that it
# interrupts the code as on a board), and Ctrl-D alone for a soft reset ("MPY: soft reboot", the globals gone, main.py run
# again in the friendly REPL). Set by the environment:
#   PTYBOARD_LOG     a file to append "exec N" (N bytes of code) and "reset" to
#   PTYBOARD_MAIN    a main.py, run at start and after a soft reset
#   PTYBOARD_FLASH   N: a littlefs of N 512-byte blocks in RAM at /flash, and
#                    /flash/lib first on sys.path (as a board's /lib)
#   PTYBOARD_RO      1: that littlefs mounted read-only
#   PTYBOARD_HIDE    module names that import as on firmware without them
#   POWERCUT         N: the power cut at the Nth filesystem change (powercut.py)
#   PTYBOARD_ISIG    the terminal's ISIG flag (Ctrl-C as SIGINT while code runs)
import os
import sys
import termios

_in = sys.stdin.buffer
_out = sys.stdout.buffer
_log = os.getenv("PTYBOARD_LOG")
_main = os.getenv("PTYBOARD_MAIN")
BANNER = (b"MicroPython v1.29.0 on 2026-01-01; pty board (the unix port) with x64\r\n"
          b'Type "help()" for more information.\r\n')
WINDOW = 128
_ISIG = int(os.getenv("PTYBOARD_ISIG") or 0)


def isig(on):
    # Ctrl-C is SIGINT (on) or a byte (off)
    if _ISIG:
        a = termios.tcgetattr(0)
        a[3] = (a[3] | _ISIG) if on else (a[3] & ~_ISIG)
        termios.tcsetattr(0, termios.TCSANOW, a)


def log(text):
    if _log:
        with open(_log, "a") as f:
            f.write(text + "\n")


class RAM:
    # a block device in RAM, for vfs.VfsLfs2
    def __init__(self, blocks):
        self.data = bytearray(blocks * 512)

    def readblocks(self, n, buf, off=0):
        a = n * 512 + off
        buf[:] = self.data[a:a + len(buf)]

    def writeblocks(self, n, buf, off=0):
        a = n * 512 + off
        self.data[a:a + len(buf)] = buf

    def ioctl(self, op, arg):
        if op == 4:
            return len(self.data) // 512
        if op == 5:
            return 512
        return 0


def setup():
    if os.getenv("PTYBOARD_HIDE") or os.getenv("POWERCUT"):
        import swap

        swap.HIDDEN.update(os.getenv("PTYBOARD_HIDE", "").split())
        if os.getenv("POWERCUT"):
            import powercut  # noqa: F401
    blocks = os.getenv("PTYBOARD_FLASH")
    if blocks:
        import vfs

        dev = RAM(int(blocks))
        vfs.VfsLfs2.mkfs(dev)
        vfs.mount(vfs.VfsLfs2(dev), "/flash")
        os.mkdir("/flash/lib")
        if os.getenv("PTYBOARD_RO"):
            vfs.umount("/flash")
            vfs.mount(vfs.VfsLfs2(dev), "/flash", readonly=True)
        sys.path.insert(2, "/flash/lib")
    sys.path[0] = ""  # (not this shim's folder: a board's first entry is "")


def read():
    # the next byte from the PC; Ctrl-C comes as SIGINT, so as KeyboardInterrupt
    try:
        c = _in.read(1)
    except KeyboardInterrupt:
        return 3
    if not c:
        raise SystemExit(0)
    return c[0]


def execute(code, glob, eof):
    # run code; eof: as the raw REPL, output "\x04" error "\x04"
    try:
        isig(True)
        exec(code, glob)
        isig(False)
    except BaseException as e:  # (KeyboardInterrupt too: it is the code's)
        isig(False)
        if eof:
            _out.write(b"\x04")
        sys.print_exception(e, sys.stdout)
        if eof:
            _out.write(b"\x04")
        return
    if eof:
        _out.write(b"\x04\x04")


def paste(glob):
    # raw-paste mode: the code in windows of WINDOW bytes, then run
    _out.write(b"R\x01" + bytes([WINDOW & 0xFF, WINDOW >> 8]))
    code = bytearray()
    left = WINDOW
    while True:
        c = read()
        if c == 4 or c == 3:
            _out.write(b"\x04")
            if c == 3:
                _out.write(b"\x04Traceback (most recent call last):\r\nKeyboardInterrupt: \r\n\x04")
                return
            break
        code.append(c)
        left -= 1
        if not left:
            _out.write(b"\x01")
            left = WINDOW
    log(f"exec {len(code)}")
    execute(code.decode(), glob, True)


def raw(glob):
    # the raw REPL -> "friendly" (Ctrl-B) or "reset" (Ctrl-D alone)
    _out.write(b"raw REPL; CTRL-B to exit\r\n")
    while True:
        _out.write(b">")
        code = bytearray()
        while True:
            c = read()
            if c == 1:
                if code == b"\x05A":
                    paste(glob)
                    break
                _out.write(b"raw REPL; CTRL-B to exit\r\n")
                break
            if c == 2:
                _out.write(b"\r\n")
                return "friendly"
            if c == 3:
                code = bytearray()
            elif c == 4:
                _out.write(b"OK")
                if not code:
                    _out.write(b"\r\n")
                    return "reset"
                log(f"exec {len(code)}")
                execute(code.decode(), glob, True)
                break
            else:
                code.append(c)


def friendly(glob):
    # the friendly REPL -> "raw" (Ctrl-A) or "reset" (Ctrl-D on an empty line)
    _out.write(BANNER)
    while True:
        _out.write(b">>> ")
        line = bytearray()
        while True:
            c = read()
            if c == 1:
                _out.write(b"\r\n")
                return "raw"
            if c == 2:
                _out.write(b"\r\n" + BANNER)
                break
            if c == 3:
                _out.write(b"\r\n")
                break
            if c == 4 and not line:
                _out.write(b"\r\n")
                return "reset"
            if c == 13 or c == 10:
                _out.write(b"\r\n")
                if line.strip():
                    execute(line.decode(), glob, False)
                break
            if c >= 32:
                line.append(c)
                _out.write(bytes([c]))


def boot(glob):
    if _main:
        try:
            with open(_main) as f:
                code = f.read()
        except OSError:
            return
        execute(code, glob, False)


def main():
    setup()
    mode = "friendly"
    glob = {"__name__": "__main__"}
    boot(glob)
    while True:
        try:
            then = raw(glob) if mode == "raw" else friendly(glob)
        except KeyboardInterrupt:  # (between two reads)
            _out.write(b"\r\n")
            continue
        if then != "reset":
            mode = then
            continue
        log("reset")
        _out.write(b"MPY: soft reboot\r\n")
        glob = {"__name__": "__main__"}
        if mode == "friendly":  # (the raw REPL runs no main.py)
            boot(glob)

main()
