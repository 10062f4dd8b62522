"""Reading and writing datasets for the command line and the pipeline.

Reading (:func:`read_dataset`, :func:`input_files`, :func:`input_fingerprints`)
-------------------------------------------------------------------------------
Every file is read through ``datasets``' own loaders (``load_dataset("json" | "csv" |
"parquet" | "arrow")``, ``load_from_disk`` for a ``save_to_disk`` folder). Recognised
data files, by name, in any letter case (``.JSONL``, ``.Parquet``, ``.JSON.GZ``):

* JSON: ``.jsonl``, ``.ndjson``, ``.json`` (JSON lines, or one JSON array of objects);
* CSV: ``.csv``;
* Parquet: ``.parquet``;
* Arrow: ``.arrow`` (stream files as ``datasets`` writes them; IPC files too);
* JSON and CSV compressed as ``.gz``, ``.bz2``, ``.xz`` or ``.zst`` (e.g. ``x.jsonl.gz``).
  ``datasets`` decompresses them (by their magic number); ``.zst`` needs the
  ``zstandard`` package.

A folder is read recursively; files come in order of their relative path (compared
folder by folder: ``a.jsonl`` < ``sub/b.jsonl`` < ``sub/deeper/c.parquet``), rows in
file order. Names starting with ``.`` or ``_`` (``.DS_Store``, ``_SUCCESS``,
``_CHECKSUMS.json``, ``.synthfilter.lock``, temporary files of an unfinished write)
are skipped, folders so named too. Every other file must be a recognised data file:
anything else fails the call with a ``ValueError`` naming it; nothing is skipped
silently. A folder that holds ``state.json`` and ``dataset_info.json`` is a saved
``datasets`` folder and is read with ``load_from_disk`` (at the top or nested); a
saved ``DatasetDict`` is refused (point at one split's folder).

Files of different formats in one folder are read one by one and concatenated. Their
columns must agree: a file with other columns fails the call with a ``ValueError``
naming both files and the differing columns; so does a type conflict (``id`` int in
one file, string in another). Compatible types are widened: a column that is all
null in one file, ``string``/``large_string``, integers of different widths, integers
with floats, and nested structs whose fields differ (missing fields become null).
A file that is not readable data (corrupt Parquet, an invalid JSON line, binary junk)
fails with a ``ValueError`` naming the file (and the line, for JSON).

Empty files: a text file (JSON/CSV, compressed or not) with no bytes, only white space
or a CSV header alone holds zero rows, and so does a Parquet/Arrow file without rows;
such files are skipped (their columns are not compared with the others'). A 0-byte
Parquet or Arrow file is corrupt (``ValueError``). An input whose files hold no rows at
all is refused with a ``ValueError`` ("the input holds no rows").

Writing
-------
:func:`write_dataset` writes to a hidden temporary name in the output's folder
(``.NAME.tmp-<pid>-<random>``) and renames it over ``NAME`` only when complete, so a
crash never leaves a half-written file under the final name (a leftover temporary
file is hidden, hence skipped by the reader). :func:`check_output` refuses an output
that is, is inside, or contains the input. :class:`RunLock` keeps two runs from
writing into one folder; :func:`write_checksums`/:func:`verify_checksums` detect a
changed, truncated, added or removed file in a finished folder.

Modules: :mod:`~synthfilter.io.files` (which files, their format, fingerprints),
:mod:`~synthfilter.io.read` (with :mod:`~synthfilter.io.diagnose`, where a text file goes wrong, and
:mod:`~synthfilter.io.exact_json`, JSON values read exactly), :mod:`~synthfilter.io.write` (output safety,
atomic writes),
:mod:`~synthfilter.io.lock`, :mod:`~synthfilter.io.checksums`.
"""

from .._face import lazy_face


__all__ = [
    "read_dataset",
    "write_dataset",
    "sample_path",
    "input_files",
    "input_fingerprints",
    "data_format",
    "check_output",
    "atomic_path",
    "atomic_write_text",
    "atomic_write_bytes",
    "RunLock",
    "LockedError",
    "StaleLockWarning",
    "sha256_file",
    "write_checksums",
    "verify_checksums",
    "recorded_files",
    "CHECKSUMS_NAME",
    "LOCK_NAME",
]

__getattr__, __dir__ = lazy_face(__name__, {
    ".checksums": ["recorded_files", "verify_checksums", "write_checksums"],
    ".files": ["CHECKSUMS_NAME", "LOCK_NAME", "data_format", "input_files", "input_fingerprints", "sample_path",
               "sha256_file"],
    ".lock": ["LockedError", "RunLock", "StaleLockWarning"],
    ".read": ["read_dataset"],
    ".write": ["atomic_path", "atomic_write_bytes", "atomic_write_text", "check_output", "write_dataset"],
})
