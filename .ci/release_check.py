"""The release gate (``tox -e release-check``): versions, changelogs, metadata and public API.

    python .ci/release_check.py [--root DIR] [--dist DIR ...] [--tag TAG] [--github-output FILE]

For each distribution (a directory with a ``pyproject.toml`` and a ``CHANGELOG.md`` beside it; by
default the provider ``.``, the server ``server`` and the contract suite ``contracts``):

* **Metadata**: ``name`` and ``version`` (``X.Y.Z``) are set, the readme and every license file
  exist, ``requires-python`` is set, admits this interpreter and is the same for every
  distribution, and a ``__version__`` in the package, if any, equals the version.
* **Changelog** (Keep a Changelog): ``## [Unreleased]`` first, then ``## [X.Y.Z] - YYYY-MM-DD``
  sections, newest first. The version has an entry: its own section, or, while no tag names that
  version, ``## [Unreleased]`` (the notes of the release being prepared); it is not older than
  the newest section; every release tag has a section. Every heading has a link and every link a
  heading: ``[Unreleased]`` compares the newest section's tag with ``HEAD``, ``[X]`` the previous
  section's tag with X's, the oldest is ``releases/tag/...``; all links of all changelogs point
  at one repository.
* **API**: the package is loaded with griffe from the tree of the latest release tag (exported
  with ``git archive``) and from the working tree; ``griffe.find_breaking_changes`` must find
  nothing, unless the major version was bumped and the version's entry has a line marked
  ``**BREAKING**`` under ``### Removed`` or ``### Changed``. Without an earlier tag it says so:
  "no earlier release of NAME: nothing to compare".

Release tags are ``<name>-v<X.Y.Z>`` (``airflow-movielens-v1.1.0``, ``movielens-api-v1.0.1``,
``movielens-contract-v2.0.0``); the baseline is the highest such tag whose version is not above the
pyproject's and that does not point at ``HEAD`` (so a release commit compares with the release
before it). ``--tag TAG`` (the release workflow) checks only the distribution TAG names and asks
more: TAG's version is the pyproject's, it has a dated section of its own, and the history is not
shallow. ``--github-output`` writes ``name``, ``directory`` and ``version`` of that distribution.

Exit status: 0 every check holds, 1 one fails, 2 the check cannot run (no git repository, a bad tag).
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import io
import platform
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DISTS = (".", "server", "contracts")
#: Public objects of a distribution that are not its API (griffe paths, fnmatch patterns): the
#: contract suite's test modules are run by its runner, not imported by anyone.
API_IGNORE = {
    "movielens-contract": ("movielens_contract.test_*", "movielens_contract.conftest*"),
}
VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")
HEADING = re.compile(r"^## \[(?P<name>[^\]]+)\](?: - (?P<date>\S+))?\s*$")
LINK = re.compile(r"^\[(?P<name>[^\]]+)\]: (?P<url>\S+)\s*$")
REPO_URL = re.compile(r"^(https://github\.com/[^/]+/[^/]+)/")
BREAKING = re.compile(r"\*\*BREAKING\*\*")


class CannotRun(Exception):
    """The check cannot run at all; the message is the one-line reason."""


def parse_version(text: str) -> tuple[int, int, int] | None:
    """``X.Y.Z`` as a tuple, or None for anything else (pre-releases are not used here)."""
    match = VERSION.fullmatch(text)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def tag_name(name: str, version: str) -> str:
    """The release tag of a version of a distribution."""
    return f"{name}-v{version}"


@dataclass
class Section:
    """One ``## [...]`` section of a changelog."""

    name: str
    date: str | None
    line: int
    body: list[str] = field(default_factory=list)

    def subsections(self) -> dict[str, list[str]]:
        """``### Added`` etc. -> their lines."""
        out: dict[str, list[str]] = {}
        current: list[str] | None = None
        for line in self.body:
            if line.startswith("### "):
                current = out.setdefault(line[4:].strip(), [])
            elif current is not None:
                current.append(line)
        return out

    def breaking_notes(self) -> list[str]:
        """Lines marked ``**BREAKING**`` under ``### Removed`` or ``### Changed``."""
        subs = self.subsections()
        return [line for key in ("Removed", "Changed") for line in subs.get(key, []) if BREAKING.search(line)]


