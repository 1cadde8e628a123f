"""``assistant corpus``: the table, the JSON, and the exit code when a document is broken."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assistant.cli import main

#: Row counts counted from the seed files (see test_corpus_seeds.py).
EXPECTED_ROWS = {
    "voiceping/security-page-en": 67,
    "voiceping/security-page-ja": 56,
    "voiceping/security-page-ko": 56,
    "voiceping/security-checksheet-ja": 66,
    "wevox/meti-checksheet": 98,
}
EXPECTED_LANGUAGES = {
    "voiceping/security-page-en": {"en": 67},
    "voiceping/security-page-ja": {"ja": 56},
    "voiceping/security-page-ko": {"ko": 56},
    "voiceping/security-checksheet-ja": {"ja": 66},
    "wevox/meti-checksheet": {"ja": 49, "en": 49},
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["corpus", *args])
    out, err = capsys.readouterr()
    return code, out, err


def table(out: str) -> dict[str, list[str]]:
    """The document lines of the text output, split on whitespace, by document key."""
    return {line.split()[0]: line.split()[1:] for line in out.splitlines() if "/" in line.split()[0]}


def test_lists_every_document_with_its_row_count(capsys: pytest.CaptureFixture[str], seed_dir: Path) -> None:
    code, out, _ = run(capsys, "--corpus", str(seed_dir))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["document", "rows"]
    documents = table(out)
    assert list(documents) == list(EXPECTED_ROWS)
    for key, count in EXPECTED_ROWS.items():
        assert documents[key][0] == str(count), key
    assert documents["wevox/meti-checksheet"][1] == "ja:49,en:49"
    assert documents["wevox/meti-checksheet"][2] == "2025-01-09"
    assert documents["voiceping/security-page-en"][2] == "2025-04-25"
    assert documents["voiceping/security-page-ja"][2] == "unknown"
    assert lines[-1] == f"343 rows in 5 documents ({seed_dir})"


def test_json_output(capsys: pytest.CaptureFixture[str], seed_dir: Path) -> None:
    code, out, _ = run(capsys, "--corpus", str(seed_dir), "--json")
    assert code == 0
    payload: dict[str, Any] = json.loads(out)
    assert payload["corpus_dir"] == str(seed_dir)
    assert payload["total_rows"] == 343
    assert payload["errors"] == []
    documents = {d["key"]: d for d in payload["documents"]}
    assert list(documents) == list(EXPECTED_ROWS)
    for key, count in EXPECTED_ROWS.items():
        assert documents[key]["rows"] == count
        assert documents[key]["rows_by_language"] == EXPECTED_LANGUAGES[key]
        assert documents[key]["error"] is None
        assert documents[key]["lines"]["row"] >= count
    wevox = documents["wevox/meti-checksheet"]["meta"]
    assert (wevox["as_of"], wevox["version"], wevox["languages"]) == ("2025-01-09", "1.4", ["ja", "en"])
    en = documents["voiceping/security-page-en"]["meta"]
    assert en["newer_than"] == ["security-page-ja", "security-page-ko", "security-checksheet-ja"]


def test_line_accounting_in_json_matches_the_files(capsys: pytest.CaptureFixture[str], seed_dir: Path) -> None:
    _, out, _ = run(capsys, "--corpus", str(seed_dir), "--json")
    for document in json.loads(out)["documents"]:
        text = (seed_dir / document["meta"]["file"]).read_text(encoding="utf-8")
        n = len(text.split("\n")) - (1 if text.endswith("\n") else 0)
        assert sum(document["lines"].values()) == n, document["key"]


def test_default_corpus_is_the_repository_folder(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, seed_dir: Path
) -> None:
    monkeypatch.delenv("ASSISTANT_CORPUS_DIR", raising=False)
    code, out, _ = run(capsys, "--json")
    assert code == 0
    payload = json.loads(out)
    assert Path(payload["corpus_dir"]).resolve() == seed_dir.resolve()
    assert payload["total_rows"] == 343


def test_broken_document_fails_and_others_are_listed(capsys: pytest.CaptureFixture[str], seed_copy: Path) -> None:
    # The Wevox sheet re-saved as Shift-JIS: lines 1-4 are blank or ASCII, the first Japanese text is on line 5.
    wevox = seed_copy / "wevox/meti-checksheet.ja-en.tsv"
    text = wevox.read_text(encoding="utf-8")
    wevox.write_bytes(text.encode("cp932", errors="replace"))

    code, out, _ = run(capsys, "--corpus", str(seed_copy))
    assert code != 0
    documents = table(out)
    assert list(documents) == list(EXPECTED_ROWS)
    for key, count in EXPECTED_ROWS.items():
        if key != "wevox/meti-checksheet":
            assert documents[key][0] == str(count)
    broken = documents["wevox/meti-checksheet"]
    assert broken[0] == "ERROR"
    assert broken[1] == f"{wevox}:5:"
    assert "not valid UTF-8" in " ".join(broken)
    assert out.splitlines()[-1] == f"245 rows in 4 documents ({seed_copy})"

    code, out, _ = run(capsys, "--corpus", str(seed_copy), "--json")
    assert code != 0
    payload = json.loads(out)
    assert payload["total_rows"] == 343 - 98
    assert len(payload["errors"]) == 1
    assert payload["errors"][0].startswith(f"{wevox}:5: not valid UTF-8")
    documents_json = {d["key"]: d for d in payload["documents"]}
    assert documents_json["wevox/meti-checksheet"]["rows"] == 0
    assert documents_json["wevox/meti-checksheet"]["error"] == payload["errors"][0]
    assert documents_json["voiceping/security-page-en"]["rows"] == 67


def test_invalid_corpus_toml_is_an_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "corpus.toml").write_text('[[documents]]\nid = "a"\ncolour = "red"\n', encoding="utf-8")
    code, out, err = run(capsys, "--corpus", str(tmp_path))
    assert code == 1
    assert out == ""
    assert err.startswith(f"error: {tmp_path / 'corpus.toml'}: invalid metadata")
    assert "documents.0.colour" in err


def test_module_entry_point(seed_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "corpus", "--corpus", str(seed_dir), "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total_rows"] == 343
