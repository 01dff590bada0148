"""Keep the machine's own hubsync configuration out of tests that read the environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def isolate_environment(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> None:
    """Drop every HUBSYNC_* variable and work in ``workdir``, so no .env file is read."""
    for name in list(os.environ):
        if name.upper().startswith("HUBSYNC_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(workdir)
