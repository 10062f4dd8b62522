"""The shape every step report shares: a dict for JSON, the JSON itself, and a readable summary."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["Report"]


class Report:
    """Base of :class:`~synthfilter.QuotaReport`, :class:`~synthfilter.ResampleReport` and
    :class:`~synthfilter.DedupReport`: subclasses implement :meth:`to_dict` and :meth:`summary_lines`."""

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def summary_lines(self) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_json(self, indent: int = 2) -> str:
        """:meth:`to_dict` as JSON (values JSON cannot hold, such as group values, as strings)."""
        return json.dumps(self.to_dict(), indent=indent, default=str)

    def __str__(self) -> str:
        return "\n".join(self.summary_lines())