@dataclass
class Changelog:
    """A parsed Keep a Changelog file."""

    path: Path
    sections: list[Section]
    links: dict[str, str]
    problems: list[str]

    def section(self, name: str) -> Section | None:
        return next((s for s in self.sections if s.name == name), None)

    @property
    def versions(self) -> list[str]:
        return [s.name for s in self.sections if s.name != "Unreleased"]


def parse_changelog(path: Path) -> Changelog:
    """Parse headings, bodies and link references; record what does not follow the format."""
    sections: list[Section] = []
    links: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        link = LINK.match(line)
        if link:
            if link["name"] in links:
                problems.append(f"{path.name}:{number}: link [{link['name']}] defined twice")
            links[link["name"]] = link["url"]
            continue
        if line.startswith("## "):
            heading = HEADING.match(line)
            if not heading:
                problems.append(f"{path.name}:{number}: heading is not '## [X.Y.Z] - YYYY-MM-DD': {line}")
                continue
            sections.append(Section(heading["name"], heading["date"], number))
        elif sections:
            sections[-1].body.append(line)
    return Changelog(path, sections, links, problems)


@dataclass(frozen=True)
class Dist:
    """One distribution: its directory, metadata and changelog."""

    directory: Path  # relative to the repository root
    name: str
    version: str
    package: str
    pyproject: dict[str, object]


def load_dist(root: Path, directory: str) -> Dist:
    """Read a distribution's pyproject (the package is the first of ``[tool.setuptools] packages``)."""
    path = root / directory / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CannotRun(f"cannot read {path}: {exc}") from None
    project = data.get("project", {})
    packages = data.get("tool", {}).get("setuptools", {}).get("packages", [])
    name = str(project.get("name", ""))
    package = str(packages[0]) if packages else name.replace("-", "_")
    return Dist(Path(directory), name, str(project.get("version", "")), package, project)


def git(root: Path, *args: str) -> str:
    """Run git in ``root``; raise :class:`CannotRun` when it fails."""
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CannotRun(f"git {' '.join(args)}: {done.stderr.strip() or f'exit status {done.returncode}'}")
    return done.stdout


def release_tags(root: Path, name: str) -> dict[str, str]:
    """Version -> commit of every release tag of ``name``."""
    out: dict[str, str] = {}
    listing = git(
        root, "for-each-ref", "--format=%(refname:strip=2) %(objectname) %(*objectname)", "refs/tags"
    )
    for line in listing.splitlines():
        tag, obj, peeled = ([*line.split(" "), "", ""])[:3]
        prefix = f"{name}-v"
        if tag.startswith(prefix) and parse_version(tag[len(prefix) :]):
            out[tag[len(prefix) :]] = peeled or obj
    return out


