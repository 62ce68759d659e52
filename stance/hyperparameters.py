"""Reading saved hyperparameters back into a config dataclass."""

from __future__ import annotations

from typing import Any, TypeVar

from stance.errors import ConfigError

C = TypeVar("C")


def config_from_dict(cls: type[C], values: dict[str, Any], what: str) -> C:
    """``cls(**values)``, refusing names that ``cls`` does not have (``what`` names the kind).

    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Example:
    ...     lr: float = 0.1
    >>> config_from_dict(Example, {"lr": 0.5}, "example")
    Example(lr=0.5)
    >>> config_from_dict(Example, {"rate": 0.5}, "example")
    Traceback (most recent call last):
    ...
    stance.errors.ConfigError: unknown example hyperparameter(s) ['rate']; allowed: ['lr']
    """
    fields = cls.__dataclass_fields__  # type: ignore[attr-defined]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"unknown {what} hyperparameter(s) {unknown}; allowed: {sorted(fields)}")
    return cls(**values)
