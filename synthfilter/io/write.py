"""Writing outputs: output-path safety, atomic writes, every format by its suffix."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import lzma
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Iterator

import datasets

from .files import COMPRESSIONS, data_format, input_tree, is_saved_folder, need_zstandard



# --------------------------------------------------------------------------- output safety
def real_path(path: str | os.PathLike) -> Path:
    """Resolve symlinks; a path not there yet is taken by its resolved parent."""
    return Path(os.path.realpath(os.path.abspath(path)))


def check_output(input_path: str | os.PathLike | Iterable[str | os.PathLike | None], *output_paths: str | os.PathLike
                 ) -> None:
    """Raise ``ValueError`` when writing any of ``output_paths`` could overwrite or mix with an input:
    an output is an input file, lies inside a folder the input is read from, or is a folder holding
    an input file.

    ``input_path`` may be one path or several (e.g. the input and a reference set; ``None``
    entries are ignored). Pass every file a command writes (the output and a report beside
    it, say). Symlinks are resolved everywhere: in the outputs, and in the input, whose
    files and folders are taken as its walk reaches them (a symlinked file or folder inside
    an input folder counts where it really is); hard links to an input file count as it.
    A not-yet-existing output is judged by its resolved parent.
    """
    inputs = [input_path] if isinstance(input_path, (str, os.PathLike)) else [p for p in input_path if p is not None]
    trees = []
    for given in inputs:
        files, folders = input_tree(given)
        inodes = {}
        for f in files:
            with contextlib.suppress(OSError):
                st = os.stat(f)
                inodes[(st.st_dev, st.st_ino)] = f
        trees.append((given, real_path(given), files, folders, inodes))
    for output_path in output_paths:
        _check_one(trees, output_path)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or str(path).startswith(str(folder).rstrip(os.sep) + os.sep)


def _check_one(trees: list[tuple[Any, ...]], output_path: str | os.PathLike) -> None:
    out = real_path(output_path)
    try:
        st = os.stat(out)
        out_inode = (st.st_dev, st.st_ino)
    except OSError:
        out_inode = None
    for given, inp, files, folders, inodes in trees:
        also = f" (both resolve to {out})" if str(output_path) != str(given) else ""
        hit = inodes.get(out_inode) if out_inode else None
        if out == inp or hit is not None or out in files:
            which = "" if hit in (None, inp) and out == inp else f" file {hit or out}"
            raise ValueError(f"output {output_path} is the input{which}{also}; choose another output path")
        for folder in folders:
            if _inside(out, folder):
                where = given if folder == inp else f"{given} (it reads {folder}, through a symlink)"
                raise ValueError(f"output {output_path} is inside the input folder {where}; choose an output "
                                 f"outside it")
        if _inside(inp, out) or any(_inside(f, out) for f in files):
            raise ValueError(f"output {output_path} contains the input {given}; choose an output that does "
                             f"not hold the input")


# --------------------------------------------------------------------------- atomic writes
def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_tree(path: Path) -> None:
    if path.is_dir():
        for root, _, files in os.walk(path):
            for name in files:
                _fsync(Path(root) / name)
            _fsync(Path(root))
    else:
        _fsync(path)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _temp_name(path: Path, kind: str = "tmp") -> Path:
    return path.parent / f".{path.name}.{kind}-{os.getpid()}-{secrets.token_hex(3)}"


@contextlib.contextmanager
def naming(path: str | os.PathLike, doing: str = "write") -> Iterator[None]:
    """Re-raise an ``OSError`` raised inside the block that names no file (a full disk seen by a
    library's writer: ``[Errno 28] No space left on device``) as one naming ``path``."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None or str(path) in str(exc):
            raise
        raise OSError(exc.errno, f"cannot {doing} {path}: {exc.strerror or exc}") from exc


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (``.NAME.tmp-<pid>-<random>``) to write a file
    to; when the block ends without error the file is synced and renamed over ``path``
    (``os.replace``); on error it is removed and ``path`` is left as it was."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"output {path} is a folder; expected a file path")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path)
    try:
        with naming(path):
            yield tmp
            if not tmp.is_file():
                raise FileNotFoundError(f"nothing was written to the temporary file for {path}")
            _fsync(tmp)
            os.replace(tmp, path)
            _fsync(path.parent)
    except BaseException:
        _remove(tmp)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename)."""
    with atomic_path(path) as tmp:
        with open(tmp, "xb") as handle:
            handle.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (temporary file, fsync, rename)."""
    return atomic_write_bytes(path, text.encode(encoding))


