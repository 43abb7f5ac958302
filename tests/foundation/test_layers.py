"""The layer contracts (pyproject.toml, [tool.importlinter]) hold on the code as it is, and
fail on a deliberate upward import, a domain importing another, and an import circle."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).parent / "lint-imports"


def lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT), "--no-logo", "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The packages and pyproject.toml, copied: the contracts are checked on the copy."""
    for package in ("headwater", "assets", "resources"):
        shutil.copytree(
            REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(REPO / "definitions.py", tmp_path)
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    return tmp_path


def add_import(path: Path, line: str) -> None:
    path.write_text(f"{path.read_text()}\n{line}\n")


def test_contracts_hold_on_the_code():
    result = lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    "module, line, contract",
    [
        # core -> commands
        ("headwater/settings.py", "import headwater.cli.runs", "The core (headwater without cli)"),
        # core -> a domain
        ("headwater/quality.py", "import assets.energy.rules", "The core (headwater without cli)"),
        # resources -> a domain
        ("resources/http.py", "import assets.market.dbn", "Commands above domains above resources"),
        # a domain -> the commands
        ("assets/energy/rules.py", "import headwater.cli.ingest", "Commands above domains"),
        # a domain -> the code location
        ("assets/workforce/maths.py", "import definitions", "Only the commands import"),
        # a domain -> another domain
        ("assets/market/dbn.py", "import assets.energy.rules", "Domains are independent"),
        # a circle inside a domain
        ("assets/workforce/config.py", "import assets.workforce.census", "No import circles"),
    ],
)
def test_a_broken_layer_fails_lint(copy: Path, module: str, line: str, contract: str):
    add_import(copy / module, line)
    result = lint(copy)
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout


def test_a_new_core_module_must_be_listed(copy: Path):
    (copy / "headwater" / "newthing.py").write_text("import assets.energy.rules\n")
    result = lint(copy)
    assert result.returncode != 0
    assert "newthing" in result.stdout


def test_no_module_over_600_lines():
    """One idea per module (README, "Architecture"): split by responsibility past 600 lines."""
    long = {
        str(path.relative_to(REPO)): n
        for package in ("headwater", "assets", "resources", "bench")
        for path in (REPO / package).rglob("*.py")
        if (n := len(path.read_text().splitlines())) > 600
    }
    assert not long
