"""Requests the AWS collectors save, each shown to leave the record's data unchanged (moto through boto3).

- one client per (service, region) shared by the worker threads, still guarded read-only;
- S3 ``GetBucketLocation`` skipped when ``ListBuckets`` already gave ``BucketRegion`` (AWS does, moto 5.2
  does not, so the test hands the listed item its region the way AWS lists it);
- S3 ``GetBucketPolicyStatus`` skipped when ``GetBucketPolicy`` answered "no policy", asked when it failed.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

import pytest

from ismap_scan.demo.aws.server import s3control_host_prefix_hook
from ismap_scan.providers.aws import types as T
from ismap_scan.providers.aws.collectors import ScanContext, describe_item
from ismap_scan.providers.aws.guard import ReadOnlyViolation
from ismap_scan.providers.aws.session import SessionFactory
from ismap_scan.providers.aws.settings import AwsSettings

pytestmark = pytest.mark.moto

ACCOUNT = "111122223333"


class Requests:
    """A client hook counting the requests sent, by operation name (``GetBucketLocation``)."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _count(self, **kwargs: Any) -> None:
        with self._lock:
            self.sent[kwargs["event_name"].split(".")[-1]] += 1

    def __call__(self, session: Any) -> None:
        session.events.register("before-send", self._count)


def context(settings: AwsSettings, requests: Requests) -> ScanContext:
    factory = SessionFactory.create(settings, [s3control_host_prefix_hook, requests])
    return ScanContext(factory=factory, account=ACCOUNT, partition="aws")


def listed_buckets(ctx: ScanContext) -> dict[str, dict[str, Any]]:
    buckets = ctx.factory.client("s3").list_buckets()["Buckets"]
    return {b["Name"]: b for b in buckets}


def test_clients_are_shared_by_threads_and_still_guarded(aws_settings: AwsSettings) -> None:
    factory = SessionFactory.create(aws_settings, [s3control_host_prefix_hook])
    seen: list[Any] = []
    refused: list[BaseException] = []

    def worker() -> None:
        client = factory.client("s3", "ap-northeast-1")
        seen.append(client)
        try:
            client.put_bucket_versioning(
                Bucket="example-bucket", VersioningConfiguration={"Status": "Suspended"}
            )
        except BaseException as e:  # the guard's refusal is what this test wants to see
            refused.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 4 and all(c is seen[0] for c in seen)
    assert factory.client("s3", "ap-northeast-1") is seen[0]
    assert factory.client("s3", "us-east-1") is not seen[0]  # one client per region
    assert len(refused) == 4 and all(isinstance(e, ReadOnlyViolation) for e in refused)


def test_bucket_region_from_the_listing_saves_get_bucket_location(
    aws_settings: AwsSettings, aws_session: Any
) -> None:
    s3 = aws_session.client("s3")
    s3.create_bucket(Bucket="virginia-bucket-111122223333")  # GetBucketLocation null -> us-east-1
    s3.create_bucket(
        Bucket="tokyo-bucket-111122223333", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"}
    )
    requests = Requests()
    ctx = context(aws_settings, requests)
    regions: dict[str, str] = {}
    for name, item in listed_buckets(ctx).items():
        assert "BucketRegion" not in item  # moto's listing: the collector must locate the bucket
        requests.sent.clear()
        located = describe_item(ctx, T.S3_BUCKET, item, "us-east-1")
        assert requests.sent["GetBucketLocation"] == 1
        regions[name] = located.region

        requests.sent.clear()
        as_aws_lists_it = {**item, "BucketRegion": located.data["BucketRegion"]}
        listed = describe_item(ctx, T.S3_BUCKET, as_aws_lists_it, "us-east-1")
        assert requests.sent["GetBucketLocation"] == 0
        assert (listed.region, listed.id, listed.data, listed.errors) == (
            located.region,
            located.id,
            located.data,
            located.errors,
        ), name
    assert regions == {
        "virginia-bucket-111122223333": "us-east-1",
        "tokyo-bucket-111122223333": "ap-northeast-1",
    }


def test_policy_status_is_asked_only_when_a_policy_may_exist(
    aws_settings: AwsSettings, aws_session: Any
) -> None:
    s3 = aws_session.client("s3")
    s3.create_bucket(Bucket="no-policy-111122223333")
    s3.create_bucket(Bucket="with-policy-111122223333")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": "arn:aws:s3:::with-policy-111122223333/*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    s3.put_bucket_policy(Bucket="with-policy-111122223333", Policy=json.dumps(policy))
    requests = Requests()
    ctx = context(aws_settings, requests)
    items = listed_buckets(ctx)

    requests.sent.clear()
    bare = describe_item(ctx, T.S3_BUCKET, items["no-policy-111122223333"], "us-east-1")
    assert bare.data["Policy"] is None and bare.data["PolicyStatus"] is None and not bare.errors
    assert requests.sent["GetBucketPolicy"] == 1 and requests.sent["GetBucketPolicyStatus"] == 0
    # What S3 itself answers for that bucket: the skipped call would have given the same null.
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy_status(Bucket="no-policy-111122223333")

    requests.sent.clear()
    guarded = describe_item(ctx, T.S3_BUCKET, items["with-policy-111122223333"], "us-east-1")
    assert guarded.data["Policy"] == policy and guarded.data["PolicyStatus"] == {"IsPublic": False}
    assert requests.sent["GetBucketPolicyStatus"] == 1


def test_policy_status_still_asked_when_the_policy_read_failed(
    aws_settings: AwsSettings, aws_session: Any
) -> None:
    aws_session.client("s3").create_bucket(Bucket="denied-policy-111122223333")
    requests = Requests()

    def deny_policy(session: Any) -> None:
        from botocore.exceptions import ClientError

        def refuse(**_: Any) -> None:
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "denied by the test"}}, "GetBucketPolicy"
            )

        session.events.register("before-call.s3.GetBucketPolicy", refuse)

    factory = SessionFactory.create(aws_settings, [s3control_host_prefix_hook, requests, deny_policy])
    ctx = ScanContext(factory=factory, account=ACCOUNT, partition="aws")
    item = listed_buckets(ctx)["denied-policy-111122223333"]
    requests.sent.clear()
    record = describe_item(ctx, T.S3_BUCKET, item, "us-east-1")
    assert "Policy" not in record.data  # unknown, so the status read is not skipped
    assert [(e.field, e.code) for e in record.errors] == [("Policy", "AccessDenied")]
    assert requests.sent["GetBucketPolicyStatus"] == 1 and record.data["PolicyStatus"] is None
