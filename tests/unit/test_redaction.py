"""Secret redaction: field rules, value patterns, identifier exemptions, recorded paths."""

from __future__ import annotations

import json

import pytest

from ismap_scan.evidence.redaction import REDACTED, RedactionRules, redact, redact_data, secret_pattern
from ismap_scan.model import Resource

# Obviously fake values in real shapes (the AWS documentation's example key pair and made-up tokens).
EXAMPLE_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAexample\n-----END RSA PRIVATE KEY-----"

RULES = RedactionRules(fields={"t.fn": ["Environment.Variables.*"], "t.vm": ["UserData", "Tags[*].Value"]})


def _record(rtype: str, data: dict) -> Resource:
    return Resource("aws", "111122223333", "us-east-1", rtype, "id-1", "n", "2026-11-30T00:00:00Z", data)


@pytest.mark.parametrize(
    "text,pattern",
    [
        (PEM, "pem_private_key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "pem_private_key"),
        (f"key id {EXAMPLE_KEY_ID} in a note", "aws_access_key_id"),
        (f"aws_secret_access_key = {EXAMPLE_SECRET}", "aws_secret_access_key"),
        ("export DB_PASSWORD=hunter2", "secret_assignment"),
        ("api_key: abc123", "secret_assignment"),
        ("url?token=abcdef", "secret_assignment"),
        ("xoxb-123456789012-abcdefghijkl", "slack_token"),
        ("ghp_" + "a1B2" * 9, "github_token"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBhcnQ", "jwt"),
        (EXAMPLE_SECRET, "high_entropy_base64_40"),
    ],
)
def test_patterns_match(text: str, pattern: str) -> None:
    assert secret_pattern(text) == pattern


@pytest.mark.parametrize(
    "text",
    [
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-password-AbCdEf",
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",  # SHA-1 hex: not mixed case
        "Allow SSH from the office",
        "password_enabled",
        "true",
        "N/A",
        "sg-0123456789abcdef0",
    ],
)
def test_ordinary_values_kept(text: str) -> None:
    assert secret_pattern(text) is None


def test_field_rules_always_redact_and_record_paths() -> None:
    data = {"Environment": {"Variables": {"DB_HOST": "db.internal", "MODE": "prod"}}, "FunctionName": "f"}
    out = redact(_record("t.fn", data), RULES)
    assert out.data["Environment"]["Variables"] == {"DB_HOST": REDACTED, "MODE": REDACTED}
    assert out.data["FunctionName"] == "f"
    assert out.redactions == ["data.Environment.Variables.DB_HOST", "data.Environment.Variables.MODE"]
    assert data["Environment"]["Variables"]["MODE"] == "prod"  # input untouched


def test_null_is_not_redacted() -> None:
    out = redact(_record("t.vm", {"UserData": None, "Tags": []}), RULES)
    assert out.data["UserData"] is None and out.redactions == []


def test_patterns_apply_anywhere_with_indexed_paths() -> None:
    data = {
        "Tags": [{"Key": "Name", "Value": "web"}, {"Key": "note", "Value": f"old key {EXAMPLE_KEY_ID}"}],
        "Description": "plain",
        "Nested": [{"deep": [PEM]}],
        "Env": {"my.var": "password=x"},
    }
    out = redact(_record("other", data), RULES)
    assert out.data["Tags"][0]["Value"] == "web"
    assert out.data["Tags"][1]["Value"] == REDACTED
    assert out.data["Nested"][0]["deep"][0] == REDACTED
    assert out.redactions == ['data.Env."my.var"', "data.Nested[0].deep[0]", "data.Tags[1].Value"]


def test_secretish_tag_key_redacts_value() -> None:
    data = {"TagSet": [{"Key": "db_password", "Value": "short"}, {"Key": "team", "Value": "short"}]}
    out = redact(_record("other", data), RULES)
    assert out.data["TagSet"][0]["Value"] == REDACTED
    assert out.data["TagSet"][1]["Value"] == "short"
    assert out.redactions == ["data.TagSet[0].Value"]


def test_identifier_fields_are_not_secrets() -> None:
    data = {
        "AccessKeys": [{"AccessKeyId": EXAMPLE_KEY_ID, "Status": "Active"}],
        "Arn": "arn:aws:iam::111122223333:user/alice",
        "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
        "Policy": {
            "Statement": [{"Resource": "arn:aws:secretsmanager:us-east-1:111122223333:secret:token-AbC"}]
        },
    }
    new, paths = redact_data("aws.iam.user", data, RULES)
    assert new == data and paths == []


def test_whole_record_json_has_no_planted_secret() -> None:
    data = {
        "UserData": f"#!/bin/sh\nexport AWS_SECRET_ACCESS_KEY={EXAMPLE_SECRET}\n{PEM}",
        "Tags": [{"Key": "k", "Value": EXAMPLE_SECRET}],
    }
    out = redact(_record("t.vm", data), RULES)
    text = json.dumps(out.to_dict())
    for secret in (EXAMPLE_SECRET, "MIIEowIBAAKCAQEAexample"):
        assert secret not in text
    assert out.redactions == ["data.Tags[0].Value", "data.UserData"]


def test_bad_rule_path_rejected() -> None:
    with pytest.raises(ValueError):
        redact_data("t", {}, RedactionRules(fields={"t": ["a[x]"]}))


def test_iam_actions_in_policies_are_not_redacted() -> None:
    """Regression: ``secretsmanager:GetSecretValue`` looked like ``secret: value`` and hid policy evidence."""
    from ismap_scan.evidence.redaction import RedactionRules, redact
    from ismap_scan.model import Resource

    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:*"],
                "Resource": "*",
            },
            {"Effect": "Deny", "NotAction": "secretsmanager:Describe*", "Resource": "*"},
        ]
    }
    rec = Resource(
        provider="aws",
        account="111122223333",
        region="global",
        type="aws.iam.policy",
        id="arn:aws:iam::aws:policy/ReadOnlyAccess",
        name="ReadOnlyAccess",
        collected_at="2026-11-30T00:00:00Z",
        data={"Document": policy, "Description": "db password: hunter2-Xy9"},
    )
    out = redact(rec, RedactionRules())
    assert out.data["Document"] == policy
    assert out.redactions == ["data.Description"]
