"""A versioned, verifiable store of known-human text: the pristine reference set against model collapse.

``Reservoir(path)`` is a folder of Parquet shards (``text``, ``sha256``, ``source``,
``licence``, ``collected``, ``version``) and a ``manifest.json`` recording every version,
every shard's SHA-256 and every row's SHA-256, and a content ``fingerprint``.
:meth:`Reservoir.add` stores new texts as a new version (texts already stored are skipped),
:meth:`Reservoir.sample` draws a deterministic sample, :meth:`Reservoir.verify` detects any
changed, added or removed row or file. Command line: ``synthfilter reservoir add | list |
verify | sample``. See ``docs/reservoir.md``.

Modules: :mod:`~synthfilter.reservoir.store` (the class), :mod:`~synthfilter.reservoir.manifest`
(the manifest's layout and checks), :mod:`~synthfilter.reservoir.inputs` (what ``add`` accepts), :mod:`~synthfilter.reservoir.verify`,
:mod:`~synthfilter.reservoir.report`, :mod:`~synthfilter.reservoir.cli`.
"""

from .._face import lazy_face


__all__ = ["Reservoir", "ReservoirAddReport", "ReservoirVerifyReport", "RowChange", "RowRef", "open_reservoir",
           "is_reservoir", "verify_reservoir", "content_fingerprint", "text_sha256"]

__getattr__, __dir__ = lazy_face(__name__, {
    ".manifest": ["content_fingerprint", "text_sha256"],
    ".report": ["ReservoirAddReport", "ReservoirVerifyReport", "RowChange", "RowRef"],
    ".store": ["Reservoir", "is_reservoir", "open_reservoir"],
    ".verify": ["verify_reservoir"],
})
