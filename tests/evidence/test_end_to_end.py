"""The issue's "Done when", end to end through the CLI against the seeded demo estate on moto, and the
redaction sweep: secrets planted in the estate reach no store row, blob, bundle member or report.

Scans run with ``ismap-scan scan --config`` pointing at the session's moto server (``providers.aws.
endpoint_url``), so the real collectors, engine, reports, store hook and bundle code all run. The store is the
default one under ``ISMAP_SCAN_DATA_DIR`` (a per-test folder, set by ``tests/conftest.py``).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import LargeBinary, String, Text, create_engine, select, update

from ismap_scan.cli import cli
from ismap_scan.demo.aws.seed import seed
from ismap_scan.demo.runner import AWS_DEMO_REGIONS
from ismap_scan.evidence import location
from ismap_scan.evidence.documents import insert_document_row
from ismap_scan.evidence.schema import documents, metadata, results, scans

SCOPE = "aws:111122223333"

# Planted secrets: made-up values shaped like real ones. Each must be redacted before anything is stored.
PEM_BODY = "MIIEpQIBAAKCAQEAplantedFAKEkeyBODYforTHEredactionSWEEP0000000000"
USER_DATA = (
    "#!/bin/bash\ncat > /etc/app/tls.key <<'EOF'\n-----BEGIN RSA PRIVATE KEY-----\n"
    f"{PEM_BODY}\n-----END RSA PRIVATE KEY-----\nEOF\nsystemctl restart app\n"
)
SECRET_KEY_40 = "Zq8Plant3dFakeSecretKeyValue00000000A/B+"
NOTE_SECRET = f"aws_secret_access_key={SECRET_KEY_40.replace('Zq8', 'Yw7')}"
LAMBDA_SECRETS = ("demo-fake-password-not-a-secret-0000", "demo_tok_0000000000000000000000000000fake")
PLANTED = (PEM_BODY, SECRET_KEY_40, NOTE_SECRET.split("=", 1)[1], *LAMBDA_SECRETS)


def _config(tmp_path: Path, endpoint: str) -> Path:
    cfg = tmp_path / "ismap-scan.yaml"
    cfg.write_text(
        "version: 1\n"
        "providers:\n"
        "  aws:\n"
        f"    endpoint_url: {endpoint}\n"
        f"    regions: [{', '.join(AWS_DEMO_REGIONS)}]\n"
        "    max_attempts: 1\n",
        encoding="utf-8",
    )
    return cfg


@pytest.fixture
def estate(moto_endpoint: str, aws_session: Any, tmp_path: Path) -> dict[str, Any]:
    """The demo estate seeded into the (reset) session moto server, a config that scans it, and a session."""
    seed(moto_endpoint, regions=AWS_DEMO_REGIONS)
    return {"endpoint": moto_endpoint, "config": _config(tmp_path, moto_endpoint), "session": aws_session}


def _scan(config: Path, out: Path) -> Path:
    """``ismap-scan scan --config CONFIG --output-dir OUT``; the new scan folder."""
    before = set(out.glob("*")) if out.is_dir() else set()
    res = CliRunner().invoke(cli, ["scan", "--config", str(config), "--output-dir", str(out)], obj={})
    assert res.exit_code in (0, 3, 4), res.output
    assert "Stored as link" in res.output, res.output
    (folder,) = set(out.glob("*")) - before
    return folder


def _verdicts(folder: Path) -> dict[tuple[str, str], str]:
    lines = (folder / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return {(d["check_id"], d["resource_id"]): d["verdict"] for d in map(json.loads, lines)}


# ---------------------------------------------------------------------------------------------- done when


def test_two_scans_diff_verify_tamper_and_bundle_on_a_fresh_machine(
    estate: dict[str, Any], tmp_path: Path
) -> None:
    runner = CliRunner()
    keys = runner.invoke(cli, ["keys", "generate"], obj={})
    assert keys.exit_code == 0, keys.output  # scans are now signed with DATA_DIR/keys/signing.key
    out = tmp_path / "out"
    base = _scan(estate["config"], out)

    # The change: versioning turned on for the one bucket that had it suspended.
    bucket = "jp-saas-prod-static-assets"
    s3 = estate["session"].client("s3", region_name="ap-northeast-1")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    head = _scan(estate["config"], out)

    before, after = _verdicts(base), _verdicts(head)
    changed = {
        k: (before.get(k), after.get(k))
        for k in before.keys() | after.keys()
        if before.get(k) != after.get(k)
    }
    arn = f"arn:aws:s3:::{bucket}"
    assert changed == {("aws.s3.bucket_versioning_enabled", arn): ("FAIL", "PASS")}

    res = runner.invoke(cli, ["diff", "--format", "json"], obj={})
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert [(e["check_id"], e["resource_id"]) for e in d["fixed"]] == [
        ("aws.s3.bucket_versioning_enabled", arn)
    ]
    assert d["new_failures"] == [] and d["new_resources"] == [] and d["removed_resources"] == []
    still = {(e["check_id"], e["resource_id"]) for e in d["still_failing"]}
    assert still == {k for k, v in after.items() if v == "FAIL"}

    ok = runner.invoke(cli, ["history", "verify"], obj={})
    assert ok.exit_code == 0 and "OK" in ok.output and "valid" in ok.output, ok.output

    # Bundle, then verify it where only the bundle, the public key and ismap-scan exist.
    made = runner.invoke(
        cli,
        [
            "bundle",
            "create",
            "--since",
            "2000-01-01",
            "--until",
            "2100-12-31",
            "-o",
            str(tmp_path / "evidence.zip"),
        ],
        obj={},
    )
    assert made.exit_code == 0 and "signed with key" in made.output, made.output
    auditor = tmp_path / "auditor"
    (auditor / "data").mkdir(parents=True)
    shutil.copy(tmp_path / "evidence.zip", auditor / "evidence.zip")
    shutil.copy(location.keys_dir() / location.PUBLIC_KEY_FILE, auditor / "vendor.pub")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ISMAP_SCAN_", "AWS_"))}
    env["ISMAP_SCAN_DATA_DIR"] = str(auditor / "data")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ismap_scan",
            "bundle",
            "verify",
            "evidence.zip",
            "--public-key",
            "vendor.pub",
        ],
        cwd=auditor,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "integrity:       ok" in proc.stdout and "reproducibility: ok" in proc.stdout
    assert "authenticity:    verified" in proc.stdout
    assert not (auditor / "data" / "evidence.sqlite3").exists()  # verifying needs no store

    # Editing a stored manifest, or a stored result, breaks verification and names the scan.
    url = location.default_store_url()
    engine = create_engine(url)
    ids = [r.scan_id for r in _rows(engine)]
    with engine.begin() as conn:
        pk, body = conn.execute(
            select(scans.c.id, scans.c.manifest_json).where(scans.c.scan_id == ids[0])
        ).one()
        conn.execute(
            update(scans)
            .where(scans.c.id == pk)
            .values(manifest_json=body.replace('"demo":false', '"demo":true'))
        )
    bad = runner.invoke(cli, ["history", "verify"], obj={})
    assert bad.exit_code == 3 and f"scan {ids[0]}" in bad.output and "manifest was changed" in bad.output
    with engine.begin() as conn:
        conn.execute(update(scans).where(scans.c.id == pk).values(manifest_json=body))
        pk2 = conn.execute(select(scans.c.id).where(scans.c.scan_id == ids[1])).scalar_one()
        row_id, doc_id = conn.execute(
            select(results.c.id, results.c.doc_id)
            .where(results.c.scan_pk == pk2)
            .where(results.c.verdict == "FAIL")
        ).first()
        text = zlib.decompress(
            conn.execute(select(documents.c.body).where(documents.c.id == doc_id)).scalar_one()
        )
        forged = insert_document_row(conn, text.decode().replace('"verdict":"FAIL"', '"verdict":"PASS"'))
        conn.execute(update(results).where(results.c.id == row_id).values(doc_id=forged, verdict="PASS"))
    engine.dispose()
    bad = runner.invoke(cli, ["history", "verify"], obj={})
    assert bad.exit_code == 3 and f"scan {ids[1]}" in bad.output and "results were changed" in bad.output


def _rows(engine: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(select(scans.c.scan_id).where(scans.c.scope_key == SCOPE).order_by(scans.c.seq))
        )


# ---------------------------------------------------------------------------------------------- redaction sweep


def _plant(session: Any) -> None:
    """More secrets than the seeder's Lambda variables: a PEM private key in EC2 user data, an AWS-secret-key
    shaped value in a secret-named tag, and a secret assignment in a plain tag."""
    ec2 = session.client("ec2", region_name="ap-northeast-1")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        UserData=USER_DATA,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "planted-secrets"}]}
        ],
    )
    group = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
    ec2.create_tags(
        Resources=[group],
        Tags=[{"Key": "backup_access_key", "Value": SECRET_KEY_40}, {"Key": "Note", "Value": NOTE_SECRET}],
    )


def _texts_of_blob(data: bytes) -> Iterator[bytes]:
    """The bytes, plus what is inside when they are gzip, zlib or zip (recursively)."""
    yield data
    if data[:2] == b"\x1f\x8b":
        yield from _texts_of_blob(gzip.decompress(data))
    elif data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for name in zf.namelist():
                yield from _texts_of_blob(zf.read(name))
    else:
        try:
            inner = zlib.decompress(data)
        except zlib.error:
            return
        yield from _texts_of_blob(inner)


def _leaks(where: str, data: bytes) -> list[str]:
    return [f"{where}: {s[:12]}…" for blob in _texts_of_blob(data) for s in PLANTED if s.encode() in blob]


def test_planted_secrets_reach_no_row_blob_bundle_member_or_report(
    estate: dict[str, Any], tmp_path: Path
) -> None:
    _plant(estate["session"])
    folder = _scan(estate["config"], tmp_path / "out")

    # The planted values were collected (so the sweep below is not vacuous) and redacted where they sat.
    with gzip.open(folder / "snapshot.jsonl.gz", "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    instance = next(r for r in records if r["type"] == "aws.ec2.instance" and r["name"] == "planted-secrets")
    assert "data.UserData" in instance["redactions"]
    tagged = [
        r
        for r in records
        if r["type"] == "aws.ec2.security_group" and any(p.startswith("data.Tags[") for p in r["redactions"])
    ]
    assert tagged and len([p for p in tagged[0]["redactions"] if p.startswith("data.Tags[")]) == 2
    functions = [r for r in records if r["type"] == "aws.lambda.function" and r["redactions"]]
    assert {p for r in functions for p in r["redactions"]} >= {
        "data.Environment.Variables.DB_PASSWORD",
        "data.Environment.Variables.API_TOKEN",
    }

    bundle = tmp_path / "bundle.zip"
    res = CliRunner().invoke(cli, ["bundle", "create", "-o", str(bundle)], obj={})
    assert res.exit_code == 0, res.output

    leaks: list[str] = []
    engine = create_engine(location.default_store_url())
    with engine.connect() as conn:
        swept = 0
        for table in metadata.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, (String, Text, LargeBinary))]
            for row in conn.execute(select(*cols)):
                for col, value in zip(cols, row, strict=True):
                    if value is None:
                        continue
                    data = bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode()
                    leaks += _leaks(f"{table.name}.{col.name}", data)
                    swept += 1
    engine.dispose()
    assert swept > 1000  # every result, control status and document was looked at
    blobs = [p for p in location.blob_dir().rglob("*") if p.is_file()]
    assert len(blobs) >= 2  # the snapshot and the check pack
    for p in blobs:
        leaks += _leaks(f"blob {p.name[:12]}", p.read_bytes())
    with zipfile.ZipFile(bundle) as zf:
        assert len(zf.namelist()) > 10
        for name in zf.namelist():
            leaks += _leaks(f"bundle member {name}", zf.read(name))
    reports = [p for p in folder.iterdir() if p.is_file()]
    assert {"summary.md", "results.csv", "results.sarif", "results.jsonl"} <= {p.name for p in reports}
    for p in reports:
        leaks += _leaks(f"report {p.name}", p.read_bytes())
    assert leaks == []
