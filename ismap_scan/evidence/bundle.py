"""Evidence bundles (DESIGN §6): one zip an auditor can check with nothing but ismap-scan and a public key.

Layout::

    manifest.json                       every member's SHA-256 and size, scope, times, versions, chain hashes
    manifest.sig                        detached Ed25519 signature over manifest.json's bytes (when signed)
    scans/<scan-id>/evidence-manifest.json   the stored manifest, byte for byte (its SHA-256 is the chain link)
    scans/<scan-id>/evidence-manifest.sig    the stored manifest's own signature (when it was signed)
    scans/<scan-id>/snapshot.jsonl.gz        what was seen
    scans/<scan-id>/results.jsonl            what the checks said
    scans/<scan-id>/controls.json            the control statuses
    scans/<scan-id>/assertion.yaml           the statement the control roll-up used (when there was one)
    scans/<scan-id>/reports/...              summary.md, results.csv (and html/xlsx when those renderers exist)
    packs/<pack-hash>/checks/..., mappings/...   the check pack and mapping files the scans used
    reports/period.md, period.json           for --since/--until bundles

``bundle verify`` reports three things separately: **integrity** (the zip is sound and every member hashes
to the manifest; each evidence manifest hashes to its chain link and matches its files), **authenticity**
(the signature verifies with a key the auditor trusts; without one it says "unverified") and
**reproducibility** (re-evaluating each snapshot with the bundled checks gives the bundled results).

Hostile input is refused before anything is extracted: unsafe member paths (zip slip), declared sizes or
compression ratios beyond the limits (zip bomb); members are then streamed with a cap on bytes read.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from .. import __version__
from ..errors import InputError
from ..model import canonical_json
from . import signing
from .store import EvidenceStore, ScanRow, lines_sha256, sha256_hex, snapshot_lines_sha256

BUNDLE_SCHEMA = "ismap-scan/bundle/v1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Limits:
    """Refusal thresholds for untrusted bundles (bytes; ratio = uncompressed / compressed)."""

    max_member_bytes: int = 2 << 30
    max_total_bytes: int = 8 << 30
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 1 << 20  # small members may compress well; the ratio rule starts above this
    max_members: int = 100_000


# ---------------------------------------------------------------------------------------------- create


def _zip_write(zf: zipfile.ZipFile, name: str, data: bytes, members: dict[str, dict[str, Any]]) -> None:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)
    members[name] = {"sha256": sha256_hex(data), "bytes": len(data)}


def _reports_for(
    store: EvidenceStore, scan: ScanRow, results_lines: list[str], skipped: dict[str, str]
) -> Iterator[tuple[str, bytes]]:
    """Render the scan's reports (every format but jsonl/sarif) from its stored results."""
    from ..model import Result
    from ..reports import FORMATS, ReportMeta, write_reports

    m = scan.manifest
    results = [Result.from_dict(json.loads(line)) for line in results_lines]
    meta = ReportMeta(
        scan_id=scan.scan_id,
        tool_version=str((m.get("tool") or {}).get("version", "")),
        check_pack_hash=str(scan.check_pack_sha256 or ""),
        catalog_version=scan.catalog_version,
        started_at=scan.started_at,
        finished_at=scan.finished_at,
        scope=m.get("scope") or {},
        language="en",
        controls=store.control_dicts(scan),
    )
    formats = [f for f in FORMATS if f not in ("jsonl", "sarif")]
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in formats:
            # A renderer that fails (e.g. an optional one whose library is missing) costs that report only;
            # the failure is recorded in the bundle manifest instead of stopping the bundle.
            try:
                paths = write_reports(results, tmp, [fmt], meta)
            except Exception as exc:
                skipped[fmt] = f"{type(exc).__name__}: {exc}"
                continue
            for path in paths:
                yield path.name, path.read_bytes()


