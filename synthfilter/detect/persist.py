"""The detector file format, and the checks every read goes through.

A detector file is a compressed ``.npz``: one ``.npy`` member per state array plus
``__meta__``, a JSON string (detector kind, version, threshold, constructor
parameters, classes, free-form ``info`` and a SHA-256 ``digest`` of all of it).

Reading is defensive, because a detector file is input like any other:

* never unpickles (``allow_pickle=False``), never reads a member that is not a plain
  ``.npy`` array with a numeric or string dtype;
* rejects files whose zip declares more than :data:`MAX_ARRAY_BYTES` of arrays, and
  arrays whose header promises more bytes than their member holds, before
  allocating anything;
* verifies the digest, so a changed or damaged file fails with a clear error.

The digest detects accidental change (a flipped byte, an edited field). It is not a
signature: whoever can write the file can recompute it. What keeps a crafted file
harmless is the validation after it (see :meth:`BaseDetector.load
<synthfilter.detect.base.BaseDetector.load>`): a file never chooses a model, a path
or code, and every field is checked against what the detector class expects. Every
problem raises :class:`DetectorFileError` (a ``ValueError``) naming the file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import re
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "DetectorFileError", "FORMAT", "MAX_ARRAY_BYTES", "MAX_META_CHARS", "META_KEYS",
    "digest_of", "read_detector_meta", "read_detector_file", "write_detector_file",
]

#: Version of the file layout written by :func:`write_detector_file`.
FORMAT = 2
#: Largest total size of the state arrays (uncompressed bytes) a file may declare.
MAX_ARRAY_BYTES = 64 * 2**20
#: Largest ``__meta__`` JSON string, in characters.
MAX_META_CHARS = 2**20
#: Keys allowed in ``__meta__``; ``detector``, ``version``, ``threshold`` and ``params`` are required.
META_KEYS = frozenset({"format", "detector", "version", "threshold", "params", "classes", "ai_class", "languages",
                       "info", "digest"})
_REQUIRED = ("detector", "version", "threshold", "params")
_META = "__meta__"
_MAX_MEMBERS = 256  # a fine-tuned six-layer MiniLM stores about 100 arrays
_MEMBER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}\.npy")
_VERSION = re.compile(r"[A-Za-z0-9_.+:-]{1,64}")
_ARRAY_KINDS = "fU"  # float state arrays and the string arrays of feature names


class DetectorFileError(ValueError):
    """A detector file is unreadable, damaged, or holds something a detector cannot use."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        super().__init__(f"{path}: {problem}")


# -------------------------------------------------------------------- digest
def digest_of(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 (hex) of ``meta`` (without its ``digest`` key) and every array's name, dtype, shape and bytes."""
    h = hashlib.sha256()

    def part(data: bytes) -> None:
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)

    part(json.dumps({k: v for k, v in meta.items() if k != "digest"}, sort_keys=True).encode())
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        for piece in (name.encode(), array.dtype.str.encode(), repr(array.shape).encode(), array.tobytes()):
            part(piece)
    return h.hexdigest()


# --------------------------------------------------------------------- write
def write_detector_file(path: str | os.PathLike, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Path:
    """Write ``meta`` (JSON-able; ``format`` and ``digest`` are added) and ``arrays`` to ``path``.

    The file is written next to ``path`` and moved into place, so a reader never
    sees half a file. Returns the path.
    """
    path = Path(path)
    for name in arrays:
        if not _MEMBER.fullmatch(f"{name}.npy") or name == _META:
            raise ValueError(f"{path}: cannot store an array named {name!r}")
    arrays = {name: np.ascontiguousarray(value) for name, value in arrays.items()}
    full = {**meta, "format": FORMAT}
    full["digest"] = digest_of(full, arrays)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **{_META: np.array(json.dumps(full, sort_keys=True))}, **arrays)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


# ---------------------------------------------------------------------- read
def read_detector_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The checked ``__meta__`` of a detector file (the arrays are not read, the digest not verified)."""
    with _opened(path) as zf:
        return _meta(path, zf, _members(path, zf))


def read_detector_file(path: str | os.PathLike, require_digest: bool = True) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``(meta, arrays)`` of a detector file, after the size, dtype and digest checks.

    Parameters
    ----------
    path:
        The ``.npz`` file.
    require_digest:
        ``True`` (default): a file without a digest is refused. ``False`` accepts one
        (written by synthfilter before files carried a digest); every other check
        still applies. A file *with* a digest is always verified.
    """
    with _opened(path) as zf:
        members = _members(path, zf)
        meta = _meta(path, zf, members)
        arrays = {name: _read_array(path, zf, info) for name, info in members.items() if name != _META}
    expected = meta.get("digest")
    if expected is None:
        if require_digest:
            raise DetectorFileError(path, "has no digest (written by an older synthfilter?); if you trust it, "
                                          "load it with require_digest=False and save it again")
    elif not hmac.compare_digest(str(expected), digest_of(meta, arrays)):
        raise DetectorFileError(path, "digest mismatch: the file was changed or damaged after it was saved")
    return meta, arrays


