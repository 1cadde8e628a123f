"""The ``assistant`` command: exit codes, and no traceback for any argument, setting, terminal encoding or pipe."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import assistant
from assistant.answers import AskResult
from assistant.cli import main
from assistant.retrieval import Assistant
from assistant.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
QUESTION = ["Is", "Acme", "ISO", "27001", "certified?"]


@pytest.fixture
def cli(hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``--corpus`` and ``--index`` of the tiny corpus (index built), the hashing model, no other ASSISTANT_* set."""
    Assistant.load(hashing_settings)
    for name in Settings.model_fields:
        monkeypatch.delenv(f"ASSISTANT_{name.upper()}", raising=False)
    monkeypatch.setenv("ASSISTANT_MODEL", "hashing")
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(hashing_settings.cache_dir))
    return ["--corpus", str(hashing_settings.corpus_dir), "--index", str(hashing_settings.index_dir)]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


# --- exit codes ---------------------------------------------------------------------------------------


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    codes = out[out.index("exit codes:") :].splitlines()[1:]
    assert [line.split()[0] for line in codes if line.strip()] == ["0", "1", "2", "3", "130", "141"]


def test_version_is_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out == f"assistant {metadata.version('checksheet-assistant')}\n"
    assert assistant.__version__ == metadata.version("checksheet-assistant")


@pytest.mark.parametrize(
    "argv",
    [[], ["nonsense"], ["ask"], ["ask", "-k", "abc", "backups"], ["corpus", "--no-such-option"], ["--bogus"]],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("usage: assistant")


def test_domain_errors_exit_1(capsys: pytest.CaptureFixture[str], cli: list[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "ask", *cli, "--vendor", "Nobody", "backups")
    assert (code, err) == (1, "error: unknown vendor 'Nobody'; known vendors: Acme, Borealis\n")
    code, _, err = run(capsys, "ask", *cli, "--index", str(tmp_path / "none"), "--no-build", "backups")
    assert code == 1
    assert err.startswith(f"error: the index in {tmp_path / 'none'} is out of date: no index in ")
    code, _, err = run(capsys, "ask", *cli, "-k", "0", "backups")
    assert (code, err) == (1, "error: k must be a whole number from 1 to 100, got 0\n")


def test_an_unwritable_output_is_an_error_not_a_traceback(
    capsys: pytest.CaptureFixture[str], cli: list[str], tmp_path: Path
) -> None:
    questions = tmp_path / "questions.jsonl"
    questions.write_text('{"id": "q1", "question": "Backups?", "language": "en"}\n', encoding="utf-8")
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    code, _, err = run(capsys, "eval", *cli, "--questions", str(questions), "--out", str(tmp_path / "a-file" / "out"))
    assert code == 1
    assert err.splitlines()[-1] == f"error: Not a directory: {tmp_path / 'a-file' / 'out'}"  # after the progress bar


# --- settings -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DEFAULT_K", "abc", "ASSISTANT_DEFAULT_K='abc': Input should be a valid integer, unable to parse string as "
         "an integer (expected: an integer from 1 to 100)"),
        ("DEFAULT_K", "0", "ASSISTANT_DEFAULT_K='0': Input should be greater than or equal to 1 (expected: an integer "
         "from 1 to 100)"),
        ("BACKEND", "cuda", "ASSISTANT_BACKEND='cuda': Input should be 'onnx', 'onnx-int8' or 'torch'"),
        ("ANSWER_THRESHOLD", "high", "ASSISTANT_ANSWER_THRESHOLD='high': Input should be a valid number, unable to "
         "parse string as a number (expected: a number from -1.0 to 1.0)"),
        ("QUERY_PROMPT", "query:\udcff ", "ASSISTANT_QUERY_PROMPT is not valid UTF-8; set it again"),
    ],
)  # fmt: skip
def test_a_bad_setting_names_the_variable_and_what_it_takes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, cli: list[str], name: str, value: str,
    expected: str,
) -> None:  # fmt: skip
    monkeypatch.setenv(f"ASSISTANT_{name}", value)
    for argv in (["ask", *cli, *QUESTION], ["corpus", *cli], ["build", *cli]):
        code, out, err = run(capsys, *argv)
        assert code == 2
        assert out == ""
        assert err == f"error: invalid settings:\n  {expected}\n"