def create_bundle(
    store: EvidenceStore,
    scans: list[ScanRow],
    out: Path,
    *,
    sign_key: Path | None = None,
    period: dict[str, Any] | None = None,
    extra_reports: dict[str, bytes] | None = None,
) -> dict[str, Any]:
    """Write the bundle for ``scans`` (one scope, chain order) to ``out``; return its manifest.

    ``period`` (``{"since", "until"}``) is recorded when the bundle covers a period; ``extra_reports`` adds
    ``reports/<name>`` members. Raises :class:`InputError` for no scans, several scopes, or a scan whose
    snapshot or check pack is no longer available (pruned).
    """
    if not scans:
        raise InputError("nothing to bundle: no stored scan matches")
    scopes = {s.scope_key for s in scans}
    if len(scopes) > 1:
        raise InputError(
            f"a bundle holds one scope; these scans span {', '.join(sorted(scopes))} (use --scope)"
        )
    scans = sorted(scans, key=lambda s: s.seq)
    key = signing.load_private_key(sign_key) if sign_key else None
    members: dict[str, dict[str, Any]] = {}
    entries: list[dict[str, Any]] = []
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    packs_done: set[str] = set()
    skipped: dict[str, str] = {}
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for s in scans:
            base = f"scans/{s.scan_id}"
            lines = list(store._result_lines(s.pk))
            _zip_write(zf, f"{base}/evidence-manifest.json", s.manifest_json.encode("utf-8"), members)
            if s.signature:
                sig_doc = {"signature": s.signature, "key_id": s.key_id, "algorithm": "Ed25519"}
                _zip_write(zf, f"{base}/evidence-manifest.sig", canonical_json(sig_doc).encode(), members)
            _zip_write(zf, f"{base}/snapshot.jsonl.gz", store.snapshot_bytes(s), members)
            _zip_write(
                zf, f"{base}/results.jsonl", "".join(line + "\n" for line in lines).encode("utf-8"), members
            )
            controls_doc = {"catalog": s.catalog_version, "controls": store.control_dicts(s)}
            _zip_write(zf, f"{base}/controls.json", _pretty(controls_doc), members)
            statement = store.assertion_bytes(s)
            if statement is not None:
                _zip_write(zf, f"{base}/assertion.yaml", statement, members)
            for name, data in _reports_for(store, s, lines, skipped):
                _zip_write(zf, f"{base}/reports/{name}", data, members)
            pack_dir = None
            if s.check_pack_sha256:
                pack_dir = f"packs/{s.check_pack_sha256}"
                if s.check_pack_sha256 not in packs_done:
                    archive = store.check_pack_bytes(s)
                    if archive is None:
                        raise InputError(
                            f"scan {s.scan_id}: its check pack was not archived; cannot bundle it"
                        )
                    with zipfile.ZipFile(io.BytesIO(archive)) as pack:
                        for info in pack.infolist():
                            _zip_write(zf, f"{pack_dir}/{info.filename}", pack.read(info), members)
                    packs_done.add(s.check_pack_sha256)
            m = s.manifest
            entries.append(
                {
                    "scan_id": s.scan_id,
                    "seq": s.seq,
                    "started_at": s.started_at,
                    "finished_at": s.finished_at,
                    "tool_version": s.tool_version,
                    "catalog_version": s.catalog_version,
                    "check_pack_sha256": s.check_pack_sha256,
                    "pack_dir": pack_dir,
                    "selection": m.get("selection") or {},
                    "assertion": f"{base}/assertion.yaml" if statement is not None else None,
                    "manifest_sha256": s.manifest_sha256,
                    "prev_manifest_sha256": s.prev_manifest_sha256,
                    "signed": s.signature is not None,
                    "key_id": s.key_id,
                    "results": s.results_count,
                    "fail": s.fail_count,
                }
            )
        for name, data in sorted((extra_reports or {}).items()):
            _zip_write(zf, f"reports/{name}", data, members)
        manifest: dict[str, Any] = {
            "schema": BUNDLE_SCHEMA,
            "created_at": _utc_now(),
            "tool": {"name": "ismap-scan", "version": __version__},
            "scope": scans[0].scope_key,
            "scope_detail": scans[0].manifest.get("scope") or {},
            "period": period,
            "scans": entries,
            "chain": {
                "first_prev_manifest_sha256": scans[0].prev_manifest_sha256,
                "head_manifest_sha256": scans[-1].manifest_sha256,
                "links": len(scans),
            },
            "reports_skipped": skipped,
            "members": dict(sorted(members.items())),
        }
        body = _pretty(manifest)
        info = zipfile.ZipInfo(MANIFEST, date_time=_FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, body)
        if key is not None:
            sig_info = zipfile.ZipInfo(SIGNATURE, date_time=_FIXED_TIME)
            zf.writestr(sig_info, (signing.sign(key, body) + "\n").encode("ascii"))
            manifest["_signed_by"] = signing.key_id(key.public_key())
    os.replace(tmp, out)
    return manifest


