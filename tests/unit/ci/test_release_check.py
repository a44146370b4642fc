"""The release gate (.ci/release_check.py) on throwaway git repositories with a tiny package.

Needs griffe and packaging, which ``tox -e release-check`` installs (it runs this file before the
gate itself); elsewhere (unit-af33 collects ``tests/unit/ci``) the module is skipped.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("griffe", reason="griffe is installed by tox -e release-check, which runs these tests")
pytest.importorskip("packaging")

SCRIPT = Path(__file__).resolve().parents[3] / ".ci" / "release_check.py"
NAME = "tinypkg"
BASE = "https://github.com/example/tiny"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("release_check", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


release_check = _load()


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def _changelog(*sections: tuple[str, str | None, str]) -> str:
    """A changelog with ``(name, date, body)`` sections, newest first, and the links they need."""
    text = "# Changelog\n\n"
    for name, date, body in sections:
        text += f"## [{name}]" + (f" - {date}" if date else "") + f"\n\n{body}\n"
    versions = [name for name, _, _ in sections if name != "Unreleased"]
    for name, url in release_check.expected_links(NAME, versions, BASE).items():
        text += f"[{name}]: {url}\n"
    return text


API_V1 = '"""Tiny."""\n\n\ndef public(x: int) -> int:\n    return x\n\n\ndef kept() -> None:\n    pass\n'
API_WITHOUT_PUBLIC = '"""Tiny."""\n\n\ndef kept() -> None:\n    pass\n'


def _write(repo: Path, version: str, api: str, changelog: str, dunder: str | None = None) -> None:
    (repo / "pyproject.toml").write_text(
        "[project]\n"
        f'name = "{NAME}"\nversion = "{version}"\nreadme = "README.md"\nrequires-python = ">=3.10"\n'
        'license = "MIT"\nlicense-files = ["LICENSE"]\n\n'
        f'[tool.setuptools]\npackages = ["{NAME}"]\n',
        encoding="utf-8",
    )
    (repo / "README.md").write_text("# tiny\n", encoding="utf-8")
    (repo / "LICENSE").write_text("MIT\n", encoding="utf-8")
    (repo / NAME).mkdir(exist_ok=True)
    prefix = f'__version__ = "{dunder}"\n\n' if dunder else ""
    (repo / NAME / "__init__.py").write_text(prefix + api, encoding="utf-8")
    (repo / "CHANGELOG.md").write_text(changelog, encoding="utf-8")


def _commit(repo: Path, message: str) -> None:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with tinypkg 1.0.0 committed (not tagged)."""
    path = tmp_path / "repo"
    path.mkdir()
    _git(path, "init", "-q", "-b", "main")
    _write(
        path,
        "1.0.0",
        API_V1,
        _changelog(("Unreleased", None, ""), ("1.0.0", "2026-01-01", "### Added\n\n- x")),
    )
    _commit(path, "v1")
    return path


@pytest.fixture
def released(repo: Path) -> Path:
    """The same, tagged tinypkg-v1.0.0, with one more commit on top."""
    _git(repo, "tag", "-a", f"{NAME}-v1.0.0", "-m", "release")
    (repo / "NOTES").write_text("after the release\n", encoding="utf-8")
    _commit(repo, "after")
    return repo


