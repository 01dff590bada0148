"""New links are plain objects inserted in bulk: they must carry exactly the table's columns."""

from __future__ import annotations

from app.models import RecordLink
from app.sync.engine.state import NEW_LINK_COLUMNS


def test_a_new_link_has_exactly_the_record_link_columns() -> None:
    columns = {c.key for c in RecordLink.__mapper__.column_attrs}
    assert set(NEW_LINK_COLUMNS) == columns
