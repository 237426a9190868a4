"""Evidence bundles: create → verify, and every bad-input case rejected with its own message."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ismap_scan.cli import cli
from ismap_scan.evidence.bundle import Limits, create_bundle, verify_bundle
from ismap_scan.evidence.signing import generate_keypair
from ismap_scan.evidence.store import open_store


@pytest.fixture
def made(tmp_path: Path, scan_factory: Any, store_kwargs: Any) -> dict[str, Any]:
    priv, pub = generate_keypair(tmp_path / "keys")
    _p2, other = generate_keypair(tmp_path / "other")
    with open_store(f"sqlite:///{tmp_path / 'ev.sqlite3'}") as store:
        store.store_scan(scan_factory({"a": True, "b": False}), sign_key=priv, **store_kwargs)
        store.store_scan(scan_factory({"a": True, "c": True}), sign_key=priv, **store_kwargs)
        path = tmp_path / "bundle.zip"
        create_bundle(store, store.list_scans(), path, sign_key=priv)
    return {"path": path, "pub": pub, "other": other, "tmp": tmp_path}


def _rewrite(src: Path, dst: Path, change: Any) -> None:
    """Copy the zip member by member, letting ``change(name, data)`` return new bytes or None to drop it."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info.filename, data)


def test_bundle_verifies_with_the_trusted_key(made: dict[str, Any]) -> None:
    rep = verify_bundle(made["path"], made["pub"])
    assert rep.ok, rep.problems
    assert rep.integrity == "ok" and rep.reproducibility == "ok" and rep.authenticity.startswith("verified")
    with zipfile.ZipFile(made["path"]) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("manifest.json"))
    assert "manifest.sig" in names and any(n.startswith("packs/") and n.endswith("s3.yaml") for n in names)
    assert any(n.endswith("reports/summary.md") for n in names)
    assert len(manifest["scans"]) == 2 and manifest["chain"]["links"] == 2
    assert manifest["scans"][1]["prev_manifest_sha256"] == manifest["scans"][0]["manifest_sha256"]
    res = CliRunner().invoke(
        cli, ["bundle", "verify", str(made["path"]), "--public-key", str(made["pub"])], obj={}
    )
    assert res.exit_code == 0 and "integrity:       ok" in res.output


def test_without_a_key_authenticity_is_unverified(made: dict[str, Any]) -> None:
    rep = verify_bundle(made["path"])
    assert rep.ok and rep.authenticity.startswith("unverified")


def _first_results(names: list[str]) -> str:
    return next(n for n in names if n.endswith("results.jsonl"))