def _pretty(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _utc_now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------- verify


@dataclass
class Problem:
    """One reason a bundle fails verification: a stable ``code`` and a message naming the member or scan."""

    code: str
    message: str


@dataclass
class VerifyReport:
    """The three verdicts of ``bundle verify`` and every problem found."""

    integrity: str = "not checked"
    authenticity: str = "not checked"
    reproducibility: str = "not checked"
    problems: list[Problem] = field(default_factory=list)
    scans: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, code: str, message: str) -> None:
        self.problems.append(Problem(code, message))

    def codes(self) -> list[str]:
        return [p.code for p in self.problems]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "integrity": self.integrity,
            "authenticity": self.authenticity,
            "reproducibility": self.reproducibility,
            "scans": self.scans,
            "problems": [{"code": p.code, "message": p.message} for p in self.problems],
        }


def _unsafe_name(name: str) -> str | None:
    """Why ``name`` may not be extracted (absolute, drive, backslash, ``..``, empty part), or ``None``."""
    if not name or name.startswith(("/", "\\")) or "\\" in name or (len(name) > 1 and name[1] == ":"):
        return "absolute or drive path"
    parts = PurePosixPath(name).parts
    if any(p in ("..", "") for p in parts):
        return "'..' component"
    if "\x00" in name:
        return "NUL in name"
    return None


def verify_bundle(path: Path, public_key: Path | None = None, limits: Limits | None = None) -> VerifyReport:
    """Verify the bundle at ``path`` (see the module docstring). Never raises for a bad bundle: every finding
    is a :class:`Problem` in the report (codes: ``unreadable``, ``zip_slip``, ``zip_bomb``, ``bad_manifest``,
    ``missing_member``, ``extra_member``, ``member_changed``, ``member_corrupt``, ``manifest_hash``,
    ``chain_broken``, ``content_mismatch``, ``signature_invalid``, ``not_reproducible``, ``signature_missing``
    (a trusted key was given but nothing is signed), ``signature_untrusted`` (a scan signed with another key),
    ``member_conflict``, ``bad_member_name``, ``member_unwritable``). Raises
    :class:`InputError` only when ``path`` or ``public_key`` cannot be read at all."""
    limits = limits or Limits()
    rep = VerifyReport()
    if not Path(path).is_file():
        raise InputError("bundle not found", file=path)
    pub = signing.load_public_key(public_key) if public_key else None
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        rep.integrity = "FAILED"
        rep.add("unreadable", f"not a readable zip: the file is truncated or corrupted ({exc})")
        return rep
    with zf, tempfile.TemporaryDirectory(prefix="ismap-bundle-") as tmp:
        if not _check_structure(zf, limits, rep):
            rep.integrity = "FAILED"
            return rep
        manifest, body = _read_manifest(zf, rep)
        if manifest is None:
            rep.integrity = "FAILED"
            return rep
        rep.scans = [str(s.get("scan_id")) for s in manifest.get("scans") or []]
        root = Path(tmp)
        _check_members(zf, manifest, root, limits, rep)
        if not rep.problems:
            _check_chain(manifest, root, rep)
        rep.integrity = "ok" if not rep.problems else "FAILED"
        _check_authenticity(zf, body, manifest, root, pub, rep)
        if rep.integrity == "ok":
            _check_reproducibility(manifest, root, rep)
        else:
            rep.reproducibility = "not checked (integrity failed)"
    return rep


