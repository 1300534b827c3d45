"""SIGTERM and SIGHUP stop a run like Ctrl-C; output paths are checked first and written all or
nothing; CSV cells a spreadsheet would run as formulas are written as text."""

from __future__ import annotations

import csv
import errno
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import corridors.export
import sim.runner
from corridors.cli import main
from corridors.export import spreadsheet_text, unspreadsheet_text, write_texts_atomic
from tests.conftest import kept_one
from tests.test_engine import exact_network, write_scenario

ROOT = Path(__file__).resolve().parents[1]
OLD = {"summary.json": '{"old": true}\n', "trains.csv": "old\n", "notes.txt": "mine\n"}
needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
as_root = os.name == "posix" and os.geteuid() == 0


def _old_run(folder: Path) -> Path:
    """An output folder holding a previous run's files and one of the user's own."""
    folder.mkdir(parents=True)
    for name, text in OLD.items():
        (folder / name).write_text(text)
    return folder


def _unchanged(folder: Path) -> bool:
    return {p.name: p.read_text() for p in folder.iterdir()} == OLD


def _temp_left(root: Path) -> list[Path]:
    return [p for p in root.rglob(".*") if p.name.startswith(".corridors-tmp-")]


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # state, ppid, pgrp, ...


def _in_group(pgrp: int) -> list[int]:
    """Live processes (zombies are dead) whose process group is ``pgrp``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and int(fields[2]) == pgrp and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


# -- signals ---------------------------------------------------------------------------------------


@needs_proc
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_stops_the_workers_and_writes_nothing(tmp_path: Path, signum: int, code: int) -> None:
    out = _old_run(tmp_path / "run")
    proc = subprocess.Popen(
        [sys.executable, "-m", "corridors.cli", "simulate", "-r", "20", "--workers", "2", "--out", str(out)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, to find every process it started
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 60
        while len(_children(proc.pid)) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, "the workers never started"
            time.sleep(0.05)
        time.sleep(0.3)  # let them get into their replications
        os.kill(proc.pid, signum)
        started = time.monotonic()
        stdout, stderr = proc.communicate(timeout=5)  # stdout closes: no worker holds it open
        while _in_group(proc.pid) and time.monotonic() - started < 5:
            time.sleep(0.05)
        assert _in_group(proc.pid) == [], "processes of the run outlived it"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == code
    name = signal.Signals(signum).name
    assert stderr.startswith(f"corridors: stopped by {name}; nothing was half-written") and stderr.count("\n") == 1
    assert stdout == ""
    assert _unchanged(out) and _temp_left(tmp_path) == []


@needs_proc
def test_a_lost_worker_is_one_line_and_keeps_what_finished(tmp_path: Path) -> None:
    """A worker killed outright (as the out-of-memory killer would): one line naming what
    happened and what is kept, exit 1, no traceback, nothing half-written."""
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "corridors.cli", "simulate", "-r", "30", "--workers", "2", "--out", str(out)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 60
        while len(_children(proc.pid)) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, "the workers never started"
            time.sleep(0.05)
        while not kept_one(tmp_path / ".run.partial" / "segment-00.json"):
            assert proc.poll() is None and time.monotonic() < deadline, "no replication finished"
            time.sleep(0.05)  # a replication kept: the workers are past their start
        os.kill(_children(proc.pid)[0], signal.SIGKILL)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 1, stderr
    assert stderr.startswith("corridors: error: a worker process ended without finishing its replication")
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert "--resume finishes the run" in stderr or "replications are kept" not in stderr
    assert not out.exists() and _temp_left(tmp_path) == []


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_while_writing_leaves_the_old_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, signum: int, code: int
) -> None:
    manifest = sim.runner._manifest

    def signalled(*args: Any, **kwargs: Any) -> Any:  # after the log, trains and summary are staged
        signal.raise_signal(signum)
        return manifest(*args, **kwargs)

    monkeypatch.setattr(sim.runner, "_manifest", signalled)
    scenario = write_scenario(tmp_path, exact_network())
    out = _old_run(tmp_path / "runs" / "old")
    fresh = tmp_path / "runs" / "new"
    before, before_int = signal.getsignal(signum), signal.getsignal(signal.SIGINT)
    assert main(["simulate", str(scenario), "--out", str(out)]) == code
    assert main(["simulate", str(scenario), "--out", str(fresh)]) == code
    name = signal.Signals(signum).name
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and all(
        line.startswith(f"corridors: stopped by {name}; nothing was half-written (10 of 10 ") for line in lines
    )
    assert _unchanged(out) and not fresh.exists() and _temp_left(tmp_path) == []
    assert signal.getsignal(signum) is before and signal.getsignal(signal.SIGINT) is before_int  # put back


def test_a_stale_temp_folder_is_removed_by_the_next_run(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # its pid names no process now
    scenario = write_scenario(tmp_path, exact_network())
    out = _old_run(tmp_path / "runs" / "run")
    stale = [
        tmp_path / "runs" / f".corridors-tmp-run-{gone.pid}-abcd_123",  # beside the folder (a new one)
        out / f".corridors-tmp-run-{gone.pid}-x1y2z3w4",  # inside it (an existing one)
    ]
    running = out / f".corridors-tmp-run-{os.getppid()}-live0000"  # another run, still going
    for folder in [*stale, running]:
        folder.mkdir()
        (folder / "events.csv.gz").write_bytes(b"partial")
    (tmp_path / "runs" / ".corridors-tmp-x").mkdir()  # not one of ours by its name: left alone
    assert main(["simulate", str(scenario), "-r", "1", "--out", str(out), "--json"]) == 0
    assert not any(p.exists() for p in stale)
    assert running.exists() and (tmp_path / "runs" / ".corridors-tmp-x").exists()
    assert (out / "notes.txt").read_text() == "mine\n" and json.loads((out / "summary.json").read_text())["services"]


# -- output paths, checked before the run ------------------------------------------------------------


@pytest.fixture
def no_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a simulation, comparison, sweep or map rendering starts."""
    import maps.offline
    import sim.compare
    import sim.sweep

    def started(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the output path should have been refused before any work")

    for module, name in [
        (sim.runner, "simulate"),
        (sim.compare, "compare"),
        (sim.sweep, "sweep"),
        (maps.offline, "render_offline"),
    ]:
        monkeypatch.setattr(module, name, started)


def _one_line_error(capsys: pytest.CaptureFixture[str], *parts: str) -> str:
    err = capsys.readouterr().err
    assert err.startswith("corridors: error: ") and err.count("\n") == 1, err
    assert ".corridors-tmp" not in err and "Traceback" not in err
    for part in parts:
        assert part in err, err
    return err


@pytest.mark.parametrize("command", ["simulate", "compare", "sweep"])
def test_out_is_checked_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_run: None, command: str
) -> None:
    scenario = str(write_scenario(tmp_path, exact_network()))
    args = {
        "simulate": ["simulate", scenario],
        "compare": ["compare", scenario, scenario],
        "sweep": ["sweep", scenario, "--param", "node.B.servers", "--values", "1,2"],
    }[command]
    file = tmp_path / "a-file"
    file.write_text("mine")
    assert main([*args, "--out", str(file)]) == 1
    _one_line_error(capsys, f"--out {file}: exists and is not a folder")

    long = tmp_path / ("x" * 300)
    assert main([*args, "--out", str(long / "run")]) == 1
    _one_line_error(capsys, "is 300 bytes long; the file system allows 255")

    link = tmp_path / "link"
    link.symlink_to(tmp_path / "nowhere" / "deeper")
    assert main([*args, "--out", str(link)]) == 1
    _one_line_error(capsys, f"--out {link}: ", "is a symbolic link to", "which does not exist")
    assert not (tmp_path / "nowhere").exists()  # the link's target is not created

    under_file = file / "run"
    assert main([*args, "--out", str(under_file)]) == 1
    _one_line_error(capsys, f"cannot create it: {file} is not a folder")

    out = _old_run(tmp_path / "run")
    inside = {"simulate": "summary.json", "compare": "compare.json", "sweep": "sweep.html"}[command]
    (out / inside).unlink(missing_ok=True)
    (out / inside).mkdir()
    assert main([*args, "--out", str(out)]) == 1
    _one_line_error(capsys, f"{out / inside} exists and is not a regular file")
    assert (out / inside).is_dir() and (out / "trains.csv").read_text() == "old\n"


