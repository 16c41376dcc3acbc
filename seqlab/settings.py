"""Settings that carry their own default, help and range.

A settings dataclass declares each field once, with `setting(...)`:

    @dataclass
    class TrainConfig:
        epochs: int = setting(10, "Epochs of one-cycle training.", min=1)

and that one line is the Python default, the validation (`check`, called from
`__post_init__`) and, through `seqlab.cli.options.options_from`, the CLI option with its
help and range. So the CLI, the lesson presets and the Python API cannot disagree
(minGPT's `get_default_config`, made declarative).

No click here: the library raises `SettingError` with a plain message
("hidden must be at least 1, got 0"); the CLI renders it with the option's name.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
from collections.abc import Iterable, Sequence
from typing import Any


class SettingError(ValueError):
    """A setting out of its range: `name` is the field, `problem` what is wrong with it."""

    def __init__(self, name: str, problem: str):
        self.name, self.problem = name, problem
        super().__init__(f"{name} {problem}")


def setting(
    default: Any,
    help: str = "",
    *,
    min: float | None = None,
    max: float | None = None,
    min_open: bool = False,
    max_open: bool = False,
    choices: Sequence[str] | None = None,
    cli: bool = True,
) -> Any:
    """A dataclass field with its help text and valid range (bounds closed unless `*_open`)."""
    meta = {
        "help": help,
        "min": min,
        "max": max,
        "min_open": min_open,
        "max_open": max_open,
        "choices": tuple(choices) if choices is not None else None,
        "cli": cli,
    }
    return dataclasses.field(default=default, metadata=meta)


def check(obj: Any) -> None:
    """Raise SettingError for the first field of dataclass `obj` outside its range."""
    for f in dataclasses.fields(obj):
        problem = field_problem(f, getattr(obj, f.name))
        if problem:
            raise SettingError(f.name, problem)


def field_problem(f: dataclasses.Field, value: Any) -> str | None:
    m = f.metadata
    if not m:
        return None
    wrong_type = type_problem(f.type, value)  # a value from JSON (resume) may be anything
    if wrong_type or value is None:
        return wrong_type
    if m.get("choices") is not None and value not in m["choices"]:
        return f"must be one of {', '.join(m['choices'])}, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    lo, hi = m.get("min"), m.get("max")
    too_low = lo is not None and (value <= lo if m["min_open"] else value < lo)
    too_high = hi is not None and (value >= hi if m["max_open"] else value > hi)
    if too_low or too_high:
        return f"must be {describe_range(m)}, got {value}"
    return None


def type_problem(hint: Any, value: Any) -> str | None:
    """What is wrong with `value` for a field annotated `hint` (a string, as the dataclasses
    of seqlab declare them under `from __future__ import annotations`); None when it fits.
    Knows int, float, bool, str, Path and their `| None`; other hints are not checked."""
    text = hint if isinstance(hint, str) else getattr(hint, "__name__", str(hint))
    parts = {p.strip() for p in text.split("|")}
    nullable = "None" in parts
    parts.discard("None")
    want: str = parts.pop() if len(parts) == 1 else ""
    ok = {
        "bool": lambda v: isinstance(v, bool),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "str": lambda v: isinstance(v, str),
        "Path": lambda v: isinstance(v, str | os.PathLike),
    }.get(want)
    if ok is None or (value is None and nullable):
        return None
    if value is None:
        return "must not be null"
    if ok(value):
        if want == "float" and not math.isfinite(value):
            return f"must be a finite number, got {value}"
        return None
    names = {"bool": "true or false", "int": "a whole number", "float": "a number"}
    return f"must be {names.get(want, 'a string')}, got {_short(value)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def describe_range(m: Any) -> str:
    lo, hi = m.get("min"), m.get("max")
    if lo is not None and hi is not None:
        left, right = "(" if m["min_open"] else "[", ")" if m["max_open"] else "]"
        return f"in {left}{lo}, {hi}{right}"
    if lo is not None:
        if lo == 0 and m["min_open"]:
            return "positive"
        return f"above {lo}" if m["min_open"] else f"at least {lo}"
    return f"below {hi}" if m["max_open"] else f"at most {hi}"


def from_dict(cls: type, values: dict[str, Any]) -> Any:
    """`cls(**values)`, naming an unknown key instead of a TypeError (e.g. an edited file)."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise unknown_setting(unknown[0], names, cls.__name__, listing=False)
    return cls(**values)


def unknown_setting(
    name: str, known: Iterable[str], where: str, listing: bool = True
) -> SettingError:
    """The error for a setting `where` has not: the closest known name first ("did you mean
    `epochs`?", by difflib's ratio), then, with `listing`, every known one."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    problem = f"is not a setting of {where}"
    if close:
        problem += f"; did you mean `{close[0]}`?"
    if listing:
        problem += f" (settings: {', '.join(known)})"
    return SettingError(name, problem)
