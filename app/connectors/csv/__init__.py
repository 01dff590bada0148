"""The csv connector: ERP export folders (delimiter, encoding, key column settable)."""

from app.connectors.csv.connector import CsvConnector

__all__ = ["CsvConnector"]
