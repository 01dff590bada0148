"""The server-rendered backend (Jinja2 + htmx) under /ui."""

from pathlib import Path

UI_DIR = Path(__file__).resolve().parent
STATIC_DIR = UI_DIR / "static"
TEMPLATE_DIR = UI_DIR / "templates"
LOCALE_DIR = UI_DIR / "locale"
