"""The settings of ``stance serve``: where it listens, which model it serves, and its limits."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
from dataclasses import dataclass
from typing import Any

from stance.errors import ConfigError

TOKEN_ENV = "STANCE_SERVE_TOKEN"
"""The environment variable read for the bearer token when ``--token`` is not given."""
SETTINGS_ENV = "STANCE_SERVE_SETTINGS"
"""How the settings reach the worker processes of ``--workers N`` (JSON)."""

MAX_BODY_BYTES = 50 * 1024 * 1024
MAX_TEXTS = 1000
MAX_EXPLAIN_TEXTS = 20
MAX_TEXT_CHARS = 20_000
TIMEOUT_S = 60.0
FILE_TIMEOUT_S = 1800.0
FILE_JOBS = 2
JOB_TTL_S = 3600.0


@dataclass(frozen=True)
class ServeSettings:
    """Everything ``stance serve`` can be told; validated on creation.

    Attributes:
        host: The address to bind (loopback by default; anything else is warned about).
        port: The TCP port.
        model: The default model: ``"baseline"``, ``"bert"`` or a model directory.
        workers: Server processes, each loading its models once.
        token: If set, every request except ``/healthz`` needs ``Authorization: Bearer TOKEN``
            (or the cookie the page's sign-in form sets).
        max_body_bytes: The largest request body (a JSON call or an uploaded file).
        max_texts: Texts per ``/v1/classify`` call.
        max_explain_texts: Texts per ``/v1/explain`` call (each costs up to 49 model calls).
        max_text_chars: The longest text a JSON call accepts; longer ones are refused with 422.
            Rows of an uploaded file have no such limit: they are classified by the model's
            own long-text rule, bounded by ``max_body_bytes`` and ``file_timeout_s``.
        timeout_s: Seconds a JSON call may take before it is answered with 503.
        file_timeout_s: Seconds an uploaded file may take to classify before the job is stopped.
        file_jobs: Files classified at the same time per server process (more wait in line).
        job_ttl_s: Seconds a finished job's output waits to be downloaded before it is deleted.
        temp_dir: Where uploads and outputs are kept while a job runs (default: a new folder
            in the system's temporary directory, removed at shutdown).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    model: str = "baseline"
    workers: int = 1
    token: str | None = None
    max_body_bytes: int = MAX_BODY_BYTES
    max_texts: int = MAX_TEXTS
    max_explain_texts: int = MAX_EXPLAIN_TEXTS
    max_text_chars: int = MAX_TEXT_CHARS
    timeout_s: float = TIMEOUT_S
    file_timeout_s: float = FILE_TIMEOUT_S
    file_jobs: int = FILE_JOBS
    job_ttl_s: float = JOB_TTL_S
    temp_dir: str | None = None

    def __post_init__(self) -> None:
        positive_ints = (
            "port",
            "workers",
            "max_body_bytes",
            "max_texts",
            "max_explain_texts",
            "max_text_chars",
            "file_jobs",
        )
        for name in positive_ints:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"serve setting {name} must be a positive integer, got {value!r}")
        if self.port > 65535:
            raise ConfigError(f"serve setting port must be at most 65535, got {self.port}")
        for name in ("timeout_s", "file_timeout_s", "job_ttl_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ConfigError(f"serve setting {name} must be a positive number, got {value!r}")
        if not isinstance(self.host, str) or not self.host:
            raise ConfigError(
                f"serve setting host must be a host name or address, got {self.host!r}"
            )
        if not isinstance(self.model, str) or not self.model:
            raise ConfigError(f"serve setting model must be a name or a path, got {self.model!r}")
        if self.token is not None and (not isinstance(self.token, str) or not self.token.strip()):
            raise ConfigError("serve setting token must be a non-empty string when given")

    @property
    def loopback(self) -> bool:
        """Whether ``host`` only accepts connections from this machine."""
        return is_loopback(self.host)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServeSettings:
        values: dict[str, Any] = json.loads(text)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ConfigError(f"unknown serve settings {unknown}; known: {sorted(names)}")
        return cls(**values)

    @classmethod
    def from_env(cls) -> ServeSettings:
        """The settings a worker process was started with (or the defaults), with the token
        from :data:`TOKEN_ENV` when none is set."""
        raw = os.environ.get(SETTINGS_ENV)
        settings = cls.from_json(raw) if raw else cls()
        if settings.token is None and os.environ.get(TOKEN_ENV):
            settings = dataclasses.replace(settings, token=os.environ[TOKEN_ENV])
        return settings


def is_loopback(host: str) -> bool:
    """``True`` for ``localhost`` and loopback addresses.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
