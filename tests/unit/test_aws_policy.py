"""The shipped least-privilege policy is the one generated from the resource-type declarations."""

from __future__ import annotations

import json
from pathlib import Path

from ismap_scan.providers.aws import types as T

POLICY_FILE = Path(__file__).resolve().parents[2] / "docs" / "aws-iam-policy.json"


def test_committed_policy_equals_generated() -> None:
    committed = json.loads(POLICY_FILE.read_text(encoding="utf-8"))
    assert committed == T.iam_policy_document(), (
        "docs/aws-iam-policy.json is stale: regenerate with "
        "`ismap-scan doctor --print-policy --provider aws > docs/aws-iam-policy.json`"
    )


def test_policy_grants_every_declared_call_and_nothing_else() -> None:
    actions = set(T.iam_policy_document()["Statement"][0]["Action"])
    assert actions == {c.permission for c in T.all_calls()} - {"sts:AssumeRole"}
    assert all(a.split(":")[1][:3] in ("Get", "Lis", "Des", "Bat", "GET", "Gen") for a in actions), sorted(
        a for a in actions if a.split(":")[1][:3] not in ("Get", "Lis", "Des", "Bat", "GET", "Gen")
    )


def test_iam_prefixes_differ_from_client_names_where_aws_says_so() -> None:
    assert T.Call("elbv2", "DescribeLoadBalancers").permission == "elasticloadbalancing:DescribeLoadBalancers"
    assert T.Call("efs", "DescribeFileSystems").permission == "elasticfilesystem:DescribeFileSystems"
    assert T.Call("accessanalyzer", "ListAnalyzers").permission == "access-analyzer:ListAnalyzers"
    assert T.Call("apigateway", "GetRestApis").permission == "apigateway:GET"
    assert T.Call("s3", "ListBuckets", "s3:ListAllMyBuckets").permission == "s3:ListAllMyBuckets"


def test_organization_statement_names_the_audit_role() -> None:
    doc = T.iam_policy_document(assume_role_name="ismap-scan-audit")
    assume = doc["Statement"][1]
    assert assume["Action"] == "sts:AssumeRole"
    assert assume["Resource"] == "arn:aws:iam::*:role/ismap-scan-audit"
    assert {"organizations:ListAccounts", "organizations:ListChildren"} <= set(doc["Statement"][0]["Action"])
