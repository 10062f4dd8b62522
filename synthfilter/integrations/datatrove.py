"""synthfilter as datatrove pipeline steps: tag documents, then filter on the tags.

`datatrove <https://github.com/huggingface/datatrove>`_ pipelines pass
``datatrove.data.Document`` objects from step to step. Two steps fit into them::

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from synthfilter.integrations.datatrove import SynthfilterFilter, SynthfilterTagger

    LocalPipelineExecutor(pipeline=[
        JsonlReader("crawl/"),
        SynthfilterTagger(),                                  # adds the sf_* metadata
        SynthfilterFilter(exclusion_writer=JsonlWriter("removed/")),
        JsonlWriter("kept/"),
    ], tasks=8, logging_dir="logs/").run()

* :class:`SynthfilterTagger` adds ``sf_score``, ``sf_label``, ``sf_lang``, ``sf_reason``
  and ``sf_detector`` to every ``Document.metadata`` (the values :func:`synthfilter.tag`
  puts in the columns of the same names) and drops nothing.
* :class:`SynthfilterFilter` drops documents by those tags, counting the drops per
  reason in datatrove's stats (``dropped_sf_label=synthetic``, ...), and can write the
  dropped documents through an ``exclusion_writer`` like datatrove's own filters.

Both run :class:`synthfilter.Tagger`'s code (nothing is implemented twice), so the tags
equal ``ds.map(synthfilter.tag, batched=True)``'s on the same texts. Install with
``pip install 'synthfilter[datatrove]'`` (datatrove and ``orjson``, which datatrove's
JSONL reader and writer need).

Metadata types
    Plain Python values, so every datatrove writer can store them: ``sf_score`` is a
    ``float``, or ``None`` where the column would hold NaN (unscored documents;
    ``None`` rather than NaN because NaN is not valid JSON: datatrove's JSONL writers
    either write ``null`` for it or, in older versions, the invalid token ``NaN``), so a
    document read back from JSONL has the same metadata it was written with. The other
    four are ``str`` (``sf_reason`` is ``""`` for scored documents).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

try:
    from datatrove.data import Document, DocumentsPipeline
    from datatrove.pipeline.base import PipelineStep
    from datatrove.pipeline.filters.base_filter import BaseFilter
    from datatrove.pipeline.writers.disk_base import DiskWriter
except ImportError as err:  # pragma: no cover - exercised only without datatrove
    raise ImportError(
        "synthfilter.integrations.datatrove needs datatrove: pip install 'synthfilter[datatrove]'"
    ) from err

from ..columns import DETECTOR, LABEL, LANG, REASON, SCORE, TAG_COLUMNS
from ..detect.base import BaseDetector
from ..detect.registry import detector_file, load_detector
from ..models import content_digest, is_loaded
from ..provenance import REASON_PREFIX, Provenance
from ..tag import Tagger

__all__ = ["SynthfilterTagger", "SynthfilterFilter", "MissingTagsError", "TAG_KEYS"]

#: The metadata keys :class:`SynthfilterTagger` writes, in column order.
TAG_KEYS: tuple[str, ...] = tuple(c.name for c in TAG_COLUMNS)
_LABELS = ("human", "synthetic", "unknown")

# Detectors loaded in this process, by registry name or path: a worker that runs several
# tasks (each one gets its own copy of the pipeline) loads each detector once.
_DETECTORS: dict[tuple[str, str | None], BaseDetector] = {}


def _batches(docs: Iterable[Document], size: int) -> Iterator[list[Document]]:
    it = iter(docs)
    while batch := list(itertools.islice(it, size)):
        yield batch


class SynthfilterTagger(PipelineStep):
    """Adds the synthfilter tags to ``doc.metadata`` of every document; drops nothing.

    Parameters
    ----------
    detector, threshold, languages, min_letters:
        As for :class:`synthfilter.Tagger`: a registry name (default ``"fast"``), the path
        of a saved detector ``.npz`` or a fitted detector object (then pickled with the
        step); the probability at or above which a document is ``"synthetic"`` (default:
        the detector's own); the languages scored; the fewest letters scored.
    batch_size:
        Documents scored together (default 256); documents still leave one by one, in
        order.
    provenance, first_seen_column, human_before:
        :class:`synthfilter.Tagger`'s provenance rules, reading ``doc.metadata`` instead
        of columns (e.g. ``provenance={"column": "source", "synthetic": ["gpt"]}`` reads
        ``doc.metadata["source"]``). A document without the key is undecided (goes to the
        detector), as a null value would be; a batch in which no document has it raises
        ``KeyError`` (a misspelt key would otherwise silently decide nothing).

    The arguments are checked when the step is built; the detector loads on the first
    batch, once per worker process (tasks run by the same process share it), and is
    never pickled unless it was passed as an object. Stats: ``total``,
    ``sf_label=<label>`` per label and ``sf_reason=<reason>`` per non-empty reason, plus
    datatrove's ``doc_len``. Existing ``sf_*`` metadata is overwritten.
    """

    name = "🤖 synthfilter tagger"
    type = "🏷 - TAGGER"

    def __init__(self, detector: str | BaseDetector = "fast", threshold: float | None = None,
                 languages: Sequence[str] | None = None, min_letters: int = 20, batch_size: int = 256,
                 provenance: Mapping[str, Any] | Provenance | None = None, first_seen_column: str | None = None,
                 human_before: Any = None) -> None:
        super().__init__()
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.batch_size = batch_size
        # configuration only: the detector loads lazily and is left out of pickling
        self.tagger = Tagger(detector=detector, threshold=threshold, languages=languages, min_letters=min_letters,
                             provenance=provenance, first_seen_column=first_seen_column, human_before=human_before)

    def _ready_tagger(self) -> Tagger:
        tagger = self.tagger
        if isinstance(tagger.detector, str) and not is_loaded(tagger, "loaded_detector"):
            # by content: a detector file replaced at the same path between tasks is loaded again
            key = (tagger.detector, content_digest(detector_file(tagger.detector)))
            if key not in _DETECTORS:
                _DETECTORS[key] = load_detector(tagger.detector)
            tagger.loaded_detector = _DETECTORS[key]
        return tagger

    def _decision(self, tagger: Tagger, batch: list[Document]) -> Any:
        if tagger.provenance is None:
            return None
        columns = {}
        metadata = [doc.metadata if isinstance(doc.metadata, dict) else {} for doc in batch]
        for key in tagger.provenance.columns:
            if not any(key in m for m in metadata):
                present = sorted({k for m in metadata for k in m})
                raise KeyError(f"provenance key {key!r} is in no document's metadata in this batch of {len(batch)}; "
                               f"metadata keys present: {present}")
            columns[key] = [m.get(key) for m in metadata]
        return tagger.decide(columns)

    def tag(self, batch: list[Document]) -> None:
        """Write the tags into ``doc.metadata`` of each document of ``batch`` (in place)."""
        tagger = self._ready_tagger()
        cols = tagger.columns([doc.text for doc in batch], decision=self._decision(tagger, batch))
        scores = cols[SCORE.name]
        for i, doc in enumerate(batch):
            if doc.metadata is None:  # a Document built with metadata=None: the tags go into a new dict
                doc.metadata = {}
            elif not isinstance(doc.metadata, dict):
                raise TypeError(f"document {doc.id!r}: metadata is a {type(doc.metadata).__name__}, not a dict; "
                                "SynthfilterTagger writes its tags into doc.metadata")
            score = float(scores[i])
            doc.metadata[SCORE.name] = None if math.isnan(score) else score
            doc.metadata[LABEL.name] = str(cols[LABEL.name][i])
            doc.metadata[LANG.name] = str(cols[LANG.name][i])
            doc.metadata[REASON.name] = str(cols[REASON.name][i])
            doc.metadata[DETECTOR.name] = str(cols[DETECTOR.name][i])

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data is None:
            return
        for batch in _batches(data, self.batch_size):
            with self.track_time("batch"):
                self.tag(batch)
            for doc in batch:
                self.stat_update("total", f"{LABEL.name}={doc.metadata[LABEL.name]}")
                if doc.metadata[REASON.name]:
                    self.stat_update(f"{REASON.name}={doc.metadata[REASON.name]}")
                if isinstance(doc.text, str):  # a text that is not a string is unknown (not_text), without length
                    self.update_doc_stats(doc)
                yield doc


class MissingTagsError(KeyError):
    """A document reached :class:`SynthfilterFilter` without synthfilter's metadata."""

    def __str__(self) -> str:  # KeyError would print the message's repr
        return str(self.args[0]) if self.args else ""


class SynthfilterFilter(BaseFilter):
    """Drops documents by the tags of :class:`SynthfilterTagger`.

    Parameters
    ----------
    drop_labels:
        ``sf_label`` values to drop: ``"synthetic"`` and/or ``"human"`` (drop reason
        ``sf_label=<label>``). Default ``None``: ``("synthetic",)``, or no label rule
        when ``max_score`` is given. Pass both to apply both.
    max_score:
        Drop documents whose ``sf_score >= max_score`` (reason ``sf_score>=<max_score>``),
        whatever their label; unscored documents (``sf_score`` None) and documents whose
        class provenance decided (``sf_reason`` ``provenance:...``; they are scored too)
        never match.
    drop_unknown:
        Also drop ``"unknown"`` documents (those not scored), with reason
        ``unknown:<sf_reason>`` (e.g. ``unknown:too_short``). Default ``False``: they are
        kept. ``"unknown"`` documents never match the other rules.
    exclusion_writer:
        A datatrove writer for the dropped documents (each gets ``filter_reason`` in its
        metadata), as for datatrove's own filters.

    The rules are checked in the order ``drop_unknown``, ``drop_labels``, ``max_score``;
    the first that matches gives the reason. datatrove counts ``total``, ``forwarded``,
    ``dropped`` and ``dropped_<reason>``. A document without the tags raises
    :class:`MissingTagsError` (a ``KeyError``) naming the missing key.
    """

    name = "🤖 synthfilter filter"

    def __init__(self, drop_labels: Iterable[str] | None = None, max_score: float | None = None,
                 drop_unknown: bool = False, exclusion_writer: DiskWriter | None = None) -> None:
        super().__init__(exclusion_writer)
        if max_score is not None:
            if isinstance(max_score, bool) or not isinstance(max_score, (int, float)) \
                    or not 0.0 <= float(max_score) <= 1.0:
                raise ValueError(f"max_score must be a probability in [0, 1], got {max_score!r}")
            max_score = float(max_score)
        if drop_labels is None:
            drop_labels = ("synthetic",) if max_score is None else ()
        elif isinstance(drop_labels, str):
            raise TypeError(f"drop_labels must be a list of labels, got the string {drop_labels!r}")
        drop_labels = tuple(dict.fromkeys(drop_labels))
        if "unknown" in drop_labels:
            raise ValueError("drop 'unknown' documents with drop_unknown=True (their reason is then counted too)")
        bad = [label for label in drop_labels if label not in _LABELS]
        if bad:
            raise ValueError(f"drop_labels {bad} are not labels; sf_label is one of {list(_LABELS)}")
        self.drop_labels = drop_labels
        self.max_score = max_score
        self.drop_unknown = bool(drop_unknown)

    @staticmethod
    def _tag(doc: Document, key: str) -> Any:
        metadata = doc.metadata if isinstance(doc.metadata, dict) else {}
        try:
            return metadata[key]
        except KeyError:
            raise MissingTagsError(
                f"document {doc.id!r} has no {key!r} in its metadata: put SynthfilterTagger() before "
                f"SynthfilterFilter in the pipeline (it adds {list(TAG_KEYS)}); metadata keys present: "
                f"{sorted(metadata)}"
            ) from None

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        label = self._tag(doc, LABEL.name)
        score = self._tag(doc, SCORE.name)
        if label == "unknown":
            if self.drop_unknown:
                return False, f"unknown:{self._tag(doc, REASON.name) or 'not_scored'}"
            return True
        if label in self.drop_labels:
            return False, f"{LABEL.name}={label}"
        decided = str(doc.metadata.get(REASON.name) or "").startswith(REASON_PREFIX)  # provenance beats a score
        if self.max_score is not None and not decided and score is not None and not math.isnan(score) \
                and score >= self.max_score:
            return False, f"{SCORE.name}>={self.max_score!r}"
        return True
