"""``--demo``: start the local fake cloud APIs, seed the demo estate, and say how to scan them.

Demo mode is always explicit (``--demo``) and never a fallback. Every fake listens on 127.0.0.1 only, and
the scan goes through the real SDKs and the real collectors, exactly as against a cloud account.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

#: The providers that have a demo estate, in scan order.
DEMO_PROVIDERS = ("aws", "sakura")

#: Regions the AWS demo estate is seeded in and scanned.
AWS_DEMO_REGIONS = ("ap-northeast-1", "ap-northeast-3", "us-east-1")


@dataclass
class DemoEstate:
    """What a running demo gives the scan.

    ``settings`` maps a provider name to its raw settings block (validated by the provider's model);
    ``client_hooks`` maps it to SDK session hooks for fake-server quirks; ``lines`` describes each fake
    for the user (endpoint, what was seeded).
    """

    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    client_hooks: dict[str, list[Callable[[Any], None]]] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    #: Called by ``ismap-scan doctor --demo`` before its checks (the AWS demo turns on moto's IAM enforcement).
    before_doctor: list[Callable[[], None]] = field(default_factory=list)


@contextmanager
def _env(overrides: dict[str, str], remove: tuple[str, ...] = ()) -> Iterator[None]:
    """Set environment variables for the demo's lifetime and restore them afterwards."""
    saved = {k: os.environ.get(k) for k in (*overrides, *remove)}
    try:
        for k in remove:
            os.environ.pop(k, None)
        os.environ.update(overrides)
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def demo_estate(providers: list[str] | None = None) -> Iterator[DemoEstate]:
    """Start and seed the fakes for ``providers`` (default: all that have a demo); stop them on exit.

    Raises :class:`~ismap_scan.errors.InputError` for a provider without a demo, and ``ModuleNotFoundError``
    when the ``demo`` extra (moto) is not installed.
    """
    from ..errors import InputError

    wanted = list(providers or DEMO_PROVIDERS)
    for p in wanted:
        if p not in DEMO_PROVIDERS:
            raise InputError(
                f"provider {p!r} has no demo estate (demo providers: {', '.join(DEMO_PROVIDERS)})"
            )
    estate = DemoEstate()
    with ExitStack() as stack:
        if "aws" in wanted:
            _start_aws(stack, estate)
        if "sakura" in wanted:
            _start_sakura(stack, estate)
        yield estate


def _start_aws(stack: ExitStack, estate: DemoEstate) -> None:
    from .aws.seed import seed
    from .aws.server import s3control_host_prefix_hook, start_moto

    moto = stack.enter_context(start_moto())
    # Fake credentials only, and no profile or real endpoint from the user's environment can leak in.
    stack.enter_context(
        _env(
            {k: v for k, v in moto.env(AWS_DEMO_REGIONS[0]).items() if k != "AWS_ENDPOINT_URL"},
            remove=("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"),
        )
    )
    report = seed(moto.endpoint, regions=AWS_DEMO_REGIONS)
    from .aws.org import enforce_iam, seed_organization

    org = seed_organization(moto.endpoint, AWS_DEMO_REGIONS)  # second account; see demo/aws/org.py
    stack.enter_context(_env(org.scan_env(), remove=("MOTO_ACCOUNT_ID", "AWS_SESSION_TOKEN")))
    estate.settings["aws"] = {
        "endpoint_url": moto.endpoint,
        "regions": list(AWS_DEMO_REGIONS),
        "organization": org.organization_settings(),
    }
    estate.client_hooks["aws"] = [s3control_host_prefix_hook]
    estate.before_doctor.append(lambda: enforce_iam(moto.endpoint))
    estate.lines.append(
        f"aws: moto server at {moto.endpoint} (account {moto.account_id}), "
        f"seeded {getattr(report, 'total', '?')} resources in {', '.join(AWS_DEMO_REGIONS)}"
    )
    estate.lines.append(
        f"aws: organization member {org.member_account} (role {org.audit_role_arn}); "
        f"restricted role for doctor: {org.restricted_role_arn}"
    )


def _start_sakura(stack: ExitStack, estate: DemoEstate) -> None:
    from .sakura.server import start_fake_sakura

    fake = stack.enter_context(start_fake_sakura())
    # The fake's own dummy key, given explicitly: a real key or usacloud profile is never read in a demo.
    # 50 requests/s instead of the real API's default 5: the fake is local, the pacing still runs.
    estate.settings["sakura"] = fake.settings(rate_limit=50)
    served = fake.app.estate
    zones = ", ".join(z["Name"] for z in served.zones)
    estate.lines.append(
        f"sakura: fake Sakura Cloud API at {fake.api_root} (account 111122223333), "
        f"{served.resource_count()} resources in zones {zones}"
    )
