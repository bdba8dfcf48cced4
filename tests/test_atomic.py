"""Outputs are all-or-nothing: a failure leaves the previous state untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from openwfm.io.atomic import atomic_dir, atomic_path


def test_failed_write_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_failed_dir_keeps_old_content(tmp_path: Path) -> None:
    target = tmp_path / "run"
    with atomic_dir(target) as tmp:
        (tmp / "a.csv").write_text("old")
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "a.csv").write_text("new")
        raise RuntimeError("boom")
    assert (target / "a.csv").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_successful_dir_replaces_whole(tmp_path: Path) -> None:
    target = tmp_path / "run"
    with atomic_dir(target) as tmp:
        (tmp / "a.csv").write_text("old")
    with atomic_dir(target) as tmp:
        (tmp / "b.csv").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["b.csv"]


def test_outputs_have_ordinary_permissions(tmp_path: Path) -> None:
    import os
    import stat

    mask = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "f.csv") as tmp:
            tmp.write_text("x")
        with atomic_dir(tmp_path / "d") as tmp:
            (tmp / "a").write_text("x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "f.csv").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755
