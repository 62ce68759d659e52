"""Checks of the arguments that users pass to the public functions, shared so that the same
mistake gives the same :class:`~stance.errors.ConfigError` wherever it is made."""

from __future__ import annotations

from stance.errors import ConfigError


def check_min_score(min_score: float | None) -> None:
    """``min_score`` must be ``None`` or a number in 0-1.

    >>> check_min_score(1.5)
    Traceback (most recent call last):
    ...
    stance.errors.ConfigError: min_score must be between 0 and 1, got 1.5
    """
    if min_score is None:
        return
    if isinstance(min_score, bool) or not isinstance(min_score, (int, float)):
        raise ConfigError(f"min_score must be a number between 0 and 1, got {min_score!r}")
    if not 0.0 <= min_score <= 1.0:
        raise ConfigError(f"min_score must be between 0 and 1, got {min_score}")


def check_at_least_one(name: str, value: int) -> None:
    """``value`` (named ``name`` in the message) must be an integer >= 1.

    >>> check_at_least_one("batch_size", 0)
    Traceback (most recent call last):
    ...
    stance.errors.ConfigError: batch_size must be an integer >= 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
