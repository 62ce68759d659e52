"""Run the app under uvicorn: one process, or ``workers`` processes sharing one job folder."""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import sys
import tempfile
from typing import Any

from stance.serve.settings import SETTINGS_ENV, ServeSettings

logger = logging.getLogger(__name__)

KEEP_ALIVE_S = 30
"""Seconds an idle keep-alive connection stays open (uvicorn's default of 5 s lets a busy
client's next request race the server closing the connection)."""


def exposure_warning(settings: ServeSettings) -> str | None:
    """The warning printed when the server listens beyond this machine."""
    if settings.loopback:
        return None
    guard = "a token is required" if settings.token else "NO token is required (pass --token)"
    return (
        f"stance serve is listening on {settings.host}, so other machines can reach it; "
        f"{guard}, and traffic is not encrypted (put it behind an HTTPS proxy)"
    )


def run(settings: ServeSettings) -> None:
    """Serve until interrupted."""
    import uvicorn

    warning = exposure_warning(settings)
    if warning:
        logger.warning(warning)
        print(f"stance: warning: {warning}", file=sys.stderr)
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "info",
        "server_header": False,
        "proxy_headers": False,
        "timeout_keep_alive": KEEP_ALIVE_S,
    }
    if settings.workers == 1:
        from stance.serve.app import build_app

        app = build_app(settings)  # a bad --model fails here, before anything is announced
        _announce(settings)
        uvicorn.run(app, **common)
        return
    from stance.serve.catalogue import build_catalogue

    build_catalogue(settings.model)  # a bad --model fails here, not in every worker
    _announce(settings)
    root = tempfile.mkdtemp(prefix="stance-serve-")
    shared = dataclasses.replace(settings, temp_dir=root)
    os.environ[SETTINGS_ENV] = shared.to_json()
    try:
        uvicorn.run(
            "stance.serve.app:app_from_env", factory=True, workers=settings.workers, **common
        )
    finally:
        os.environ.pop(SETTINGS_ENV, None)
        shutil.rmtree(root, ignore_errors=True)


def _announce(settings: ServeSettings) -> None:
    shown = "localhost" if settings.loopback else settings.host
    print(f"stance: serving on http://{shown}:{settings.port}/ (Ctrl+C stops)", file=sys.stderr)
