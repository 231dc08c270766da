"""upip's record types, and why there are two and no ``@dataclass``.

* A value that never changes once made (a candidate, a parsed spec, an .mpy
  header; anything used as a dict key) is a ``typing.NamedTuple``.
* A record that is filled in or changed after it is made (options, reports,
  a distribution read from an archive) is a :class:`Record`: its fields are
  its annotations, in order, with their defaults, declared once;
  ``__init__`` (positional or by name), ``==`` and ``repr`` come from the
  base, field by field, as ``@dataclass`` makes them, and it has no hash. A
  default made new for each record is ``field(default_factory=list)``, as
  with dataclasses; a ``__post_init__`` runs after the fields are set.

Why not ``@dataclass``: it writes each class's methods as source and execs
them when the class is made, at every start. Measured here
(``benchmarks/bench_records.py``): 0.6 ms a class, 1.0 ms frozen, against
0.13 ms for a NamedTuple and 0.01 ms for a Record; upip has some thirty
record classes and starts in about 90 ms. ``typing.dataclass_transform`` tells
mypy that a Record's ``__init__`` takes its fields, so calls are checked as a
dataclass's would be.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar, cast, dataclass_transform

T = TypeVar("T")


class _Factory:
    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def field(*, default_factory: Callable[[], T]) -> T:
    """A default made anew for each record (a list, a dict)."""
    return cast(T, _Factory(default_factory))


@dataclass_transform(eq_default=True, field_specifiers=(field,))
class Record:
    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}
    _post: ClassVar[Callable[[Any], None] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # (not inspect.get_annotations: importing inspect costs 2 ms of every start)
        own = [name for name, kind in cls.__dict__.get("__annotations__", {}).items()  # noqa: RUF063
               if not str(kind).startswith(("ClassVar", "typing.ClassVar"))]
        cls._fields = (*cls._fields, *(n for n in own if n not in cls._fields))
        cls._defaults = {**cls._defaults,
                         **{n: cls.__dict__[n] for n in own if n in cls.__dict__}}
        cls._post = getattr(cls, "__post_init__", None)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = self._fields
        if not kwargs and len(args) == len(names):  # every field given, in order
            for name, value in zip(names, args, strict=True):
                setattr(self, name, value)
        else:
            self._assign(args, kwargs)
        if self._post is not None:
            self._post()

    def _assign(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        names, cls = self._fields, type(self).__name__
        if len(args) > len(names):
            raise TypeError(f"{cls} takes {len(names)} fields, not {len(args)}")
        values = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in names or key in values:
                raise TypeError(f"{cls}: unexpected or repeated field {key!r}")
            values[key] = value
        for name in names:
            if name in values:
                value = values[name]
            elif name in self._defaults:
                value = self._defaults[name]
                if value.__class__ is _Factory:
                    value = value.make()
            else:
                raise TypeError(f"{cls}: missing field {name!r}")
            setattr(self, name, value)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self._fields)

    __hash__ = None  # type: ignore[assignment]  # as @dataclass(eq=True): unhashable

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields)
        return f"{self.__class__.__qualname__}({fields})"
