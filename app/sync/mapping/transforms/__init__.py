"""Named, whitelisted transforms between source values and HubSpot values (never ``eval``).

Public API: ``compile_transform(spec)`` → ``Transform`` with ``forward`` (source → HubSpot),
``reverse`` (HubSpot → source; only when ``reversible``), ``output_type`` and
``output_values``; ``to_hubspot_string`` for the wire; ``TransformError`` for a bad spec,
``TransformValueError`` for a value a transform cannot convert. The empty-value rule is in
``base``.
"""

from app.sync.mapping.transforms.base import (
    OutputType,
    Transform,
    TransformError,
    TransformValueError,
    is_empty,
)
from app.sync.mapping.transforms.hubspot import to_hubspot_string
from app.sync.mapping.transforms.registry import TRANSFORM_NAMES, compile_transform

__all__ = [
    "TRANSFORM_NAMES",
    "OutputType",
    "Transform",
    "TransformError",
    "TransformValueError",
    "compile_transform",
    "is_empty",
    "to_hubspot_string",
]