def _check_structure(zf: zipfile.ZipFile, limits: Limits, rep: VerifyReport) -> bool:
    """Names and declared sizes, before reading any member."""
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        rep.add("zip_bomb", f"{len(infos)} members is more than the limit of {limits.max_members}")
        return False
    seen: set[str] = set()
    total = 0
    for info in infos:
        why = _unsafe_name(info.filename)
        if why:
            rep.add("zip_slip", f"member {info.filename!r} has an unsafe path ({why}): refusing to extract")
            return False
        if info.filename in seen:
            rep.add("extra_member", f"member {info.filename!r} appears twice")
            return False
        long_part = max(len(p.encode("utf-8")) for p in PurePosixPath(info.filename).parts)
        if long_part > _MAX_NAME_PART_BYTES or len(info.filename) > _MAX_NAME_CHARS:
            rep.add(
                "bad_member_name",
                f"member {info.filename[:60]!r}… has a name too long to extract ({len(info.filename)} "
                f"characters; limits {_MAX_NAME_PART_BYTES} bytes a part, {_MAX_NAME_CHARS} in all)",
            )
            return False
        seen.add(info.filename)
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.max_member_bytes or (
            info.file_size > limits.ratio_floor_bytes and ratio > limits.max_ratio
        ):
            rep.add(
                "zip_bomb",
                f"member {info.filename!r} declares {info.file_size} bytes from {info.compress_size} compressed "
                f"(ratio {ratio:.0f}, limit {limits.max_ratio:.0f}; size limit {limits.max_member_bytes}): "
                "refusing to extract (zip bomb?)",
            )
            return False
    # A name that is also another member's folder ("a/results.jsonl" and "a/results.jsonl/x") cannot be
    # extracted as both; refusing it here keeps the two readings of the bundle from differing.
    folders = {str(parent) for name in seen for parent in PurePosixPath(name).parents}
    clash = sorted(n for n in seen if n.rstrip("/") in folders and not n.endswith("/"))
    if clash:
        rep.add(
            "member_conflict",
            f"member {clash[0]!r} is both a file and the folder of other members: refusing to extract",
        )
        return False
    if total > limits.max_total_bytes:
        rep.add(
            "zip_bomb", f"members declare {total} bytes in all, over the limit of {limits.max_total_bytes}"
        )
        return False
    return True


#: Longest member name part (bytes, the common file-system limit) and whole name extracted.
_MAX_NAME_PART_BYTES = 255
_MAX_NAME_CHARS = 1024


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """A member's bytes, refusing to read more than ``cap`` (whatever the header declared)."""
    buf = bytearray()
    with zf.open(info) as fh:
        while chunk := fh.read(1 << 16):
            buf += chunk
            if len(buf) > cap:
                raise OverflowError(f"member {info.filename!r} is larger than declared ({cap} bytes)")
    return bytes(buf)


def _read_manifest(zf: zipfile.ZipFile, rep: VerifyReport) -> tuple[dict[str, Any] | None, bytes]:
    try:
        info = zf.getinfo(MANIFEST)
    except KeyError:
        rep.add("missing_member", "manifest.json is missing: this is not an ismap-scan bundle")
        return None, b""
    try:
        body = _read_capped(zf, info, min(info.file_size, 64 << 20))
        manifest = json.loads(body)
    except (zipfile.BadZipFile, OverflowError, json.JSONDecodeError, UnicodeDecodeError, EOFError) as exc:
        rep.add("bad_manifest", f"manifest.json cannot be read: {exc}")
        return None, b""
    except RecursionError:
        rep.add("bad_manifest", "manifest.json cannot be read: JSON nested too deeply")
        return None, b""
    if (
        not isinstance(manifest, dict)
        or manifest.get("schema") != BUNDLE_SCHEMA
        or not isinstance(manifest.get("members"), dict)
    ):
        rep.add("bad_manifest", f"manifest.json is not a {BUNDLE_SCHEMA} manifest")
        return None, b""
    problem = _manifest_shape_problem(manifest)
    if problem:
        rep.add("bad_manifest", f"manifest.json is malformed: {problem}")
        return None, b""
    return manifest, body


