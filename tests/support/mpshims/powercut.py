# MicroPython code. Imported first, it cuts the power just before the Nth
# change that what runs after it makes to the filesystem through os
# (rename, remove, mkdir, rmdir), N from the environment variable
# POWERCUT: the process gets SIGKILL, so no finally clause runs and
# nothing more is written.
import os as _os

import swap

_left = [int(_os.getenv("POWERCUT"))]


def _cut():
    _left[0] -= 1
    if not _left[0]:
        _os.system("kill -9 $PPID")  # (the shell's parent: this process)


class _Os:
    def __getattr__(self, name):
        return getattr(_os, name)

    def rename(self, a, b):
        _cut()
        _os.rename(a, b)

    def remove(self, p):
        _cut()
        _os.remove(p)

    def mkdir(self, p):
        _cut()
        _os.mkdir(p)

    def rmdir(self, p):
        _cut()
        _os.rmdir(p)


swap.SWAPPED["os"] = _Os()
