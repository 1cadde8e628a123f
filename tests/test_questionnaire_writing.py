"""The filled copy: the customer's workbook kept, answers in added columns, read back by openpyxl and calamine."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from assistant.errors import QuestionnaireError
from assistant.questionnaire import (
    check_output,
    default_output,
    detect_questionnaire,
    fill,
    filled_bytes,
    neutralise,
    read_file,
    read_source,
    write_atomic,
)
from assistant.questionnaire.detection import Questionnaire
from assistant.questionnaire.filling import BATCH, CONFLICT_SEPARATOR
from assistant.questionnaire.models import FillReport
from assistant.questionnaire.writing import OUTPUT_HEADERS, REVIEW_FILL, SUMMARY_SHEET

from questionnaire_files import (
    EN_QUESTIONS,
    HEADER_FILL,
    JA_QUESTIONS,
    SHEETS,
    FakeAsker,
    match,
    result,
    security_answers,
)
from questionnaire_files import security_workbook as build_workbook

REPO_ROOT = Path(__file__).resolve().parent.parent
MACRO = b"\xd0\xcf\x11\xe0VBA project bytes"


def fill_file(path: Path, asker: FakeAsker | None = None) -> tuple[Questionnaire, FillReport, bytes]:
    questionnaire = detect_questionnaire(read_file(path))
    report = fill(questionnaire, asker or FakeAsker(security_answers()), vendor="Acme")
    return questionnaire, report, filled_bytes(questionnaire, report)


@pytest.fixture
def workbook(tmp_path: Path) -> tuple[Path, Path]:
    source = build_workbook(tmp_path / "checks.xlsx")
    out = default_output(source)
    write_atomic(out, fill_file(source)[2])
    return source, out


def values(sheet: Any, row: int, first: str, count: int = len(OUTPUT_HEADERS)) -> list[Any]:
    start = openpyxl.utils.column_index_from_string(first)
    return [sheet.cell(row=row, column=start + i).value for i in range(count)]


def test_japanese_sheet_cells(workbook: tuple[Path, Path]) -> None:
    book = openpyxl.load_workbook(workbook[1])
    ws = book["基本事項"]
    assert values(ws, 4, "F") == list(OUTPUT_HEADERS)
    src = "acme/sheet.csv"
    assert values(ws, 5, "F") == [
        "有\n基本方針を策定し公開",
        "answered",
        "Yes",
        0.91,
        "high",
        f"Acme, Acme sheet, as of 2025-06-01, row acme/sheet#1, {src} line 2",
        "acme/sheet#1",
        None,
        None,
    ]
    assert ws["D5"].value == "はい"  # the questionnaire's own answer column, its drop-down's value
    assert ws["D6"].value == "はい"  # already answered by the customer: kept
    assert values(ws, 6, "F")[6:] == [
        "acme/sheet#2",
        "yes",
        "Outdated: acme/old-sheet#2 (Acme old-sheet, undated) says: 無 取得予定(準備中)",
    ]
    assert values(ws, 7, "F") == [
        None,
        "no answer",
        None,
        0.42,
        "low",
        None,
        None,
        "yes",
        "No reliable answer: the closest row scores 0.42\nClosest row (not a match): acme/sheet#5: 年1回実施",
    ]
    assert ws["D7"].value is None
    assert values(ws, 8, "F") == [None] * len(OUTPUT_HEADERS)  # the section row
    assert ws["D9"].value is None  # "7世代" is no はい/いいえ: left to a person
    assert values(ws, 10, "F")[:3] == [f"有\nTLS1.2以上{CONFLICT_SEPARATOR}一部\n管理画面のみ暗号化", "conflict", None]
    assert values(ws, 10, "F")[5:7] == [
        f"Acme, Acme sheet, as of 2025-06-01, row acme/sheet#10, {src} line 11\n"
        f"Acme, Acme page, as of 2025-06-01, row acme/page#4, acme/page.csv line 5",
        "acme/sheet#10\nacme/page#4",
    ]
    assert ws["D10"].value is None
    assert ws["D11"].value == "いいえ"
    # Rows needing a person are highlighted in the added columns; the customer's cells keep their style.
    assert ws["F7"].fill.fgColor.rgb == "00" + REVIEW_FILL
    assert ws["N7"].fill.fgColor.rgb == "00" + REVIEW_FILL
    assert ws["F5"].fill.fgColor.rgb != "00" + REVIEW_FILL
    assert ws["C7"].fill.fgColor.rgb != "00" + REVIEW_FILL


def test_english_sheet_cells_and_neutralised_formulas(workbook: tuple[Path, Path]) -> None:
    book = openpyxl.load_workbook(workbook[1])
    ws = book["Technical"]
    assert values(ws, 2, "G") == list(OUTPUT_HEADERS)
    # An answer that begins with "=" is written as text, with a leading apostrophe, in both columns.
    injected = '\'=HYPERLINK("http://example.invalid","Yes")\nSAML 2.0'
    assert ws["E4"].value == injected
    assert ws["G4"].value == injected
    assert ws["E4"].data_type == ws["G4"].data_type == "s"
    assert values(ws, 5, "G")[1:3] == ["error", None]
    assert ws["E7"].value == "Yes\nAES-256"
    assert ws["D7"].value == '="Do you encrypt "&"backups?"'  # the customer's formula stays a formula
    assert values(ws, 8, "G")[1] == "error"
    assert ws["E9"].value == "'+7 generations"
    assert ws["E10"].value == "Yes (see contract §12)"
    assert values(ws, 10, "G")[:2] == ["Yes\nwithin 30 days", "answered"]
    assert ws["E11"].value is None  # merged over rows 11-12: not written
    assert values(ws, 11, "G")[7] == "yes"
    for row in ws.iter_rows():
        for cell in row:
            if cell.column >= 7 and isinstance(cell.value, str):
                assert cell.data_type == "s"
                assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r")), cell.coordinate


def test_layout_styles_validations_and_widths_are_kept(workbook: tuple[Path, Path]) -> None:
    source, out = workbook
    before, after = openpyxl.load_workbook(source), openpyxl.load_workbook(out)
    assert after.sheetnames == [*SHEETS, SUMMARY_SHEET]
    assert after.active is not None
    assert after.active.title == "表紙"
    assert after["Lists"].sheet_state == "hidden"
    for name in SHEETS:
        old, new = before[name], after[name]
        assert sorted(map(str, new.merged_cells.ranges)) == sorted(map(str, old.merged_cells.ranges)), name
        assert [(str(v.sqref), v.formula1) for v in new.data_validations.dataValidation] == [
            (str(v.sqref), v.formula1) for v in old.data_validations.dataValidation
        ]
        for letter, dimension in old.column_dimensions.items():
            assert new.column_dimensions[letter].width == dimension.width
        # Every cell of the customer's table is as it was, except the answer cells the assistant filled.
        for row in old.iter_rows():
            for cell in row:
                if (name, cell.coordinate) not in {("基本事項", "D5"), ("基本事項", "D11")} | {
                    ("Technical", c) for c in ("E4", "E7", "E9")
                }:
                    assert new[cell.coordinate].value == cell.value, (name, cell.coordinate)
    assert after["基本事項"]["C4"].fill.fgColor.rgb == "00" + HEADER_FILL
    assert after["基本事項"]["F4"].fill.fgColor.rgb == "00" + HEADER_FILL  # added headers styled like the others
    assert after["基本事項"]["F4"].font.b
    assert after["基本事項"].column_dimensions["F"].width == 60
    assert after["表紙"]["A1"].font.sz == 16


def test_summary_sheet(workbook: tuple[Path, Path]) -> None:
    ws = openpyxl.load_workbook(workbook[1])[SUMMARY_SHEET]
    rows = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    assert rows[1][:2] == ["Questionnaire", "checks.xlsx"]
    assert rows[2][:2] == ["Vendor", "Acme"]
    status = next(i for i, row in enumerate(rows) if row[:2] == ["Status", "Rows"])
    counts = {row[0]: row[1] for row in rows[status + 1 : status + 6]}
    assert counts == {"answered": 9, "conflict": 1, "no answer": 1, "error": 2, "needs review": 7}
    header = next(i for i, row in enumerate(rows) if row[0] == "Sheet")
    listed = [tuple(row[:5]) for row in rows[header + 1 :]]
    assert listed == [
        ("基本事項", 6, "2", JA_QUESTIONS[6], "answered"),
        ("基本事項", 7, "3", JA_QUESTIONS[7], "no answer"),
        ("基本事項", 9, "4", JA_QUESTIONS[9], "answered"),
        ("基本事項", 10, "5", JA_QUESTIONS[10], "conflict"),
        ("Technical", 5, "AC-2", EN_QUESTIONS[5], "error"),
        ("Technical", 8, "DP-2", None, "error"),
        ("Technical", 11, "AC-3", EN_QUESTIONS[11], "answered"),
    ]
    link = ws.cell(row=header + 2, column=2).hyperlink
    assert link.location == "'基本事項'!A6"


def test_calamine_reads_the_same_cells(workbook: tuple[Path, Path]) -> None:
    """A second, independent reader (Rust calamine) opens the copy and sees the same answers."""
    calamine = CalamineWorkbook.from_path(str(workbook[1]))
    assert calamine.sheet_names == [*SHEETS, SUMMARY_SHEET]
    ja = calamine.get_sheet_by_name("基本事項").to_python(skip_empty_area=False)
    assert ja[3][5:14] == list(OUTPUT_HEADERS)
    assert ja[4][2:8] == [JA_QUESTIONS[5], "はい", "", "有\n基本方針を策定し公開", "answered", "Yes"]
    assert ja[4][8] == pytest.approx(0.91)
    assert ja[10][3] == "いいえ"
    en = calamine.get_sheet_by_name("Technical").to_python(skip_empty_area=False)
    assert en[3][4] == en[3][6] == '\'=HYPERLINK("http://example.invalid","Yes")\nSAML 2.0'
    assert en[8][4] == "'+7 generations"
    summary = calamine.get_sheet_by_name(SUMMARY_SHEET).to_python(skip_empty_area=False)
    assert ["needs review", 7] in [row[:2] for row in summary]


def test_neutralise() -> None:
    for text in ("=1+2", "+1 call", "-2+3", "@SUM(A1)", "\tx", "\rx", "＝1+2", '=HYPERLINK("x")'):
        assert neutralise(text) == "'" + text
    for text in ("Yes", "-", "-5", "+81", "3.5", "1,000", "a=b", ""):
        assert neutralise(text) == text


def test_macros_are_kept_in_an_xlsm(tmp_path: Path) -> None:
    source = build_workbook(tmp_path / "checks.xlsm", macro=MACRO)
    questionnaire, _, data = fill_file(source)
    assert questionnaire.source.kind == "xlsm"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read("xl/vbaProject.bin") == MACRO
        assert "macroEnabled" in archive.read("[Content_Types].xml").decode()
    assert default_output(source).name == "checks.filled.xlsm"
    with pytest.raises(QuestionnaireError, match=r"--out must end in \.xlsm .*cannot hold the workbook's macros"):
        check_output(questionnaire, source, tmp_path / "out.xlsx")


def test_the_input_is_never_overwritten(tmp_path: Path) -> None:
    source = build_workbook(tmp_path / "checks.xlsx")
    questionnaire = detect_questionnaire(read_file(source))
    for out in (source, tmp_path / "." / "checks.xlsx"):
        with pytest.raises(QuestionnaireError, match="is the questionnaire itself"):
            check_output(questionnaire, source, out)
    link = tmp_path / "link.xlsx"
    link.symlink_to(source)
    with pytest.raises(QuestionnaireError, match="is the questionnaire itself"):
        check_output(questionnaire, source, link)
    with pytest.raises(QuestionnaireError, match="does not exist"):
        check_output(questionnaire, source, tmp_path / "missing" / "out.xlsx")
    check_output(questionnaire, source, tmp_path / "out.xlsx")


def test_atomic_write_leaves_nothing_half_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"previous copy")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(QuestionnaireError, match=r"cannot write .*out\.xlsx \(No space left on device\)"):
        write_atomic(out, b"new copy")
    assert out.read_bytes() == b"previous copy"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.xlsx"]
    monkeypatch.undo()
    write_atomic(out, b"new copy")
    assert out.read_bytes() == b"new copy"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.xlsx"]
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- CSV ---------------------------------------------------------------------------------------------------

CP932_CSV = (
    "セキュリティチェックシート\r\n"
    "\r\n"
    "番号,分類,確認内容,回答,備考\r\n"
    "1,組織,情報セキュリティ基本方針を策定していますか？,,\r\n"
    "2,,ISMS(ISO/IEC 27001)認証を取得していますか？,はい,2024年\r\n"
    ",技術,,,\r\n"
    '3,技術,"通信は暗号化\r\nされていますか？",,\r\n'
    "4,技術,=1+1,,\r\n"
)


def test_cp932_csv_in_csv_out(tmp_path: Path) -> None:
    source = tmp_path / "checks.csv"
    source.write_bytes(CP932_CSV.encode("cp932"))
    wrapped = "通信は暗号化\r\nされていますか？"
    asker = FakeAsker(
        {
            JA_QUESTIONS[5]: result(
                JA_QUESTIONS[5], "answered", answer=match("acme/sheet#1", "@有", answer_status="yes")
            ),
            JA_QUESTIONS[6]: result(JA_QUESTIONS[6], "answered", answer=match("acme/sheet#2", "有")),
            wrapped: result(wrapped, "answered", answer=match("acme/sheet#10", "有", detail="TLS1.2")),
        }
    )
    questionnaire, report, data = fill_file(source, asker)
    assert questionnaire.source.csv_format is not None
    assert questionnaire.source.csv_format.encoding == "cp932"
    assert data.startswith(codecs.BOM_UTF8)  # UTF-8 with a BOM: Excel opens it in any locale
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))
    assert rows[0] == ["セキュリティチェックシート", "", "", "", ""]  # every row as wide as the table
    assert rows[2] == ["番号", "分類", "確認内容", "回答", "備考", *OUTPUT_HEADERS]
    assert rows[3][:5] == ["1", "組織", JA_QUESTIONS[5], "'@有", ""]
    assert rows[3][5:8] == ["'@有", "answered", "Yes"]
    assert rows[4][3] == "はい"
    assert rows[4][5:7] == ["有", "answered"]
    assert rows[1] == ["", "", "", "", ""]
    assert rows[5] == ["", "技術", "", "", ""]  # a section row: nothing added
    assert rows[6][2:4] == [wrapped, "有\nTLS1.2"]
    assert rows[7][2] == "'=1+1"  # the customer's cell that would run as a formula is neutralised too
    assert len(rows) == 8
    assert data[3:].decode("utf-8").count("\r\n") >= 8  # the line endings of the input
    assert [r.row for r in report.rows] == [4, 5, 7, 8]


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16", b""), ("utf-16-le", codecs.BOM_UTF16_LE)],
    ids=["utf8", "utf8-bom", "utf16-bom", "utf16le-bom"],
)
def test_csv_encodings(tmp_path: Path, encoding: str, prefix: bytes) -> None:
    text = "No;Question;Answer\n1;Do you support SSO?;\n2;バックアップは何世代保持していますか？;\n"
    source = tmp_path / "q.csv"
    source.write_bytes(prefix + text.encode(encoding))
    _, report, data = fill_file(source, FakeAsker({}))
    assert [r.question for r in report.rows] == ["Do you support SSO?", "バックアップは何世代保持していますか？"]
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0] == ["No", "Question", "Answer", *OUTPUT_HEADERS]
    assert rows[2][:2] == ["2", "バックアップは何世代保持していますか？"]


#: Run in a child process so that its peak memory is the filler's alone (not the test session's models).
BIG_FILL = """
import json, resource, sys
from pathlib import Path
from assistant.questionnaire import detect_questionnaire, fill, filled_bytes, read_file, write_atomic
from questionnaire_files import match, result