_SCAN_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_PACK_DIR_RE = re.compile(r"packs/[0-9a-f]{16,128}")


def _manifest_shape_problem(manifest: dict[str, Any]) -> str | None:
    """What is wrongly shaped in a bundle manifest (the parts verification uses), or ``None``.

    ``members``: name → ``{"sha256": 64 hex, "bytes": int >= 0}``; ``scans``: a list of objects whose
    ``scan_id`` is a plain folder name (it becomes a path), ``pack_dir`` ``packs/<hex>`` or null,
    ``assertion`` that scan's ``assertion.yaml`` or null, ``selection`` an object, ``seq`` an int.
    Checked once, so later steps can index the manifest without guarding every access.
    """
    for name, want in manifest["members"].items():
        if (
            not isinstance(want, dict)
            or not isinstance(want.get("sha256"), str)
            or not re.fullmatch(r"[0-9a-f]{64}", want["sha256"])
            or not isinstance(want.get("bytes"), int)
            or isinstance(want.get("bytes"), bool)
            or want["bytes"] < 0
        ):
            return f"members[{name!r}] must be {{'sha256': <64 hex>, 'bytes': <size>}}, got {want!r:.80}"
    scans = manifest.get("scans")
    if not isinstance(scans, list) or not scans:
        return "'scans' must be a non-empty list of scan entries"
    for i, entry in enumerate(scans):
        if not isinstance(entry, dict):
            return f"scans[{i}] must be an object, got {type(entry).__name__}"
        sid = entry.get("scan_id")
        if not isinstance(sid, str) or not _SCAN_ID_RE.fullmatch(sid) or ".." in sid:
            return f"scans[{i}].scan_id must be a scan ID (letters, digits, '.', '_', '-'), got {sid!r:.80}"
        pack_dir = entry.get("pack_dir")
        if pack_dir is not None and (not isinstance(pack_dir, str) or not _PACK_DIR_RE.fullmatch(pack_dir)):
            return f"scans[{i}].pack_dir must be packs/<check pack SHA-256> or null, got {pack_dir!r:.80}"
        statement = entry.get("assertion")
        if statement is not None and statement != f"scans/{sid}/assertion.yaml":
            return f"scans[{i}].assertion must be scans/{sid}/assertion.yaml or null, got {statement!r:.80}"
        if not isinstance(entry.get("selection") or {}, dict):
            return f"scans[{i}].selection must be an object"
        seq = entry.get("seq")
        if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool)):
            return f"scans[{i}].seq must be an integer"
    return None


def _check_members(
    zf: zipfile.ZipFile, manifest: dict[str, Any], root: Path, limits: Limits, rep: VerifyReport
) -> None:
    """Every listed member present with its hash and size; nothing unlisted; extract the good ones."""
    listed: dict[str, Any] = manifest["members"]
    names = {i.filename for i in zf.infolist()} - {MANIFEST, SIGNATURE}
    for name in sorted(set(listed) - names):
        rep.add("missing_member", f"member {name} is listed in manifest.json but missing from the zip")
    for name in sorted(names - set(listed)):
        rep.add("extra_member", f"member {name} is in the zip but not listed in manifest.json")
    for name in sorted(set(listed) & names):
        if _unsafe_name(name):
            continue
        info = zf.getinfo(name)
        want = listed[name]  # shape checked by _manifest_shape_problem
        if name.endswith("/"):
            continue  # a folder entry: nothing to hash
        try:
            cap = min(int(want.get("bytes", 0)), limits.max_member_bytes)
            data = _read_capped(zf, info, cap)
        except OverflowError as exc:
            rep.add("member_changed", f"{exc}: it does not match manifest.json")
            continue
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, TypeError) as exc:
            rep.add("member_corrupt", f"member {name} is corrupt in the zip ({exc})")
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest != want.get("sha256") or len(data) != want.get("bytes"):
            rep.add(
                "member_changed",
                f"member {name} was changed: SHA-256 {digest[:16]}… ({len(data)} bytes), "
                f"manifest.json says {str(want.get('sha256'))[:16]}… ({want.get('bytes')} bytes)",
            )
            continue
        target = root / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        except OSError as exc:
            rep.add(
                "member_unwritable", f"member {name} cannot be extracted for checking ({exc.strerror or exc})"
            )


