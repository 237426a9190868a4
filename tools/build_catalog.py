"""Build ``mappings/ismap/2024-07/catalog.yaml`` from the shared ISMAP control facts (``controls.csv``).

Usage::

    .venv/bin/python tools/build_catalog.py [--csv /work/shared/ismap/controls.csv] \
        [--out mappings/ismap/2024-07/catalog.yaml]

The CSV lists every part, heading and item of the governance and management criteria, every clause, category
and control objective of the controls criteria, and the detailed controls whose IDs are publicly confirmed
(columns ``id, part, level, parent, title_ja, title_en, basic_statement_requirement, cloud_specific, edition,
source``). English titles come from the CSV. Japanese titles come from the CSV where it has one; for
governance/management headings, clauses, categories, objectives and the listed detailed controls this script
supplies short **unofficial** Japanese titles of our own (:data:`JA_TITLES`); governance/management items stay
empty. The official wording arrives only with an imported Attached Table 3 (``ismap-scan catalog import``).

The output is deterministic (CSV order, fixed key order): re-running it on the same CSV gives the same file.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CSV = Path("/work/shared/ismap/controls.csv")
DEFAULT_OUT = REPO / "mappings" / "ismap" / "2024-07" / "catalog.yaml"

VERSION = "2024-07"
SOURCE = (
    "ISMAP control criteria structure as far as public sources show it: English reference translation of "
    "the 2022-04-01 revision, ISMAP portal FAQ, published summaries of the 2023-10, 2024-07 and 2024-08 "
    "revisions (see each control's source). Not the official Attached Table 3."
)
NOTE = (
    "English titles are short paraphrases. Japanese titles are unofficial, written for this project, except "
    "where a control's source names title_ja. Official text comes only from an imported Attached Table 3."
)

#: Unofficial Japanese titles (our own short wording): headings, clauses, categories, objectives, detailed.
JA_TITLES: dict[str, str] = {
    # governance and management criteria: headings (items stay empty until an official table is imported)
    "3.1": "情報セキュリティガバナンスのプロセス",
    "3.1.1": "ガバナンスプロセスの概要",
    "3.1.2": "評価",
    "3.1.3": "指示",
    "3.1.4": "モニタリング",
    "3.1.5": "コミュニケーション",
    "3.1.6": "保証",
    "4.4": "情報セキュリティマネジメントの確立",
    "4.4.1": "組織の役割、責任及び権限",
    "4.4.2": "組織とその状況の理解",
    "4.4.3": "利害関係者のニーズと期待",
    "4.4.4": "ISMSの適用範囲の決定",
    "4.4.5": "方針と目的の確立",
    "4.4.6": "リスクと機会への取組み",
    "4.4.7": "情報セキュリティリスクアセスメント",
    "4.4.8": "情報セキュリティリスク対応",
    "4.5": "情報セキュリティマネジメントの導入と運用",
    "4.5.1": "資源",
    "4.5.2": "力量と認識",
    "4.5.3": "コミュニケーション（ISMS）",
    "4.5.4": "運用の計画と管理",
    "4.5.5": "リスクアセスメントとリスク対応の実施",
    "4.6": "監視、レビュー及び改善",
    "4.6.1": "有効性の継続的改善",
    "4.6.2": "パフォーマンス評価",
    "4.6.3": "マネジメントレビュー",
    "4.7": "維持と改善（是正処置）",
    "4.7.1": "不適合と是正処置",
    "4.8": "文書化した情報",
    "4.8.1": "文書化した情報（一般）",
    "4.8.2": "文書の作成、更新及び管理",
    "4.9": "クラウド利用者を含む利害関係者とのリスクコミュニケーション",
    "4.9.1": "リスクコミュニケーションの計画",
    "4.9.2": "リスクコミュニケーションの実施",
    # clauses
    "5": "情報セキュリティのための方針群",
    "6": "情報セキュリティのための組織",
    "7": "人的資源のセキュリティ",
    "8": "資産の管理",
    "9": "アクセス制御",
    "10": "暗号",
    "11": "物理的及び環境的セキュリティ",
    "12": "運用のセキュリティ",
    "13": "通信のセキュリティ",
    "14": "システムの取得、開発及び保守",
    "15": "供給者との関係",
    "16": "情報セキュリティインシデントの管理",
    "17": "事業継続における情報セキュリティ",
    "18": "順守",
    # categories
    "5.1": "経営陣による情報セキュリティの方向付け",
    "6.1": "組織内部の体制",
    "6.2": "モバイル機器とテレワーク",
    "6.3.P": "クラウドサービス利用者と事業者の関係（クラウド固有）",
    "7.1": "雇用前",
    "7.2": "雇用期間中",
    "7.3": "雇用の終了と変更",
    "8.1": "資産に対する責任",
    "8.2": "情報の分類",
    "8.3": "媒体の取扱い",
    "9.1": "アクセス制御に関する業務上の要求",
    "9.2": "利用者アクセスの管理",
    "9.3": "利用者の責任",
    "9.4": "システム及びアプリケーションのアクセス制御",
    "9.5.P": "共有仮想環境における利用者データのアクセス制御（クラウド固有）",
    "10.1": "暗号による管理策",
    "11.1": "セキュリティを保つべき領域",
    "11.2": "装置",
    "12.1": "運用の手順と責任",
    "12.2": "マルウェアからの保護",
    "12.3": "バックアップ",
    "12.4": "ログ取得と監視",
    "12.5": "運用ソフトウェアの管理",
    "12.6": "技術的脆弱性の管理",
    "12.7": "情報システム監査への配慮",
    "13.1": "ネットワークセキュリティの管理",
    "13.2": "情報の転送",
    "14.1": "情報システムのセキュリティ要求事項",
    "14.2": "開発及び支援プロセスのセキュリティ",
    "14.3": "試験データ",
    "15.1": "供給者関係における情報セキュリティ",
    "15.2": "供給者のサービス提供の管理",
    "16.1": "インシデントの管理とその改善",
    "17.1": "情報セキュリティの継続",
    "17.2": "冗長性",
    "18.1": "法令及び契約上の要求への適合",
    "18.2": "情報セキュリティのレビュー",
    # objectives
    "5.1.1": "情報セキュリティ方針の承認と周知",
    "5.1.2": "情報セキュリティ方針の定期的な見直し",
    "6.1.3": "関係当局との連絡体制",
    "6.1.4": "専門組織・フォーラムとの連絡",
    "6.1.5": "プロジェクト管理への情報セキュリティの組込み",
    "6.2.2": "テレワークのセキュリティ",
    "6.3.1.P": "利用者と事業者の間のセキュリティ責任の分担",
    "7.1.1": "採用候補者の経歴確認",
    "7.1.2": "雇用条件におけるセキュリティ上の義務",
    "7.2.1": "経営陣によるセキュリティ責任の徹底",
    "7.2.2": "情報セキュリティの意識向上、教育及び訓練",
    "7.2.3": "違反に対する懲戒手続",
    "7.3.1": "退職・異動後も続くセキュリティ上の責任",
    "8.1.3": "資産の利用の許容範囲",
    "8.1.4": "退職時等の資産の返却",
    "8.1.5.P": "契約終了時の利用者資産の返却・削除",
    "8.2.2": "分類に応じた情報のラベル付け",
    "8.3.1": "取外し可能な媒体の管理",
    "8.3.2": "媒体の安全な処分",
    "8.3.3": "輸送中の媒体の保護",
    "9.2.1": "利用者の登録及び登録削除",
    "9.2.2": "利用者へのアクセス権の付与",
    "9.2.3": "特権的アクセス権の制限と管理",
    "9.2.4": "利用者の秘密認証情報の割当て管理",
    "9.2.5": "利用者アクセス権の定期的な見直し",
    "9.2.6": "退職・異動時のアクセス権の削除又は修正",
    "9.3.1": "利用者による秘密認証情報の保護",
    "9.4.1": "情報及びアプリケーション機能へのアクセス制限",
    "9.4.2": "安全なログオン手順",
    "9.4.3": "パスワード管理の仕組みの品質",
    "9.4.4": "特権的なユーティリティプログラムの使用制限",
    "9.4.5": "プログラムソースコードへのアクセス制限",
    "9.5.1.P": "共有仮想環境におけるテナントの分離",
    "9.5.2.P": "仮想マシンの堅牢化",
    "10.1.1": "暗号による管理策の利用方針",
    "10.1.2": "暗号鍵のライフサイクル管理",
    "11.1.1": "物理的セキュリティ境界の設定",
    "11.1.2": "物理的な入退管理",
    "11.1.3": "事務所・部屋・施設の物理的セキュリティ",
    "11.1.4": "自然災害・環境上の脅威からの保護",
    "11.1.5": "セキュリティを保つべき領域での作業手順",
    "11.1.6": "受渡場所の管理",
    "11.2.1": "装置の設置と保護",
    "11.2.2": "電源等のサポートユーティリティの障害対策",
    "11.2.3": "電源・通信ケーブルの保護",
    "11.2.4": "装置の適切な保守",
    "11.2.5": "資産の構外持出しの許可",
    "11.2.6": "構外にある装置・資産のセキュリティ",
    "11.2.7": "処分・再利用前の記憶媒体の消去又は破壊",
    "11.2.8": "無人状態の利用者装置の保護",
    "11.2.9": "クリアデスク・クリアスクリーン",
    "12.1.1": "操作手順の文書化",
    "12.1.2": "変更の管理",
    "12.1.3": "容量の監視と計画",
    "12.1.4": "開発・試験・本番環境の分離",
    "12.1.5.P": "クラウドの管理者操作のセキュリティ",
    "12.2.1": "マルウェアの検出・予防・回復の管理策",
    "12.3.1": "バックアップの取得と復元の確認",
    "12.4.1": "イベントログの記録と保持",
    "12.4.2": "ログの改ざん及び不正アクセスからの保護",
    "12.4.3": "管理者・運用者の操作の記録と確認",
    "12.4.4": "単一の参照時刻への時刻同期",
    "12.4.5.P": "利用者によるクラウドサービス利用状況の監視",
    "12.5.1": "本番システムへのソフトウェア導入の管理",
    "12.6.1": "技術的脆弱性への適時の対処",
    "12.6.2": "利用者によるソフトウェア導入の制限",
    "12.7.1": "本番システムへの影響を抑えた監査の計画",
    "13.1.1": "ネットワークの管理と制御",
    "13.1.2": "ネットワークサービスのセキュリティ要求と合意",
    "13.1.3": "ネットワーク上の利用者・システム・サービスの分離",
    "13.1.4.P": "仮想ネットワークと物理ネットワークの設定の整合",
    "13.2.1": "情報転送の方針と手順",
    "13.2.2": "外部との情報転送に関する合意",
    "13.2.3": "電子的メッセージの保護",
    "13.2.4": "秘密保持契約",
    "14.1.1": "新規システム・改修時のセキュリティ要求",
    "14.1.2": "公衆ネットワーク上のアプリケーションサービスの保護",
    "14.1.3": "アプリケーションサービスの取引の保護",
    "14.2.1": "セキュリティに配慮した開発の規則",
    "14.2.2": "開発ライフサイクルにおける変更管理",
    "14.2.3": "基盤の変更後のアプリケーションの試験",
    "14.2.4": "市販ソフトウェアパッケージの改変の制限",
    "14.2.5": "セキュリティを考慮したシステム構築の原則",
    "14.2.6": "安全な開発環境",
    "14.2.7": "外部委託による開発の監督",
    "14.2.8": "開発中のセキュリティ機能の試験",
    "14.2.9": "受入れ試験の基準と計画",
    "14.3.1": "試験データの選定と保護",
    "15.1.1": "供給者関係のための情報セキュリティ方針",
    "15.1.2": "供給者との合意におけるセキュリティ要求",
    "15.1.3": "ICTサプライチェーンのリスクへの対応",
    "15.2.1": "供給者のサービス提供の監視とレビュー",
    "15.2.2": "供給者のサービス変更の管理",
    "16.1.1": "インシデント管理の責任と手順",
    "16.1.2": "情報セキュリティ事象の迅速な報告",
    "16.1.3": "セキュリティ弱点の報告",
    "16.1.4": "事象の評価とインシデントの判断",
    "16.1.5": "手順に沿ったインシデントへの対応",
    "16.1.6": "インシデントからの学習",
    "16.1.7": "証拠の特定・収集・保全",
    "17.1.1": "情報セキュリティ継続の計画",
    "17.1.2": "情報セキュリティ継続の実施",
    "17.1.3": "継続のための管理策の検証と見直し",
    "17.2.1": "情報処理施設の可用性のための冗長化",
    "18.1.1": "適用される法令・契約上の要求事項の特定",
    "18.1.2": "知的財産権の尊重",
    "18.1.3": "記録の消失・改ざん・不正アクセスからの保護",
    "18.1.4": "プライバシー及び個人情報の保護",
    "18.1.5": "法令に沿った暗号の利用",
    "18.2.1": "情報セキュリティの独立したレビュー",
    "18.2.2": "方針・基準への順守状況の確認",
    "18.2.3": "システムの技術的な順守状況の確認",
    # detailed controls (publicly confirmed IDs only)
    "6.1.1.13.PB": "利用者・供給者とのセキュリティ上の役割分担の合意と文書化",
    "6.1.3.3.PB": "事業を行う国とデータ保管国の利用者への通知",
    "6.3.1.1.PB": "事業者と利用者のセキュリティ責任の文書化と周知",
    "7.2.2.18": "セキュリティ訓練・演習の実施",
    "7.2.2.19.PB": "利用者データの適切な取扱いに関する教育（委託先を含む）",
    "8.1.1.6.PB": "資産目録に利用者データ等を明記する",
    "8.1.2.7.PB": "利用者が鍵を管理できる暗号化機能又はその情報の提供",
    "8.1.5.4.P": "事業者の責任による利用者データの暗号学的消去",
    "8.2.2.7.PB": "利用者が情報を分類・ラベル付けできる機能の文書化",
    "9.2.1.6.PB": "利用者登録・削除機能とその仕様の提供",
    "9.2.2.8.PB": "利用者のアクセス権を管理する機能の提供",
    "9.2.3.11.PB": "利用者の管理者向けの強固な認証の提供",
    "9.2.4.9.PB": "秘密認証情報の管理手順の利用者への通知",
    "9.4.1.8.PB": "利用者がアクセスを制限できるアクセス制御の提供",
    "9.4.2.2.B": "強固な認証が必要な場合のパスワード以外の認証方式の利用",
    "9.5.2.1.PB": "仮想マシンの堅牢化（必要なポート・サービスのみ等）",
    "10.1.1.9.PB": "利用者への暗号機能又は暗号環境の情報の提供",
    "10.1.2.20.PB": "利用者が暗号鍵を管理する機能又はその方法の情報の提供",
    "11.2.7.4.PB": "資源の適時かつ安全な処分・再利用",
    "12.1.2.11.PB": "セキュリティに影響するサービス変更の利用者への通知",
    "12.1.3.9.PB": "資源不足によるインシデントを防ぐ総容量の監視",
    "12.1.5.1.PB": "重要な操作手順の文書の利用者への提供",
    "12.2.1.15": "機械学習型・サンドボックス型のマルウェア対策",
    "12.4.1.15.PB": "利用者へのログ取得機能の提供",
    "12.4.4.4.PB": "時刻源と同期方法の利用者への通知",
    "12.6.1.18.PB": "サービスに影響する技術的脆弱性の管理情報の共有",
    "13.1.3.1": "必要に応じたネットワークの領域分割",
    "13.1.3.5": "外部からの不正アクセス対策（WAF等）",
    "13.2.3.7.P": "送信ドメイン認証（SPF、DMARC等）",
    "14.2.1.13.PB": "セキュリティに配慮した開発手順の利用者への開示",
    "15.1.1.14.B": "供給者が関わる移行時のセキュリティの維持",
    "15.1.1.16.B": "外国法による情報アクセスのリスク評価と契約での保管場所等の明示",
    "15.1.2.18.PB": "事業者が実施するセキュリティ対策の契約での明示",
    "16.1.5.10": "他システムでの同種インシデント発生可能性の確認",
    "16.1.7.13.PB": "デジタル証拠の要求への対応手順の利用者との合意",
    "18.1.2.13.PB": "知的財産権に関する苦情への対応手順",
    "18.1.3.13.PB": "利用に関する記録の保護方法の利用者への通知",
    "18.1.5.7.PB": "順守確認のための暗号による管理策の利用者への説明",
}

_LEVELS = {"part", "heading", "item", "clause", "category", "objective", "detailed"}


def _flag(value: str, row_id: str, column: str) -> bool:
    v = value.strip().lower()
    if v == "yes":
        return True
    if v in ("", "no"):
        return False
    raise ValueError(f"{row_id}: {column} must be yes, no or empty, got {value!r}")


def build(csv_path: Path) -> dict[str, Any]:
    """Read ``controls.csv`` and return the catalog document (a dict ready for YAML).

    Raises ``ValueError`` on an unknown level, a bad flag, a duplicate ID or a parent that is not listed
    before its child.
    """
    controls: list[dict[str, Any]] = []
    seen: set[str] = set()
    with csv_path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            cid = row["id"].strip()
            if cid in seen:
                raise ValueError(f"duplicate control id {cid}")
            if row["level"] not in _LEVELS:
                raise ValueError(f"{cid}: unknown level {row['level']!r}")
            parent = row["parent"].strip() or None
            if parent is not None and parent not in seen:
                raise ValueError(f"{cid}: parent {parent} not listed before it")
            seen.add(cid)
            controls.append(
                {
                    "id": cid,
                    "part": row["part"],
                    "level": row["level"],
                    "parent": parent,
                    "title": {
                        "en": row["title_en"].strip(),
                        "ja": row["title_ja"].strip() or JA_TITLES.get(cid, ""),
                    },
                    "basic_statement_requirement": _flag(row["basic_statement_requirement"], cid, "bsr"),
                    "cloud_specific": _flag(row["cloud_specific"], cid, "cloud_specific"),
                    "edition": row["edition"],
                    "source": row["source"],
                }
            )
    unknown = set(JA_TITLES) - seen
    if unknown:
        raise ValueError(f"JA_TITLES names IDs not in the CSV: {sorted(unknown)}")
    return {
        "version": VERSION,
        "source": SOURCE,
        "ja_titles": "unofficial",
        "note": NOTE,
        "controls": controls,
    }


def render(doc: dict[str, Any]) -> str:
    header = (
        "# Generated by tools/build_catalog.py from controls.csv; do not edit by hand (re-run the script).\n"
        "# Japanese titles are unofficial (ja_titles: unofficial); official text comes only from an\n"
        "# imported Attached Table 3 (ismap-scan catalog import).\n"
    )
    body = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120, default_flow_style=False)
    return header + body


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    doc = build(args.csv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(doc), encoding="utf-8")
    counts: dict[str, int] = {}
    for c in doc["controls"]:
        counts[c["level"]] = counts.get(c["level"], 0) + 1
    print(f"wrote {args.out}: {len(doc['controls'])} controls {counts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
