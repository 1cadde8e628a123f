"""The front door: the public names, the README's example, and adding a ranking signal through the seam."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from assistant.index import stale_reasons
from assistant.retrieval import Assistant
from assistant.settings import Settings
from assistant.signals import BuildInput, IdArray, Query, SavedShape, ScoreArray, Signal, register, unregister

from conftest import REPO_ROOT


def test_the_public_names_import_from_the_package() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from assistant import Assistant, AskResult, Settings, __version__; print(__version__)"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=True,
    )
    assert re.fullmatch(r"\d+\.\d+\.\d+.*\n", done.stdout)


def test_the_readme_example_runs(tmp_path: Path) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```python\n(.*?)```", readme, flags=re.S)
    assert example is not None, "the README starts with a Python example"
    code = example.group(1)
    assert len([line for line in code.splitlines() if line.strip()]) == 3
    env = {**os.environ, "ASSISTANT_MODEL": "hashing", "ASSISTANT_INDEX_DIR": str(tmp_path / "index")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, env=env)
    assert done.returncode == 0, done.stderr
    row = Assistant.load(Settings(model="hashing", index_dir=tmp_path / "index")).row("voiceping/security-page-en#1")
    assert done.stdout.strip() == row.answer


# --- a toy signal, added through the seam -------------------------------------------------------------------


@dataclass(frozen=True)
class _Marked:
    """Scores 1 for the rows whose passage holds the word "quarterly", 0 for the rest."""

    marked: frozenset[int]
    count: int

    @property
    def size(self) -> int:
        return self.count

    def save(self, folder: Path) -> None:
        (folder / "toy.json").write_text(json.dumps({"marked": sorted(self.marked), "count": self.count}))

    def run(self, query: Query, allowed: IdArray | None) -> _Marked:
        return self

    def candidates(self, depth: int) -> IdArray:
        return np.array(sorted(self.marked)[:depth], dtype=np.int64)

    def scores(self, positions: IdArray) -> ScoreArray:
        return np.array([1.0 if p in self.marked else 0.0 for p in positions.tolist()], dtype=np.float64)


class _Toy:
    name = "toy"
    weight = 1.0
    files: tuple[str, ...] = ("toy.json",)

    def build(self, source: BuildInput) -> _Marked:
        marked = frozenset(i for i, text in enumerate(source.passages) if "quarterly" in text)
        return _Marked(marked, len(source.passages))

    def load(self, folder: Path, shape: SavedShape) -> _Marked:
        saved = json.loads((folder / "toy.json").read_text())
        return _Marked(frozenset(saved["marked"]), saved["count"])

    def describe(self, signal: Signal) -> dict[str, str | int | float]:
        return {"kind": "rows mentioning 'quarterly'"}


@pytest.fixture
def toy_signal() -> Iterator[None]:
    register(_Toy())
    yield
    unregister("toy")


def test_a_new_signal_is_one_registration_and_changes_the_ranking(hashing_settings: Settings, toy_signal: None) -> None:
    faq = hashing_settings.corpus_dir / "acme" / "faq.md"
    faq.write_text(faq.read_text(encoding="utf-8") + "- Restores are tested quarterly.\n", encoding="utf-8")
    question = "How long are backups kept?"
    with_toy = Assistant.load(hashing_settings)
    assert list(with_toy.index.manifest.signals) == ["dense", "lexical", "concepts", "toy"]
    assert (with_toy.index.path / "toy.json").is_file()
    first = with_toy.ask(question, vendor="Acme", k=3)
    top = first.answer or first.alternatives[0]
    assert top.row_id == "acme/faq#4"  # the quarterly restore row, lifted by the toy signal
    assert top.signals["toy"] == 1.0

    unregister("toy")
    corpus, embedder = with_toy.index, with_toy.embedder
    assert corpus.manifest.signals  # the saved index still lists the toy signal: it is stale now
    from assistant.corpus import load_corpus

    reasons = stale_reasons(hashing_settings, load_corpus(hashing_settings.corpus_dir), embedder)
    assert reasons == ["signals dense, lexical, concepts, toy -> dense, lexical, concepts"]
    without = Assistant.load(hashing_settings)
    second = without.ask(question, vendor="Acme", k=3)
    assert (second.answer or second.alternatives[0]).row_id != "acme/faq#4"
    assert "toy" not in (second.answer or second.alternatives[0]).signals