def _tamper(made: dict[str, Any], case: str) -> tuple[Path, Limits | None, Path | None]:
    src, tmp, pub = made["path"], made["tmp"], made["pub"]
    dst = tmp / f"{case}.zip"
    with zipfile.ZipFile(src) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("manifest.json"))
    target = _first_results(names)
    if case == "truncated":
        dst.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    elif case == "changed_byte":
        _rewrite(src, dst, lambda n, d: d.replace(b'"FAIL"', b'"PASS"', 1) if n == target else d)
    elif case == "missing_member":
        _rewrite(src, dst, lambda n, d: None if n == target else d)
    elif case == "extra_member":
        _rewrite(src, dst, lambda n, d: d)
        with zipfile.ZipFile(dst, "a") as zf:
            zf.writestr("scans/notes.txt", b"added later")
    elif case == "wrong_key":
        dst, pub = src, made["other"]
    elif case == "manifest_wrong_hash":
        # Rewrite an evidence manifest and "fix" its member hash: the chain link no longer matches.
        em = next(n for n in names if n.endswith("evidence-manifest.json"))
        with zipfile.ZipFile(src) as zf:
            body = zf.read(em).replace(b'"demo":false', b'"demo":true')
        import hashlib

        manifest["members"][em] = {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
        _rewrite(
            src,
            dst,
            lambda n, d: body if n == em else (json.dumps(manifest).encode() if n == "manifest.json" else d),
        )
        pub = None
    elif case == "zip_slip":
        _rewrite(src, dst, lambda n, d: d)
        with zipfile.ZipFile(dst, "a") as zf:
            zf.writestr("../../evil.sh", b"echo owned")
    elif case == "zip_bomb":
        _rewrite(src, dst, lambda n, d: d)
        with zipfile.ZipFile(dst, "a", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("scans/huge.bin", b"\0" * (8 << 20))
        return dst, Limits(max_ratio=100.0), pub
    elif case == "not_reproducible":
        # A check changed in the bundled pack, with its member hash updated: integrity holds, but the pack
        # no longer hashes to the one the scans used.
        pack_file = next(n for n in names if n.startswith("packs/") and n.endswith("s3.yaml"))
        with zipfile.ZipFile(src) as zf:
            body = zf.read(pack_file) + b"\n# edited\n"
        import hashlib

        manifest["members"][pack_file] = {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
        _rewrite(
            src,
            dst,
            lambda n, d: (
                body if n == pack_file else (json.dumps(manifest).encode() if n == "manifest.json" else d)
            ),
        )
        pub = None
    return dst, None, pub


@pytest.mark.parametrize(
    ("case", "code", "words"),
    [
        ("truncated", "unreadable", "truncated"),
        ("changed_byte", "member_changed", "was changed"),
        ("missing_member", "missing_member", "missing from the zip"),
        ("extra_member", "extra_member", "not listed in manifest.json"),
        ("wrong_key", "signature_invalid", "does not verify with the given public key"),
        ("manifest_wrong_hash", "manifest_hash", "not the chain link"),
        ("zip_slip", "zip_slip", "unsafe path"),
        ("zip_bomb", "zip_bomb", "zip bomb"),
        ("not_reproducible", "not_reproducible", "scan "),
    ],
)
def test_bad_bundles_are_rejected_with_their_own_message(
    made: dict[str, Any], case: str, code: str, words: str
) -> None:
    path, limits, pub = _tamper(made, case)
    rep = verify_bundle(path, pub, limits)
    assert not rep.ok
    assert rep.problems[0].code == code, rep.problems
    assert words in rep.problems[0].message
    if limits is None:
        args = ["bundle", "verify", str(path)] + (["--public-key", str(pub)] if pub else [])
        res = CliRunner().invoke(cli, args, obj={})
        assert res.exit_code == 3 and code in res.output


def test_zip_slip_is_refused_before_anything_is_written(made: dict[str, Any], tmp_path: Path) -> None:
    path, _l, _p = _tamper(made, "zip_slip")
    verify_bundle(path)
    assert not (made["tmp"].parent / "evil.sh").exists() and not (tmp_path.parent.parent / "evil.sh").exists()


EXAMPLE_STATEMENT = Path(__file__).resolve().parents[2] / "examples" / "assertion.yaml"


def test_the_statement_is_bundled_and_control_statuses_reproduce_in_full(
    tmp_path: Path, scan_factory: Any, store_kwargs: Any
) -> None:
    """A scan rolled up with an assertion.yaml: the bundle carries it, verify re-rolls every control status in
    full with it, and a statement edited inside the bundle (member hash "fixed") no longer reproduces them."""
    import hashlib

    with open_store(f"sqlite:///{tmp_path / 'ev.sqlite3'}") as store:
        folder = scan_factory({"a": True, "b": False}, assertion=EXAMPLE_STATEMENT)
        store.store_scan(folder, assertion=EXAMPLE_STATEMENT, **store_kwargs)
        path = tmp_path / "statement.zip"
        create_bundle(store, store.list_scans(), path)
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("manifest.json"))
        member = next(n for n in names if n.endswith("/assertion.yaml"))
        assert zf.read(member) == EXAMPLE_STATEMENT.read_bytes()
        controls = json.loads(zf.read(member.replace("assertion.yaml", "controls.json")))["controls"]
    assert manifest["scans"][0]["assertion"] == member
    assert any(c["selected"] is not None for c in controls)  # rolled up with the statement
    rep = verify_bundle(path)
    assert rep.ok and rep.reproducibility == "ok", rep.problems

    old = b'check: aws.ec2.default_vpc_not_in_use\n    resource: "arn:aws:ec2:ap-northeast-3:111122223333:vpc/*"'
    new = b'check: aws.s3.bucket_versioning_enabled\n    resource: "arn:aws:s3:::b"'
    body = EXAMPLE_STATEMENT.read_bytes()
    assert old in body
    body = body.replace(old, new)
    manifest["members"][member] = {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
    bad = tmp_path / "edited-statement.zip"
    _rewrite(
        path,
        bad,
        lambda n, d: body if n == member else (json.dumps(manifest).encode() if n == "manifest.json" else d),
    )
    rep = verify_bundle(bad)
    assert rep.integrity == "ok" and rep.reproducibility == "FAILED"
    assert [p.code for p in rep.problems] == ["not_reproducible"]
    assert "control statuses differ" in rep.problems[0].message


# ------------------------------------------------------------------------------- hostile bundles (review)


def _manifest_and_names(path: Path) -> tuple[dict[str, Any], list[str]]:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("manifest.json")), zf.namelist()


def _with_manifest(
    src: Path, dst: Path, manifest: dict[str, Any], extra: dict[str, bytes] | None = None
) -> Path:
    """``src`` with its manifest replaced (and ``extra`` members added), manifest.sig dropped."""
    _rewrite(
        src,
        dst,
        lambda n, d: (
            None if n == "manifest.sig" else (json.dumps(manifest).encode() if n == "manifest.json" else d)
        ),
    )
    if extra:
        with zipfile.ZipFile(dst, "a") as zf:
            for name, data in extra.items():
                zf.writestr(name, data)
    return dst


def test_every_member_is_hashed_in_the_signed_manifest(made: dict[str, Any]) -> None:
    manifest, names = _manifest_and_names(made["path"])
    assert set(names) - {"manifest.json", "manifest.sig"} == set(manifest["members"])
    assert any("/reports/" in n for n in manifest["members"])  # reports too, not only the evidence files


def test_forged_report_with_the_signature_deleted_fails_with_a_trusted_key(made: dict[str, Any]) -> None:
    """The attack: change a report, fix its hash in manifest.json, delete manifest.sig."""
    import hashlib

    manifest, names = _manifest_and_names(made["path"])
    report = next(n for n in names if n.endswith("reports/summary.md"))
    forged = b"# All controls COMPLIANT. 0 failures.\n"
    manifest["members"][report] = {"sha256": hashlib.sha256(forged).hexdigest(), "bytes": len(forged)}
    dst = made["tmp"] / "forged.zip"
    _rewrite(
        made["path"],
        dst,
        lambda n, d: (
            None
            if n == "manifest.sig"
            else forged
            if n == report
            else json.dumps(manifest).encode()
            if n == "manifest.json"
            else d
        ),
    )
    rep = verify_bundle(dst, made["pub"])
    assert rep.integrity == "ok" and rep.reproducibility == "ok"  # the forgery is otherwise consistent
    assert rep.authenticity == "FAILED" and rep.codes() == ["signature_missing"]
    res = CliRunner().invoke(cli, ["bundle", "verify", str(dst), "--public-key", str(made["pub"])], obj={})
    assert (
        res.exit_code == 3 and "signature_missing" in res.output and "manifest.sig is missing" in res.output
    )
    # Without a trusted key nothing can be said either way: "unsigned", as before.
    assert verify_bundle(dst).authenticity.startswith("unsigned")
    # With the signature kept, the changed report breaks it.
    kept = made["tmp"] / "forged-kept-sig.zip"
    _rewrite(
        made["path"],
        kept,
        lambda n, d: (
            forged if n == report else (json.dumps(manifest).encode() if n == "manifest.json" else d)
        ),
    )
    assert "signature_invalid" in verify_bundle(kept, made["pub"]).codes()


def test_scan_signature_by_another_key_fails_authenticity(
    tmp_path: Path, scan_factory: Any, store_kwargs: Any
) -> None:
    """Scans stored with key B, bundle signed with key A, verified with A: the scans are not A's."""
    priv_a, pub_a = generate_keypair(tmp_path / "a")
    priv_b, _pub_b = generate_keypair(tmp_path / "b")
    with open_store(f"sqlite:///{tmp_path / 'ev.sqlite3'}") as store:
        store.store_scan(scan_factory({"a": True}), sign_key=priv_b, **store_kwargs)
        path = tmp_path / "mixed.zip"
        create_bundle(store, store.list_scans(), path, sign_key=priv_a)
    rep = verify_bundle(path, pub_a)
    assert rep.authenticity == "FAILED" and rep.codes() == ["signature_untrusted"]
    assert "not the trusted key" in rep.problems[0].message


@pytest.mark.parametrize(
    ("case", "code", "words"),
    [
        ("file_and_folder", "member_conflict", "both a file and the folder"),
        ("long_name", "bad_member_name", "name too long"),
        ("member_not_dict", "bad_manifest", "must be {'sha256'"),
        ("scans_str", "bad_manifest", "scans[0] must be an object"),
        ("scans_not_list", "bad_manifest", "'scans' must be a non-empty list"),
        ("scan_id_path", "bad_manifest", "scan_id must be a scan ID"),
        ("pack_dir_path", "bad_manifest", "pack_dir must be packs/"),
    ],
)
def test_malformed_bundle_manifests_and_names_are_problems_not_crashes(
    made: dict[str, Any], case: str, code: str, words: str
) -> None:
    import hashlib

    manifest, names = _manifest_and_names(made["path"])
    results = _first_results(names)
    extra: dict[str, bytes] = {}
    if case == "file_and_folder":
        extra = {results + "/x": b"x"}
    elif case == "long_name":
        extra = {results.rsplit("/", 1)[0] + "/reports/" + "a" * 300: b"x"}
    elif case == "member_not_dict":
        manifest["members"][results] = [1]
    elif case == "scans_str":
        manifest["scans"] = ["x"]
    elif case == "scans_not_list":
        manifest["scans"] = {"x": 1}
    elif case == "scan_id_path":
        manifest["scans"][0]["scan_id"] = "../../etc"
    elif case == "pack_dir_path":
        manifest["scans"][0]["pack_dir"] = "/etc"
    for name, data in extra.items():
        manifest["members"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    dst = _with_manifest(made["path"], made["tmp"] / f"{case}.zip", manifest, extra)
    rep = verify_bundle(dst)
    assert rep.codes() == [code] and words in rep.problems[0].message, rep.problems
    res = CliRunner().invoke(cli, ["bundle", "verify", str(dst)], obj={})
    assert res.exit_code == 3 and code in res.output


def test_bundled_check_nested_too_deeply_is_not_reproducible_not_a_crash(made: dict[str, Any]) -> None:
    import hashlib

    manifest, names = _manifest_and_names(made["path"])
    pack_file = next(n for n in names if n.startswith("packs/") and n.endswith("s3.yaml"))
    with zipfile.ZipFile(made["path"]) as zf:
        body = (
            zf.read(pack_file)
            + (
                "\n- id: aws.s3.zz_deep\n  resource: aws.s3.bucket\n  severity: low\n  title: {en: t, ja: t}\n"
                f'  remediation: {{en: r, ja: r}}\n  assert: "{"(" * 5000}`true`{")" * 5000}"\n'
            ).encode()
        )
    manifest["members"][pack_file] = {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
    dst = made["tmp"] / "deep.zip"
    _rewrite(
        made["path"],
        dst,
        lambda n, d: (
            None
            if n == "manifest.sig"
            else body
            if n == pack_file
            else json.dumps(manifest).encode()
            if n == "manifest.json"
            else d
        ),
    )
    rep = verify_bundle(dst)
    assert rep.reproducibility == "FAILED" and "not_reproducible" in rep.codes()
    assert any("nested too deeply" in p.message for p in rep.problems)
