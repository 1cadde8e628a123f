"""``assistant fill`` on the seed corpus with the hashing embedder: the same decisions as ``ask``, clear errors."""

from __future__ import annotations

import codecs
import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest
from msoffcrypto.format.ooxml import OOXMLFile
from python_calamine import CalamineWorkbook

from assistant.cli import main
from assistant.questionnaire.writing import OUTPUT_HEADERS, SUMMARY_SHEET
from assistant.retrieval import Assistant
from assistant.settings import Settings

from questionnaire_files import JA_QUESTIONS, security_workbook

QUESTIONS = [
    "バックアップは何世代保持していますか？",
    "Is customer data encrypted at rest?",
    "Do you support single sign-on?",
    "What is the capital of France?",
]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fill-index")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, seed_dir: Path, index_dir: Path) -> Settings:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"ASSISTANT_{name.upper()}", raising=False)
    monkeypatch.setenv("ASSISTANT_MODEL", "hashing")
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(seed_dir))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(index_dir))
    return Settings.from_env()


def csv_questionnaire(path: Path) -> Path:
    lines = ["No,Question,Answer"] + [f"{n},{q}," for n, q in enumerate(QUESTIONS, 1)]
    path.write_bytes("\r\n".join(lines).encode("cp932", errors="strict") + b"\r\n")
    return path


def test_fill_csv_gives_the_same_answers_as_ask(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = csv_questionnaire(tmp_path / "customer.csv")
    assert main(["fill", str(source), "--vendor", "wevox", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    out = tmp_path / "customer.filled.csv"
    assert report["output"] == str(out)
    assert report["vendor"] == "Wevox"  # resolved as `ask --vendor` resolves it
    assistant = Assistant.load(env)
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")))
    assert rows[0] == ["No", "Question", "Answer", *OUTPUT_HEADERS]
    assert len(report["rows"]) == len(QUESTIONS)
    for n, (question, row, written) in enumerate(zip(QUESTIONS, report["rows"], rows[1:], strict=True), 1):
        expected = assistant.ask(question, vendor="Wevox")
        assert (row["row"], row["question"], row["status"]) == (n + 1, question, expected.status)
        assert row["confidence"] == expected.confidence
        if expected.answer is not None:
            assert [s["row_id"] for s in row["sources"]] == [expected.answer.row_id]
            assert row["answer"] == expected.answer.answer_text()
            assert written[2] == written[3] == expected.answer.answer_text()  # the empty Answer column filled
            assert written[9] == expected.answer.row_id
        else:
            assert row["sources"] == []
            assert written[2:4] == ["", ""]
            assert written[4] == "no answer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customer.csv", "customer.filled.csv"]


def test_fill_workbook_summary_on_the_terminal(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = security_workbook(tmp_path / "checks.xlsx")
    before = source.read_bytes()
    out = tmp_path / "answers" / "filled.xlsx"
    out.parent.mkdir()
    assert main(["fill", str(source), "--vendor", "Wevox", "--out", str(out), "--language", "ja"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Filled 13 questions of checks.xlsx for Wevox in ")
    assert "  '表紙' skipped: cover, instructions or example sheet (by its name)\n" in printed
    assert (
        "  '基本事項': 6 questions in column C (header '質問事項' in row 4), answer column D; added columns from F\n"
        in printed
    )
    assert "  '空白' skipped: empty sheet\n" in printed
    formula = "  Technical!8          error      the question cell holds a formula whose value was never saved"
    assert any(line.startswith(formula) for line in printed.splitlines())
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[-1] == SUMMARY_SHEET
    expected = Assistant.load(env).ask(JA_QUESTIONS[5], vendor="Wevox", language="ja").status
    assert book["基本事項"]["G5"].value == expected.replace("_", " ")
    assert CalamineWorkbook.from_path(str(out)).sheet_names == book.sheetnames
    assert source.read_bytes() == before  # the input untouched


def test_fill_one_sheet_and_column(env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = security_workbook(tmp_path / "checks.xlsx")
    args = ["fill", str(source), "--vendor", "Wevox", "--sheet", "Technical", "--question-column", "Question", "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert {row["sheet"] for row in report["rows"]} == {"Technical"}
    assert [s["skipped"] for s in report["sheets"]][:3] == ["not the chosen sheet"] * 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--vendor", "Wevx"], "error: unknown vendor 'Wevx' (did you mean 'Wevox'?); known vendors: "),
        (["--vendor", "Wevox", "--language", "fr"], "error: no rows in language 'fr'; the corpus has: en, ja, ko"),
        (["--vendor", "Wevox", "--sheet", "Nope"], "error: checks.xlsx has no sheet 'Nope'; its sheets: '表紙'"),
        (["--vendor", "Wevox", "--question-column", "Colour"], "has no column 'Colour'"),
        (["--vendor", "Wevox", "--out", "{source}"], "is the questionnaire itself; the filled copy never overwrites"),
        (["--vendor", "Wevox", "--out", "{dir}/x.csv"], "error: --out must end in .xlsx for this xlsx questionnaire"),
        (["--vendor", "Wevox", "--sheet", "表紙"], "error: no questions found in checks.xlsx"),
    ],
)
def test_errors_say_how_to_fix_and_write_nothing(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    source = security_workbook(tmp_path / "checks.xlsx")
    before = source.read_bytes()
    args = [a.format(source=source, dir=tmp_path) for a in args]
    assert main(["fill", str(source), *args]) == 1
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checks.xlsx"]
    assert source.read_bytes() == before


def test_unreadable_files_fail_before_the_model_loads(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model must not load for a file that cannot be filled")

    monkeypatch.setattr(Assistant, "load", no_model)
    locked = tmp_path / "locked.xlsx"
    with security_workbook(tmp_path / "plain.xlsx").open("rb") as plain, locked.open("wb") as out:
        OOXMLFile(plain).encrypt("pw", out)
    assert main(["fill", str(locked), "--vendor", "Wevox"]) == 1
    assert "error: locked.xlsx is protected with a password" in capsys.readouterr().err
    (tmp_path / "old.xls").write_bytes(codecs.BOM_UTF8 + b"not really")
    assert main(["fill", str(tmp_path / "old.xls"), "--vendor", "Wevox"]) == 1
    assert "save it as .xlsx or .csv" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["locked.xlsx", "old.xls", "plain.xlsx"]


def test_a_question_the_assistant_refuses_marks_its_row_only(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long = "Please describe in detail how you encrypt customer data. " * 100
    source = tmp_path / "long.csv"
    source.write_text(f"No,Question,Answer\n1,{long},\n2,Do you support single sign-on?,\n", encoding="utf-8")
    assert main(["fill", str(source), "--vendor", "Wevox", "--json"]) == 0
    first, second = json.loads(capsys.readouterr().out)["rows"]
    assert (first["status"], first["review"], first["answer"]) == ("error", True, "")
    assert first["note"].startswith(f"This question cannot be asked: the question is {len(long.strip()):,} characters")
    assert second["status"] == Assistant.load(env).ask("Do you support single sign-on?", vendor="Wevox").status
