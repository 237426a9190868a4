"""The engine treats ``sakura.zone`` records as the region scope of Sakura records (engine/index.py)."""

from __future__ import annotations

from ismap_scan.engine.index import SnapshotIndex, is_region_type
from ismap_scan.model import CollectionError, Resource


def _rec(rtype: str, rid: str, region: str, errors: list[CollectionError] | None = None) -> Resource:
    return Resource(
        "sakura",
        "111122223333",
        region,
        rtype,
        rid,
        rid,
        "2026-11-30T00:00:00Z",
        {"Name": region},
        errors or [],
    )


def test_zone_record_is_the_region_scope_and_carries_listing_errors() -> None:
    err = CollectionError("*", "iaas:GET disk", "503 busy", "server busy", resource_type="sakura.disk")
    index = SnapshotIndex(
        [_rec("sakura.zone", "zone/is1a", "is1a", [err]), _rec("sakura.disk", "is1a/disk/1", "is1a")]
    )
    zone = index.region_record("sakura", "111122223333", "is1a")
    assert zone is not None and zone.id == "zone/is1a"
    assert [e for _r, e in index.listing_errors("sakura.disk")] == [err]


def test_region_type_names() -> None:
    assert is_region_type("sakura", "sakura.zone") and is_region_type("aws", "aws.region")
    assert not is_region_type("sakura", "sakura.server") and not is_region_type("aws", "sakura.zone")
