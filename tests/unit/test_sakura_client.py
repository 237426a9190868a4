"""The Sakura client against the fake API on 127.0.0.1: paging, the JSON query string, the bigint header,
retries per status, errors, the GET-only guard, the rate limiter and credential resolution."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from pydantic import SecretStr

from ismap_scan.demo.sakura.estate import SakuraEstate, build_bench_estate
from ismap_scan.demo.sakura.server import FAKE_SECRET, FAKE_TOKEN, SakuraHandle, start_fake_sakura
from ismap_scan.providers.sakura.client import SakuraApiError, SakuraClient, encode_query
from ismap_scan.providers.sakura.credentials import (
    Credentials,
    SakuraCredentialsError,
    resolve_credentials,
)
from ismap_scan.providers.sakura.guard import ReadOnlyViolation
from ismap_scan.providers.sakura.ratelimit import RateLimiter
from ismap_scan.providers.sakura.settings import SakuraSettings

CREDS = Credentials(FAKE_TOKEN, SecretStr(FAKE_SECRET), "test")


@pytest.fixture(scope="module")
def fake() -> Iterator[SakuraHandle]:
    # 240 resources over 2 zones: 30 servers, disks, filters and switches per zone
    with start_fake_sakura(build_bench_estate(240, ("is1a", "tk1a")), page_cap=50) as handle:
        yield handle


@pytest.fixture
def app(fake: SakuraHandle) -> Iterator[SakuraHandle]:
    fake.app.reset_counters()
    yield fake
    fake.app.reset_counters()


def client(handle: SakuraHandle, **kw: object) -> SakuraClient:
    settings = SakuraSettings(api_root=handle.api_root, rate_limit=0, backoff_factor=0, **kw)  # type: ignore[arg-type]
    return SakuraClient(settings, CREDS)


def test_list_pages_until_total(app: SakuraHandle) -> None:
    c = client(app, page_size=7)
    servers = c.list_all("is1a", "server", "Servers")
    expected = len(app.app.estate.zonal["is1a"]["server"])
    assert len(servers) == expected == 30
    assert len({s["ID"] for s in servers}) == expected
    assert c.requests_made == 5  # 7 + 7 + 7 + 7 + 2
    froms = [json.loads(e["query"])["From"] for e in app.app.log]
    assert froms == [0, 7, 14, 21, 28]


def test_server_side_cap_smaller_than_count_still_gets_everything(app: SakuraHandle) -> None:
    c = client(app, page_size=100)
    app.app.page_cap = 8
    try:
        disks = c.list_all("is1a", "disk", "Disks")
    finally:
        app.app.page_cap = 50
    assert len(disks) == 30  # pages shorter than Count do not end the listing before Total
    assert c.requests_made == 4


def test_query_is_json_with_percent_encoded_spaces(app: SakuraHandle) -> None:
    c = client(app)
    got = c.list_all("is1a", "server", "Servers", {"Name": "srv is1a"})
    assert got and all("srv" in s["Name"] and "is1a" in s["Name"] for s in got)
    assert encode_query({"Filter": {"Name": "a b"}}) == "%7B%22Filter%22%3A%7B%22Name%22%3A%22a%20b%22%7D%7D"


def test_bigint_header_is_sent_and_string_ids_are_accepted(app: SakuraHandle) -> None:
    c = client(app)
    with_header = c.list_all("is1a", "server", "Servers")
    assert app.app.log[-1]["bigint"] == "1"
    assert isinstance(with_header[0]["ID"], int)
    c._session().headers.pop("X-Sakura-Bigint-As-Int")
    without = c.list_all("is1a", "server", "Servers")
    assert isinstance(without[0]["ID"], str)
    assert [str(s["ID"]) for s in with_header] == [s["ID"] for s in without]


@pytest.mark.parametrize("status", [503, 423, 429])
def test_transient_statuses_are_retried_then_succeed(app: SakuraHandle, status: int) -> None:
    app.app.add_fault(r"/server$", status, times=2, retry_after="0" if status == 429 else None)
    c = client(app)
    assert len(c.list_all("tk1a", "server", "Servers")) == 30
    assert c.requests_made == 1
    assert app.app.requests == 3  # two refusals, one answer


def test_retries_exhausted_give_an_error_with_the_status(app: SakuraHandle) -> None:
    app.app.add_fault(r"/server$", 503, times=-1)
    c = client(app, max_retries=2)
    with pytest.raises(SakuraApiError) as err:
        c.list_all("is1a", "server", "Servers")
    assert err.value.status == 503 and err.value.code == "busy"
    assert app.app.requests == 3


@pytest.mark.parametrize(("status", "code"), [(401, "unauthorized"), (403, "forbidden"), (404, "not_found")])
def test_client_errors_are_not_retried(app: SakuraHandle, status: int, code: str) -> None:
    app.app.add_fault(r"/disk$", status, times=-1)
    c = client(app)
    with pytest.raises(SakuraApiError) as err:
        c.list_all("is1a", "disk", "Disks")
    assert (err.value.status, err.value.code) == (status, code)
    assert app.app.requests == 1


def test_wrong_secret_is_a_401(app: SakuraHandle) -> None:
    settings = SakuraSettings(api_root=app.api_root, rate_limit=0)
    c = SakuraClient(settings, Credentials(FAKE_TOKEN, SecretStr("wrong"), "test"))
    with pytest.raises(SakuraApiError) as err:
        c.get(c.zone_url("is1a", "auth-status"))
    assert err.value.status == 401
    assert "wrong" not in str(err.value)


def test_connection_refused_is_retried_then_an_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    settings = SakuraSettings(
        api_root=f"http://127.0.0.1:{port}/cloud/zone", rate_limit=0, backoff_factor=0, max_retries=2
    )
    with pytest.raises(SakuraApiError) as err:
        c = SakuraClient(settings, CREDS)
        c.get(c.zone_url("is1a", "zone"))
    assert err.value.status is None and err.value.code == "ConnectionError"


def test_slow_answer_times_out_as_an_error(app: SakuraHandle) -> None:
    app.app.add_fault(r"/switch$", 200, times=-1, delay=0.5)
    c = client(app, timeout=0.1, max_retries=0)
    with pytest.raises(SakuraApiError) as err:
        c.list_all("is1a", "switch", "Switches")
    assert err.value.code in ("Timeout", "ConnectionError")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "HEAD"])
def test_non_get_is_refused_before_sending(app: SakuraHandle, method: str) -> None:
    c = client(app)
    session = c._session()
    with pytest.raises(ReadOnlyViolation):
        session.request(method, c.zone_url("is1a", "server"))
    with pytest.raises(ReadOnlyViolation):
        session.send(requests.Request(method, c.zone_url("is1a", "server")).prepare())
    assert app.app.requests == 0 and app.app.non_get == 0


def test_iam_paging_uses_page_numbers_not_next_urls(app: SakuraHandle) -> None:
    app.app.estate.iam["compat/users"] = [{"id": f"u-{i}", "name": f"user{i}"} for i in range(7)]
    try:
        c = client(app)
        users = c.list_items_api(c.settings.iam_api_root() + "/compat/users", per_page=3)
    finally:
        app.app.estate.iam["compat/users"] = []
    assert [u["id"] for u in users] == [f"u-{i}" for i in range(7)]
    assert c.requests_made == 3


def test_rate_limiter_paces_to_the_rate() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(5, clock=lambda: now[0], sleep=sleep)
    for _ in range(11):
        limiter.acquire()
    assert now[0] == pytest.approx(2.0)  # the first is free, then one every 0.2 s
    assert RateLimiter(0).acquire() == 0.0


def test_rate_limiter_is_shared_across_requests(app: SakuraHandle) -> None:
    from ismap_scan.providers.sakura.ratelimit import RateLimiter

    settings = SakuraSettings(api_root=app.api_root, rate_limit=20)
    c = SakuraClient(settings, CREDS)
    # A frozen clock makes the test independent of how fast the machine answers: 5 requests at 20/s with a
    # bucket of 1 must wait 4 × 0.05 s in total, all through the client's one limiter.
    slept: list[float] = []
    c.limiter = RateLimiter(20, clock=lambda: 100.0, sleep=slept.append)
    for _ in range(5):
        c.get(c.zone_url("is1a", "auth-status"))
    assert slept == pytest.approx([0.05, 0.1, 0.15, 0.2])
    assert c.limiter.waited == pytest.approx(0.5)


# -- credentials --------------------------------------------------------------------------------------------


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in (
        "SAKURACLOUD_ACCESS_TOKEN",
        "SAKURACLOUD_ACCESS_TOKEN_SECRET",
        "SAKURACLOUD_PROFILE",
        "USACLOUD_PROFILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("USACLOUD_PROFILE_DIR", str(tmp_path))
    return tmp_path


def test_credentials_from_environment(no_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAKURACLOUD_ACCESS_TOKEN", "tok")
    monkeypatch.setenv("SAKURACLOUD_ACCESS_TOKEN_SECRET", "env-secret-value")
    creds = resolve_credentials(SakuraSettings())
    assert (creds.token, creds.source) == ("tok", "environment")
    assert "env-secret-value" not in repr(creds)


def test_credentials_from_usacloud_profile(no_env: Path) -> None:
    (no_env / "audit").mkdir()
    (no_env / "audit" / "config.json").write_text(
        json.dumps({"AccessToken": "t2", "AccessTokenSecret": "profile-secret"})
    )
    (no_env / "current").write_text("audit\n")
    creds = resolve_credentials(SakuraSettings())
    assert creds.token == "t2" and "audit" in creds.source
    assert creds.secret.get_secret_value() == "profile-secret"


def test_settings_win_and_never_print_the_secret(no_env: Path) -> None:
    settings = SakuraSettings(access_token="t3", access_token_secret="settings-secret")  # type: ignore[arg-type]
    assert "settings-secret" not in repr(settings) and "settings-secret" not in str(settings.model_dump())
    assert resolve_credentials(settings).source == "settings"


def test_missing_credentials_name_the_places_not_values(no_env: Path) -> None:
    with pytest.raises(SakuraCredentialsError) as err:
        resolve_credentials(SakuraSettings(profile="nope"))
    assert "SAKURACLOUD_ACCESS_TOKEN" in str(err.value) and "nope" in str(err.value)


def test_settings_validation() -> None:
    with pytest.raises(ValueError):
        SakuraSettings(zones=["us-east-1"])
    with pytest.raises(ValueError):
        SakuraSettings(api_root="ftp://example")
    s = SakuraSettings(api_root="http://127.0.0.1:1/cloud/zone/")
    assert s.iam_api_root() == "http://127.0.0.1:1/cloud/api/iam/1.0"
    assert s.objectstorage_api_root() == "http://127.0.0.1:1/cloud/zone/is1a/api/objectstorage/1.0"


def test_estate_type_is_the_fakes_store() -> None:
    assert isinstance(build_bench_estate(8, ("is1a",)), SakuraEstate)
