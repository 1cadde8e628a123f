"""Fuzz: any arguments, ASSISTANT_* values and output encoding through `assistant.cli.main` exit 0, 1 or 2 quietly."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.cli import build_parser, main
from assistant.retrieval import Assistant
from assistant.settings import Settings

from conftest import TINY_DOCUMENTS, TINY_FILES, toml_documents
from fuzzing import ANY_CHARACTER, budget, hazard, mixed_text, outcome, tally

pytestmark = pytest.mark.fuzz

#: Variables the fuzzer sets. The folder variables are left alone: a random index folder could be anywhere.
FUZZED_VARIABLES = (
    "MODEL",
    "BACKEND",
    "DEFAULT_K",
    "ANSWER_THRESHOLD",
    "MAX_QUESTION_CHARS",
    "THREADS",
    "SEARCH_THREADS",
    "QUERY_PROMPT",
    "PASSAGE_PROMPT",
)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tiny corpus with a built hashing index, a questions file, and a folder for eval reports."""
    root = tmp_path_factory.mktemp("fuzz-cli")
    corpus = root / "corpus"
    for name, text in TINY_FILES.items():
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        (corpus / name).write_text(text, encoding="utf-8")
    (corpus / "corpus.toml").write_text(toml_documents(TINY_DOCUMENTS), encoding="utf-8")
    Assistant.load(Settings(corpus_dir=corpus, index_dir=root / "index", cache_dir=root / "cache", model="hashing"))
    questions = root / "questions.jsonl"
    questions.write_text('{"id": "q1", "question": "Backups?", "language": "en"}\n', encoding="utf-8")
    return {"root": root, "corpus": corpus, "index": root / "index", "cache": root / "cache", "questions": questions}


#: Text as argv can carry it: no NUL; bytes that are not UTF-8 arrive as \udc80-\udcff (surrogateescape).
argument_text = mixed_text(6, 10, ANY_CHARACTER).map(
    lambda text: text.replace("\x00", "").encode("utf-8", "surrogatepass").decode("utf-8", "surrogateescape")
)
MODELS = ("hashing", "", "   ", "no-such-model", "./no/such/folder", "owner/no-such-model", "\udcff", "a" * 300)


def environment_value() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["", "0", "1", "5", "100", "101", "-1", "abc", "1e9", "nan", "inf", "0.5", "onnx", "torch"]),
        st.sampled_from(["cuda", " 3 ", "3.0", "true", "hashing", "query: ", "\udcff", "x" * 1000]),
        argument_text,
    )


@st.composite
def command_line(draw: st.DrawFn, folders: dict[str, Path]) -> list[str]:
    """A command, options with good and bad values, and stray words, in any order."""
    command = draw(st.sampled_from(["ask", "ask", "ask", "corpus", "build", "eval", "--version", "--help", ""]))
    corpus = draw(st.sampled_from([str(folders["corpus"]), str(folders["root"] / "missing"), str(folders["root"])]))
    index = draw(st.sampled_from([str(folders["index"]), str(folders["root"] / "other-index")]))
    options: list[list[str]] = [
        ["--corpus", corpus],
        ["--index", index],
        ["--model", draw(st.sampled_from(MODELS))],
        ["--vendor", draw(st.one_of(st.sampled_from(["Acme", "Borealis", "Nobody", ""]), argument_text))],
        ["--language", draw(st.one_of(st.sampled_from(["en", "ja", "ko", "fr", ""]), argument_text))],
        ["-k", draw(st.one_of(st.integers(-5, 105).map(str), argument_text, st.just("9" * 40)))],
        ["--json"],
        ["--rows"],
        ["--document", draw(st.one_of(st.just("acme/faq"), argument_text))],
        ["--no-build"],
        ["--questions", draw(st.sampled_from([str(folders["questions"]), str(folders["corpus"] / "corpus.toml")]))],
        ["--out", str(folders["root"] / "out")],
        ["-v"],
        [draw(argument_text)],
        [draw(hazard)],
    ]
    chosen = draw(st.lists(st.sampled_from(range(len(options))), max_size=8))
    argv = [command] if command else []
    for position in chosen:
        argv += options[position]
    if command == "ask" and draw(st.booleans()):
        argv += draw(st.lists(st.one_of(st.sampled_from(["Is", "Acme", "ISO", "27001", "certified?"]), argument_text)))
    if command != "build" and "--index" in argv and str(folders["root"] / "other-index") in argv:
        argv.append("--no-build")  # other commands may build it; one build is enough per run
    return argv


@contextlib.contextmanager
def streams(encoding: str) -> Iterator[tuple[io.BytesIO, io.BytesIO]]:
    """stdout and stderr replaced by byte buffers in ``encoding`` (strict), as a terminal with that encoding."""
    out, err = io.BytesIO(), io.BytesIO()
    saved = sys.stdout, sys.stderr
    sys.stdout = io.TextIOWrapper(out, encoding=encoding, write_through=True)
    sys.stderr = io.TextIOWrapper(err, encoding=encoding, write_through=True)
    try:
        yield out, err
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = saved


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@st.composite
def runs(draw: st.DrawFn, folders: dict[str, Path]) -> tuple[list[str], dict[str, str], str]:
    argv = draw(command_line(folders))
    names = draw(st.lists(st.sampled_from(FUZZED_VARIABLES), max_size=3, unique=True))
    variables = {f"ASSISTANT_{name}": draw(environment_value()) for name in names}
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "ascii", "latin-1", "cp932"]))
    return argv, variables, encoding


@pytest.fixture(scope="module")
def base_environment(folders: dict[str, Path]) -> dict[str, str]:
    """The hashing model and the fixture's cache; the hub switched off so a random model name fails fast."""
    values = {f"ASSISTANT_{name.upper()}": "" for name in Settings.model_fields}
    values |= {"ASSISTANT_MODEL": "hashing", "ASSISTANT_CACHE_DIR": str(folders["cache"]), "HF_HUB_OFFLINE": "1"}
    return values


def prints_json(argv: list[str]) -> bool:
    """Whether ``argv`` asks for one JSON document on stdout (as the parser reads it: "--" makes "--json" a word)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit:
        return False
    return bool(args.command in ("ask", "corpus") and args.json and not getattr(args, "rows", False))


@budget(120)
@given(data=st.data())
def test_any_command_line(folders: dict[str, Path], base_environment: dict[str, str], data: st.DataObject) -> None:
    argv, variables, encoding = data.draw(runs(folders))
    with outcome("cli arguments"), environment(base_environment | variables), streams(encoding) as (out, err):
        try:
            code = main(argv)
        except SystemExit as done:  # (main returns its code; a version that exits instead is measured the same)
            code = done.code if isinstance(done.code, int) else 2
        sys.stdout.flush()
        sys.stderr.flush()
        shown = err.getvalue().decode(encoding)
        assert code in (0, 1, 2), (code, shown)
        assert "Traceback" not in shown
        assert "internal error" not in shown
        if code == 0 and prints_json(argv):
            json.loads(out.getvalue().decode(encoding))
        tally("cli arguments", f"exit {code}")
