"""``catalog import`` / ``list`` / ``diff`` on spreadsheets built here in the shape of the official table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from ismap_scan.cli import cli
from ismap_scan.errors import InputError
from ismap_scan.ismap.catalog import available_versions, load_catalog, load_check_map
from ismap_scan.ismap.diff import diff_catalogs
from ismap_scan.ismap.importer import import_table, normalize_id, parse_file

OBJECTIVE_TEXT = {
    "5.1.1": "情報セキュリティのための方針群は、これを定義し、経営陣によって承認され、発行し、従業員及び関連する外部関係者に通知する。",
    "9.4.1": "情報及びアプリケーションシステム機能へのアクセスは、アクセス制御方針に従って制限する。",
    "9.4.2": "アクセス制御方針で求められている場合には、システム及びアプリケーションへのアクセスは、セキュリティに配慮したログオン手順によって制御する。",
}
DETAILED_TEXT = {
    "5.1.1.1": "テスト用の詳細管理策その一。",
    "9.4.2.1": "テスト用の詳細管理策その二。",
    "9.4.2.2.B": "強固な認証が必要な場合、パスワード以外の方式を用いる (テスト用の文)。",
    "9.4.2.3.B": "テスト用の基本言明要件。",
}


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("ISMAP_SCAN_DATA_DIR", str(folder))
    return folder


def official_workbook(path: Path, detailed: dict[str, str] | None = None) -> Path:
    """The table's shape: a title, a two-row header under a merged 管理策 cell, clause / objective rows with
    text in the 統制目標 column, detailed rows with text in the 詳細管理策 column."""
    detailed = DETAILED_TEXT if detailed is None else detailed
    wb = Workbook()
    ws = wb.active
    ws.title = "別表3"
    ws.append(["ISMAP管理基準 別表3 管理策基準 (テスト用)"])
    ws.merge_cells("A1:D1")
    ws.append([])
    ws.append(["番号", "管理策", None, "備考"])
    ws.append([None, "統制目標", "詳細管理策", None])
    ws.merge_cells("A3:A4")
    ws.merge_cells("B3:C3")
    ws.merge_cells("D3:D4")
    ws.append(["5", "情報セキュリティのための方針群", None, None])
    for cid in ("5.1.1", "9.4.1", "9.4.2"):
        ws.append([cid, OBJECTIVE_TEXT[cid], None, None])
        for did, text in detailed.items():
            if did.startswith(cid + "."):
                ws.append([did, None, text, "○" if did.endswith("B") else None])
    wb.create_sheet("注記").append(["この表はテスト用です"])
    wb.save(path)
    return path


def messy_workbook(path: Path) -> Path:
    """Full-width digits and dots, spaces inside IDs, a preamble, blank rows, notes, a duplicate, an orphan."""
    wb = Workbook()
    ws = wb.active
    ws.title = "管理策一覧"
    ws.append(["政府情報システムのためのセキュリティ評価制度"])
    ws.append(["最終更新 2024年7月"])
    ws.append([])
    ws.append(["項番", "詳細管理策の内容", "区分"])
    ws.append([None, None, None])
    ws.append(["５．１．１", OBJECTIVE_TEXT["5.1.1"], "統制目標"])
    ws.append(["５．１．１．１", DETAILED_TEXT["5.1.1.1"], ""])
    ws.append([])
    ws.append(["9.4.2. 1", DETAILED_TEXT["9.4.2.1"], ""])
    ws.append(["９．４．２．２．Ｂ", DETAILED_TEXT["9.4.2.2.B"], "基本"])
    ws.append(["9。4。2。3 b", DETAILED_TEXT["9.4.2.3.B"], "基本"])
    ws.append(["※ 注: 9.4.2 の詳細管理策は抜粋", None, None])
    ws.append(["9.4.2.1", "重複した行", ""])
    ws.append(["9.4.9.9", "親の無い詳細管理策", ""])
    ws.append(["9.4.2.4", None, None])
    ws.append([None, "番号の無い続きの行", None])
    wb.save(path)
    return path


def test_normalize_id() -> None:
    assert normalize_id("９．４．２．２．Ｂ") == "9.4.2.2.B"
    assert normalize_id("１２．４．１．１５\u3000．ＰＢ") == "12.4.1.15.PB"  # full-width space inside
    assert normalize_id(" 12.4.1.15.PB ") == "12.4.1.15.PB"
    assert normalize_id("9。4。2。3 b") == "9.4.2.3.B"
    assert normalize_id("9.4.2.2B") == "9.4.2.2.B"
    assert normalize_id("6.3.P") == "6.3.P"
    assert normalize_id("９．４．２．") == "9.4.2"
    assert normalize_id("第9章") is None
    assert normalize_id("9.4.2.2.X") is None
    assert normalize_id("") is None


def test_parse_official_shape(tmp_path: Path) -> None:
    table = parse_file(official_workbook(tmp_path / "t.xlsx"))
    assert table.sheet == "別表3"
    assert table.headers[table.id_column] == "番号"
    assert table.text_column is not None and table.headers[table.text_column] == "管理策 / 詳細管理策"
    ids = [cid for _row, cid, _text in table.entries]
    assert ids == ["5", "5.1.1", "5.1.1.1", "9.4.1", "9.4.2", "9.4.2.1", "9.4.2.2.B", "9.4.2.3.B"]
    texts = {cid: text for _row, cid, text in table.entries}
    assert texts["9.4.2"] == OBJECTIVE_TEXT["9.4.2"]  # objective text from the 統制目標 column
    assert texts["9.4.2.2.B"] == DETAILED_TEXT["9.4.2.2.B"]
    assert table.unparsed == []


def test_import_official_table(tmp_path: Path, data_dir: Path) -> None:
    report = import_table(official_workbook(tmp_path / "betsu3.xlsx"), "2024-07-official")
    assert report.folder == data_dir / "catalogs" / "ismap" / "2024-07-official"
    assert report.added == ["5.1.1.1", "9.4.2.1", "9.4.2.3.B"]
    assert set(report.confirmed) == {"5", "5.1.1", "9.4.1", "9.4.2", "9.4.2.2.B"}
    assert "9.4.3" in report.lacking and "13.1.3.1" in report.lacking and "6.3.P" not in report.lacking
    assert report.unparsed == []
    assert "2024-07-official" in available_versions()

    cat = load_catalog("2024-07-official")
    assert cat.official and cat.base == "2024-07" and cat.ja_titles == "official"
    new_b = cat.controls["9.4.2.3.B"]
    assert (new_b.parent, new_b.level, new_b.basic_statement_requirement, new_b.cloud_specific) == (
        "9.4.2",
        "detailed",
        True,
        False,
    )
    assert new_b.confirmed is True and new_b.title == {"en": "", "ja": DETAILED_TEXT["9.4.2.3.B"]}
    assert cat.controls["9.4.2"].title["ja"] == OBJECTIVE_TEXT["9.4.2"]  # official text replaces ours
    assert cat.controls["9.4.2"].title["en"]  # our English title is kept
    assert cat.controls["9.4.3"].confirmed is False
    assert cat.controls["3.1"].confirmed is None  # governance criteria: the table does not cover them
    assert len(cat.basic_statement_requirements()) == 32
    assert (
        cat.imported is not None
        and cat.imported["file"] == "betsu3.xlsx"
        and len(cat.imported["sha256"]) == 64
    )
    # our mappings are kept and valid against the new version
    assert load_check_map("2024-07-official", catalog=cat) == load_check_map("2024-07")

    with pytest.raises(InputError, match="already installed"):
        import_table(tmp_path / "betsu3.xlsx", "2024-07-official")
    assert import_table(tmp_path / "betsu3.xlsx", "2024-07-official", force=True).added == report.added
    with pytest.raises(InputError, match="bundled and cannot be replaced"):
        import_table(tmp_path / "betsu3.xlsx", "2024-07")


def test_import_messy_table_lists_unusable_rows(tmp_path: Path) -> None:
    report = import_table(messy_workbook(tmp_path / "messy.xlsx"), "messy")
    assert report.id_header == "項番" and report.text_header == "詳細管理策の内容"
    assert report.added == ["5.1.1.1", "9.4.2.1", "9.4.2.3.B"]
    assert set(report.confirmed) == {"5.1.1", "9.4.2.2.B"}
    reasons = {u.row: u.reason for u in report.unparsed}
    assert reasons == {
        12: "not a control ID: '※ 注: 9.4.2 の詳細管理策は抜粋'",
        13: "duplicate of row 9",
        14: "parent 9.4.9 is neither in the table nor in catalog 2024-07",
        15: "9.4.2.4: no control text",
        16: "no control ID in the ID column",
    }
    cat = load_catalog("messy")
    assert cat.controls["9.4.2.3.B"].basic_statement_requirement
    assert cat.imported is not None and len(cat.imported["unparsed"]) == 5


def test_import_csv_in_cp932(tmp_path: Path) -> None:
    path = tmp_path / "betsu3.csv"
    rows = [
        "管理策番号,統制目標,詳細管理策",
        ",,",
        f"9.4.2,{OBJECTIVE_TEXT['9.4.2']},",
        f"9.4.2.2.B,,{DETAILED_TEXT['9.4.2.2.B']}",
    ]
    path.write_bytes("\r\n".join(rows).encode("cp932"))
    report = import_table(path, "from-csv")
    assert report.confirmed == ["9.4.2", "9.4.2.2.B"] and report.added == []
    assert load_catalog("from-csv").controls["9.4.2.2.B"].title["ja"] == DETAILED_TEXT["9.4.2.2.B"]


def test_import_refuses_a_file_without_ids(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("name,value\nfoo,bar\n", encoding="utf-8")
    with pytest.raises(InputError, match="no column of ISMAP control IDs"):
        import_table(path, "nothing")
    with pytest.raises(InputError, match=r"expected an \.xlsx or \.csv"):
        (tmp_path / "x.txt").write_text("x", encoding="utf-8")
        import_table(tmp_path / "x.txt", "nothing")
    assert "nothing" not in available_versions()


def test_diff_shows_what_a_revision_changed(tmp_path: Path) -> None:
    import_table(official_workbook(tmp_path / "a.xlsx"), "rev-a")
    revised = dict(DETAILED_TEXT)
    del revised["5.1.1.1"]  # removed
    revised["9.4.2.4.B"] = revised.pop("9.4.2.3.B")  # renumbered, same text
    revised["9.4.1.1"] = "新しい詳細管理策。"  # added
    import_table(official_workbook(tmp_path / "b.xlsx", revised), "rev-b")
    d = diff_catalogs(load_catalog("rev-a"), load_catalog("rev-b"))
    assert d["added"] == ["9.4.1.1"]
    assert d["removed"] == ["5.1.1.1"]
    assert d["renumbered"] == [{"from": "9.4.2.3.B", "to": "9.4.2.4.B", "title": DETAILED_TEXT["9.4.2.3.B"]}]
    # bundled → imported: the table's additions, and the official text replacing our unofficial titles
    d0 = diff_catalogs(load_catalog("2024-07"), load_catalog("rev-a"))
    assert d0["added"] == ["5.1.1.1", "9.4.2.1", "9.4.2.3.B"] and d0["removed"] == []
    assert {"id": "9.4.2", "lang": "ja"}.items() <= next(
        r for r in d0["retitled"] if r["id"] == "9.4.2"
    ).items()


def test_cli_import_list_diff(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(
        cli, ["catalog", "import", str(messy_workbook(tmp_path / "m.xlsx")), "--version", "v-messy"], obj={}
    )
    assert res.exit_code == 0, res.output
    assert "row 13: duplicate of row 9" in res.output
    res = runner.invoke(cli, ["catalog", "list", "--format", "json"], obj={})
    rows = {r["version"]: r for r in json.loads(res.output)}
    assert rows["2024-07"]["where"] == "bundled" and rows["2024-07"]["basic_statement_requirements"] == 31
    assert rows["v-messy"]["where"] == "installed" and rows["v-messy"]["basic_statement_requirements"] == 32
    res = runner.invoke(cli, ["catalog", "diff", "2024-07", "v-messy"], obj={})
    assert res.exit_code == 0, res.output
    assert "+ 9.4.2.3.B" in res.output and "3 added, 0 removed" in res.output
    res = runner.invoke(cli, ["controls", "--catalog", "v-messy", "--format", "json"], obj={})
    doc = json.loads(res.output)
    assert doc["official"] is True and doc["basic_statement_requirements"] == 32
    assert runner.invoke(cli, ["catalog", "diff", "2024-07", "nope"], obj={}).exit_code == 2