class Report:
    """Collects the lines of one distribution's check."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.failures: list[str] = []
        self.lines: list[str] = []

    def ok(self, text: str) -> None:
        self.lines.append(f"  ok    {text}")

    def note(self, text: str) -> None:
        self.lines.append(f"  --    {text}")

    def fail(self, text: str) -> None:
        self.failures.append(text)
        self.lines.append(f"  FAIL  {text}")


def check_metadata(root: Path, dist: Dist, report: Report) -> None:
    """Name, version, readme, license files, requires-python, ``__version__``."""
    base = root / dist.directory
    if not dist.name:
        report.fail("pyproject has no [project] name")
    if parse_version(dist.version) is None:
        report.fail(f"version {dist.version!r} is not X.Y.Z")
    readme = dist.pyproject.get("readme")
    readme_file = readme if isinstance(readme, str) else (readme or {}).get("file")  # type: ignore[union-attr]
    if not readme_file or not (base / str(readme_file)).is_file():
        report.fail(f"readme {readme_file!r} is not a file in {dist.directory.as_posix()}/")
    license_files = dist.pyproject.get("license-files") or []
    if not dist.pyproject.get("license") or not license_files:
        report.fail("pyproject needs both 'license' and 'license-files'")
    for pattern in license_files:  # type: ignore[union-attr]
        if not list(base.glob(str(pattern))):
            report.fail(f"license file {pattern!r} matches nothing in {dist.directory.as_posix()}/")
    requires = str(dist.pyproject.get("requires-python", ""))
    if not requires:
        report.fail("requires-python is not set")
    elif not _admits(requires, platform.python_version()):
        report.fail(f"requires-python {requires!r} excludes this Python ({platform.python_version()})")
    init = base / dist.package / "__init__.py"
    if not init.is_file():
        report.fail(f"package {dist.package} has no {init.relative_to(root).as_posix()}")
    else:
        declared = _dunder_version(init)
        if declared is not None and declared != dist.version:
            report.fail(f"{dist.package}.__version__ is {declared!r}, the pyproject says {dist.version!r}")
    if not report.failures:
        report.ok(f"metadata: {dist.name} {dist.version}, readme, license, requires-python {requires}")


def _admits(specifier: str, version: str) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(specifier).contains(version)
    except InvalidSpecifier:
        return False


def _dunder_version(init: Path) -> str | None:
    """A literal ``__version__ = "..."`` of a module, read without importing it."""
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    return None


def check_changelog(
    dist: Dist, log: Changelog, tags: dict[str, str], report: Report, *, release: bool
) -> Section | None:
    """The changelog rules; return the entry of the pyproject's version (None when it has none)."""
    before = len(report.failures)
    for problem in log.problems:
        report.fail(problem)
    if not log.sections or log.sections[0].name != "Unreleased":
        report.fail(f"{log.path.name}: the first section must be '## [Unreleased]'")
    versions = log.versions
    for section in log.sections[1:]:
        if section.name == "Unreleased":
            report.fail(f"{log.path.name}:{section.line}: '## [Unreleased]' must come first")
        elif parse_version(section.name) is None:
            report.fail(f"{log.path.name}:{section.line}: [{section.name}] is not a version X.Y.Z")
        elif not section.date or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", section.date):
            report.fail(f"{log.path.name}:{section.line}: [{section.name}] needs a date: '- YYYY-MM-DD'")
    parsed = [parse_version(v) for v in versions]
    if all(parsed) and parsed != sorted(parsed, reverse=True):  # type: ignore[type-var]
        report.fail(f"{log.path.name}: versions are not newest first: {', '.join(versions)}")
    if len(set(versions)) != len(versions):
        report.fail(f"{log.path.name}: a version has two sections")
    dates = [s.date for s in log.sections if s.name != "Unreleased" and s.date]
    if dates != sorted(dates, reverse=True):
        report.fail(f"{log.path.name}: dates are not newest first")
    for version in sorted(tags, key=parse_version):  # type: ignore[arg-type]
        if version not in versions:
            report.fail(f"tag {tag_name(dist.name, version)} has no section [{version}] in {log.path.name}")

    entry = log.section(dist.version)
    current = parse_version(dist.version)
    newest = parse_version(versions[0]) if versions else None
    if current and newest and current < newest:
        report.fail(f"version {dist.version} is older than the newest section [{versions[0]}]")
    if release:
        if entry is None:
            report.fail(f"{log.path.name} has no section [{dist.version}] for the release")
        elif versions[0] != dist.version:
            report.fail(f"[{dist.version}] is not the newest section of {log.path.name}")
    elif entry is None:
        if dist.version in tags:
            report.fail(f"{dist.version} is tagged but {log.path.name} has no section [{dist.version}]")
        else:
            entry = log.section("Unreleased")
            if entry is None:
                report.fail(f"{log.path.name} has neither [{dist.version}] nor [Unreleased]")
    check_links(dist, log, report)
    if len(report.failures) == before:
        where = f"[{entry.name}]" if entry else "none"
        report.ok(f"changelog {log.path.name}: entry for {dist.version} is {where}; links consistent")
    return entry


def expected_links(name: str, versions: Sequence[str], base: str) -> dict[str, str]:
    """The link references a changelog with these versions (newest first) must have."""
    tags = [tag_name(name, v) for v in versions]
    links = {"Unreleased": f"{base}/compare/{tags[0]}...HEAD" if tags else f"{base}/commits/HEAD"}
    for i, version in enumerate(versions):
        older = tags[i + 1] if i + 1 < len(tags) else None
        links[version] = f"{base}/compare/{older}...{tags[i]}" if older else f"{base}/releases/tag/{tags[i]}"
    return links


def repository_url(log: Changelog) -> str | None:
    """The ``https://github.com/OWNER/REPO`` the changelog's links point at (the first link's)."""
    for url in log.links.values():
        match = REPO_URL.match(url)
        if match:
            return match[1]
    return None