class _opened:
    """``zipfile.ZipFile(path)`` whose read errors become :class:`DetectorFileError`."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = path

    def __enter__(self) -> zipfile.ZipFile:
        size = Path(self.path).stat().st_size  # FileNotFoundError stays what it is
        if size > MAX_ARRAY_BYTES + 4 * MAX_META_CHARS:
            raise DetectorFileError(self.path, f"is {size} bytes, more than a detector file may be")
        try:
            self.zf = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise DetectorFileError(self.path, f"not a readable detector file ({exc})") from None
        return self.zf

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        self.zf.close()
        if exc is not None and not isinstance(exc, DetectorFileError) and isinstance(
                exc, (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, RecursionError)):
            raise DetectorFileError(self.path, f"not a readable detector file ({exc})") from None


def _members(path: str | os.PathLike, zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > _MAX_MEMBERS:
        raise DetectorFileError(path, f"holds {len(infos)} members, more than a detector file may")
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if not _MEMBER.fullmatch(info.filename):
            raise DetectorFileError(path, f"unexpected member {info.filename!r} (only .npy arrays are allowed)")
        name = info.filename[:-4]
        if name in members:
            raise DetectorFileError(path, f"array {name!r} is stored twice")
        members[name] = info
    if _META not in members:
        raise DetectorFileError(path, "has no __meta__ record; not a synthfilter detector file")
    declared = sum(info.file_size for name, info in members.items() if name != _META)
    if declared > MAX_ARRAY_BYTES:
        raise DetectorFileError(path, f"declares {declared} bytes of arrays, more than the {MAX_ARRAY_BYTES} allowed")
    if members[_META].file_size > 4 * MAX_META_CHARS + 1024:
        raise DetectorFileError(path, "its __meta__ record is larger than allowed")
    return members


def _array_header(path: str | os.PathLike, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from a member's ``.npy`` header, checked before any data is read."""
    name = info.filename[:-4]
    with zf.open(info) as fp:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(fp)
        else:
            raise DetectorFileError(path, f"array {name!r} uses .npy format {version}, which is not accepted")
    kinds = "U" if name == _META else _ARRAY_KINDS
    if dtype.hasobject or dtype.kind not in kinds or (dtype.kind == "f" and dtype.itemsize not in (2, 4, 8)):
        raise DetectorFileError(path, f"array {name!r} has dtype {dtype}; only float16/float32/float64 "
                                      "(and strings for the name arrays) are accepted")
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > info.file_size:
        raise DetectorFileError(path, f"array {name!r} declares shape {shape}, more data than its member holds")
    return shape, dtype


def _read_array(path: str | os.PathLike, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    _array_header(path, zf, info)
    with zf.open(info) as fp:
        return np.lib.format.read_array(fp, allow_pickle=False)


def _meta(path: str | os.PathLike, zf: zipfile.ZipFile, members: Mapping[str, zipfile.ZipInfo]) -> dict[str, Any]:
    shape, dtype = _array_header(path, zf, members[_META])
    if shape != () or dtype.itemsize > 4 * MAX_META_CHARS:
        raise DetectorFileError(path, "__meta__ must be a single JSON string of at most "
                                      f"{MAX_META_CHARS} characters")
    meta = json.loads(str(_read_array(path, zf, members[_META])))
    _check_meta_layout(path, meta)
    return meta


def _check_meta_layout(path: str | os.PathLike, meta: Any) -> None:
    """Keys and basic types of ``__meta__``; what the values mean is checked by the detector class."""
    if not isinstance(meta, dict):
        raise DetectorFileError(path, "__meta__ is not a JSON object")
    unknown = sorted(set(meta) - META_KEYS)
    if unknown:
        raise DetectorFileError(path, f"unknown __meta__ field(s) {unknown}")
    missing = [key for key in _REQUIRED if key not in meta]
    if missing:
        raise DetectorFileError(path, f"__meta__ lacks {missing}")
    if meta.get("format", FORMAT) != FORMAT:
        raise DetectorFileError(path, f"file format {meta['format']!r} is not supported (expected {FORMAT})")
    if not isinstance(meta["detector"], str):
        raise DetectorFileError(path, f"detector kind {meta['detector']!r} is not a name")
    check_version(path, meta["version"])
    check_threshold(path, meta["threshold"])
    if not isinstance(meta["params"], dict):
        raise DetectorFileError(path, "params is not a JSON object")
    languages = meta.get("languages", [])
    if not (isinstance(languages, list) and len(languages) <= 200
            and all(isinstance(x, str) and re.fullmatch(r"[a-z]{2,3}", x) for x in languages)):
        raise DetectorFileError(path, f"languages {languages!r:.100} is not a list of ISO 639 codes")
    if not isinstance(meta.get("info", {}), dict):
        raise DetectorFileError(path, "info is not a JSON object")
    if "digest" in meta and not (isinstance(meta["digest"], str) and re.fullmatch(r"[0-9a-f]{64}", meta["digest"])):
        raise DetectorFileError(path, "digest is not a SHA-256 hex string")


def check_version(path: str | os.PathLike, version: Any) -> None:
    """A version is a short string of letters, digits and ``_.+:-`` (it ends up in ``sf_detector``)."""
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise DetectorFileError(path, f"version {version!r} is not a short string of letters, digits and _.+:-")


def check_threshold(path: str | os.PathLike, threshold: Any) -> None:
    """A threshold is a finite probability in ``[0, 1]``."""
    ok = isinstance(threshold, (int, float)) and not isinstance(threshold, bool)
    if not ok or not math.isfinite(threshold) or not 0.0 <= threshold <= 1.0:
        raise DetectorFileError(path, f"threshold {threshold!r} is not a finite probability in [0, 1]")
