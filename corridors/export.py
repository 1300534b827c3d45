"""The network as a GeoJSON FeatureCollection for GIS tools (QGIS, kepler.gl)."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from corridors.errors import InputError
from corridors.geo import to_geojson_position
from corridors.model import Network

__all__ = [
    "check_output_dir",
    "check_output_file",
    "network_geojson",
    "signals_held",
    "spreadsheet_text",
    "staged_folder",
    "unspreadsheet_text",
    "write_json_atomic",
    "write_text_atomic",
    "write_texts_atomic",
]


def network_geojson(network: Network) -> dict[str, Any]:
    """Nodes as Points and legs as LineStrings, with flat properties (one value per column)."""
    on_corridors: dict[str, list[str]] = {}
    for corridor in network.corridors.values():
        for leg_id in corridor.leg_ids:
            on_corridors.setdefault(leg_id, []).append(corridor.name)
    features: list[dict[str, Any]] = []
    for node in network.nodes.values():
        facility = node.facility
        props: dict[str, Any] = {
            "feature": "node",
            "id": node.id,
            "name": node.name,
            "country": node.country,
            "kinds": ",".join(node.kinds),
            "process_h_mean": round(node.expected_process_h, 2),
            "servers": facility.servers if facility else None,
            "trains_per_day": facility.trains_per_day if facility else None,
            "coord_source": ",".join(node.sources.get("lat", ())),
        }
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": to_geojson_position(node.latlon)},
                "properties": props,
            }
        )
    for leg in network.legs.values():
        props = {
            "feature": "leg",
            "id": leg.id,
            "from": leg.from_id,
            "to": leg.to_id,
            "mode": leg.mode,
            "gauge_mm": leg.gauge_mm,
            "distance_km": leg.distance_km,
            "distance_computed": leg.distance_computed,
            "transit_h_min": round(leg.transit_h.min_h, 2),
            "transit_h_mean": round(leg.transit_h.mean_h, 2),
            "transit_h_max": round(leg.transit_h.max_h, 2),
            "cost_usd_per_feu": leg.cost_usd_per_feu,
            "co2_kg_per_teu_km": leg.co2_kg_per_teu_km,
            "corridors": ",".join(on_corridors.get(leg.id, [])),
            "countries": ",".join(leg.countries),
            "sources": ",".join(dict.fromkeys(k for keys in leg.sources.values() for k in keys)),
        }
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [to_geojson_position(p) for p in leg.path]},
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def json_text(data: Any) -> str:
    """JSON as the project writes it to files: UTF-8 text, indented, one trailing newline.

    Never writes ``NaN`` or ``Infinity`` (not JSON): a value that is not a finite number is an
    ``InputError`` naming where it is.
    """
    check_finite(data)
    return json.dumps(data, ensure_ascii=False, indent=1, allow_nan=False) + "\n"


def check_finite(data: Any, where: str = "") -> None:
    """Raise an ``InputError`` naming the first number in ``data`` that is not finite (NaN, ±inf)."""
    stack: list[tuple[Any, str]] = [(data, where)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(
                f"cannot write JSON: {path or 'the value'} is {value}, not a finite number "
                "(a result too large to compute?)"
            )
        if isinstance(value, Mapping):
            stack.extend((v, f"{path}.{k}" if path else str(k)) for k, v in reversed(list(value.items())))
        elif isinstance(value, (list, tuple)):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(value))))


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> Path:
    """Write JSON to ``path`` through a temporary file, so a failure leaves nothing half-written."""
    return write_text_atomic(path, json_text(data))


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file, so a failure leaves nothing half-written.

    Refuses (``InputError``) a path that is a folder, a device or a dangling symbolic link, whose
    folder does not exist or cannot be written, or whose name is too long for its file system.
    """
    target = check_output_file(path)
    target = target.resolve() if target.is_symlink() else target
    write_texts_atomic({target: text})
    return target


def write_texts_atomic(files: Mapping[Path, str]) -> None:
    """Write several files that belong together: every one into a staging folder beside it first,
    then all renamed at once, so a failure, Ctrl-C or SIGTERM leaves the old set, not a mix."""
    for target in files:
        check_output_file(target)
    staging: dict[Path, Path] = {}
    pairs: list[tuple[Path, Path]] = []
    target = Path()
    try:
        for target, text in files.items():
            folder = target.parent
            if folder not in staging:
                staging[folder] = _new_staging(folder, target.name)
            staged = staging[folder] / target.name
            staged.write_text(text, encoding="utf-8")
            pairs.append((staged, target))
        _swap_in(pairs)
    except OSError as exc:
        raise InputError(f"{target}: cannot write: {exc.strerror or exc}") from None
    finally:
        with signals_held():
            for tmp in staging.values():
                shutil.rmtree(tmp, ignore_errors=True)


