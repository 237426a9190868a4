"""The evidence store's tables (SQLAlchemy Core). Migrations in ``migrations/versions/`` create exactly these;
a test compares the two, so change both together (a new migration, never an edited one).

- ``scans``: one row per stored scan: the manifest as stored (canonical JSON), its SHA-256, the previous
  manifest's SHA-256 for the same scope (the chain), its position ``seq`` in that chain, the signature.
- ``documents``: JSON documents (a result without its ``collected_at``, a control status without its
  ``last_evaluated``), zlib-compressed and content-addressed by the SHA-256 of their uncompressed text, so
  a result that did not change since last night is stored once (migration 0002; 0001 kept full JSON per row).
- ``results`` / ``control_statuses``: one row per result / control status of a scan: the few columns queries
  need, the document it is made of, and the time that was taken out of the document.
- ``chain_heads``: one row per scope, locked while a scan is appended so two writers cannot fork the chain.
- ``findings``: first-seen / last-seen / failing-since per (scope, finding key), updated with each scan.
- ``check_packs``: the archived check pack (checks + mappings) each scan used, by pack hash.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

scans = Table(
    "scans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scan_id", String(64), nullable=False, unique=True),
    Column("scope_key", String(512), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("demo", Boolean, nullable=False),
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32), nullable=False),
    Column("stored_at", String(32), nullable=False),
    Column("tool_version", String(64), nullable=False),
    Column("check_pack_sha256", String(64), nullable=True),
    Column("catalog_version", String(64), nullable=False),
    Column("snapshot_sha256", String(64), nullable=False),
    Column("snapshot_blob", String(64), nullable=False),
    Column("snapshot_records", Integer, nullable=False),
    Column("snapshot_pruned_at", String(32), nullable=True),
    Column("results_count", Integer, nullable=False),
    Column("pass_count", Integer, nullable=False),
    Column("fail_count", Integer, nullable=False),
    Column("error_count", Integer, nullable=False),
    Column("manifest_json", Text, nullable=False),
    Column("manifest_sha256", String(64), nullable=False),
    Column("prev_manifest_sha256", String(64), nullable=True),
    Column("signature", Text, nullable=True),
    Column("key_id", String(32), nullable=True),
    UniqueConstraint("scope_key", "seq", name="uq_scans_scope_seq"),
)

documents = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("bytes", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
)

results = Table(
    "results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scan_pk", Integer, ForeignKey("scans.id"), nullable=False),
    Column("finding_key", String(64), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("doc_id", Integer, ForeignKey("documents.id"), nullable=False),
    Column("collected_at", String(32), nullable=True),
    Index("ix_results_scan", "scan_pk"),
)

control_statuses = Table(
    "control_statuses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scan_pk", Integer, ForeignKey("scans.id"), nullable=False),
    Column("control_id", String(64), nullable=False),
    Column("status", String(32), nullable=False),
    Column("doc_id", Integer, ForeignKey("documents.id"), nullable=False),
    Column("last_evaluated", String(32), nullable=True),
    Index("ix_control_statuses_scan", "scan_pk"),
)

chain_heads = Table(
    "chain_heads",
    metadata,
    Column("scope_key", String(512), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("head_scan_id", String(64), nullable=True),
    Column("head_manifest_sha256", String(64), nullable=True),
    Column("updated_at", String(32), nullable=True),
)

findings = Table(
    "findings",
    metadata,
    Column("scope_key", String(512), primary_key=True),
    Column("finding_key", String(64), primary_key=True),
    Column("check_id", String(200), nullable=False),
    Column("resource_id", Text, nullable=False),
    Column("first_seen_scan", String(64), nullable=False),
    Column("first_seen_at", String(32), nullable=False),
    Column("last_seen_scan", String(64), nullable=False),
    Column("last_seen_at", String(32), nullable=False),
    Column("last_verdict", String(16), nullable=False),
    Column("failing_since", String(32), nullable=True),
    Column("failing_since_scan", String(64), nullable=True),
)

check_packs = Table(
    "check_packs",
    metadata,
    Column("pack_sha256", String(64), primary_key=True),
    Column("blob_sha256", String(64), nullable=False),
    Column("bytes", Integer, nullable=False),
    Column("stored_at", String(32), nullable=False),
)
