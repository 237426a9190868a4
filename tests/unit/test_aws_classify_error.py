"""``classify_error`` on answers that are not AWS errors: short, one-line, markup-free messages.

The errors are built the way botocore builds them: each protocol's real response parser reads an HTML
500 page (werkzeug's, as an emulator or a proxy sends it), then ``ClientError`` wraps the parsed answer.
"""

from __future__ import annotations

from typing import Any

import botocore.parsers
import botocore.session
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from ismap_scan.providers.aws.collectors import classify_error

HTML_500 = (
    b"<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
    b"<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to "
    b"complete your request. Either the server is overloaded or there is an error in the application.</p>\n"
    + b"<p>"
    + b"padding " * 200
    + b"</p>\n"
)


def _parse(service: str, operation: str, status: int, body: bytes, headers: dict[str, str]) -> Any:
    """Run botocore's parser for ``service``'s protocol on one HTTP answer; return the error it gives."""
    model = botocore.session.get_session().get_service_model(service)
    parser = botocore.parsers.create_parser(model.metadata["protocol"])
    response = {"status_code": status, "headers": headers, "body": body}
    try:
        parsed = parser.parse(response, model.operation_model(operation).output_shape)
    except botocore.parsers.ResponseParserError as exc:
        return exc
    return ClientError(parsed, operation)  # type: ignore[arg-type]


def _assert_clean(message: str) -> None:
    assert "<" not in message and ">" not in message
    assert "doctype" not in message.lower()
    assert "\n" not in message
    assert len(message) <= 300


@pytest.mark.parametrize(
    ("service", "operation"),
    [("accessanalyzer", "ListAnalyzers"), ("kms", "ListKeys"), ("s3", "ListBuckets")],
)
def test_html_500_without_error_code_gives_status_and_title(service: str, operation: str) -> None:
    exc = _parse(service, operation, 500, HTML_500, {"content-type": "text/html; charset=utf-8"})
    assert isinstance(exc, ClientError)
    code, message = classify_error(exc)
    assert code == "HTTP500"
    assert message.startswith("HTTP 500 without an AWS error code")
    _assert_clean(message)


def test_html_page_title_is_kept_as_a_hint() -> None:
    code, message = classify_error(_parse("kms", "ListKeys", 502, HTML_500, {}))
    assert code == "HTTP502"
    assert message == "HTTP 502 without an AWS error code (500 Internal Server Error)"


@pytest.mark.parametrize(("service", "operation"), [("ec2", "DescribeVpcs"), ("iam", "ListUsers")])
def test_unparseable_xml_body_keeps_the_parser_text_not_the_page(service: str, operation: str) -> None:
    exc = _parse(service, operation, 500, HTML_500, {"content-type": "text/html"})
    code, message = classify_error(exc)
    assert code == "ResponseParserError"
    assert message.startswith("Unable to parse response")
    assert message.endswith("(500 Internal Server Error)")
    _assert_clean(message)


def test_markup_in_title_entities_does_not_come_back() -> None:
    body = b"<html><head><title>&lt;script&gt;x&lt;/script&gt; Bad Gateway</title></head><body/></html>"
    code, message = classify_error(_parse("kms", "ListKeys", 502, body, {}))
    assert code == "HTTP502"
    _assert_clean(message)
    assert "Bad Gateway" in message


def test_plain_text_body_is_one_capped_line() -> None:
    body = b"upstream connect error\nor disconnect/reset before headers. " + b"x" * 1000
    code, message = classify_error(_parse("kms", "ListKeys", 503, body, {}))
    assert code == "HTTP503"
    assert message.startswith("HTTP 503 without an AWS error code (upstream connect error or disconnect")
    assert message.endswith("...")
    _assert_clean(message)


def test_aws_errors_keep_their_code_and_message() -> None:
    body = (
        b'{"__type": "AccessDeniedException", "message": "User: arn:aws:iam::111122223333:user/a is denied"}'
    )
    code, message = classify_error(_parse("kms", "ListKeys", 400, body, {}))
    assert (code, message) == ("AccessDeniedException", "User: arn:aws:iam::111122223333:user/a is denied")


def test_moto_501_is_not_implemented() -> None:
    body = b'{"__type": "NotImplemented", "message": "moto has no backend for access-analyzer"}'
    code, message = classify_error(
        _parse("accessanalyzer", "ListAnalyzers", 501, body, {"x-amzn-errortype": "NotImplemented"})
    )
    assert (code, message) == ("NotImplemented", "moto has no backend for access-analyzer")


def test_transport_errors_are_named_by_class() -> None:
    code, message = classify_error(EndpointConnectionError(endpoint_url="http://127.0.0.1:1/"))
    assert code == "EndpointConnectionError"
    _assert_clean(message)


def test_xml_aws_error_sent_to_a_json_client_keeps_its_code() -> None:
    """moto answers IAM-enforcement denials of JSON-protocol calls (KMS) with the query XML error shape."""
    body = (
        b"<ErrorResponse><Error><Code>AccessDenied</Code><Message>User: arn:aws:sts::111122223333:assumed-role/"
        b"r/s is not authorized to perform: kms:GetKeyRotationStatus</Message></Error></ErrorResponse>"
    )
    code, message = classify_error(_parse("kms", "GetKeyRotationStatus", 403, body, {}))
    assert code == "AccessDenied"
    assert message.endswith("is not authorized to perform: kms:GetKeyRotationStatus")
    _assert_clean(message)
