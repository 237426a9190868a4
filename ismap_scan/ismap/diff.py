"""``ismap-scan catalog diff A B``: what a revision (or an imported official table) changed.

IDs are compared as they are; an ID removed in B and an ID added in B at the same level with the same title
(compared after NFKC, ignoring spaces; Japanese where both have one, else English) count as **renumbered**.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from .catalog import Catalog, Control, id_sort_key


def _title_key(c: Control, lang: str) -> str:
    return "".join(unicodedata.normalize("NFKC", c.title.get(lang, "")).split()).lower()


def _same_title(a: Control, b: Control) -> bool:
    for lang in ("ja", "en"):
        ka, kb = _title_key(a, lang), _title_key(b, lang)
        if ka and kb:
            return ka == kb
    return False


def diff_catalogs(a: Catalog, b: Catalog) -> dict[str, Any]:
    """Differences from ``a`` to ``b``.

    Returns ``{"from", "to", "added": [ID], "removed": [ID], "renumbered": [{"from", "to", "title"}],
    "retitled": [{"id", "lang", "from", "to"}], "flags_changed": [{"id", "basic_statement_requirement",
    "cloud_specific"}], "counts": {...}}``; ID lists in natural ID order.
    """
    added = sorted((cid for cid in b.controls if cid not in a.controls), key=id_sort_key)
    removed = sorted((cid for cid in a.controls if cid not in b.controls), key=id_sort_key)
    renumbered: list[dict[str, str]] = []
    for old in list(removed):
        ca = a.controls[old]
        match = next(
            (new for new in added if b.controls[new].level == ca.level and _same_title(ca, b.controls[new])),
            None,
        )
        if match is not None:
            renumbered.append(
                {"from": old, "to": match, "title": ca.title.get("ja") or ca.title.get("en", "")}
            )
            removed.remove(old)
            added.remove(match)
    retitled: list[dict[str, str]] = []
    flags: list[dict[str, Any]] = []
    for cid in sorted((c for c in a.controls if c in b.controls), key=id_sort_key):
        ca, cb = a.controls[cid], b.controls[cid]
        for lang in ("ja", "en"):
            ta, tb = ca.title.get(lang, ""), cb.title.get(lang, "")
            if ta and tb and _title_key(ca, lang) != _title_key(cb, lang):
                retitled.append({"id": cid, "lang": lang, "from": ta, "to": tb})
        if (ca.basic_statement_requirement, ca.cloud_specific) != (
            cb.basic_statement_requirement,
            cb.cloud_specific,
        ):
            flags.append(
                {
                    "id": cid,
                    "basic_statement_requirement": [
                        ca.basic_statement_requirement,
                        cb.basic_statement_requirement,
                    ],
                    "cloud_specific": [ca.cloud_specific, cb.cloud_specific],
                }
            )
    return {
        "from": a.version,
        "to": b.version,
        "added": added,
        "removed": removed,
        "renumbered": renumbered,
        "retitled": retitled,
        "flags_changed": flags,
        "counts": {
            "added": len(added),
            "removed": len(removed),
            "renumbered": len(renumbered),
            "retitled": len(retitled),
            "flags_changed": len(flags),
        },
    }