# -- output paths: checked before a run, written all or nothing ------------------------------------

_TMP_PREFIX = ".corridors-tmp-"
_TMP_NAME = re.compile(r"\.corridors-tmp-.*-(\d+)-[a-z0-9_]{8}", re.S)  # the name, our pid, mkdtemp's 8


def check_output_dir(path: str | os.PathLike[str], *, names: Sequence[str] = (), label: str = "") -> Path:
    """Check, before any work, that ``path`` can be an output folder: an existing folder (where none
    of ``names`` is a folder) that can be written, or a name that can be created. ``label`` (such as
    ``"--out "``) starts each message. Creates nothing; raises ``InputError`` naming the path."""
    out = Path(path)
    where = f"{label}{out}"
    if not os.fspath(path).strip():
        raise InputError(f"{label.strip() or 'the output folder'}: the name is empty")
    if os.path.exists(out):
        if not os.path.isdir(out):
            raise InputError(f"{where}: exists and is not a folder")
        for name in names:
            inside = out / name
            if os.path.exists(inside) and not os.path.isfile(inside):
                raise InputError(f"{where}: {inside} exists and is not a regular file; move it away first")
        if not os.access(out, os.W_OK | os.X_OK):
            raise InputError(f"{where}: the folder is not writable")
        return out
    _check_creatable(out, where)
    return out


def check_output_file(path: str | os.PathLike[str], *, label: str = "") -> Path:
    """Check, before any work, that ``path`` can be written as a file: an existing regular file (or
    a link to one) or a new name in an existing, writable folder, within the file system's name
    length. ``label`` (such as ``"--out "``) starts each message. Raises ``InputError``."""
    target = Path(path)
    where = f"{label}{target}"
    if not os.fspath(path).strip():
        raise InputError(f"{label.strip() or 'the output file'}: the name is empty")
    if os.path.islink(target) and not os.path.exists(target):
        raise InputError(f"{where}: is a symbolic link to {os.readlink(target)}, which does not exist")
    if os.path.exists(target):
        if not os.path.isfile(target):
            raise InputError(f"{where}: exists and is not a regular file; give a file name")
        folder = target.resolve().parent
    else:
        folder = target.parent
        if not os.path.isdir(folder):
            raise InputError(f"{where}: cannot write: the folder {folder} does not exist")
        _check_name_length(target.name, folder, where)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{where}: cannot write: the folder {folder} is not writable")
    return target


def _check_creatable(out: Path, where: str) -> None:
    """``out`` does not exist: its nearest existing ancestor must be a writable folder, with no
    dangling link on the way, and every name still to create short enough for the file system."""
    missing: list[str] = []
    here = Path(os.path.abspath(out))
    while not os.path.exists(here):
        if os.path.islink(here):
            raise InputError(f"{where}: {here} is a symbolic link to {os.readlink(here)}, which does not exist")
        if here.parent == here:
            break
        missing.append(here.name)
        here = here.parent
    if not os.path.isdir(here):
        raise InputError(f"{where}: cannot create it: {here} is not a folder")
    for name in missing:
        _check_name_length(name, here, where)
    if not os.access(here, os.W_OK | os.X_OK):
        raise InputError(f"{where}: cannot create it: the folder {here} is not writable")


def _check_name_length(name: str, folder: Path, where: str) -> None:
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        limit = 255
    size = len(os.fsencode(name))
    if limit > 0 and size > limit:
        raise InputError(f"{where}: the name {name[:24]}… is {size} bytes long; the file system allows {limit}")


@contextmanager
def staged_folder(path: str | os.PathLike[str], *, label: str = "") -> Iterator[Path]:
    """A staging folder for the files of output folder ``path``; when the block ends without an
    error, they replace their namesakes in ``path`` all at once (files already there that the block
    did not write are kept). On an error, Ctrl-C, SIGTERM or SIGHUP, ``path`` is left as it was.

    The staging folder sits on the output's own file system (inside ``path`` when it exists, beside
    it when not), so every move is a rename; it is named ``.corridors-tmp-<name>-<pid>-<random>``,
    and such folders whose process is gone (a run killed outright) are removed by the next write.
    Errors are ``InputError`` naming ``path``, never the staging folder.
    """
    out = Path(path)
    where = f"{label}{out}"
    check_output_dir(out, label=label)
    existed = out.is_dir()
    parent = Path(os.path.abspath(out)).parent
    home = out if existed else parent
    if existed:  # a run that died while the folder was new staged beside it
        _remove_stale(parent)
    try:
        home.mkdir(parents=True, exist_ok=True)
        tmp = _new_staging(home, out.name)
    except OSError as exc:
        raise InputError(f"{where}: cannot create it: {exc.strerror or exc}") from None
    try:
        try:
            yield tmp
            names = sorted(p.name for p in tmp.iterdir())
            if not existed and not os.path.lexists(out):
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o777 & ~umask)  # mkdtemp's folder is private; the output is not
                with signals_held():
                    os.rename(tmp, out)
            else:
                _swap_in([(tmp / name, out / name) for name in names])
        except OSError as exc:
            raise InputError(f"{where}: cannot write: {exc.strerror or exc}") from None
    finally:
        with signals_held():
            shutil.rmtree(tmp, ignore_errors=True)


