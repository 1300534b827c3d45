"""The progress bar: on a terminal, replications done, rate and time left; nothing with --quiet or
off a terminal. Run in a pseudo-terminal, as a user's shell would run it."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from tests.test_engine import exact_network, write_scenario

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")


def _on_a_terminal(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run ``corridors ARGV`` with standard error on a 100-column pseudo-terminal."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "corridors.cli", *argv], cwd=cwd, stdout=subprocess.PIPE, stderr=follower
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert proc.stdout is not None
    with proc.stdout:
        out = proc.stdout.read().decode()
    code = proc.wait()
    os.close(leader)
    return code, out, b"".join(chunks).decode(errors="replace")


def test_a_bar_shows_replications_rate_and_time_left(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path, exact_network())
    code, out, terminal = _on_a_terminal(["simulate", str(scenario), "-r", "4", "--out", "run"], tmp_path)
    assert code == 0 and "Wrote run" in out
    assert "test:" in terminal and "4/4" in terminal and "rep/s" in terminal and "<" in terminal  # ETA
    assert "0/4" in terminal  # shown from the start, before the first replication ends


def test_quiet_shows_nothing(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path, exact_network())
    code, out, terminal = _on_a_terminal(["simulate", str(scenario), "-r", "4", "--out", "run", "--quiet"], tmp_path)
    assert code == 0 and "Wrote run" in out and terminal == ""
