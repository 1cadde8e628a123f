"""Reading questionnaires: every bad file gets a message that says how to fix it; encodings and formulas."""

from __future__ import annotations

import codecs
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from msoffcrypto.format.ooxml import OOXMLFile

from assistant.errors import QuestionnaireError
from assistant.questionnaire import detect_questionnaire, fill, read_file, read_source
from assistant.questionnaire.decoding import decode_csv
from assistant.questionnaire.reading import OLE_MAGIC

from questionnaire_files import EN_QUESTIONS, FakeAsker, add_extension, security_workbook


def test_password_protected_workbook(tmp_path: Path) -> None:
    plain = security_workbook(tmp_path / "plain.xlsx")
    encrypted = tmp_path / "locked.xlsx"
    with plain.open("rb") as source, encrypted.open("wb") as out:
        OOXMLFile(source).encrypt("secret", out)
    with pytest.raises(QuestionnaireError, match=r"locked\.xlsx is protected with a password; open it in Excel"):
        read_file(encrypted)


def test_legacy_xls(tmp_path: Path) -> None:
    legacy = tmp_path / "old.xls"
    legacy.write_bytes(OLE_MAGIC + bytes(504) + b"Workbook".decode().encode("utf-16-le") + bytes(1000))
    with pytest.raises(
        QuestionnaireError, match=r"old\.xls is a legacy Excel 97-2003 workbook \(\.xls\); .*save it as"
    ):
        read_file(legacy)
    renamed = tmp_path / "renamed.xls"
    renamed.write_bytes(security_workbook(tmp_path / "x.xlsx").read_bytes())
    with pytest.raises(QuestionnaireError, match=r"not an Excel 97-2003 workbook despite its name; save it as \.xlsx"):
        read_file(renamed)


def test_corrupt_workbooks(tmp_path: Path) -> None:
    data = security_workbook(tmp_path / "good.xlsx").read_bytes()
    with pytest.raises(QuestionnaireError, match=r"cut\.xlsx is not a valid \.xlsx file .*damaged or cut short"):
        read_source(data[: len(data) // 2], "cut.xlsx")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["xl/worksheets/sheet3.xml"] = b"<worksheet><sheetData><row r='1'><c r='A1'"
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        for name, part in parts.items():
            archive.writestr(name, part)
    with pytest.raises(QuestionnaireError, match=r"broken\.xlsx cannot be read as a workbook .*may be damaged"):
        read_source(broken.getvalue(), "broken.xlsx")
    document = io.BytesIO()
    with zipfile.ZipFile(document, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(QuestionnaireError, match="is a zip archive but not an Excel workbook"):
        read_source(document.getvalue(), "letter.xlsx")


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "q.csv", r"q\.csv is empty"),
        (b"  \n", "q.xlsx", r"q\.xlsx is empty"),
        (b"%PDF-1.7 ...", "q.pdf", r"unsupported file type \.pdf; use \.xlsx, \.xlsm or \.csv"),
        (b"Question\x00,Answer\n", "q.csv", "holds binary data"),
    ],
)
def test_other_bad_files(data: bytes, name: str, message: str) -> None:
    with pytest.raises(QuestionnaireError, match=message):
        read_source(data, name)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(
        QuestionnaireError, match=r"cannot read .*nope\.xlsx: No such file or directory; check the path"
    ):
        read_file(tmp_path / "nope.xlsx")