@pytest.mark.skipif(as_root, reason="root writes into read-only folders: the permission check cannot be seen")
def test_an_unwritable_parent_is_refused_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_run: None
) -> None:
    scenario = str(write_scenario(tmp_path, exact_network()))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main(["simulate", scenario, "--out", str(locked / "run")]) == 1
        _one_line_error(capsys, f"cannot create it: the folder {locked} is not writable")
        assert main(["map", "--out", str(locked / "map.html")]) == 1
        _one_line_error(capsys, "is not writable")
    finally:
        locked.chmod(0o700)
    assert list(locked.iterdir()) == []


def test_an_unwritable_folder_is_named_not_a_temp_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, no_run: None
) -> None:
    """The same check where the tests run as root (which os.access answers for): a folder is
    declared unwritable, and the message names it."""
    scenario = str(write_scenario(tmp_path, exact_network()))
    locked = tmp_path / "locked"
    locked.mkdir()
    access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked and access(path, mode))
    assert main(["simulate", scenario, "--out", str(locked / "new" / "run")]) == 1
    _one_line_error(capsys, f"--out {locked / 'new' / 'run'}: cannot create it: the folder {locked} is not writable")
    assert main(["compare", scenario, scenario, "--out", str(locked)]) == 1
    _one_line_error(capsys, f"--out {locked}: the folder is not writable")
    assert main(["export", "--geojson", str(locked / "net.geojson")]) == 1
    _one_line_error(capsys, f"the folder {locked} is not writable")
    assert list(locked.iterdir()) == []