def check_links(dist: Dist, log: Changelog, report: Report) -> None:
    """Every heading has its link, every link a heading, each the URL the tag scheme gives."""
    base = repository_url(log)
    if base is None:
        report.fail(f"{log.path.name}: no link reference to https://github.com/OWNER/REPO/...")
        return
    headings = [s.name for s in log.sections]
    for name in log.links:
        if name not in headings:
            report.fail(f"{log.path.name}: link [{name}] has no section")
    want = expected_links(dist.name, log.versions, base)
    for name in headings:
        if name not in log.links:
            report.fail(f"{log.path.name}: section [{name}] has no link; expected [{name}]: {want.get(name)}")
        elif name in want and log.links[name] != want[name]:
            report.fail(f"{log.path.name}: [{name}]: {log.links[name]} should be {want[name]}")


def baseline(root: Path, dist: Dist, tags: dict[str, str], report: Report) -> str | None:
    """The version to compare the API with: the highest tagged one not above ours, not at HEAD."""
    head = git(root, "rev-parse", "HEAD").strip()
    current = parse_version(dist.version)
    candidates = [v for v, commit in tags.items() if commit != head]
    if current is None:
        return None
    newer = [v for v in candidates if parse_version(v) > current]  # type: ignore[operator]
    if newer:
        report.fail(f"version {dist.version} is below the released {max(newer, key=parse_version)}")  # type: ignore[arg-type]
    older = [v for v in candidates if parse_version(v) <= current]  # type: ignore[operator]
    return max(older, key=parse_version) if older else None  # type: ignore[arg-type]


def export_tree(root: Path, tag: str, path: Path, into: Path) -> Path:
    """Write ``path`` (relative to the repository) as it is at ``tag`` under ``into``; return it."""
    spec = f"{tag}:{path.as_posix()}" if path.as_posix() not in ("", ".") else tag
    data = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", spec], capture_output=True, check=False
    )
    if data.returncode != 0:
        raise CannotRun(f"git archive {spec}: {data.stderr.decode(errors='replace').strip()}")
    target = into / path
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data.stdout)) as archive:
        archive.extractall(target, filter="data")
    return target


def check_api(root: Path, dist: Dist, entry: Section | None, tags: dict[str, str], report: Report) -> None:
    """Compare the public API with the baseline release (griffe)."""
    import griffe

    old_version = baseline(root, dist, tags, report)
    if old_version is None:
        report.note(f"no earlier release of {dist.name}: nothing to compare (API not checked)")
        return
    old_tag = tag_name(dist.name, old_version)
    package_path = (dist.directory / dist.package).as_posix()
    exists = subprocess.run(
        ["git", "-C", str(root), "cat-file", "-e", f"{old_tag}:{package_path}"],
        capture_output=True,
        check=False,
    )
    if exists.returncode != 0:
        report.fail(f"API: {old_tag} has no {package_path}/ to compare with (was the package moved?)")
        return
    with tempfile.TemporaryDirectory(prefix="release-check-") as tmp:
        old_dir = export_tree(root, old_tag, dist.directory / dist.package, Path(tmp)).parent
        loader = {"allow_inspection": False, "try_relative_path": False}
        old = griffe.load(dist.package, search_paths=[old_dir], **loader)  # type: ignore[arg-type]
        new = griffe.load(dist.package, search_paths=[root / dist.directory], **loader)  # type: ignore[arg-type]
        ignore = API_IGNORE.get(dist.name, ())
        breakages = [
            b
            for b in griffe.find_breaking_changes(old, new)
            if not any(fnmatch.fnmatchcase(b.obj.path, pattern) for pattern in ignore)
        ]
    if not breakages:
        report.ok(f"API: no breaking change since {old_tag}")
        return
    explained = [describe(b) for b in breakages]
    major_bumped = parse_version(dist.version)[0] > parse_version(old_version)[0]  # type: ignore[index]
    notes = entry.breaking_notes() if entry else []
    if major_bumped and notes:
        report.ok(
            f"API: {len(breakages)} breaking change(s) since {old_tag}, major version bumped to "
            f"{dist.version} and noted as BREAKING in [{entry.name}]"  # type: ignore[union-attr]
        )
        for line in explained:
            report.note(f"  {line}")
        return
    missing = []
    if not major_bumped:
        missing.append(f"bump the major version (now {dist.version}, released {old_version})")
    if not notes:
        where = f"[{entry.name}]" if entry else "the version's changelog entry"
        missing.append(f"mark a '### Removed' or '### Changed' line of {where} **BREAKING**")
    report.fail(f"API: {len(breakages)} breaking change(s) since {old_tag}; " + " and ".join(missing))
    for line in explained:
        report.lines.append(f"          {line}")


