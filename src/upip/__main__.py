"""``python -m upip``: the same as the ``upip`` command."""

from upip.cli import run

raise SystemExit(run())
