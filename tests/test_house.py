"""The house: the import graph has no circles and no import running back up, no module is over 400 lines,
and the command line's help imports no heavy library."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import import_graph  # noqa: E402

HEAVY = ("torch", "transformers", "datasets", "sklearn", "pyarrow", "ray", "pandas", "scipy")


@pytest.fixture(scope="module")
def graph():
    return import_graph.report()


def test_the_import_graph_has_no_circles(graph):
    assert graph["circles"] == [] and graph["package_circles"] == []


def test_no_import_runs_back_up(graph):
    assert graph["upward_imports"] == []


def test_no_module_is_over_400_lines(graph):
    assert graph["long_modules"] == {}


def test_the_graph_tool_finds_a_circle_and_an_upward_import(tmp_path):
    pkg = tmp_path / "synthfilter"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from ._face import lazy_face\n"
                                     "__getattr__, __dir__ = lazy_face(__name__, {'.top': ['f']})\n")
    (pkg / "top.py").write_text("from .sub import g\n")
    (pkg / "sub" / "__init__.py").write_text("from .a import g\n")
    (pkg / "sub" / "a.py").write_text("def g():\n    from .b import h\n")
    (pkg / "sub" / "b.py").write_text("from . import a\nfrom ..top import f\n")
    rep = import_graph.report(tmp_path)
    assert any({"synthfilter.sub.a", "synthfilter.sub.b"} <= set(c) for c in rep["circles"])
    assert {(u["module"], u["imports"]) for u in rep["upward_imports"]} == {("synthfilter.sub.b", "synthfilter.top")}
    assert ["sub", "top"] in rep["package_circles"]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sys.modules), file=sys.stderr)"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    return {m.split(".")[0] for m in out.stderr.strip().splitlines()[-1].split()}


def test_importing_the_package_and_its_command_line_loads_no_heavy_library():
    loaded = _modules_after("import synthfilter, synthfilter.cli")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_building_every_commands_help_loads_no_heavy_library():
    code = ("from synthfilter.cli import main\n"
            "for argv in (['--help'], ['clean', '--help'], ['tag', '--help'], ['detector', 'train', '--help'],\n"
            "             ['collapse', 'run', '--help'], ['reservoir', 'add', '--help'], ['quota', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass")
    loaded = _modules_after(code)
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_the_package_face_still_resolves_its_names():
    import synthfilter as sf
    from synthfilter.tag import Tagger

    assert isinstance(sf.tag, Tagger) and sf.Tagger is Tagger
    import synthfilter.tag  # noqa: F401  (importing the module must not replace the transform)
    assert isinstance(sf.tag, Tagger)
    assert callable(sf.quota.mix) and sf.quota.mix is sf.mix
    assert set(sf.__all__) <= set(dir(sf))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        sf.nothing  # noqa: B018


def test_the_input_and_output_help_say_what_io_reads_and_writes():
    from synthfilter.cli import build_parser
    from synthfilter.commands import INPUT_HELP, OUTPUT_HELP
    from synthfilter.io.files import COMPRESSIONS, FORMATS

    for text in (INPUT_HELP, OUTPUT_HELP):
        assert all(ext in text for ext in list(FORMATS) + list(COMPRESSIONS)), text
    assert "saved datasets folder" in INPUT_HELP and "folder of them" in INPUT_HELP
    assert "any other path is written as a saved datasets folder" in OUTPUT_HELP
    sub = build_parser()._subparsers._group_actions[0].choices
    for command in ("tag", "quota", "resample", "clean", "estimate"):
        helps = {a.dest: a.help for a in sub[command]._actions}
        assert helps["input"].startswith(INPUT_HELP), command
    assert sub["tag"]._actions[2].help == OUTPUT_HELP