def _check_chain(manifest: dict[str, Any], root: Path, rep: VerifyReport) -> None:
    """Each evidence manifest hashes to its link, links follow each other, and files match their manifest."""
    prev: dict[str, Any] | None = None
    for entry in manifest.get("scans") or []:
        sid = str(entry.get("scan_id"))
        base = root / "scans" / sid
        mpath = base / "evidence-manifest.json"
        if not mpath.is_file():
            rep.add("missing_member", f"scan {sid}: evidence-manifest.json is missing")
            continue
        body = mpath.read_bytes()
        if sha256_hex(body) != entry.get("manifest_sha256"):
            rep.add(
                "manifest_hash",
                f"scan {sid}: its evidence manifest hashes to {sha256_hex(body)[:16]}…, not the chain link "
                f"{str(entry.get('manifest_sha256'))[:16]}… recorded in manifest.json",
            )
            continue
        try:
            em = json.loads(body)
            if not isinstance(em, dict):
                raise ValueError("not a JSON object")
        except (ValueError, RecursionError) as exc:
            rep.add("content_mismatch", f"scan {sid}: evidence-manifest.json cannot be read ({exc})")
            continue
        if em.get("prev_manifest_sha256") != entry.get("prev_manifest_sha256"):
            rep.add(
                "chain_broken",
                f"scan {sid}: previous-manifest hash differs between its manifest and the bundle's",
            )
        if (
            prev is not None
            and entry.get("seq") == prev.get("seq", 0) + 1
            and entry.get("prev_manifest_sha256") != prev.get("manifest_sha256")
        ):
            rep.add("chain_broken", f"scan {sid}: does not link to the previous scan {prev.get('scan_id')}")
        prev = entry
        res = base / "results.jsonl"
        lines = res.read_text(encoding="utf-8").splitlines() if res.is_file() else []
        if lines_sha256(lines) != (em.get("results") or {}).get("sha256"):
            rep.add("content_mismatch", f"scan {sid}: results.jsonl does not match its evidence manifest")
        snap = base / "snapshot.jsonl.gz"
        try:
            snap_ok = snap.is_file() and snapshot_lines_sha256(snap.read_bytes()) == (
                em.get("snapshot") or {}
            ).get("sha256")
        except (OSError, EOFError, ValueError) as exc:
            rep.add("content_mismatch", f"scan {sid}: snapshot.jsonl.gz cannot be read ({exc})")
            continue
        if not snap_ok:
            rep.add("content_mismatch", f"scan {sid}: snapshot.jsonl.gz does not match its evidence manifest")
        ctl = base / "controls.json"
        if ctl.is_file():
            controls = json.loads(ctl.read_text(encoding="utf-8")).get("controls") or []
            if sha256_hex(canonical_json(controls).encode("utf-8")) != (em.get("controls") or {}).get(
                "sha256"
            ):
                rep.add("content_mismatch", f"scan {sid}: controls.json does not match its evidence manifest")


