"""The exit policy of a CI run: which outcome fails the step, and the DESIGN §8 code that describes it.

The code says what was found (3: new failures at or above ``fail-on``; 4: scan incomplete and no such
failures; 0: neither) whatever the mode; whether the step fails is a separate decision:

- ``comment`` mode (``auto`` on pull-request events) never fails: a live scan shows what is deployed, not what
  the pull request proposes, so it informs the review instead of gating it;
- ``soft-fail`` never fails (the summary and outputs still say what would have failed);
- otherwise code 3 fails, and code 4 fails only with ``fail-on-incomplete``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .baseline import Comparison

EXIT_OK = 0
EXIT_FAILURES = 3
EXIT_INCOMPLETE = 4


@dataclass(frozen=True)
class Decision:
    """``code``: DESIGN §8 exit code of the outcome; ``fail_step``: whether the step should fail;
    ``reason``: one sentence for the log and the summary's first line."""

    code: int
    fail_step: bool
    reason: str


def decide(
    comparison: Comparison,
    *,
    mode: str,
    soft_fail: bool = False,
    fail_on_incomplete: bool = False,
    incomplete: bool = False,
) -> Decision:
    """Apply the policy. ``mode`` is ``gate`` or ``comment`` (already resolved from ``auto``);
    ``incomplete`` is true when a provider stopped early or any result is ERROR. Raises ``ValueError`` for
    another mode."""
    if mode not in ("gate", "comment"):
        raise ValueError(f"mode must be gate or comment, not {mode!r}")
    gating = len(comparison.gating)
    since = "since the baseline" if comparison.baseline_used else "(no baseline: every failure counts)"
    if gating:
        code = EXIT_FAILURES
        noun = "failure" if gating == 1 else "failures"
        what = f"{gating} new {noun} at or above {comparison.fail_on} {since}"
    elif incomplete:
        code = EXIT_INCOMPLETE
        what = f"no new failures at or above {comparison.fail_on}, but the scan is incomplete"
    else:
        code = EXIT_OK
        threshold = "" if comparison.fail_on == "none" else f" at or above {comparison.fail_on}"
        what = (
            f"no new failures{threshold} {since}" if comparison.baseline_used else f"no failures{threshold}"
        )
    would_fail = code == EXIT_FAILURES or (code == EXIT_INCOMPLETE and fail_on_incomplete)
    if not would_fail:
        return Decision(code, False, what)
    if mode == "comment":
        return Decision(code, False, f"{what} (pull request: reported, not gated)")
    if soft_fail:
        return Decision(code, False, f"{what} (soft-fail: reported, not failed)")
    return Decision(code, True, what)
