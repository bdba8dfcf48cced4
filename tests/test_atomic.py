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


def test_folder_given_as_output_file_is_refused_before_anything(tmp_path: Path) -> None:
    from openwfm.errors import InputError

    (tmp_path / "out").mkdir()
    with pytest.raises(InputError, match="existing folder"), atomic_path(tmp_path / "out"):
        raise AssertionError("the block must not run")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_file_given_as_output_folder_is_refused_and_kept(tmp_path: Path) -> None:
    from openwfm.errors import InputError

    (tmp_path / "out").write_text("precious")
    with pytest.raises(InputError, match="existing file"), atomic_dir(tmp_path / "out"):
        raise AssertionError("the block must not run")
    assert (tmp_path / "out").read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_several_outputs_are_written_together_or_not_at_all(tmp_path: Path) -> None:
    from openwfm.io.atomic import atomic_paths

    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("old a")
    with pytest.raises(RuntimeError), atomic_paths([a, b]) as (ta, tb):
        ta.write_text("new a")
        tb.write_text("new b")
        raise RuntimeError("boom")
    assert a.read_text() == "old a" and not b.exists()
    with atomic_paths([a, b]) as (ta, tb):
        ta.write_text("new a")
        tb.write_text("new b")
    assert (a.read_text(), b.read_text()) == ("new a", "new b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv"]


def test_temporary_left_by_a_killed_process_is_removed_by_the_next_run(tmp_path: Path) -> None:
    import subprocess
    import sys

    # a process that dies (SIGKILL) inside atomic_dir leaves its hidden folder behind
    code = ("import os, signal, sys; from openwfm.io.atomic import atomic_dir\n"
            "with atomic_dir(sys.argv[1]) as tmp:\n"
            "    (tmp / 'a.csv').write_text('half')\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n")
    target = tmp_path / "run"
    with atomic_dir(target) as tmp:
        (tmp / "a.csv").write_text("old")
    res = subprocess.run([sys.executable, "-c", code, str(target)], check=False)
    assert res.returncode == -9
    left = [p.name for p in tmp_path.iterdir() if p.name != "run"]
    assert len(left) == 1 and left[0].startswith(".run.openwfm-")
    assert (target / "a.csv").read_text() == "old"  # the previous output is untouched
    with atomic_dir(target) as tmp:
        (tmp / "a.csv").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert (target / "a.csv").read_text() == "new"


def test_a_swap_cut_in_half_is_restored(tmp_path: Path) -> None:
    from openwfm.io.atomic import clean_stale

    old = tmp_path / ".run.old"  # killed between moving the old folder away and the new in
    old.mkdir()
    (old / "a.csv").write_text("old")
    clean_stale(tmp_path / "run")
    assert (tmp_path / "run" / "a.csv").read_text() == "old"
