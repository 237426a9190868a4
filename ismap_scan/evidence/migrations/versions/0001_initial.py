"""Evidence store, version 1: scans, results, control statuses, chain heads, findings, check packs.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scans",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scan_id", sa.String(64), nullable=False, unique=True),
        sa.Column("scope_key", sa.String(512), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("demo", sa.Boolean, nullable=False),
        sa.Column("started_at", sa.String(32), nullable=False),
        sa.Column("finished_at", sa.String(32), nullable=False),
        sa.Column("stored_at", sa.String(32), nullable=False),
        sa.Column("tool_version", sa.String(64), nullable=False),
        sa.Column("check_pack_sha256", sa.String(64), nullable=True),
        sa.Column("catalog_version", sa.String(64), nullable=False),
        sa.Column("snapshot_sha256", sa.String(64), nullable=False),
        sa.Column("snapshot_blob", sa.String(64), nullable=False),
        sa.Column("snapshot_records", sa.Integer, nullable=False),
        sa.Column("snapshot_pruned_at", sa.String(32), nullable=True),
        sa.Column("results_count", sa.Integer, nullable=False),
        sa.Column("pass_count", sa.Integer, nullable=False),
        sa.Column("fail_count", sa.Integer, nullable=False),
        sa.Column("error_count", sa.Integer, nullable=False),
        sa.Column("manifest_json", sa.Text, nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("prev_manifest_sha256", sa.String(64), nullable=True),
        sa.Column("signature", sa.Text, nullable=True),
        sa.Column("key_id", sa.String(32), nullable=True),
        sa.UniqueConstraint("scope_key", "seq", name="uq_scans_scope_seq"),
    )
    op.create_table(
        "results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scan_pk", sa.Integer, sa.ForeignKey("scans.id"), nullable=False),
        sa.Column("finding_key", sa.String(64), nullable=False),
        sa.Column("check_id", sa.String(200), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("account", sa.String(128), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("resource_type", sa.String(128), nullable=False),
        sa.Column("resource_id", sa.Text, nullable=False),
        sa.Column("result_json", sa.Text, nullable=False),
    )
    op.create_index("ix_results_scan", "results", ["scan_pk"])
    op.create_index("ix_results_finding", "results", ["finding_key"])
    op.create_table(
        "control_statuses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scan_pk", sa.Integer, sa.ForeignKey("scans.id"), nullable=False),
        sa.Column("control_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_json", sa.Text, nullable=False),
    )
    op.create_index("ix_control_statuses_scan", "control_statuses", ["scan_pk"])
    op.create_table(
        "chain_heads",
        sa.Column("scope_key", sa.String(512), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("head_scan_id", sa.String(64), nullable=True),
        sa.Column("head_manifest_sha256", sa.String(64), nullable=True),
        sa.Column("updated_at", sa.String(32), nullable=True),
    )
    op.create_table(
        "findings",
        sa.Column("scope_key", sa.String(512), primary_key=True),
        sa.Column("finding_key", sa.String(64), primary_key=True),
        sa.Column("check_id", sa.String(200), nullable=False),
        sa.Column("resource_id", sa.Text, nullable=False),
        sa.Column("first_seen_scan", sa.String(64), nullable=False),
        sa.Column("first_seen_at", sa.String(32), nullable=False),
        sa.Column("last_seen_scan", sa.String(64), nullable=False),
        sa.Column("last_seen_at", sa.String(32), nullable=False),
        sa.Column("last_verdict", sa.String(16), nullable=False),
        sa.Column("failing_since", sa.String(32), nullable=True),
        sa.Column("failing_since_scan", sa.String(64), nullable=True),
    )
    op.create_table(
        "check_packs",
        sa.Column("pack_sha256", sa.String(64), primary_key=True),
        sa.Column("blob_sha256", sa.String(64), nullable=False),
        sa.Column("bytes", sa.Integer, nullable=False),
        sa.Column("stored_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    for table in ("check_packs", "findings", "chain_heads", "control_statuses", "results", "scans"):
        op.drop_table(table)
