"""The AWS demo is the same estate every run, and moto's gaps come back as clean AWS errors.

moto draws every generated ID from one seeded generator (``demo/aws/server.py``); the seeder writes in one
thread in a fixed order. Seeding twice on the reset (and re-seeded) session server must then give the same
member account, the same ``sg-``/``vpc-``/``snap-``/``ami-`` IDs, API Gateway and CloudFront IDs.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ismap_scan.demo.aws.org import seed_organization
from ismap_scan.demo.aws.seed import seed
from ismap_scan.demo.aws.server import DEMO_ACCOUNT_ID, MotoHandle
from ismap_scan.demo.runner import AWS_DEMO_REGIONS

pytestmark = pytest.mark.moto


def _seed_and_list(moto: MotoHandle) -> dict[str, Any]:
    """Reset (which re-seeds moto's generator), seed estate + organization, return every ID made."""
    moto.reset()
    report = seed(moto.endpoint, AWS_DEMO_REGIONS)
    org = seed_organization(moto.endpoint, AWS_DEMO_REGIONS)
    live: dict[str, list[str]] = {}
    for region in AWS_DEMO_REGIONS:
        # Management account (MOTO_ACCOUNT_ID): default and seeded VPCs, subnets and groups included.
        ec2 = boto3.client("ec2", region_name=region, endpoint_url=moto.endpoint)
        live[f"sg@{region}"] = sorted(g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"])
        live[f"vpc@{region}"] = sorted(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"])
        live[f"subnet@{region}"] = sorted(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"])
        snaps = ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
        live[f"snap@{region}"] = sorted(s["SnapshotId"] for s in snaps)
    return {
        "member": org.member_account,
        "org": dict(org.resources),
        "seeded": {k: (r.type, r.region, r.id, r.native_id) for k, r in report.resources.items()},
        "live": live,
    }


def test_seeding_twice_gives_identical_ids(moto_endpoint: str, moto_server: MotoHandle) -> None:
    try:
        first = _seed_and_list(moto_server)
        second = _seed_and_list(moto_server)
    finally:
        moto_server.reset()
    assert first["member"] == second["member"]
    assert first["seeded"] == second["seeded"]
    assert first["org"] == second["org"]
    assert first["live"] == second["live"]
    # The comparison covers the IDs that used to change every run.
    assert first["member"].isdigit() and len(first["member"]) == 12 and first["member"] != DEMO_ACCOUNT_ID
    kinds = {t for t, *_ in first["seeded"].values()}
    assert {"aws.ec2.snapshot", "aws.cloudfront.distribution", "aws.apigateway.rest_api"} <= kinds
    assert all(first["live"][f"sg@{r}"] for r in AWS_DEMO_REGIONS)
    assert any(first["live"][f"snap@{r}"] for r in AWS_DEMO_REGIONS)


def test_reset_without_seed_moves_the_generator_on(moto_endpoint: str, moto_server: MotoHandle) -> None:
    """Control for the test above: the IDs are equal because of the seed, not because moto fixes them."""
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto_endpoint)
    try:
        moto_server.reset()
        seeded = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        moto_server.reset(random_seed=None)
        unseeded = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        moto_server.reset()
        again = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    finally:
        moto_server.reset()
    assert seeded == again
    assert unseeded != seeded


def test_service_without_moto_backend_is_a_quiet_501(
    moto_endpoint: str, capfd: pytest.CaptureFixture[str]
) -> None:
    """IAM Access Analyzer has no moto backend: an AWS-shaped NotImplemented, nothing printed."""
    client = boto3.client("accessanalyzer", region_name="ap-northeast-1", endpoint_url=moto_endpoint)
    capfd.readouterr()
    for _ in range(2):
        with pytest.raises(ClientError) as caught:
            client.list_analyzers(type="ACCOUNT")
        response = caught.value.response
        assert response["Error"]["Code"] == "NotImplemented"
        assert response["Error"]["Message"] == "moto has no backend for access-analyzer"
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 501
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    # The server keeps answering the services it has after such a request.
    assert boto3.client("sts", endpoint_url=moto_endpoint).get_caller_identity()["Account"] == DEMO_ACCOUNT_ID
