"""The base of upip's small mutable records: plain classes with ``__slots__``.

``@dataclass`` writes each class's methods as source and execs it, about
0.5 ms a class at import; the records on the path of ``upip install`` made
that 7 ms of every start. A record here lists its fields in ``__slots__`` and
writes its ``__init__`` by hand; equality and repr come from :class:`Slotted`,
as ``@dataclass`` made them: field by field, only against the same class, and
no hash (a mutable record is not a dict key).
"""

from __future__ import annotations


class Slotted:
    __slots__: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        names = self.__slots__
        return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)

    __hash__ = None  # type: ignore[assignment]  # as @dataclass(eq=True): unhashable

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{self.__class__.__qualname__}({fields})"
