"""What a record class costs when it is made (at every import), by kind.

    python benchmarks/bench_records.py [--repeat N]

The same five-field class made each way, many times over; the table has
the median time to make one class, and to make one instance of it. This is
the measurement behind upip.fields' rule: NamedTuple for values,
upip.fields.Record for records that change, no ``@dataclass``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from upip.fields import Record
from upip.fields import field as record_field


def make_dataclass() -> type:
    @dataclass
    class A:
        a: int
        b: str
        c: int = 0
        d: str = ""
        e: list[str] = field(default_factory=list)
    return A


def make_frozen() -> type:
    @dataclass(frozen=True)
    class A:
        a: int
        b: str
        c: int = 0
        d: str = ""
        e: tuple[str, ...] = ()
    return A


def make_namedtuple() -> type:
    class A(NamedTuple):
        a: int
        b: str
        c: int = 0
        d: str = ""
        e: tuple[str, ...] = ()
    return A


def make_record() -> type:
    class A(Record):
        a: int
        b: str
        c: int = 0
        d: str = ""
        e: list[str] = record_field(default_factory=list)
    return A


KINDS: dict[str, Callable[[], type]] = {
    "@dataclass": make_dataclass,
    "@dataclass(frozen=True)": make_frozen,
    "NamedTuple": make_namedtuple,
    "upip.fields.Record": make_record,
}


def per_call(fn: Callable[[], Any], n: int, repeat: int) -> float:
    """Median seconds of one call of ``fn`` over ``repeat`` rounds of ``n``."""
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        rounds.append((time.perf_counter() - start) / n)
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from rich.console import Console
    from rich.table import Table

    table = Table(title="A five-field record class: the cost of making it, and an instance")
    for col in ("kind", "class (ms)", "vs Record", "instance, 2 of 5 fields (µs)",
                "instance, all 5 (µs)"):
        table.add_column(col, justify="right")
    figures = {}
    for kind, make in KINDS.items():
        cls = make()
        five = (1, "x", 2, "y", []) if kind != "NamedTuple" and "frozen" not in kind else (
            1, "x", 2, "y", ())
        figures[kind] = (per_call(make, 200, args.repeat),
                         per_call(lambda c=cls: c(1, "x"), 20000, args.repeat),
                         per_call(lambda c=cls, f=five: c(*f), 20000, args.repeat))
    base = figures["upip.fields.Record"][0]
    for kind, (klass, some, every) in figures.items():
        table.add_row(kind, f"{klass * 1000:.3f}", f"{klass / base:.0f}x",
                      f"{some * 1e6:.2f}", f"{every * 1e6:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
