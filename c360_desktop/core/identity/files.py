"""Resolution over anyone's files: read the inputs, check them, run the engine, write the results.

Used by ``c360 resolve``. Inputs are CSV (any common encoding and delimiter) or Excel; every
value is read as text, so ids and phone numbers keep their leading zeros. Problems are reported
by file, and by row and column where there is one; results are written to a temporary file and
moved into place, so a failed run never leaves half a file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from c360_desktop.core.identity.engine import Field, Resolution, best_match, resolve
from c360_desktop.core.identity.standardise import FIELD_TYPES
from c360_desktop.core.outputs import Output, OutputError, OutputKind, check_outputs, write_all
from c360_desktop.core.printable import safe_frame
from c360_desktop.core.progress import Progress, step_of
from c360_desktop.core.tables import (
    MAX_FILE_MB,
    NOT_UTF8,
    FileRefused,
    Problem,
    check_file,
)


class InputError(ValueError):
    """A file or an option the run cannot use; the message says what and where."""


def parse_field(spec: str) -> Field:
    if ":" not in spec:
        raise InputError(f"--field {spec!r}: write COLUMN:TYPE, TYPE one of {', '.join(FIELD_TYPES)}")
    column, kind = spec.rsplit(":", 1)
    if kind not in FIELD_TYPES:
        raise InputError(f"--field {spec!r}: type {kind!r} is not one of {', '.join(FIELD_TYPES)}")
    if not column:
        raise InputError(f"--field {spec!r}: no column name")
    return Field(column, kind)


def read_table(path: Path, max_mb: int = MAX_FILE_MB) -> pd.DataFrame:
    """A CSV or Excel file as a frame of text columns, read by the importer's reader
    (``importing.read_table``); any row it cannot read faithfully stops the run, named."""
    from c360_desktop.core.identity.importing import read_table as read_rows

    try:
        check_file(path, max_mb)
    except FileRefused as exc:
        raise InputError(str(exc)) from None
    problems: list[Problem] = []
    _sheet, header, rows = read_rows(path, path.read_bytes(), problems)
    serious = [p for p in problems if p.message != NOT_UTF8]
    if serious:
        shown = "; ".join(str(p) for p in serious[:3])
        more = f" (and {len(serious) - 3:,} more)" if len(serious) > 3 else ""
        raise InputError(f"{path}: {shown}{more}")
    width = len(header)
    body = [(r + [""] * width)[:width] for _n, r in rows]
    return pd.DataFrame(body, columns=header, dtype=object)


def check_input(frame: pd.DataFrame, path: Path, id_column: str, fields: Sequence[Field]) -> None:
    columns = [str(c).strip() for c in frame.columns]
    frame.columns = columns
    wanted = [id_column] + [f.name for f in fields]
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise InputError(f"{path}: no column {', '.join(repr(c) for c in missing)} "
                         f"(the file has {', '.join(repr(c) for c in columns[:30])})")
    ids = frame[id_column].astype(str).str.strip()
    empty = np.flatnonzero((ids == "").to_numpy())
    if len(empty):
        rows = ", ".join(str(r + 2) for r in empty[:10])
        raise InputError(f"{path}: column {id_column!r} is empty on row(s) {rows} (row 1 is the header)")
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        first = dup.iloc[0]
        rows = ", ".join(str(r + 2) for r in np.flatnonzero((ids == first).to_numpy())[:10])
        raise InputError(f"{path}: id {first!r} in column {id_column!r} is on rows {rows}; "
                         f"ids must be unique ({dup.nunique():,} ids repeat)")


@dataclass
class RunResult:
    pairs_written: int
    clusters_written: int
    resolution: Resolution


PAIRS = OutputKind("pairs CSV", "id_l,id_r,probability")
CLUSTERS = OutputKind("clusters CSV", "id,cluster_id")


def _csv_writer(frame: pd.DataFrame) -> Callable[[Path], None]:
    """Writes the frame as CSV, its text cells safe to open in a spreadsheet (``safe_cell``)."""
    safe = safe_frame(frame)
    return lambda path: safe.to_csv(path, index=False, float_format="%.6g")


def run(inputs: Sequence[Path], id_columns: Sequence[str], fields: Sequence[Field], out: Path,
        clusters_out: Path | None = None, threshold: float = 0.9, best: bool = False,
        progress: Progress | None = None, force: bool = False) -> RunResult:
    """Resolve one file (deduplicate) or two (link) and write the pairs, and the clusters if asked.

    The outputs are checked before any input is read (``core.outputs.check_outputs``) and written
    together: both files, or, on any failure, neither.
    """
    outputs = [Output(out, PAIRS, "--out")]
    if clusters_out is not None:
        outputs.append(Output(clusters_out, CLUSTERS, "--clusters"))
    try:
        check_outputs(outputs, inputs, force)
    except OutputError as exc:
        raise InputError(str(exc)) from None
    if not 1 <= len(inputs) <= 2:
        raise InputError("give one --input to deduplicate, or two to link")
    if not fields:
        raise InputError("give at least one --field COLUMN:TYPE to compare on")
    if not 0 < threshold < 1:
        raise InputError(f"--threshold {threshold}: choose a probability between 0 and 1")
    if best and len(inputs) != 2:
        raise InputError("--best-match needs two inputs (each record of the second file keeps its best match)")
    if len(id_columns) not in (1, len(inputs)):
        raise InputError("give --id-column once, or once per --input")
    ids = list(id_columns) * (len(inputs) if len(id_columns) == 1 else 1)
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise InputError("each --field column once, please")
    frames = []
    for path, id_col in zip(inputs, ids, strict=True):
        frame = read_table(path)
        check_input(frame, path, id_col, fields)
        frames.append(frame)
    result = resolve(frames[0], frames[1] if len(frames) == 2 else None, fields, threshold=threshold,
                     progress=step_of(progress), with_clusters=clusters_out is not None)
    keep = np.flatnonzero(result.probability >= threshold)
    if best:
        chosen = best_match(result.i[keep], result.j[keep], result.probability[keep])
        keep = keep[chosen]
    keep = keep[np.argsort(-result.probability[keep], kind="stable")]
    left_ids = frames[0][ids[0]].astype(str).str.strip().to_numpy()
    right_ids = (frames[1][ids[1]] if len(frames) == 2 else frames[0][ids[0]]).astype(str).str.strip().to_numpy()
    table = pd.DataFrame({"id_l": left_ids[result.i[keep]], "id_r": right_ids[result.j[keep]],
                          "probability": result.probability[keep].round(6)})
    for k, f in enumerate(fields):
        table[f.name] = result.bits[keep, k].round(3)
    writers = [(out, _csv_writer(table))]
    n_clusters = 0
    if clusters_out is not None and result.clusters is not None:
        if len(frames) == 1:
            cl = pd.DataFrame({"id": left_ids, "cluster_id": result.clusters})
        else:
            cl = pd.DataFrame({"id": np.concatenate([left_ids, right_ids]), "cluster_id": result.clusters,
                               "input": np.repeat([1, 2], [len(left_ids), len(right_ids)])})
        # A cluster is named by its first member's id, so the file reads on its own.
        first = cl.groupby("cluster_id")["id"].transform("first")
        cl["cluster_id"] = first
        writers.append((clusters_out, _csv_writer(cl)))
        n_clusters = int(cl.cluster_id.nunique())
    write_all(writers)
    return RunResult(len(table), n_clusters, result)