@pytest.mark.parametrize("model", ["", "   "])
def test_a_blank_model_option_is_a_usage_error(capsys: pytest.CaptureFixture[str], cli: list[str], model: str) -> None:
    code, _, err = run(capsys, "ask", *cli, "--model", model, *QUESTION)
    assert code == 2
    assert err == (
        f"error: invalid settings:\n  --model={model!r}: model must name a sentence-transformers model, a folder, "
        "or 'hashing'\n"
    )


# --- text that cannot be encoded, closed pipes, Ctrl+C --------------------------------------------------------


def test_a_question_with_invalid_utf8_bytes_is_answered(capsys: pytest.CaptureFixture[str], cli: list[str]) -> None:
    """Invalid UTF-8 in argv reaches Python as lone surrogates (surrogateescape)."""
    code, out, _ = run(capsys, "ask", *cli, "--json", *QUESTION, "\udcff")
    assert code == 0
    result = AskResult.model_validate_json(out)
    assert result.question == "Is Acme ISO 27001 certified? \ufffd"
    assert result.answer is not None


@pytest.mark.parametrize("json_output", [True, False])
def test_an_ascii_terminal_gets_escapes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cli: list[str], json_output: bool
) -> None:
    """PYTHONIOENCODING=ascii (or a C locale): Japanese rows must not crash the output."""
    question = ["ISMSを取得していますか", "--vendor", "Acme", *(["--json"] if json_output else [])]
    assert main(["ask", *cli, *question]) == 0
    expected = capsys.readouterr().out
    raw = io.BytesIO()
    ascii_out = io.TextIOWrapper(raw, encoding="ascii", write_through=True)
    monkeypatch.setattr(sys, "stdout", ascii_out)
    assert main(["ask", *cli, *question]) == 0
    ascii_out.flush()
    shown = raw.getvalue().decode("ascii")
    if json_output:
        assert {**json.loads(shown), "timings_ms": None} == {**json.loads(expected), "timings_ms": None}
    else:
        assert shown == expected.encode("ascii", "backslashreplace").decode("ascii")
    assert "\\u6709" in shown  # 有, the answer


def test_a_closed_pipe_ends_quietly(monkeypatch: pytest.MonkeyPatch, cli: list[str]) -> None:
    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    errors = io.StringIO()
    monkeypatch.setattr(sys, "stderr", errors)
    assert main(["corpus", *cli, "--rows"]) == 141
    assert errors.getvalue() == ""


def test_ctrl_c_exits_130_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cli: list[str]
) -> None:
    def interrupted(root: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("assistant.corpus.load_corpus", interrupted)
    code, out, err = run(capsys, "corpus", *cli)
    assert (code, out, err) == (130, "", "")


# --- the real entry point in a new process -----------------------------------------------------------------


def entry_point(*argv: str | bytes, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **env},
    )


def test_entry_point_with_invalid_utf8_argument_on_an_ascii_terminal(cli: list[str]) -> None:
    process = entry_point(
        "ask",
        *cli,
        "--json",
        "-k",
        "2",
        "ISMSを取得していますか".encode(),
        b"\xff\xfe",
        "--vendor",
        "Acme",
        PYTHONIOENCODING="ascii",
    )
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err.decode(errors="replace")
    assert err == b""
    result = AskResult.model_validate_json(out.decode("ascii"))
    assert result.question == "ISMSを取得していますか \ufffd\ufffd"
    assert result.answer is not None
    assert result.answer.answer == "有"


def test_entry_point_piped_into_head_ends_quietly(cli: list[str]) -> None:
    """Like ``assistant corpus --rows | head -1``: the output (hundreds of KB) outgrows the pipe after one line."""
    process = entry_point("corpus", "--corpus", str(REPO_ROOT / "corpus"), "--rows")
    assert process.stdout is not None
    assert process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()
    err = process.stderr.read()
    assert process.wait(timeout=120) == 141
    assert json.loads(first)["id"] == "voiceping/security-page-en#1"
    assert err == b""


def test_a_bug_is_one_line_and_its_traceback_only_with_verbose(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cli: list[str]
) -> None:
    def broken(root: Path) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("assistant.corpus.load_corpus", broken)
    code, out, err = run(capsys, "corpus", *cli)
    assert (code, out) == (3, "")
    assert err == (
        "internal error (a bug, please report it): ZeroDivisionError: division by zero; "
        "run again with -v to see where\n"
    )
    assert main(["-v", "corpus", *cli]) == 3
    assert "Traceback" in capsys.readouterr().err
