"""The check engine (DESIGN §4): load and validate checks, compile them once, evaluate snapshot records.

Typical use (what the CLI does)::

    checks = load_checks(params=config.params, known_types=provider_types).select(services=["s3"])
    results = evaluate(snapshot_records, checks, check_map=load_check_map(...))

Nothing here touches the network or the clock.
"""

from __future__ import annotations

from .casetest import CaseOutcome, load_case_file, run_case_file
from .checkdef import CheckDef, Need
from .evaluate import evaluate
from .loader import CheckSet, load_checks
from .python_checks import CheckContext, CheckMeta, PythonCheck, PythonCheckInfo

__all__ = [
    "CaseOutcome",
    "CheckContext",
    "CheckDef",
    "CheckMeta",
    "CheckSet",
    "Need",
    "PythonCheck",
    "PythonCheckInfo",
    "evaluate",
    "load_case_file",
    "load_checks",
    "run_case_file",
]
