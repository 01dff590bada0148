"""The embedded demo that ``hubsync demo`` (``make run``) starts.

A demo ERP (``erp``, data from ``data``), the sandbox HubSpot portal on
hubsync's own port (``server``), the demo tenant with its users (``accounts``),
two ready interfaces between them (``provision``, tables in ``mappings/``), and
users at work in both systems (``activity``). ``seed`` sets it all up before
serving.
"""

from __future__ import annotations

from app.demo.accounts import DemoLogin
from app.demo.config import DemoConfig
from app.demo.seed import prepare_systems, seed_demo

__all__ = ["DemoConfig", "DemoLogin", "prepare_systems", "seed_demo"]
