"""Package faces that import on first use (PEP 562), so that ``import synthfilter`` and the command line's
``--help`` load no model library, and ``sf.tag``, ``sf.Embedder`` still resolve as before."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Callable, Mapping, Sequence

__all__ = ["lazy_face"]


class _Face(types.ModuleType):
    """A package whose public names are loaded on first use.

    Importing a submodule makes Python set it as an attribute of its package; where the submodule shares its
    name with a public object (``synthfilter.tag``, the module, and ``synthfilter.tag``, the transform), the
    object wins, as it did when the face imported it eagerly.
    """

    def __setattr__(self, name: str, value: object) -> None:
        export = self.__dict__.get("_face_exports", {}).get(name)
        if export is not None and not export.endswith(":") and isinstance(value, types.ModuleType) \
                and value.__name__ == f"{self.__name__}.{name}":
            return  # the public object of that name wins; the module stays in sys.modules
        super().__setattr__(name, value)


def lazy_face(package: str, exports: Mapping[str, Sequence[str]]) -> tuple[Callable[[str], object],
                                                                        Callable[[], list[str]]]:
    """Make ``package`` (a package's ``__name__``) load its public names on first use.

    ``exports`` maps a relative module (``".tag"``) to the names it gives the face (``["Tagger", "tag"]``);
    the name ``":"`` stands for that module itself (``{".metrics": [":"]}`` makes ``package.metrics`` the
    module). Returns the module's ``__getattr__`` and ``__dir__``; a loaded name is cached in the package.
    """
    where: dict[str, str] = {}
    for module, names in exports.items():
        for name in names:
            where[module.rsplit(".", 1)[-1] if name == ":" else name] = f"{module}:" if name == ":" else module
    face = sys.modules[package]
    face.__class__ = _Face
    face.__dict__["_face_exports"] = where

    def __getattr__(name: str) -> object:
        module = where.get(name)
        if module is None:  # a subpackage or module not yet imported (``sf.quota``), as an eager face had it
            if name.startswith("__") or importlib.util.find_spec(f"{package}.{name}") is None:
                raise AttributeError(f"module {package!r} has no attribute {name!r}")
            return importlib.import_module(f"{package}.{name}")
        if module.endswith(":"):
            value = importlib.import_module(module[:-1], package)
        else:
            value = getattr(importlib.import_module(module, package), name)
        face.__dict__[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(face.__dict__) | set(where))

    return __getattr__, __dir__
