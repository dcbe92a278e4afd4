"""``c360-desktop --smoke-test`` from the source install (the frozen bundle's run is in
tests/test_frozen.py): every step passes, and a broken step is named on stderr."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.ui
STEPS = ("build a demo cache", "open the main window", "search", "open a 360 view", "render the map",
         "render the model dashboard", "close")


def smoke(env=None):
    return subprocess.run([str(Path(sys.executable).parent / "c360-desktop"), "--smoke-test"], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})


def test_the_smoke_test_passes_every_step():
    r = smoke()
    assert r.returncode == 0, r.stderr[-3000:]
    lines = [line for line in r.stdout.splitlines() if line.startswith("smoke: ")]
    assert [line.split(": ")[1].split(" (")[0] for line in lines] == list(STEPS)
    assert r.stdout.rstrip().endswith("smoke test passed")


def test_a_failing_step_is_named_and_exits_1(tmp_path):
    # a plugin entry point that cannot load stands for a file the bundle forgot
    fake = tmp_path / "site"
    dist = fake / "broken_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[c360_desktop.plugins]\nbroken = no_such_module:Plugin\n")
    r = smoke({"PYTHONPATH": str(fake)})
    assert r.returncode == 1
    assert "smoke test failed at step 'open the main window'" in r.stderr and "no_such_module" in r.stderr
