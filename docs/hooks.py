"""MkDocs hooks: pages generated from the code, so the site cannot drift from it.

* ``<!-- generated:clauses -->``, ``<!-- generated:capabilities -->`` and
  ``<!-- generated:bad-inputs -->`` are replaced by the tables of the contract suite's registry
  (``contracts/movielens_contract/clauses.py`` and ``bad_inputs.py``), read from the checkout;
* ``<!-- generated:changelog -->``, ``<!-- generated:changelog-server -->`` and
  ``<!-- generated:changelog-contract -->`` by ``CHANGELOG.md``, ``server/CHANGELOG.md`` and
  ``contracts/CHANGELOG.md`` (one changelog per distribution);
* the benchmark plots (``bench/results/*.png``) are published under ``benchmarks/``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
PLOTS = ROOT / "bench" / "results"


def _suite_module(name: str) -> ModuleType:
    """A module of the contract suite, loaded from the checkout (the package needs no install)."""
    package = "movielens_contract"
    if package not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            package,
            ROOT / "contracts" / package / "__init__.py",
            submodule_search_locations=[str(ROOT / "contracts" / package)],
        )
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[package] = module
        spec.loader.exec_module(module)
    return importlib.import_module(f"{package}.{name}")


def _generated() -> dict[str, str]:
    clauses = _suite_module("clauses")
    bad_inputs = _suite_module("bad_inputs")
    changelogs = {
        f"changelog{suffix}": (ROOT / path).read_text(encoding="utf-8").split("\n", 1)[1]
        for suffix, path in (
            ("", "CHANGELOG.md"),
            ("-server", "server/CHANGELOG.md"),
            ("-contract", "contracts/CHANGELOG.md"),
        )
    }
    return {
        "clauses": clauses.markdown_table(),
        "capabilities": clauses.capabilities_table(),
        "bad-inputs": bad_inputs.markdown_table(),
        **changelogs,
    }


def on_page_markdown(markdown: str, **_: Any) -> str:
    for name, text in _generated().items():
        markdown = markdown.replace(f"<!-- generated:{name} -->", text)
    return markdown


def on_files(files: Files, config: Any) -> Files:
    for plot in sorted(PLOTS.glob("*.png")):
        files.append(File.generated(config, f"benchmarks/{plot.name}", abs_src_path=str(plot)))
    return files
