"""`headwater --help`, each command's help and `--version`, as a newcomer types them."""

import subprocess
import sys
from pathlib import Path

import pytest

HEADWATER = str(Path(sys.executable).parent / "headwater")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([HEADWATER, *args], capture_output=True, text=True, timeout=60)


def test_help_lists_every_command_with_examples():
    done = run("--help")
    assert done.returncode == 0 and not done.stderr
    for command in ("demo", "simulate", "doctor"):
        assert f"    {command} " in done.stdout, command
    assert "examples:" in done.stdout and "headwater simulate --resume" in done.stdout


@pytest.mark.parametrize("command", ["demo", "simulate", "doctor"])
def test_each_command_has_help_with_an_example(command):
    done = run(command, "--help")
    assert done.returncode == 0 and not done.stderr
    assert "examples:" in done.stdout and f"headwater {command}" in done.stdout


def test_version():
    done = run("--version")
    assert done.returncode == 0 and done.stdout.strip() == "headwater 0.1.0"
