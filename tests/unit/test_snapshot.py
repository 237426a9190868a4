"""Snapshot files: canonical, sorted, hashed over uncompressed lines; bad files give file:line errors."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest

from ismap_scan.errors import InputError
from ismap_scan.model import CollectionError, Resource
from ismap_scan.snapshot import new_scan_id, read_snapshot, write_snapshot


def rec(rid: str, region: str = "ap-northeast-1", **data: object) -> Resource:
    return Resource(
        provider="aws",
        account="111122223333",
        region=region,
        type="aws.s3.bucket",
        id=rid,
        name=rid.rsplit(":", 1)[-1],
        collected_at="2026-11-30T01:02:03Z",
        data=dict(data),
    )


def test_round_trip_sorted_and_canonical(tmp_path: Path) -> None:
    b = rec("arn:aws:s3:::b", Name="b", 名前="ログ")
    a = rec("arn:aws:s3:::a", Name="a", Policy=None)
    a.errors.append(CollectionError("Policy", "s3:GetBucketPolicy", "AccessDenied", "denied"))
    a.redactions.append("data.Tags[0].Value")
    path = tmp_path / "snapshot.jsonl.gz"
    digest = write_snapshot(path, [b, a])
    back, digest2 = read_snapshot(path)
    assert [r.id for r in back] == ["arn:aws:s3:::a", "arn:aws:s3:::b"]
    assert back[0] == a and back[1] == b
    raw = gzip.decompress(path.read_bytes())
    assert digest.sha256 == hashlib.sha256(raw).hexdigest() == digest2.sha256
    first = raw.split(b"\n")[0].decode()
    assert first.startswith('{"account":"111122223333","collected_at"') and ": " not in first
    assert "ログ".encode() in raw  # UTF-8 kept, not \u-escaped
    assert digest.lines == 2


def test_hash_does_not_depend_on_compression(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.jsonl.gz"
    digest = write_snapshot(path, [rec("arn:aws:s3:::a")])
    plain = tmp_path / "plain.jsonl"
    plain.write_bytes(gzip.decompress(path.read_bytes()))
    recompressed = tmp_path / "re.jsonl.gz"
    recompressed.write_bytes(gzip.compress(plain.read_bytes(), compresslevel=1, mtime=12345))
    assert read_snapshot(plain)[1].sha256 == digest.sha256 == read_snapshot(recompressed)[1].sha256


def test_same_input_same_bytes(tmp_path: Path) -> None:
    p1, p2 = tmp_path / "1.gz", tmp_path / "2.gz"
    write_snapshot(p1, [rec("arn:aws:s3:::a"), rec("arn:aws:s3:::b")])
    write_snapshot(p2, [rec("arn:aws:s3:::b"), rec("arn:aws:s3:::a")])
    assert p1.read_bytes() == p2.read_bytes()


@pytest.mark.parametrize(
    ("content", "line", "fragment"),
    [
        (b'{"provider":"aws"}\n', 1, "missing or bad field"),
        (
            b'{"provider":"aws","account":"1","region":"r","type":"t","id":"i","collected_at":"x"}\nnot json\n',
            2,
            "not a JSON object",
        ),
        (b"[1,2]\n", 1, "expected a JSON object"),
    ],
)
def test_bad_lines_name_the_line(tmp_path: Path, content: bytes, line: int, fragment: str) -> None:
    path = tmp_path / "snapshot.jsonl.gz"
    path.write_bytes(gzip.compress(content))
    with pytest.raises(InputError) as info:
        read_snapshot(path)
    assert str(info.value).startswith(f"{path}:{line}: ") and fragment in str(info.value)


def test_truncated_gzip_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.jsonl.gz"
    write_snapshot(path, [rec(f"arn:aws:s3:::b{i}", Blob="x" * 2000 + str(i)) for i in range(50)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated or not gzip"):
        read_snapshot(path)


def test_missing_snapshot(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="snapshot not found"):
        read_snapshot(tmp_path / "nope.jsonl.gz")


def test_scan_ids_sort_by_time() -> None:
    from datetime import UTC, datetime

    a = new_scan_id(datetime(2026, 11, 30, 1, 2, 3, tzinfo=UTC))
    b = new_scan_id(datetime(2026, 11, 30, 1, 2, 4, tzinfo=UTC))
    assert a.startswith("20261130T010203Z-") and a < b
