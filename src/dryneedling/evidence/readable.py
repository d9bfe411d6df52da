"""Frozen models that templates may read like the dicts they replaced: ``row["field"]`` or ``row.get("field")``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Readable(BaseModel):
    """A frozen model with dict-style reads for templates (typed in Python, forgiving in Jinja)."""

    model_config = ConfigDict(frozen=True)

    def __getitem__(self, name: str) -> object:
        if name not in type(self).model_fields and name not in type(self).model_computed_fields:
            raise KeyError(name)
        return getattr(self, name)

    def get(self, name: str, default: object = None) -> object:
        """The field ``name``, or ``default`` when the model has no such field (or it is None)."""
        value = getattr(self, name, None)
        return default if value is None else value
