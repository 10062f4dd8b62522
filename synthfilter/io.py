"""Reading and writing datasets for the command line: JSONL, Parquet or a saved ``datasets`` folder."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import datasets

__all__ = ["read_dataset", "write_dataset", "sample_path", "input_files"]

_JSON_SUFFIXES = {".jsonl", ".json", ".ndjson"}


def sample_path() -> Path:
    """Path of the small sample shipped with the package (hand-written illustrations)."""
    return Path(str(resources.files("synthfilter") / "data" / "sample.jsonl"))


def read_dataset(path: str | os.PathLike) -> datasets.Dataset:
    """Load ``path``: a ``.jsonl``/``.json`` file, a ``.parquet`` file, or a folder.

    A folder is read as a saved ``datasets`` folder (``save_to_disk``) when it holds
    ``dataset_info.json``/``state.json``, otherwise as every JSONL or Parquet file in it.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input not found: {path}")
    if path.is_dir():
        if (path / "state.json").exists():
            return datasets.load_from_disk(str(path))
        files = sorted(p for p in path.iterdir() if p.suffix in _JSON_SUFFIXES | {".parquet"})
        if not files:
            raise ValueError(f"{path}: folder holds no .jsonl or .parquet files and is not a saved dataset")
        kinds = {"parquet" if p.suffix == ".parquet" else "json" for p in files}
        if len(kinds) > 1:
            raise ValueError(f"{path}: mixes JSONL and Parquet files; keep one format per folder")
        return datasets.load_dataset(kinds.pop(), data_files=[str(p) for p in files], split="train")
    if path.suffix in _JSON_SUFFIXES:
        return datasets.load_dataset("json", data_files=str(path), split="train")
    if path.suffix == ".parquet":
        return datasets.load_dataset("parquet", data_files=str(path), split="train")
    raise ValueError(f"{path}: expected a .jsonl, .json, .parquet file or a folder")


def input_files(path: str | os.PathLike) -> list[Path]:
    """The JSONL or Parquet files ``path`` names: the file itself, or those in the folder (sorted, one format)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input not found: {path}")
    if path.is_file():
        if path.suffix not in _JSON_SUFFIXES | {".parquet"}:
            raise ValueError(f"{path}: expected a .jsonl, .json or .parquet file")
        return [path]
    files = sorted(p for p in path.iterdir() if p.suffix in _JSON_SUFFIXES | {".parquet"})
    if not files:
        raise ValueError(f"{path}: folder holds no .jsonl or .parquet files")
    if len({p.suffix == ".parquet" for p in files}) > 1:
        raise ValueError(f"{path}: mixes JSONL and Parquet files; keep one format per folder")
    return files


def write_dataset(ds: datasets.Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` to ``path`` in the format its suffix names (``.jsonl``, ``.parquet``, else a folder)."""
    path = Path(path)
    if path.suffix in _JSON_SUFFIXES:
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.to_json(str(path), lines=True)
    elif path.suffix == ".parquet":
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.to_parquet(str(path))
    else:
        ds.save_to_disk(str(path))
    return path
