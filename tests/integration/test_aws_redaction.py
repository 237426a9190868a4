"""Secrets planted in moto never reach a collected record; the redactions list their paths.

Planted (all fake, made-up values): Lambda environment variables, EC2 user data with a PEM private key and a
password, a bucket tag holding an AWS-secret-key-shaped string, a security-group tag holding an access key ID.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from ismap_scan.demo.aws.server import s3control_host_prefix_hook
from ismap_scan.providers.aws.provider import AwsProvider
from ismap_scan.providers.aws.settings import AwsSettings
from ismap_scan.providers.base import CollectOptions, NullProgress

pytestmark = pytest.mark.moto

DB_PASSWORD = "Plant3d-Db-Passw0rd-1"
SECRET_KEY = "Zq9mXv2Lr8Tk4Wn7Hc1Pd6Fs3Gb5Jy0Qa8Ue2Ri4"  # 40 chars, secret-key shaped, not a real key
ACCESS_KEY_ID = "AKIAZZZZPLANTED00001"
PEM_BODY = "MIIEpAIBAAKCAQEAplantedPrivateKeyMaterialOnly4Tests"
USER_PASSWORD = "Hunter2-Planted-UserData"
PLANTED = [DB_PASSWORD, SECRET_KEY, ACCESS_KEY_ID, PEM_BODY, USER_PASSWORD]


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    return buf.getvalue()


def test_planted_secrets_are_redacted(aws_settings: AwsSettings, aws_session: Any) -> None:
    assert len(SECRET_KEY) == 40
    iam = aws_session.client("iam")
    role = iam.create_role(
        RoleName="fn-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    aws_session.client("lambda").create_function(
        FunctionName="billing",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
        Environment={
            "Variables": {"DB_PASSWORD": DB_PASSWORD, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "MODE": "prod"}
        },
    )
    ec2 = aws_session.client("ec2")
    user_data = (
        "#!/bin/bash\n"
        f"echo 'admin:{USER_PASSWORD}' | chpasswd\n"
        f"cat > /root/.ssh/id_rsa <<EOF\n-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----\nEOF\n"
    )
    ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, UserData=user_data)
    sg = ec2.create_security_group(GroupName="tagged", Description="d")["GroupId"]
    ec2.create_tags(
        Resources=[sg],
        Tags=[{"Key": "Name", "Value": "tagged"}, {"Key": "note", "Value": f"old {ACCESS_KEY_ID}"}],
    )
    s3 = aws_session.client("s3")
    s3.create_bucket(Bucket="tagged-bucket-111122223333")
    s3.put_bucket_tagging(
        Bucket="tagged-bucket-111122223333",
        Tagging={"TagSet": [{"Key": "owner", "Value": "team-a"}, {"Key": "backup", "Value": SECRET_KEY}]},
    )

    options = CollectOptions(
        settings=aws_settings,
        resource_types={"aws.lambda.function", "aws.ec2.instance", "aws.ec2.security_group", "aws.s3.bucket"},
        client_hooks=[s3control_host_prefix_hook],
    )
    records = list(AwsProvider().collect(options, NullProgress()))
    text = "\n".join(json.dumps(r.to_dict()) for r in records)
    for secret in PLANTED:
        assert secret not in text, f"planted secret {secret[:6]}... leaked"

    fn = next(r for r in records if r.type == "aws.lambda.function")
    assert fn.data["Environment"]["Variables"] == {
        "AWS_SECRET_ACCESS_KEY": "<redacted>",
        "DB_PASSWORD": "<redacted>",
        "MODE": "<redacted>",  # the field rule redacts every value, secret-looking or not
    }
    assert fn.redactions == [
        "data.Environment.Variables.AWS_SECRET_ACCESS_KEY",
        "data.Environment.Variables.DB_PASSWORD",
        "data.Environment.Variables.MODE",
    ]
    inst = next(r for r in records if r.type == "aws.ec2.instance")
    assert inst.data["UserData"] == "<redacted>" and inst.redactions == ["data.UserData"]
    sg_rec = next(r for r in records if r.type == "aws.ec2.security_group" and r.name == "tagged")
    note = next(i for i, t in enumerate(sg_rec.data["Tags"]) if t["Key"] == "note")
    assert sg_rec.redactions == [f"data.Tags[{note}].Value"]
    bucket = next(r for r in records if r.type == "aws.s3.bucket")
    assert bucket.data["Tags"] == [
        {"Key": "owner", "Value": "team-a"},
        {"Key": "backup", "Value": "<redacted>"},
    ]
    assert bucket.redactions == ["data.Tags[1].Value"]
    # nothing else was touched: ordinary records carry no redactions
    assert all(not r.redactions for r in records if r.type in ("aws.account", "aws.region"))


def test_secret_in_name_tag_never_reaches_the_record(aws_settings: AwsSettings, aws_session: Any) -> None:
    """Regression: the record name is taken from the Name tag; a secret there was redacted in ``data`` but
    kept in ``name``, which every report prints. The name falls back to the (stable) record ID."""
    ec2 = aws_session.client("ec2")
    ec2.run_instances(
        ImageId="ami-12345678",
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": f"db password={USER_PASSWORD}"}]}
        ],
    )
    options = CollectOptions(settings=aws_settings, resource_types={"aws.ec2.instance"})
    records = [r for r in AwsProvider().collect(options, NullProgress()) if r.type == "aws.ec2.instance"]
    assert len(records) == 1
    inst = records[0]
    assert USER_PASSWORD not in json.dumps(inst.to_dict())
    assert inst.name == inst.id and inst.id.endswith(inst.data["InstanceId"])
    name_tag = next(i for i, t in enumerate(inst.data["Tags"]) if t["Key"] == "Name")
    assert inst.redactions == [f"data.Tags[{name_tag}].Value", "name"]