def _check_authenticity(
    zf: zipfile.ZipFile, body: bytes, manifest: dict[str, Any], root: Path, pub: Any, rep: VerifyReport
) -> None:
    names = set(zf.namelist())
    if SIGNATURE not in names:
        if pub is not None:
            # A trusted key was given: the auditor asked "did this key sign it?". With no signature the answer
            # is no: deleting manifest.sig must not turn a forged bundle into a merely "unsigned" one.
            rep.authenticity = "FAILED"
            rep.add(
                "signature_missing",
                f"manifest.sig is missing: the bundle is not signed, so it cannot be authenticated with the "
                f"given public key {signing.key_id(pub)}",
            )
            return
        rep.authenticity = "unsigned (no manifest.sig): authenticity cannot be established"
        return
    try:
        sig = _read_capped(zf, zf.getinfo(SIGNATURE), 4096).decode("ascii").strip()
        base64.b64decode(sig, validate=True)
    except (zipfile.BadZipFile, OverflowError, UnicodeDecodeError, ValueError):
        rep.authenticity = "FAILED"
        rep.add("signature_invalid", "manifest.sig is not a base64 Ed25519 signature")
        return
    if pub is None:
        rep.authenticity = "unverified (signed, but no --public-key given to check it against)"
        return
    kid = signing.key_id(pub)
    if not signing.verify(pub, body, sig):
        rep.authenticity = "FAILED"
        rep.add(
            "signature_invalid",
            f"manifest.sig does not verify with the given public key {kid} (wrong key, or manifest.json altered)",
        )
        return
    for entry in manifest.get("scans") or []:
        sid = entry.get("scan_id")
        sfile = root / "scans" / str(sid) / "evidence-manifest.sig"
        mfile = root / "scans" / str(sid) / "evidence-manifest.json"
        if not mfile.is_file():
            continue  # reported by the integrity check
        if not sfile.is_file():
            if entry.get("signed"):
                rep.add(
                    "signature_missing",
                    f"scan {sid}: manifest.json says its evidence manifest is signed, but "
                    "evidence-manifest.sig is missing",
                )
                rep.authenticity = "FAILED"
                return
            continue
        try:
            doc = json.loads(sfile.read_text(encoding="utf-8"))
            if not isinstance(doc, dict):
                raise ValueError("not a JSON object")
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            rep.add("signature_invalid", f"scan {sid}: evidence-manifest.sig cannot be read ({exc})")
            rep.authenticity = "FAILED"
            return
        # Every per-scan signature is checked against the trusted key: one made with another key is not
        # skipped (that would let a bundle carry evidence no trusted party signed).
        if doc.get("key_id") != kid:
            rep.add(
                "signature_untrusted",
                f"scan {sid}: its evidence manifest is signed with key {doc.get('key_id')!r}, not the trusted "
                f"key {kid}",
            )
            rep.authenticity = "FAILED"
            return
        if not signing.verify(pub, mfile.read_bytes(), str(doc.get("signature"))):
            rep.add("signature_invalid", f"scan {sid}: its evidence manifest's signature does not verify")
            rep.authenticity = "FAILED"
            return
    rep.authenticity = f"verified (key {kid})"


