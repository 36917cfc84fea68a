"""The raw payload archive: gzip members per committed step, read back up to a torn last member."""

from __future__ import annotations

import gzip
from pathlib import Path

from assets.ingest.raw_archive import ArchiveRecord, ArchiveWriter, read_part, read_records


def record(seq: int, text: str = '{"success": true}', status: int = 200) -> ArchiveRecord:
    return ArchiveRecord(
        seq=seq, path="/posts", params=(("limit", "25"), ("sort", "new")), status=status,
        headers={"date": "Sun, 01 Mar 2026 00:00:00 GMT"}, fetched_at="2026-03-01T00:00:01+00:00",
        observed_at="2026-03-01T00:00:00+00:00", text=text, parser_version="1",
    )


def test_a_part_is_concatenated_members_read_in_order(tmp_path: Path) -> None:
    step_one = [record(0), record(1, text="not json at all", status=500)]
    step_two = [record(2, text='{"content": "half an emoji \ud83e 🦞"}')]  # lone surrogate kept
    with ArchiveWriter(tmp_path) as writer:
        for step in (step_one, step_two):
            for r in step:
                writer.add(r)
            writer.flush()  # one gzip member per committed step
    part = writer.path
    assert part.name == "part-0001.jsonl.gz" and writer.records_written == 3
    assert gzip.decompress(part.read_bytes()).count(b"\n") == 3  # gzip reads members as one stream
    assert list(read_part(part)) == step_one + step_two
    assert list(read_part(part))[1].body() is None  # a body that is not JSON reads as None


def test_a_torn_last_member_is_dropped_and_the_members_before_it_are_kept(tmp_path: Path) -> None:
    with ArchiveWriter(tmp_path) as writer:
        writer.add(record(0))
        writer.flush()
        writer.add(record(1))
    whole = writer.path.read_bytes()
    torn = gzip.compress(b'{"seq": 2, "path": "/posts", "status": 200}\n' * 50)
    writer.path.write_bytes(whole + torn[: len(torn) // 2])  # a crash in the middle of a write
    assert [r.seq for r in read_part(writer.path)] == [0, 1]

    writer.path.write_bytes(whole[:-5])  # the last member itself cut short
    assert [r.seq for r in read_part(writer.path)] == [0]


def test_a_resumed_run_writes_a_new_part_read_after_the_first(tmp_path: Path) -> None:
    with ArchiveWriter(tmp_path) as first:
        first.add(record(0))
    with ArchiveWriter(tmp_path) as resumed:
        resumed.add(record(1))
    assert (first.path.name, resumed.path.name) == ("part-0001.jsonl.gz", "part-0002.jsonl.gz")
    assert [r.seq for r in read_records([tmp_path])] == [0, 1]
    assert [r.seq for r in read_records([resumed.path, first.path])] == [1, 0]  # order given
