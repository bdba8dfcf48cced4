"""The project's own files: the license matches pyproject.toml, the metadata a package
index shows is there, and the README and docs name no file or folder that does not exist."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: a repository path in backticks, a link or plain text: `src/openwfm/x.py`, (docs/x.md) ...
PATH = re.compile(r"(?<![\w./-])((?:src|docs|tests|benchmarks|examples)/[\w./*<>-]*[\w/])")


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_license_file_is_the_apache_2_text_pyproject_declares() -> None:
    project = pyproject()["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    # the full text, not a notice: all nine sections and the appendix
    for n, title in enumerate(["Definitions", "Grant of Copyright License",
                               "Grant of Patent License", "Redistribution",
                               "Submission of Contributions", "Trademarks",
                               "Disclaimer of Warranty", "Limitation of Liability",
                               "Accepting Warranty or Additional Liability"], start=1):
        assert f"{n}. {title}." in text, title
    assert "END OF TERMS AND CONDITIONS" in text and "APPENDIX" in text


def test_package_metadata_has_urls_and_classifiers() -> None:
    project = pyproject()["project"]
    assert {"Homepage", "Repository", "Issues", "Documentation"} <= set(project["urls"])
    classifiers = project["classifiers"]
    assert any(c.startswith("Development Status ::") for c in classifiers)
    assert "Programming Language :: Python :: 3.11" in classifiers
    # PEP 639: a license expression replaces the license classifiers (setuptools rejects both)
    assert not [c for c in classifiers if c.startswith("License ::")]


def paths_named(text: str) -> set[str]:
    """Repository paths a doc names (globs and <placeholders> reduced to their folder).

    >>> sorted(paths_named("see `docs/plan.md`, (examples/tejo/) and benchmarks/bench_*.py"))
    ['benchmarks', 'docs/plan.md', 'examples/tejo']
    """
    out = set()
    for m in PATH.finditer(text):
        p = m.group(1).rstrip("/.")
        if any(c in p for c in "*<>"):
            p = p[: min(p.index(c) for c in "*<>" if c in p)].rsplit("/", 1)[0]
        out.add(p)
    return out


def generated(path: str) -> bool:
    """A file the repository ignores because a documented command writes it (e.g.
    examples/tejo/history.csv, written by examples/tejo/make_history.py): it may be named
    by a doc before it exists, as long as its folder exists."""
    ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT,
                             capture_output=True).returncode == 0
    return ignored and (ROOT / path).parent.is_dir()


def test_docs_name_only_files_and_folders_that_exist() -> None:
    missing = []
    for doc in DOCS:
        for p in sorted(paths_named(doc.read_text(encoding="utf-8"))):
            if not (ROOT / p).exists() and not generated(p):
                missing.append(f"{doc.relative_to(ROOT)}: {p}")
    assert missing == []