def _check_reproducibility(manifest: dict[str, Any], root: Path, rep: VerifyReport) -> None:
    """Re-evaluate every bundled snapshot with the bundled checks and compare with the bundled results."""
    from ..engine import evaluate, load_checks
    from ..errors import IsmapScanError
    from ..ismap.assertion import load_for_scan
    from ..mappings import load_catalog, load_check_map, rollup
    from ..snapshot import read_snapshot

    before = len(rep.problems)
    for entry in manifest.get("scans") or []:
        sid = str(entry.get("scan_id"))
        if not entry.get("pack_dir"):
            rep.add(
                "not_reproducible", f"scan {sid}: no check pack in the bundle, so it cannot be re-evaluated"
            )
            continue
        pack = root / str(entry["pack_dir"])
        dirs = sorted(
            (p for p in pack.iterdir() if p.is_dir() and p.name.startswith("checks")), key=_pack_order
        )
        sel = entry.get("selection") or {}
        try:
            checks = load_checks(dirs=dirs, params=sel.get("params") or None)
            if sel.get("check_ids"):
                checks = checks.select(ids=sel["check_ids"])
            mappings = pack / "mappings"
            pack_hash = checks.pack_hash(mappings_dir=mappings)
            if pack_hash != entry.get("check_pack_sha256"):
                rep.add(
                    "not_reproducible",
                    f"scan {sid}: the bundled check pack plus this installation's Python checks hash to "
                    f"{pack_hash[:16]}…, not {str(entry.get('check_pack_sha256'))[:16]}… (different ismap-scan version?)",
                )
                continue
            catalog = load_catalog(str(entry.get("catalog_version")), base=mappings / "ismap")
            check_map = load_check_map(
                str(entry.get("catalog_version")), base=mappings / "ismap", catalog=catalog
            )
            resources, _digest = read_snapshot(root / "scans" / sid / "snapshot.jsonl.gz")
            again = evaluate(resources, checks, check_map)
        except (IsmapScanError, OSError) as exc:
            rep.add("not_reproducible", f"scan {sid}: the bundled checks cannot be loaded or run: {exc}")
            continue
        stored = [
            json.loads(x)
            for x in (root / "scans" / sid / "results.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        fresh = [r.to_dict() for r in again]
        diffs = [(a, b) for a, b in zip(stored, fresh, strict=False) if _untimed(a) != _untimed(b)]
        if len(stored) != len(fresh) or diffs:
            first = ""
            if diffs:
                a, b = diffs[0]
                first = f"; first: {a.get('check_id')} on {a.get('resource_id')}: bundled {a.get('verdict')}, now {b.get('verdict')}"
            rep.add(
                "not_reproducible",
                f"scan {sid}: re-evaluating the snapshot gives {len(fresh)} results, {len(diffs)} differing from the "
                f"{len(stored)} bundled{first}",
            )
            continue
        # Control statuses are compared in full (counts, resources, per-result refs, waivers, attestations),
        # rolled up with the statement the scan used. Waivers and attestations are current or not by date, so
        # the roll-up is redone as of the day the scan was evaluated: its finish day, or (a scan evaluated
        # just after midnight UTC) the day it was stored.
        ctl = (
            json.loads((root / "scans" / sid / "controls.json").read_text(encoding="utf-8")).get("controls")
            or []
        )
        try:
            statement = None
            if entry.get("assertion"):
                statement = load_for_scan(
                    root / str(entry["assertion"]), catalog, set(check_map) | set(checks.ids())
                )
            bundled = canonical_json(ctl)
            same = False
            for day in _evaluation_days(root / "scans" / sid / "evidence-manifest.json"):
                now = [c.to_dict() for c in rollup(again, check_map, catalog, statement, today=day)]
                if canonical_json(now) == bundled:
                    same = True
                    break
        except (IsmapScanError, OSError) as exc:
            rep.add("not_reproducible", f"scan {sid}: the bundled assertion.yaml cannot be used: {exc}")
            continue
        if not same:
            rep.add(
                "not_reproducible", f"scan {sid}: re-evaluated control statuses differ from the bundled ones"
            )
    rep.reproducibility = "ok" if len(rep.problems) == before else "FAILED"


def _evaluation_days(evidence_manifest: Path) -> list[date]:
    """The UTC days a scan's roll-up may have been computed on: its finish day, then its storing day."""
    em = json.loads(evidence_manifest.read_text(encoding="utf-8"))
    days: list[date] = []
    for key in ("finished_at", "stored_at"):
        try:
            day = date.fromisoformat(str(em.get(key) or "")[:10])
        except ValueError:
            continue
        if day not in days:
            days.append(day)
    return days or [datetime.now(UTC).date()]


def _pack_order(p: Path) -> int:
    return 0 if p.name == "checks" else int(p.name[len("checks") :] or 0)


def _untimed(d: dict[str, Any]) -> dict[str, Any]:
    """A result without its timestamps (``*_at`` keys), for "identical results, timestamps aside"."""
    return {k: v for k, v in d.items() if not k.endswith("_at")}
