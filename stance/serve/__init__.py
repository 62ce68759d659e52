"""``stance serve``: a web page and a JSON API over the classifier, for people who do not
program and for programs on other machines (``pip install "stance[serve]"``).

>>> from stance.serve import ServeSettings
>>> ServeSettings().host, ServeSettings().max_body_bytes
('127.0.0.1', 52428800)

This package imports FastAPI and uvicorn only when an app is created or served, so
``import stance`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stance.extras import require
from stance.serve.settings import ServeSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["SERVE_MODULES", "ServeSettings", "create_app", "serve"]

SERVE_MODULES: tuple[str, ...] = ("fastapi", "uvicorn", "multipart")
"""What the ``serve`` extra installs (``multipart`` is python-multipart, for uploads)."""


def create_app(settings: ServeSettings | None = None, **overrides: Any) -> FastAPI:
    """The ASGI app of ``stance serve`` (FastAPI), with ``settings`` or the defaults changed
    by ``overrides``.

    Raises:
        MissingDependencyError: the ``serve`` extra is not installed.
        ModelError: the default model cannot be loaded.
    """
    require(SERVE_MODULES, "serve", "stance serve")
    import dataclasses

    from stance.serve.app import build_app

    settings = dataclasses.replace(settings or ServeSettings(), **overrides)
    return build_app(settings)


def serve(settings: ServeSettings) -> None:
    """Run the server until interrupted (uvicorn; ``settings.workers`` processes)."""
    require(SERVE_MODULES, "serve", "stance serve")
    from stance.serve.runner import run

    run(settings)