def _new_staging(folder: Path, name: str) -> Path:
    """A new staging folder in ``folder`` (after removing those of runs that are gone)."""
    _remove_stale(folder)
    short = os.fsencode(name)[:48].decode("utf-8", "ignore")
    return Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{short}-{os.getpid()}-", dir=folder))


def _remove_stale(folder: Path) -> None:
    """Remove the staging folders and files in ``folder`` left by processes that no longer run."""
    if os.name != "posix":  # os.kill(pid, 0) is a liveness test only on POSIX
        return
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(_TMP_PREFIX)]
    except OSError:
        return
    for entry in entries:
        match = _TMP_NAME.fullmatch(entry.name)
        if not match or _alive(int(match.group(1))):
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            with suppress(OSError):
                os.unlink(entry.path)


def _alive(pid: int) -> bool:
    if pid <= 0 or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process (or a pid we cannot test): leave it alone
    return True


def _swap_in(pairs: Sequence[tuple[Path, Path]]) -> None:
    """Rename each staged file onto its target, all or none: every target is checked first, the old
    files are hard-linked aside to put back if a rename fails, and signals wait until it is done."""
    for _staged, target in pairs:
        if target.exists() and not target.is_file():
            raise InputError(f"{target}: exists and is not a regular file; move it away first")
    backups: dict[Path, Path] = {}
    for staged, target in pairs:
        if os.path.lexists(target):
            backup = staged.with_name(f"{staged.name}.old")
            try:
                os.link(target, backup, follow_symlinks=False)
            except OSError:
                continue  # no hard links here: this one cannot be put back, the check above must do
            backups[target] = backup
    done: list[Path] = []
    with signals_held():
        try:
            for staged, target in pairs:
                os.replace(staged, target)
                done.append(target)
        except OSError as exc:
            for put in reversed(done):
                with suppress(OSError):
                    if put in backups:
                        os.replace(backups[put], put)
                    else:
                        os.unlink(put)
            raise InputError(f"{target}: cannot write: {exc.strerror or exc}") from None


_HELD_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP until the block (a few renames, a clean-up) is done, then
    deliver the first one that came. Python runs signal handlers in the main thread only, so a
    block in another thread cannot be interrupted anyway."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous: dict[int, Any] = {}
    for sig in _HELD_SIGNALS:
        handler = signal.getsignal(sig)
        if handler is None or handler == signal.SIG_IGN:  # set outside Python, or ignored: leave it
            continue
        previous[sig] = signal.signal(sig, lambda signum, _frame: caught.append(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if caught:
            signal.raise_signal(caught[0])


# -- CSV cells a spreadsheet would run ------------------------------------------------------------

_FORMULA_START = frozenset("=+-@\t\r")


def spreadsheet_text(cell: str) -> str:
    """A text cell for a CSV file that spreadsheets show as text, not run as a formula: a cell
    starting with ``= + - @``, a tab or a carriage return gets a leading ``'`` (OWASP's advice), and
    so does a cell that already starts with ``'`` before one of those or another ``'``, so that
    :func:`unspreadsheet_text` gives back the original. Numbers are not text: do not pass them.

    >>> spreadsheet_text("=HYPERLINK(1)"), spreadsheet_text("-B"), spreadsheet_text("KZ_DOSTYK")
    ("'=HYPERLINK(1)", "'-B", 'KZ_DOSTYK')
    >>> unspreadsheet_text(spreadsheet_text("'=x"))
    "'=x"
    """
    if cell and (cell[0] in _FORMULA_START or (cell[0] == "'" and cell[1:2] and cell[1] in _GUARDED)):
        return "'" + cell
    return cell


_GUARDED = _FORMULA_START | {"'"}


def unspreadsheet_text(cell: str) -> str:
    """The text :func:`spreadsheet_text` was given."""
    if cell[:1] == "'" and cell[1:2] and cell[1] in _GUARDED:
        return cell[1:]
    return cell
