"""`openwfm --help` lists every command with a one-line summary."""

from __future__ import annotations

import re

from openwfm.cli import app


def _commands() -> dict[str, str]:
    infos = [*app.registered_commands, *app.registered_groups]
    return {(i.name or i.callback.__name__): i.short_help for i in infos}


def test_every_command_has_a_one_line_summary() -> None:
    commands = _commands()
    assert {"staff", "import", "demo", "forecast", "backtest"} <= set(commands)
    for name, summary in commands.items():
        assert summary, name
        assert "\n" not in summary and len(summary) <= 100, (name, summary)


def test_top_level_help_lists_each_command_on_one_line(cli, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    code, out, _ = cli("--help")
    assert code == 0
    rows = {m.group(1): m.group(2).strip()
            for m in re.finditer(r"^│ ([\w-]+)\s{2,}(.+?)\s*│$", out, re.MULTILINE)}
    commands = _commands()
    assert set(rows) >= set(commands)
    for name, summary in commands.items():
        assert rows[name] == summary  # the whole summary on the command's own line


def test_error_line_is_not_wrapped_inside_the_file_name(cli, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    src = tmp_path / ("a-rather-long-directory-name-" * 3) / "input_with_a_long_name.csv"
    src.parent.mkdir()
    src.write_text("volume,aht_s,shrinkage\n10,180,1.2\n")
    out = tmp_path / "out.csv"
    code, _, err = cli("staff", str(src), "-o", str(out))
    assert code == 2 and not out.exists()
    line = err.strip()
    assert "\n" not in line  # one line, whatever the terminal width
    assert str(src) in line and "column 'shrinkage'" in line and "[0, 1)" in line