def describe(breakage: object) -> str:
    """One plain line for a griffe breakage: object path, kind, details (no colours, no temp paths)."""
    obj, kind = getattr(breakage, "obj", None), getattr(breakage, "kind", None)
    details = getattr(breakage, "details", "")
    text = f"{getattr(obj, 'path', '?')}: {getattr(kind, 'value', kind)}"
    return f"{text} ({details})" if details else text


def parse_tag(tag: str, dists: Sequence[Dist]) -> tuple[Dist, str]:
    """The distribution and version a release tag names."""
    for dist in dists:
        prefix = f"{dist.name}-v"
        if tag.startswith(prefix) and parse_version(tag[len(prefix) :]):
            return dist, tag[len(prefix) :]
    names = ", ".join(f"{d.name}-vX.Y.Z" for d in dists)
    raise CannotRun(f"{tag!r} is not a release tag (one of {names})")


def run(
    root: Path, directories: Sequence[str], tag: str | None = None, github_output: Path | None = None
) -> int:
    """Check every distribution (or the one ``tag`` names); print the report; return the status."""
    git(root, "rev-parse", "--git-dir")
    dists = [load_dist(root, d) for d in directories]
    selected = dists
    if tag:
        dist, version = parse_tag(tag, dists)
        selected = [dist]
        if github_output:
            with github_output.open("a", encoding="utf-8") as handle:
                handle.write(f"name={dist.name}\ndirectory={dist.directory.as_posix()}\nversion={version}\n")
    failed = False
    shallow = git(root, "rev-parse", "--is-shallow-repository").strip() == "true"
    if shallow:
        print("WARNING: shallow clone: tags may be missing, API comparisons with them too (fetch-depth: 0)")
    requires = {str(d.pyproject.get("requires-python", "")) for d in dists}
    urls: dict[str, str | None] = {}
    for dist in selected:
        report = Report(dist.name)
        if tag:
            _, version = parse_tag(tag, dists)
            if version != dist.version:
                report.fail(
                    f"tag {tag} names {version}, {dist.directory / 'pyproject.toml'} says {dist.version}"
                )
            if shallow:
                report.fail("a release is checked on the full history: fetch it with fetch-depth: 0")
        check_metadata(root, dist, report)
        if len(requires) > 1:
            report.fail(f"requires-python differs between distributions: {sorted(requires)}")
        tags = release_tags(root, dist.name)
        log_path = root / dist.directory / "CHANGELOG.md"
        entry = None
        if not log_path.is_file():
            report.fail(f"no {log_path.relative_to(root).as_posix()}")
        else:
            log = parse_changelog(log_path)
            urls[dist.name] = repository_url(log)
            entry = check_changelog(dist, log, tags, report, release=bool(tag))
        check_api(root, dist, entry, tags, report)
        status = "FAIL" if report.failures else "ok"
        print(f"{dist.name} {dist.version} ({dist.directory.as_posix()}/): {status}")
        print("\n".join(report.lines))
        failed = failed or bool(report.failures)
    if len({u for u in urls.values() if u}) > 1:
        print(f"FAIL  the changelogs link to different repositories: {urls}")
        failed = True
    print(f"release-check: {'FAILED' if failed else 'OK'}")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="repository root (default: this one)")
    parser.add_argument(
        "--dist",
        action="append",
        metavar="DIR",
        help="a distribution's directory (repeatable; default: all three)",
    )
    parser.add_argument("--tag", help="check the release this tag names (the release workflow)")
    parser.add_argument(
        "--github-output", type=Path, help="append name, directory, version of --tag's distribution"
    )
    args = parser.parse_args(argv)
    try:
        return run(args.root.resolve(), args.dist or list(DEFAULT_DISTS), args.tag, args.github_output)
    except CannotRun as exc:
        print(f"release-check: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
