"""The docs say what the code does: every CLI option in the README's summary, a plugin guide
that covers the whole Plugin API, one latest benchmark run, no references to documents that are
not in this repository, no extra that installs something nothing uses."""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

import pytest

from realtime_nb import cli
from realtime_nb.vision.plugins.base import Plugin

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
DOCS = {p.name: p.read_text() for p in (ROOT / "docs").glob("*.md")}


def section(text: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"no section {title!r}"
    return match.group(1)


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = cli._build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


@pytest.mark.parametrize("command", sorted(subcommands()))
def test_the_readme_cli_summary_lists_every_command_and_option(command: str) -> None:
    summary = section(README, "Command line").split("```")[1]
    lines = [line for line in summary.splitlines() if line.strip()]
    # A command's lines: each of its own (one per form, as eval's), and the indented
    # continuations under them.
    own, mine = [], False
    for line in lines:
        if line.startswith("realtime-nb "):
            mine = line.startswith(f"realtime-nb {command} ") or line == f"realtime-nb {command}"
        if mine:
            own.append(line)
    assert own, f"no line for {command}"
    text = "\n".join(own)
    for action in subcommands()[command]._actions:
        longs = [o for o in action.option_strings if o.startswith("--") and o != "--help"]
        for option in longs:
            # Not followed by a hyphen: --broadcast is not found inside --broadcast-tuning.
            found = re.search(rf"{re.escape(option)}(?![\w-])", text)
            assert found, f"{command} {option} missing"


def test_writing_a_plugin_covers_every_method_a_plugin_may_define() -> None:
    guide = section(README, "Writing a plugin")
    for name in ("setup", "process", "draw"):
        assert callable(getattr(Plugin, name))
        assert f"def {name}(" in guide, name
    assert "requires" in guide and "--plugins-from" in guide and "realtime_nb.plugins" in guide


@pytest.mark.parametrize("name", ["README.md", *sorted(DOCS)])
def test_no_references_to_documents_outside_the_repository(name: str) -> None:
    text = README if name == "README.md" else DOCS[name]
    for phrase in ("the seed", "seed's", "DESIGN.md", "realtimeReducer", "§"):
        assert phrase not in text, f"{name} cites {phrase!r}"


def test_performance_has_one_latest_run_that_says_how_to_repeat_it() -> None:
    text = DOCS["performance.md"]
    assert len(re.findall(r"^#+ Latest full run", text, re.M | re.I)) == 1
    latest = section(text, "Latest full run")
    assert "realtime-nb bench --size full" in latest
    assert "not done yet" not in text.lower()


def test_every_extra_is_used() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    # dask: the distributed executor's; eval: the real-footage set (vision/realfootage.py)
    assert set(extras) <= {"dev", "dask", "eval"}, extras