def test_map_and_export_check_their_file_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_run: None
) -> None:
    link = tmp_path / "map.html"
    link.symlink_to(tmp_path / "gone" / "map.html")
    assert main(["map", "--out", str(link)]) == 1
    _one_line_error(capsys, f"--out {link}: is a symbolic link to")
    assert main(["map", "--out", str(tmp_path / ("m" * 256 + ".html"))]) == 1
    _one_line_error(capsys, "bytes long; the file system allows")
    assert main(["map", "--out", str(tmp_path / "missing" / "map.html")]) == 1
    _one_line_error(capsys, "does not exist")
    geo = tmp_path / "net.geojson"
    geo.symlink_to(tmp_path / "gone" / "net.geojson")
    assert main(["export", "--geojson", str(geo)]) == 1
    _one_line_error(capsys, f"--geojson {geo}: is a symbolic link to")
    assert not (tmp_path / "gone").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.html", "net.geojson"]


# -- all or nothing at the end -----------------------------------------------------------------------


def test_staging_is_on_the_outputs_own_file_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    staged: list[Path] = []
    new_staging = corridors.export._new_staging

    def spy(folder: Path, name: str) -> Path:
        path = new_staging(folder, name)
        staged.append(path)
        return path

    monkeypatch.setattr(corridors.export, "_new_staging", spy)
    scenario = write_scenario(tmp_path, exact_network())
    out = _old_run(tmp_path / "run")  # an existing folder may be a mount point: stage inside it
    assert main(["simulate", str(scenario), "-r", "1", "--out", str(out), "--json"]) == 0
    fresh = tmp_path / "new" / "run"  # a new folder: stage beside it, then rename it into place
    assert main(["simulate", str(scenario), "-r", "1", "--out", str(fresh), "--json"]) == 0
    assert [p.parent for p in staged] == [out, fresh.parent]
    assert (out / "notes.txt").read_text() == "mine\n" and (out / "map.html").exists()
    assert sorted(p.name for p in fresh.iterdir()) == sorted(
        [*sim.runner.RUN_FILES, "map.html", "report.html", "summary_services.csv"]
    )
    assert fresh.stat().st_mode & 0o777 == 0o777 & ~_umask()
    assert _temp_left(tmp_path) == []


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("fresh", [False, True])
def test_a_cross_device_move_fails_whole_naming_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fresh: bool
) -> None:
    scenario = write_scenario(tmp_path, exact_network())
    out = tmp_path / "run" if fresh else _old_run(tmp_path / "run")

    def exdev(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

    monkeypatch.setattr(os, "replace", exdev)
    monkeypatch.setattr(os, "rename", exdev)
    assert main(["simulate", str(scenario), "-r", "1", "--out", str(out)]) == 1
    err = _one_line_error(capsys, "Invalid cross-device link", str(out))
    assert "Invalid cross-device link" in err
    assert (not out.exists()) if fresh else _unchanged(out)
    assert _temp_left(tmp_path) == []


def test_a_failed_rename_puts_back_what_was_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from corridors import InputError

    first, second = tmp_path / "a.json", tmp_path / "a.html"
    write_texts_atomic({first: "old json", second: "old html"})
    replace = os.replace
    calls: list[object] = []

    def second_fails(src: Any, dst: Any) -> None:
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        replace(src, dst)

    monkeypatch.setattr(os, "replace", second_fails)
    with pytest.raises(InputError, match=r"a\.(json|html): cannot write: Input/output error"):
        write_texts_atomic({first: "new json", second: "new html"})
    monkeypatch.undo()
    assert (first.read_text(), second.read_text()) == ("old json", "old html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.html", "a.json"]


def test_the_api_refuses_a_folder_in_the_way_before_writing(tmp_path: Path) -> None:
    from corridors import InputError

    result = sim.runner.simulate(sim.load_scenario(write_scenario(tmp_path, exact_network())), replications=1)
    out = _old_run(tmp_path / "run")
    (out / "manifest.json").mkdir()
    with pytest.raises(InputError, match=r"manifest\.json exists and is not a regular file"):
        sim.write_run(result, out)
    assert (out / "summary.json").read_text() == OLD["summary.json"] and _temp_left(tmp_path) == []


# -- spreadsheet formulas --------------------------------------------------------------------------


@given(st.text(max_size=8))
def test_guarded_cells_never_start_a_formula_and_read_back(text: str) -> None:
    safe = spreadsheet_text(text)
    assert safe[:1] not in {"=", "+", "-", "@", "\t", "\r"} or safe == ""
    assert unspreadsheet_text(safe) == text


def test_formula_names_are_refused_and_written_as_text_if_they_get_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """First line: the loader refuses a node id such as ``=HYPERLINK(1)``. Second line: should such a
    name reach the writer (an API caller's records), its CSV cells are text, not formulas."""
    records = exact_network()
    records["nodes.toml"]["nodes"][1]["id"] = "=HYPERLINK(1)"
    scenario = write_scenario(tmp_path, records)
    assert main(["simulate", str(scenario), "-r", "1", "--out", str(tmp_path / "refused")]) == 1
    assert "=HYPERLINK(1)" in capsys.readouterr().err and not (tmp_path / "refused").exists()

    scenario = write_scenario(tmp_path / "ok", exact_network())
    result = sim.simulate(sim.load_scenario(scenario), replications=1, seed=1)
    rename = {"B": "=HYPERLINK(1)", "C": "-C"}
    for rep in result.replications:  # the names the records index
        rep.visits.places = rep.trains.places = tuple(rename.get(p, p) for p in rep.visits.places)
    out = tmp_path / "run"
    sim.write_run(result, out, events="csv")
    with gzip.open(out / "events.csv.gz", "rt", newline="") as f:
        places = {row["place"] for row in csv.DictReader(f)}
    assert places == {"A", "'=HYPERLINK(1)", "'-C"}
    with open(out / "trains.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["last_place"] for r in rows} == {"'-C"} and all(r["train"].startswith("abc-") for r in rows)
    assert {unspreadsheet_text(p) for p in places} == {"A", "=HYPERLINK(1)", "-C"}


def test_numbers_stay_numbers_in_the_trains_table() -> None:
    """Negative numbers are written as numbers, a missing one empty, names as text."""
    from sim.eventlog import trains_csv
    from sim.records import Trains

    nan = float("nan")
    rows = [
        (0, "-3", 0, -1.23456, nan, False, 3, 6.0, nan, nan, nan, 0, 0),
        (0, "ok", 1, 2.0, 26.0, True, 3, 6.0, -1.0, 2.5, 0.0, 1, 1),
    ]
    text = trains_csv(Trains.from_rows(rows, ("@x", "ok"), ("-C", "D")), header=True).decode()
    table = list(csv.DictReader(text.splitlines()))
    assert [r["train"] for r in table] == ["'-3", "ok"] and [r["service"] for r in table] == ["'@x", "ok"]
    assert table[0]["depart_h"] == "-1.2346" and table[0]["arrive_h"] == "" and table[0]["transit_d"] == ""
    assert table[0]["last_place"] == "'-C" and table[1]["moving_h"] == "-1" and table[1]["transit_d"] == "1"
    assert table[0]["status"] == "in_system" and table[1]["status"] == "arrived"
