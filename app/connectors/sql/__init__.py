"""The built-in sql connector: any allowlisted SQLAlchemy URL (see ``config`` for the rules)."""

from app.connectors.sql.connector import SqlConnector

__all__ = ["SqlConnector"]
