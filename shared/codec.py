"""Encoding of models to and from stream entries (orjson).

A newsflow stream entry has one field, ``json``, holding the model as JSON, so a
client in any language can read it with a plain ``XREAD``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel

from shared.streams import JSON_FIELD

M = TypeVar("M", bound=BaseModel)


def dumps(model: BaseModel) -> bytes:
    """The model as compact JSON bytes."""
    return orjson.dumps(model.model_dump(mode="python", exclude_none=False))


def loads(model_type: type[M], data: bytes | str) -> M:
    """Parse and validate JSON into ``model_type``; raises ``pydantic.ValidationError``."""
    return model_type.model_validate_json(data)


def to_fields(model: BaseModel) -> dict[Any, Any]:
    """The stream entry for a model."""
    return {JSON_FIELD: dumps(model)}


def entry_json(fields: Mapping[Any, Any]) -> bytes | str | None:
    """The ``json`` field of a stream entry, or None when the entry has none."""
    value = fields.get(JSON_FIELD.encode())
    if value is None:
        value = fields.get(JSON_FIELD)
    return value if isinstance(value, bytes | str) else None
