"""The raw payload archive of live syncs (MOLTBOOK_API §7.7): every response body, kept as sent.

One folder per ingest run, `<archive_dir>/<society_id>/<run_id>/`, holding `part-NNNN.jsonl.gz`
files: each process that works on the run (the first attempt, then every resume after a crash)
opens a new part, so a part cut short by a kill never sits in front of good data. A part is a
series of gzip members, one per committed step of the sync; a reader takes every complete
member and stops at a torn last one.

A record is one answered request: path, params (never credentials), status, the date and
rate-limit headers, fetch and observation times, the body text and the parser version. Parsing
reads these records, so a parser fix can be replayed over history (`assets.ingest.moltbook_sync`).
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable, Iterator

from assets.ingest.moltbook_client import ApiResponse

_PART = re.compile(r"^part-(\d{4,})\.jsonl\.gz$")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.:-]+")


@dataclass(frozen=True)
class ArchiveRecord:
    seq: int  # position in the run, counted across its parts
    path: str
    params: tuple[tuple[str, str], ...]
    status: int
    headers: dict[str, str]
    fetched_at: str  # ISO-8601 UTC
    observed_at: str  # ISO-8601 UTC: the server's Date, else the fetch time
    text: str
    parser_version: str

    def body(self) -> object | None:
        try:
            return json.loads(self.text)
        except ValueError:
            return None


def record_of(response: ApiResponse, seq: int, parser_version: str) -> ArchiveRecord:
    return ArchiveRecord(
        seq=seq,
        path=response.path,
        params=response.params,
        status=response.status,
        headers=dict(response.headers),
        fetched_at=response.fetched_at.isoformat(),
        observed_at=response.observed_at.isoformat(),
        text=response.text,
        parser_version=parser_version,
    )


def _to_line(record: ArchiveRecord) -> bytes:
    data = {
        "seq": record.seq,
        "method": "GET",
        "path": record.path,
        "params": [list(p) for p in record.params],
        "status": record.status,
        "headers": record.headers,
        "fetched_at": record.fetched_at,
        "observed_at": record.observed_at,
        "text": record.text,
        "parser_version": record.parser_version,
    }
    # ensure_ascii keeps lone surrogates (from undecodable bytes) representable as \\u escapes.
    return json.dumps(data, ensure_ascii=True).encode("ascii") + b"\n"


def _from_line(line: bytes) -> ArchiveRecord:
    data = json.loads(line)
    return ArchiveRecord(
        seq=int(data["seq"]),
        path=str(data["path"]),
        params=tuple((str(k), str(v)) for k, v in data.get("params") or []),
        status=int(data["status"]),
        headers={str(k): str(v) for k, v in (data.get("headers") or {}).items()},
        fetched_at=str(data["fetched_at"]),
        observed_at=str(data["observed_at"]),
        text=str(data["text"]),
        parser_version=str(data.get("parser_version", "")),
    )


def run_folder(archive_dir: Path, society_id: str, run_id: str) -> Path:
    return Path(archive_dir) / _SAFE_NAME.sub("_", society_id) / _SAFE_NAME.sub("_", run_id)


class ArchiveWriter:
    """Appends records to a fresh part of one run's folder; `flush()` closes a gzip member.

    The sync flushes before it commits the rows parsed from those records, so the archive is never
    behind the warehouse.
    """

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        numbers = [int(m.group(1)) for p in folder.iterdir() if (m := _PART.match(p.name))]
        self.path = folder / f"part-{max(numbers, default=0) + 1:04d}.jsonl.gz"
        self._file: IO[bytes] = open(self.path, "ab")
        self._pending: list[bytes] = []
        self.records_written = 0

    def add(self, record: ArchiveRecord) -> None:
        self._pending.append(_to_line(record))

    def flush(self) -> None:
        if not self._pending:
            return
        self._file.write(gzip.compress(b"".join(self._pending), compresslevel=6))
        self._file.flush()
        self.records_written += len(self._pending)
        self._pending.clear()

    def close(self) -> None:
        self.flush()
        self._file.close()

    def __enter__(self) -> "ArchiveWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _members(data: bytes) -> Iterator[bytes]:
    """The decompressed complete gzip members of `data`, stopping at a torn or corrupt one."""
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out = inflater.decompress(data)
        except zlib.error:
            return
        if not inflater.eof:
            return  # the last member was cut short (a crash mid-write)
        yield out
        data = inflater.unused_data


def read_part(path: Path) -> Iterator[ArchiveRecord]:
    for member in _members(Path(path).read_bytes()):
        for line in member.splitlines():
            if line.strip():
                yield _from_line(line)


def run_parts(folder: Path) -> list[Path]:
    parts = [p for p in Path(folder).iterdir() if _PART.match(p.name)] if Path(folder).is_dir() else []
    return sorted(parts, key=lambda p: int(_PART.match(p.name).group(1)))  # type: ignore[union-attr]


def read_run(folder: Path) -> Iterator[ArchiveRecord]:
    """Every record of a run, parts in order (a resumed run repeats a few: upserts absorb them)."""
    for part in run_parts(folder):
        yield from read_part(part)


def read_records(paths: Iterable[Path]) -> Iterator[ArchiveRecord]:
    """Records of run folders or single part files, in the order given."""
    for path in paths:
        path = Path(path)
        yield from (read_run(path) if path.is_dir() else read_part(path))