def test_a_workbook_of_empty_sheets_has_no_questions(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.create_sheet("Second")
    book.save(tmp_path / "empty.xlsx")
    questionnaire = detect_questionnaire(read_file(tmp_path / "empty.xlsx"))
    assert [(layout.sheet, layout.skipped) for layout in questionnaire.layouts] == [
        ("Sheet", "empty sheet"),
        ("Second", "empty sheet"),
    ]
    with pytest.raises(QuestionnaireError, match=r"no questions found in empty\.xlsx \('Sheet': empty sheet; 'Second'"):
        fill(questionnaire, FakeAsker({}), vendor="Acme")


def test_formulas_in_the_question_column(tmp_path: Path) -> None:
    source = read_file(security_workbook(tmp_path / "checks.xlsx"))
    technical = next(grid for grid in source.grids if grid.name == "Technical")
    assert technical.cell(7, 4) == EN_QUESTIONS[7]  # the value Excel saved
    assert technical.cell(8, 4) == ""
    assert technical.formulas == frozenset({(8, 4)})  # the one without a saved value


def test_drop_down_values_from_a_range_and_a_list(tmp_path: Path) -> None:
    source = read_file(security_workbook(tmp_path / "checks.xlsx"))
    japanese = next(grid for grid in source.grids if grid.name == "基本事項")
    assert dict(japanese.choices) == {4: ("はい", "いいえ", "該当なし")}
    book = openpyxl.load_workbook(tmp_path / "checks.xlsx")
    validation = openpyxl.worksheet.datavalidation.DataValidation(type="list", formula1='"Yes,No,N/A"')
    book["Technical"].add_data_validation(validation)
    validation.add("E4:E12")
    book.save(tmp_path / "listed.xlsx")
    technical = next(grid for grid in read_file(tmp_path / "listed.xlsx").grids if grid.name == "Technical")
    assert dict(technical.choices) == {5: ("Yes", "No", "N/A")}


def test_xlsm_is_read_as_a_macro_workbook(tmp_path: Path) -> None:
    source = read_file(security_workbook(tmp_path / "checks.xlsm", macro=b"vba"))
    assert source.kind == "xlsm"
    assert read_file(security_workbook(tmp_path / "checks.xlsx")).kind == "xlsx"


@pytest.mark.parametrize(
    ("text", "encoding", "bom", "expected"),
    [
        ("質問,回答\r\nバックアップは何世代保持していますか？,\r\n", "cp932", b"", "cp932"),
        ("質問,回答\n", "cp932", b"", "cp932"),  # kanji only: too short for a statistical detector
        ("질문,답변\n백업은 얼마나 자주 합니까?,\n", "cp949", b"", "cp949"),
        ("質問,回答\nバックアップは何世代保持していますか？,\n", "euc_jp", b"", "euc_jp"),
        ("Question,Answer\nDo you support SSO?,\n", "utf-8", b"", "utf-8"),
        ("質問,回答\n", "utf-8", codecs.BOM_UTF8, "utf-8-sig"),
        ("質問,回答\n", "utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
        ("質問,回答\n", "utf-16-be", codecs.BOM_UTF16_BE, "utf-16"),
        ("Qüestion,Ånswer\nÇa va?,\n", "cp1252", b"", "cp1252"),
    ],
)
def test_csv_encodings(text: str, encoding: str, bom: bytes, expected: str) -> None:
    decoded, found = decode_csv(bom + text.encode(encoding), "q.csv")
    assert (decoded, found) == (text, expected)


def test_csv_delimiters_and_quoted_newlines() -> None:
    semicolons = read_source(b"No;Question;Answer\n1;Do you support SSO?;\n", "q.csv")
    assert semicolons.grids[0].rows == (("No", "Question", "Answer"), ("1", "Do you support SSO?"))
    assert semicolons.csv_format is not None
    assert semicolons.csv_format.delimiter == ";"
    tabs = read_source(b'No\tQuestion\n1\t"Two\nlines?"\n', "q.tsv")
    assert tabs.grids[0].rows[1] == ("1", "Two\nlines?")


def test_what_the_copy_cannot_keep_is_reported(tmp_path: Path) -> None:
    path = security_workbook(tmp_path / "checks.xlsx")
    assert read_file(path).losses == ()
    add_extension(path)
    source = read_file(path)
    assert source.losses == ("Data Validation extension is not supported and will be removed",)
    report = fill(detect_questionnaire(source), FakeAsker({}), vendor="Acme")
    assert report.losses == ["Data Validation extension is not supported and will be removed"]