fixed = result("q", "answered", answer=match("acme/sheet#1", "Yes", answer_status="yes"))

class Echo:
    def ask(self, question, **options):
        return fixed

calls = []
questionnaire = detect_questionnaire(read_file(Path(sys.argv[1])))
report = fill(questionnaire, Echo(), vendor="Acme", progress=lambda done, total: calls.append([done, total]))
write_atomic(Path(sys.argv[2]), filled_bytes(questionnaire, report))
# VmHWM: this process's own peak (ru_maxrss would keep the forking pytest process's peak across exec).
status = Path("/proc/self/status")
hwm = [line for line in status.read_text().splitlines() if line.startswith("VmHWM:")] if status.exists() else []
peak_mib = int(hwm[0].split()[1]) / 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"calls": calls, "counts": report.counts, "peak_mib": peak_mib}))
"""
#: The child's peak resident memory for 20,000 questions: measured 225 MiB, of which 66 MiB is the interpreter and
#: imports (openpyxl holds the workbook once while reading and once while writing; a row's result is ~1 KB).
BIG_FILL_BUDGET_MIB = 400


def test_twenty_thousand_rows_bounded_memory_and_progress(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["No", "Category", "Question", "Answer", "Comment"])
    for n in range(1, 20_001):
        ws.append([n, f"Area {n // 100}", f"Question {n}: do you control item {n}?", None, None])
    source, out = tmp_path / "big.xlsx", tmp_path / "big.filled.xlsx"
    book.save(source)
    child = subprocess.run(
        [sys.executable, "-c", BIG_FILL, str(source), str(out)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "tests")])},
        check=False,
    )
    assert child.returncode == 0, child.stderr
    run = json.loads(child.stdout)
    assert run["counts"] == {"answered": 20_000, "conflict": 0, "no_answer": 0, "error": 0}
    calls = [tuple(c) for c in run["calls"]]
    assert calls == [(done, 20_000) for done in range(BATCH, 20_001, BATCH)]
    assert run["peak_mib"] < BIG_FILL_BUDGET_MIB, run["peak_mib"]
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert len(rows) == 20_001
    assert rows[0][5:8] == list(OUTPUT_HEADERS[:3])
    assert rows[20_000][2:8] == ["Question 20000: do you control item 20000?", "Yes", "", "Yes", "answered", "Yes"]


def test_csv_output_of_an_xlsx_is_refused(tmp_path: Path) -> None:
    source = build_workbook(tmp_path / "checks.xlsx")
    questionnaire = detect_questionnaire(read_file(source))
    with pytest.raises(QuestionnaireError, match=r"--out must end in \.xlsx"):
        check_output(questionnaire, source, tmp_path / "checks.csv")
    csv_questionnaire = detect_questionnaire(read_source(b"Question\nSSO?\nMFA?\n", "q.csv"))
    with pytest.raises(QuestionnaireError, match=r"--out must end in \.csv or \.tsv or \.txt"):
        check_output(csv_questionnaire, None, tmp_path / "q.xlsx")
