"""The import-linter contracts in pyproject.toml hold, and they fail on a breach.

Each breach is made in a copy of the package, so the check is shown to be able to fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACTS = [
    c["name"]
    for c in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"
    ]
]


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "realtime_nb", tmp_path / "realtime_nb", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_contracts_hold(copy: Path) -> None:
    result = lint(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("core/protocol.py", "import realtime_nb.notebook.client", "Layers,"),
        ("server/hub.py", "import realtime_nb.notebook.widgets", "Layers,"),
        ("vision/video.py", "import realtime_nb.server.store", "Layers,"),
        ("core/state.py", "import asyncio", "Pure core"),
        (
            "notebook/frames.py",
            "import realtime_nb.worker.runner",
            "The notebook never imports the worker",
        ),
        ("vision/synthetic/match.py", "import realtime_nb.vision.video", "No import cycles"),
    ],
    ids=[
        "core-imports-notebook",
        "server-imports-notebook",
        "vision-imports-server",
        "core-imports-asyncio",
        "notebook-imports-worker",
        "cycle-video-synthetic",
    ],
)
def test_a_breach_breaks_a_contract(copy: Path, module: str, line: str, contract: str) -> None:
    path = copy / "realtime_nb" / module
    path.write_text(path.read_text() + f"\n{line}  # deliberate breach\n")
    result = lint(copy)
    assert result.returncode != 0
    # import-linter wraps long lines: join them, then look for "<contract name> BROKEN".
    report = " ".join(result.stdout.split())
    (name,) = [n for n in CONTRACTS if n.startswith(contract)]
    assert f"{name} BROKEN" in report, result.stdout