_SAVED_NAMES = re.compile(r"(state\.json|dataset_info\.json|data-\d+-of-\d+\.arrow|cache-.*\.arrow|\.DS_Store)")


def _replaceable_folder(path: Path) -> bool:
    """An existing output folder may be replaced only when empty or a saved dataset."""
    names = os.listdir(path)
    if not names:
        return True
    return is_saved_folder(path) and all(_SAVED_NAMES.fullmatch(n) and (path / n).is_file() for n in names)


def _write_folder(ds: datasets.Dataset, path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise ValueError(f"output {path} exists and is a file; a folder output (save_to_disk) would replace it: "
                         f"remove it or name a .jsonl/.parquet/.csv/.arrow file")
    if path.is_dir() and not _replaceable_folder(path):
        raise ValueError(f"output {path} is a folder that is not a saved dataset; refusing to replace what it "
                         f"holds: choose another output or empty it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path)
    try:
        with naming(path):
            ds.save_to_disk(str(tmp))
        _fsync_tree(tmp)
        if path.exists():
            old = _temp_name(path, "old")
            os.rename(path, old)
            try:
                os.rename(tmp, path)
            except BaseException:
                os.rename(old, path)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, path)
        _fsync(path.parent)
    except BaseException:
        _remove(tmp)
        raise


@contextlib.contextmanager
def _compressed(raw: BinaryIO, compression: str | None, name: str) -> Iterator[BinaryIO]:
    if compression is None:
        yield raw
        return
    if compression == "gzip":
        stream: Any = gzip.GzipFile(filename=name, mode="wb", fileobj=raw)
    elif compression == "bz2":
        stream = bz2.BZ2File(raw, "wb")
    elif compression == "xz":
        stream = lzma.LZMAFile(raw, "wb")
    else:
        stream = need_zstandard(Path(name)).ZstdCompressor().stream_writer(raw, closefd=False)
    with stream:
        yield stream


def _write_arrow(ds: datasets.Dataset, path: Path) -> None:
    from datasets.arrow_writer import ArrowWriter

    with ArrowWriter(path=str(path), features=ds.features) as writer:
        for table in ds.with_format("arrow").iter(batch_size=10_000):
            writer.write_table(table)
        writer.finalize()


def write_dataset(ds: datasets.Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` atomically in the format ``path``'s suffix names, in any letter case:
    ``.jsonl``/``.json``/``.ndjson`` (JSON lines), ``.csv``, ``.parquet``, ``.arrow``, JSON
    and CSV compressed as ``.gz``/``.bz2``/``.xz``/``.zst``; any other path is a folder
    (``save_to_disk``), which replaces an existing folder only when that is empty or a
    saved dataset. The data goes to a hidden temporary name first and is renamed into
    place when complete."""
    path = Path(path)
    try:
        fmt, compression = data_format(path)
    except ValueError:
        if path.suffix.lower() in COMPRESSIONS:
            raise ValueError(f"output {path}: only JSON and CSV outputs may be compressed "
                             f"(e.g. out.jsonl.gz)") from None
        _write_folder(ds, path)
        return path
    if compression == "zstd":
        need_zstandard(path)
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            ds.to_parquet(str(tmp))
        elif fmt == "arrow":
            _write_arrow(ds, tmp)
        else:
            inner = path.name[: -len(path.suffix)] if compression else path.name
            with open(tmp, "xb") as raw, _compressed(raw, compression, inner) as out:
                if fmt == "json":
                    ds.to_json(out, lines=True)
                else:
                    ds.to_csv(out)
    return path
