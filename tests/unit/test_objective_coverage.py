"""Coverage of the configuration-checkable ISMAP objectives, per provider (issue 3 target: >= 30 of 41 on AWS).

The 41 objectives are the rows of the project's "which objectives a configuration scan can evidence" list
(shared/ismap/CHECKABLE.md, 36 rows, some naming two or three objectives). A provider covers an objective when
one of its checks is mapped to the objective itself or to a detailed control under it (``13.2.3.7.P`` counts
for ``13.2.3``).
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from ismap_scan.engine import load_checks
from ismap_scan.mappings import Catalog, load_catalog, load_check_map

#: The objectives of CHECKABLE.md, in its row order.
CHECKABLE_OBJECTIVES: tuple[str, ...] = (
    "6.1.3", "15.1.1", "8.1.1", "8.1.2", "8.2.2", "9.1.2", "9.2.1", "9.2.6", "9.2.2", "9.2.3", "9.2.4", "9.4.3",
    "9.2.5", "9.4.1", "9.4.2", "9.5.1.P", "9.5.2.P", "10.1.1", "10.1.2", "12.1.2", "12.1.3", "12.1.4", "12.2.1",
    "12.3.1", "12.4.1", "12.4.2", "12.4.3", "12.4.5.P", "12.6.1", "13.1.1", "13.1.2", "13.1.3", "13.2.1",
    "14.1.2", "14.1.3", "13.2.3", "16.1.2", "17.2.1", "18.1.3", "18.1.5", "18.2.3",
)  # fmt: skip

#: Minimum number of those objectives each provider's checks must cover.
TARGETS = {"aws": 30}


def objective_of(control: str, catalog: Catalog) -> str | None:
    """The checkable objective ``control`` is, or sits under in the catalog's parent chain, else ``None``."""
    if control in CHECKABLE_OBJECTIVES:
        return control
    if control not in catalog:
        return None
    for parent in catalog.parents(control):
        if parent.id in CHECKABLE_OBJECTIVES:
            return parent.id
    return None


def coverage_by_provider() -> dict[str, set[str]]:
    """``{provider: {objective, ...}}`` over the bundled checks and the 2024-07 check map."""
    catalog = load_catalog("2024-07")
    check_map = load_check_map("2024-07", catalog=catalog)
    providers = {c.id: c.id.split(".", 1)[0] for c in load_checks()}
    out: dict[str, set[str]] = defaultdict(set)
    for check_id, refs in check_map.items():
        if check_id not in providers:
            continue
        for ref in refs:
            objective = objective_of(ref.id, catalog)
            if objective is not None:
                out[providers[check_id]].add(objective)
    return out


def test_the_list_has_41_distinct_objectives_all_in_the_catalog() -> None:
    assert len(CHECKABLE_OBJECTIVES) == len(set(CHECKABLE_OBJECTIVES)) == 41
    catalog = load_catalog("2024-07")
    assert [o for o in CHECKABLE_OBJECTIVES if o not in catalog] == []


def test_detailed_controls_count_for_their_objective() -> None:
    catalog = load_catalog("2024-07")
    assert objective_of("13.2.3.7.P", catalog) == "13.2.3"
    assert objective_of("13.1.3.5", catalog) == "13.1.3"
    assert objective_of("12.4.5.P", catalog) == "12.4.5.P"
    assert objective_of("5.1.1", catalog) is None  # policies: not configuration-checkable


@pytest.mark.parametrize("provider", sorted(TARGETS))
def test_provider_covers_enough_checkable_objectives(provider: str) -> None:
    covered = coverage_by_provider().get(provider, set())
    missing = [o for o in CHECKABLE_OBJECTIVES if o not in covered]
    print(f"{provider}: {len(covered)}/41 covered; not covered: {', '.join(missing)}")
    assert len(covered) >= TARGETS[provider], f"{provider} covers {len(covered)} of 41; missing {missing}"
