"""Bad settings stop the `headwater` CLI with one line naming the setting, exit code 2."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

HEADWATER = str(Path(sys.executable).parent / "headwater")


@pytest.mark.parametrize(
    "env, message",
    [
        (
            {"HEADWATER_MODE": "bogus"},
            "headwater: HEADWATER_MODE='bogus': expected one of sample, live",
        ),
        (
            {"HEADWATER_CONFIG": "{bad}"},
            "headwater: {bad}: energy.authority_order: Value error, must list "
            "each of eia, fred, yahoo exactly once (got ['eia', 'eia', 'fred'])",
        ),
    ],
)
def test_bad_settings_name_the_key_without_a_traceback(tmp_path, env, message):
    bad = tmp_path / "headwater.yaml"
    bad.write_text("energy:\n  authority_order: [eia, eia, fred]\n")
    env = {k: v.format(bad=bad) for k, v in env.items()}
    done = subprocess.run(
        [HEADWATER, "demo"],
        cwd=REPO_ROOT,
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == message.format(bad=bad)
    assert "Traceback" not in done.stderr