def _check(repo: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = release_check.main(["--root", str(repo), "--dist", ".", *args])
    out, err = capsys.readouterr()
    return code, out + err


def test_no_tag_reports_nothing_to_compare_and_claims_no_pass(repo, capsys):
    code, out = _check(repo, capsys)
    assert code == 0, out
    assert f"no earlier release of {NAME}: nothing to compare" in out
    assert "no breaking change" not in out
    assert "release-check: OK" in out


def test_unchanged_api_since_the_tag_passes(released, capsys):
    code, out = _check(released, capsys)
    assert code == 0, out
    assert f"API: no breaking change since {NAME}-v1.0.0" in out


def test_removed_public_function_fails_without_a_major_bump(released, capsys):
    _write(
        released,
        "1.1.0",
        API_WITHOUT_PUBLIC,
        _changelog(("Unreleased", None, "### Removed\n\n- public()"), ("1.0.0", "2026-01-01", "- x")),
    )
    code, out = _check(released, capsys)
    assert code == 1, out
    assert f"1 breaking change(s) since {NAME}-v1.0.0" in out
    assert "bump the major version" in out
    assert f"{NAME}.public: Public object was removed" in out


def test_major_bump_without_a_breaking_note_fails(released, capsys):
    _write(
        released,
        "2.0.0",
        API_WITHOUT_PUBLIC,
        _changelog(("Unreleased", None, "### Removed\n\n- public()"), ("1.0.0", "2026-01-01", "- x")),
    )
    code, out = _check(released, capsys)
    assert code == 1, out
    assert "bump the major version" not in out
    assert "**BREAKING**" in out


def test_breaking_note_without_a_major_bump_fails(released, capsys):
    body = "### Removed\n\n- **BREAKING** `public()` is gone."
    _write(
        released,
        "1.1.0",
        API_WITHOUT_PUBLIC,
        _changelog(("Unreleased", None, body), ("1.0.0", "2026-01-01", "- x")),
    )
    code, out = _check(released, capsys)
    assert code == 1, out
    assert "bump the major version (now 1.1.0, released 1.0.0)" in out


def test_major_bump_noted_as_breaking_passes(released, capsys):
    body = "### Removed\n\n- **BREAKING** `public()` is gone; use `kept()`."
    _write(
        released,
        "2.0.0",
        API_WITHOUT_PUBLIC,
        _changelog(("Unreleased", None, body), ("1.0.0", "2026-01-01", "- x")),
    )
    code, out = _check(released, capsys)
    assert code == 0, out
    assert "major version bumped to 2.0.0 and noted as BREAKING in [Unreleased]" in out


def test_release_tag_mode_compares_with_the_release_before(released, capsys, tmp_path):
    body = "### Removed\n\n- **BREAKING** `public()` is gone."
    _write(
        released,
        "2.0.0",
        API_WITHOUT_PUBLIC,
        _changelog(("Unreleased", None, ""), ("2.0.0", "2026-02-01", body), ("1.0.0", "2026-01-01", "- x")),
    )
    _commit(released, "release 2.0.0")
    _git(released, "tag", "-a", f"{NAME}-v2.0.0", "-m", "release")
    output = tmp_path / "github_output"
    code, out = _check(released, capsys, "--tag", f"{NAME}-v2.0.0", "--github-output", str(output))
    assert code == 0, out
    assert f"since {NAME}-v1.0.0, major version bumped to 2.0.0" in out
    assert output.read_text(encoding="utf-8") == f"name={NAME}\ndirectory=.\nversion=2.0.0\n"


def test_release_tag_mode_needs_the_dated_section(released, capsys):
    _write(released, "1.1.0", API_V1, _changelog(("Unreleased", None, "- y"), ("1.0.0", "2026-01-01", "- x")))
    code, out = _check(released, capsys, "--tag", f"{NAME}-v1.1.0")
    assert code == 1, out
    assert "has no section [1.1.0] for the release" in out


def test_tag_naming_another_version_fails(repo, capsys):
    code, out = _check(repo, capsys, "--tag", f"{NAME}-v9.9.9")
    assert code == 1, out
    assert f"tag {NAME}-v9.9.9 names 9.9.9" in out


def test_not_a_release_tag_cannot_run(repo, capsys):
    code, out = _check(repo, capsys, "--tag", "v1.0.0")
    assert code == 2
    assert "not a release tag" in out


def test_untagged_version_may_live_under_unreleased(repo, capsys):
    _write(repo, "1.1.0", API_V1, _changelog(("Unreleased", None, "- y"), ("1.0.0", "2026-01-01", "- x")))
    code, out = _check(repo, capsys)
    assert code == 0, out
    assert "entry for 1.1.0 is [Unreleased]" in out


def test_tagged_version_needs_its_section(released, capsys):
    _write(released, "1.0.0", API_V1, _changelog(("Unreleased", None, "- y")))
    code, out = _check(released, capsys)
    assert code == 1, out
    assert f"tag {NAME}-v1.0.0 has no section [1.0.0]" in out


def test_version_older_than_the_changelog_fails(repo, capsys):
    _write(repo, "0.9.0", API_V1, _changelog(("Unreleased", None, ""), ("1.0.0", "2026-01-01", "- x")))
    code, out = _check(repo, capsys)
    assert code == 1, out
    assert "older than the newest section [1.0.0]" in out


@pytest.mark.parametrize(
    ("mangle", "fragment"),
    [
        (lambda t: t.replace(f"compare/{NAME}-v1.0.0...HEAD", "compare/v1.0.0...HEAD"), "should be"),
        (
            lambda t: t.replace(f"[1.0.0]: {BASE}/releases/tag/{NAME}-v1.0.0\n", ""),
            "section [1.0.0] has no link",
        ),
        (
            lambda t: t + "[0.9.0]: https://github.com/example/tiny/releases/tag/x\n",
            "link [0.9.0] has no section",
        ),
        (lambda t: t.replace("## [Unreleased]\n", ""), "first section must be"),
        (lambda t: t.replace("## [1.0.0] - 2026-01-01", "## [1.0.0]"), "needs a date"),
        (lambda t: t.replace("## [1.0.0] - 2026-01-01", "## 1.0.0"), "heading is not"),
    ],
)
def test_changelog_format_and_links(repo, capsys, mangle, fragment):
    log = repo / "CHANGELOG.md"
    log.write_text(mangle(log.read_text(encoding="utf-8")), encoding="utf-8")
    code, out = _check(repo, capsys)
    assert code == 1, out
    assert fragment in out


def test_metadata_problems(repo, capsys):
    _write(repo, "1.0.0", API_V1, (repo / "CHANGELOG.md").read_text(encoding="utf-8"), dunder="0.1.0")
    (repo / "LICENSE").unlink()
    (repo / "README.md").unlink()
    code, out = _check(repo, capsys)
    assert code == 1, out
    assert "license file 'LICENSE' matches nothing" in out
    assert "readme 'README.md' is not a file" in out
    assert "tinypkg.__version__ is '0.1.0'" in out


def test_not_a_git_repository_cannot_run(tmp_path, capsys):
    code, out = _check(tmp_path, capsys)
    assert code == 2
    assert "release-check: error:" in out


def test_expected_links_follow_the_tag_scheme():
    assert release_check.expected_links("x", ["2.0.0", "1.0.0"], "https://github.com/o/r") == {
        "Unreleased": "https://github.com/o/r/compare/x-v2.0.0...HEAD",
        "2.0.0": "https://github.com/o/r/compare/x-v1.0.0...x-v2.0.0",
        "1.0.0": "https://github.com/o/r/releases/tag/x-v1.0.0",
    }


def test_this_repository_passes(capsys):
    """The gate passes on the repository as it is (no release tags yet: nothing to compare)."""
    code = release_check.main([])
    out = capsys.readouterr().out
    assert code == 0, out
    for name in ("airflow-movielens", "movielens-api", "movielens-contract"):
        assert f"{name} " in out
