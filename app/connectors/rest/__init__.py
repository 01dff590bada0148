"""The built-in rest connector: a configurable JSON API (see ``connector.py``)."""

from app.connectors.rest.connector import RestConnector

__all__ = ["RestConnector"]
