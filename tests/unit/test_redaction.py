"""Secret redaction: field rules, value patterns, identifier exemptions, recorded paths."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from ismap_scan.evidence.redaction import (
    REDACTED,
    RedactionRules,
    is_secret_key,
    redact,
    redact_data,
    secret_pattern,
)
from ismap_scan.model import CollectionError, Resource

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


# -- record name, id and error messages ---------------------------------------------------------------------


def _named(
    name: str, rid: str = "arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0"
) -> Resource:
    data = {"InstanceId": "i-0123456789abcdef0", "Tags": [{"Key": "Name", "Value": name}]}
    return Resource(
        "aws", "111122223333", "us-east-1", "aws.ec2.instance", rid, name, "2026-11-30T00:00:00Z", data
    )


def test_secret_in_name_is_replaced_by_the_id() -> None:
    """Regression: the Name tag was redacted in data but the record name (taken from it) kept the secret."""
    rec = _named("db password=hunter2")
    out = redact(rec, RedactionRules())
    assert out.name == rec.id and out.id == rec.id
    assert out.data["Tags"][0]["Value"] == REDACTED
    assert out.redactions == ["data.Tags[0].Value", "name"]
    assert "hunter2" not in json.dumps(out.to_dict())


def test_ordinary_name_and_identifier_id_kept() -> None:
    rec = _named("web-1")
    out = redact(rec, RedactionRules())
    assert (out.id, out.name, out.redactions) == (rec.id, "web-1", [])
    # an id that is an identifier stays even if it happens to match a pattern (an IAM access key record)
    key = Resource(
        "aws", "111122223333", "global", "t", EXAMPLE_KEY_ID, EXAMPLE_KEY_ID, "2026-11-30T00:00:00Z"
    )
    out = redact(key, RedactionRules())
    assert (out.id, out.name, out.redactions) == (EXAMPLE_KEY_ID, EXAMPLE_KEY_ID, [])


def test_non_identifier_id_with_secret_is_replaced_stably() -> None:
    rec = Resource(
        "x", "111122223333", "r", "t", "conn token=abc123", "conn token=abc123", "2026-11-30T00:00:00Z"
    )
    first, second = redact(rec, RedactionRules()), redact(rec, RedactionRules())
    assert first.id == second.id and first.id.startswith(REDACTED) and "abc123" not in first.id
    assert first.name == first.id and first.redactions == ["id", "name"]
    other = redact(replace(rec, id="conn token=other1"), RedactionRules())
    assert other.id != first.id  # distinct resources keep distinct IDs


def test_error_messages_are_scanned() -> None:
    denied = (
        "User: arn:aws:sts::111122223333:assumed-role/Scanner/s is not authorized to perform: "
        "secretsmanager:ListSecrets because no identity-based policy allows the secretsmanager:ListSecrets action"
    )
    errors = [
        CollectionError("*", "secretsmanager:ListSecrets", "AccessDeniedException", denied),
        CollectionError("Policy", "s3:GetBucketPolicy", "Weird", f"bad request with key {EXAMPLE_SECRET}"),
    ]
    rec = replace(_named("web-1"), errors=errors)
    out = redact(rec, RedactionRules())
    assert out.errors[0] == errors[0]  # an AccessDenied naming a Secrets Manager action is not a secret
    assert out.errors[1] == replace(errors[1], message=REDACTED)
    assert out.redactions == ["errors[1].message"]
    assert rec.errors[1].message.endswith(EXAMPLE_SECRET)  # input untouched


# -- secret-ish keys on any dict, with the real AWS shapes checks read --------------------------------------


def test_secretish_keys_anywhere() -> None:
    data = {
        "password": "hunter2",
        "Config": {"DB_PASSWORD": "x", "client_secret": "s3cr3t", "ApiKey": "k-1", "Passwords": ["a", "b"]},
        "containerDefinitions": [
            {"environment": [{"name": "API_TOKEN", "value": "t0k"}, {"name": "MODE", "value": "p"}]}
        ],
    }
    out, paths = redact_data("other", data, RedactionRules())
    assert paths == [
        "data.Config.ApiKey",
        "data.Config.DB_PASSWORD",
        "data.Config.Passwords[0]",
        "data.Config.Passwords[1]",
        "data.Config.client_secret",
        "data.containerDefinitions[0].environment[0].value",
        "data.password",
    ]
    assert out["containerDefinitions"][0]["environment"][1]["value"] == "p"


def test_lambda_environment_without_field_rule() -> None:
    """Even a type without a field rule keeps secret-named variables out (ListFunctions ``Environment``)."""
    data = {
        "FunctionName": "billing",
        "Environment": {
            "Variables": {"DB_PASSWORD": "Plant3d", "GITHUB_TOKEN": "abc", "STAGE": "prod", "TZ": "UTC"}
        },
        "KMSKeyArn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    }
    out, paths = redact_data("aws.lambda.function", data, RedactionRules())
    assert paths == ["data.Environment.Variables.DB_PASSWORD", "data.Environment.Variables.GITHUB_TOKEN"]
    assert out["Environment"]["Variables"]["STAGE"] == "prod" and out["KMSKeyArn"] == data["KMSKeyArn"]


CREDENTIAL_REPORT_ROW = {  # iam:GetCredentialReport CSV columns, as the collector stores a row
    "user": "alice",
    "arn": "arn:aws:iam::111122223333:user/alice",
    "user_creation_time": "2025-01-02T03:04:05+00:00",
    "password_enabled": "true",
    "password_last_used": "2026-11-01T00:00:00+00:00",
    "password_last_changed": "N/A",
    "password_next_rotation": "not_supported",
    "mfa_active": "false",
    "access_key_1_active": "true",
    "access_key_1_last_rotated": "2026-02-03T07:02:38+00:00",
    "access_key_1_last_used_date": "2026-11-29T10:00:00+00:00",
    "access_key_1_last_used_region": "ap-northeast-1",
    "access_key_1_last_used_service": "s3",
    "access_key_2_active": "false",
    "access_key_2_last_rotated": "N/A",
    "access_key_2_last_used_date": "N/A",
    "access_key_2_last_used_region": "N/A",
    "access_key_2_last_used_service": "N/A",
    "cert_1_active": "false",
}
PASSWORD_POLICY = {  # iam:GetAccountPasswordPolicy PasswordPolicy
    "MinimumPasswordLength": 14,
    "RequireSymbols": True,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True,
    "AllowUsersToChangePassword": True,
    "ExpirePasswords": True,
    "MaxPasswordAge": 90,
    "PasswordReusePrevention": 24,
    "HardExpiry": False,
}
LIST_SECRETS_ITEM = {  # secretsmanager:ListSecrets SecretList[]
    "ARN": "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-password-AbCdEf",
    "Name": "prod/db-password",
    "Description": "database master password",
    "KmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "RotationEnabled": True,
    "RotationLambdaARN": "arn:aws:lambda:us-east-1:111122223333:function:rotate",
    "RotationRules": {"AutomaticallyAfterDays": 30},
    "LastRotatedDate": "2026-11-01T00:00:00+00:00",
    "LastAccessedDate": "2026-11-29T00:00:00+00:00",
    "SecretVersionsToStages": {"3bca65e8-d202-42d9-b406-ac2536dc18f3": ["AWSCURRENT"]},
    "CreatedDate": "2025-01-01T00:00:00+00:00",
    "PrimaryRegion": "us-east-1",
}
USER = {  # iam:ListUsers + ListAccessKeys + GetLoginProfile, as stored on aws.iam.user
    "UserName": "alice",
    "UserId": "AIDAEXAMPLEEXAMPLE01",
    "Arn": "arn:aws:iam::111122223333:user/alice",
    "PasswordLastUsed": "2026-11-01T00:00:00+00:00",
    "AccessKeys": [{"AccessKeyId": EXAMPLE_KEY_ID, "Status": "Active", "CreateDate": "2026-01-01T00:00:00Z"}],
    "LoginProfile": {"CreateDate": "2025-01-01T00:00:00Z", "PasswordResetRequired": False},
    "CredentialReportRow": CREDENTIAL_REPORT_ROW,
}
OTHER_SHAPES = {
    "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1},
    "FileSystem": {"CreationToken": "jp-saas-shared-files", "Encrypted": True},
    "Snapshot": {"ClientToken": "191e8813-7a5f-45fc-a3b5-ed6f68e4ea07"},
    "RestApi": {"apiKeySource": "HEADER"},
    "Summary": {"AccountAccessKeysPresent": 0, "AccessKeysPerUserQuota": 2},
}


@pytest.mark.parametrize(
    "data",
    [
        {"CredentialReport": {"GeneratedTime": "2026-11-30T00:00:00Z", "Rows": [CREDENTIAL_REPORT_ROW]}},
        {"PasswordPolicy": PASSWORD_POLICY},
        {"SecretList": [LIST_SECRETS_ITEM]},
        USER,
        OTHER_SHAPES,
    ],
    ids=["credential-report", "password-policy", "list-secrets", "iam-user", "metadata-keys"],
)
def test_secret_metadata_fields_that_checks_read_are_kept(data: dict) -> None:
    new, paths = redact_data("t", data, RedactionRules())
    assert (new, paths) == (data, [])


@pytest.mark.parametrize(
    "key,keep",
    [
        ("password", False),
        ("DB_PASSWORD", False),
        ("MasterUserPassword", False),
        ("AuthToken", False),
        ("private_key", False),
        ("PasswordLastUsed", True),
        ("password_enabled", True),
        ("access_key_1_last_used_service", True),
        ("MinimumPasswordLength", True),
        ("SecretId", True),
        ("HttpTokens", True),
        ("ClientToken", True),
        ("Description", True),
    ],
)
def test_is_secret_key(key: str, keep: bool) -> None:
    assert is_secret_key(key) is not keep


@pytest.mark.parametrize("value", ["true", "False", "42", "2026-11-30", "2026-11-30T01:02:03Z", "N/A", ""])
def test_plain_values_under_secret_keys_kept(value: str) -> None:
    assert redact_data("t", {"password": value}, RedactionRules()) == ({"password": value}, [])


# -- new value patterns -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,pattern",
    [
        ("postgres://app:Plant3d-pw@db.internal:5432/app", "url_password"),
        ("connect to mysql://root:x@10.0.0.5 first", "url_password"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "basic_auth"),  # user:password
        ("basic YWRtaW46aHVudGVyMg==", "basic_auth"),  # admin:hunter2
        ("Authorization: Bearer 2f1c9a7e-5b3d-4e8f-a6c2-9d0b1e7f3a45", "bearer_token"),
        (f"rotated key {EXAMPLE_SECRET} yesterday", "high_entropy_base64_40"),
        (f"key:{EXAMPLE_SECRET}", "high_entropy_base64_40"),
    ],
)
def test_new_patterns_match(text: str, pattern: str) -> None:
    assert secret_pattern(text) == pattern


@pytest.mark.parametrize(
    "text",
    [
        "https://example.com:8443/path",
        "ssh://git@github.com/org/repo",  # user, no password
        "Basic monitoring is enabled",
        "Basic authentication",
        "uses bearer token authentication",
        "/aws/lambda/billingFunction/streamName2",
        "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709 of the file",
        "arn:aws:iam::111122223333:role/service-role/MyRoleForLambdaBilling2024Prod",
    ],
)
def test_new_patterns_do_not_match_ordinary_text(text: str) -> None:
    assert secret_pattern(text) is None


# -- identifier keys ---------------------------------------------------------------------------------------


def test_identifier_keys_scan_values_that_are_not_identifiers() -> None:
    ghp = "ghp_" + "a1B2" * 9
    data = {
        "SomethingArn": f"token={ghp}",
        "Id": ghp,
        "KeyId": "not an id: password=hunter2",
        "TargetArn": "arn:aws:sns:us-east-1:111122223333:alerts",
        "AccessKeyId": EXAMPLE_KEY_ID,
        "GroupId": "sg-0123456789abcdef0",
        "Action": ["secretsmanager:GetSecretValue", "s3:*"],
        "PrincipalId": "AROAEXAMPLEEXAMPLE01:session-name",
    }
    out, paths = redact_data("t", data, RedactionRules())
    assert paths == ["data.Id", "data.KeyId", "data.SomethingArn"]
    assert {k: v for k, v in out.items() if k not in ("Id", "KeyId", "SomethingArn")} == {
        k: v for k, v in data.items() if k not in ("Id", "KeyId", "SomethingArn")
    }
