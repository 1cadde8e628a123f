"""Fuzzing the index files (issue 16): any change to any file of an index folder - bytes flipped, cut, added,
files swapped, emptied, removed or added - is refused with an IndexStaleError (or rebuilt), never another
exception and never a silent load. With the manifest rewritten to vouch for the changed files, opening and
asking still end in a result or an IndexStaleError, never a crash, and changed rows still never load.

Counts of inputs tried / handled cleanly / crashed go to ``artifacts/fuzz-counts-index.json``;
``FUZZ_SCALE=10`` tries ten times as many inputs, ``FUZZ_KEEP_GOING=1`` counts crashes instead of stopping.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.corpus import Corpus, load_corpus
from assistant.embedding import Embedder, HashingEmbedder
from assistant.errors import IndexStaleError
from assistant.index import build_index, open_index
from assistant.index.integrity import hash_file
from assistant.retrieval import Assistant
from assistant.settings import Settings

from conftest import REPO_ROOT, TINY_DOCUMENTS, TINY_FILES, TINY_ROWS, toml_documents

pytestmark = pytest.mark.fuzz

SCALE = float(os.environ.get("FUZZ_SCALE", "1"))
KEEP_GOING = os.environ.get("FUZZ_KEEP_GOING") == "1"
ARTIFACT = REPO_ROOT / "artifacts" / "fuzz-counts-index.json"
COUNTS: dict[str, Counter[str]] = defaultdict(Counter)
CI = settings(
    max_examples=1,  # replaced per test by _budget
    deadline=None,
    derandomize=os.environ.get("HYPOTHESIS_PROFILE") != "explore",
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _budget(examples: int) -> settings:
    return settings(CI, max_examples=max(1, round(examples * SCALE)))


@contextlib.contextmanager
def _outcome(category: str) -> Iterator[None]:
    COUNTS[category]["tried"] += 1
    try:
        yield
    except Exception:
        COUNTS[category]["crashed"] += 1
        if not KEEP_GOING:
            raise
    else:
        COUNTS[category]["handled cleanly"] += 1


@pytest.fixture(scope="module", autouse=True)
def _write_counts() -> Iterator[None]:
    yield
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps({k: dict(v) for k, v in COUNTS.items()}, indent=2) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class Template:
    """A built index folder to copy, with the corpus and embedder it matches."""

    settings: Settings
    corpus: Corpus
    embedder: Embedder
    files: tuple[str, ...]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    root = tmp_path_factory.mktemp("fuzz-index")
    corpus_dir = root / "corpus"
    for name, content in TINY_FILES.items():
        (corpus_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (corpus_dir / name).write_text(content, encoding="utf-8")
    (corpus_dir / "corpus.toml").write_text(toml_documents(TINY_DOCUMENTS), encoding="utf-8")
    settings_ = Settings(model="hashing", corpus_dir=corpus_dir, index_dir=root / "index", cache_dir=root / "cache")
    corpus, embedder = load_corpus(corpus_dir), HashingEmbedder()
    built = build_index(settings_, corpus, embedder)
    built.close()
    return Template(settings_, corpus, embedder, tuple(sorted(p.name for p in built.path.iterdir())))


def _copy(template: Template, into: Path) -> Settings:
    shutil.copytree(template.settings.index_dir, into / "index", symlinks=True)
    for lock in (into / "index").glob(".readers-*"):
        lock.unlink()
    return template.settings.model_copy(update={"index_dir": into / "index"})


MUTATIONS = ("flip", "truncate", "extend", "swap", "empty", "remove", "add")


@st.composite
def _mutation(draw: st.DrawFn, files: tuple[str, ...]) -> tuple[str, str, int, bytes, str]:
    kind = draw(st.sampled_from(MUTATIONS))
    name = draw(st.sampled_from(files))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    extra = draw(st.binary(min_size=1, max_size=64))
    other = draw(st.sampled_from([f for f in files if f != name]))
    return kind, name, seed, extra, other


def _mutate(version: Path, kind: str, name: str, seed: int, extra: bytes, other: str) -> bool:
    """Change ``version``; False when the drawn change would leave every file as it was."""
    path = version / name
    data = path.read_bytes()
    if kind == "flip":
        if not data:
            return False
        changed = bytearray(data)
        for n in range(1 + seed % 4):
            at = (seed // 7 + n * 7919) % len(changed)
            changed[at] ^= 1 + (seed >> (n + 3)) % 255
        path.write_bytes(bytes(changed))
    elif kind == "truncate":
        if not data:
            return False
        path.write_bytes(data[: seed % len(data)])
    elif kind == "extend":
        path.write_bytes(data + extra)
    elif kind == "swap":
        other_data = (version / other).read_bytes()
        if other_data == data:
            return False
        path.write_bytes(other_data)
        (version / other).write_bytes(data)
    elif kind == "empty":
        if not data:
            return False
        path.write_bytes(b"")
    elif kind == "remove":
        path.unlink()
    else:
        (version / f"extra-{seed % 1000}.bin").write_bytes(extra)
    return True


@_budget(240)
@given(data=st.data())
def test_any_changed_index_file_is_refused_by_name(template: Template, data: st.DataObject) -> None:
    kind, name, seed, extra, other = data.draw(_mutation(template.files))
    with tempfile.TemporaryDirectory() as scratch:
        settings_ = _copy(template, Path(scratch))
        version = (settings_.index_dir / "current").resolve()
        if not _mutate(version, kind, name, seed, extra, other):
            return
        with _outcome("index files"):
            with pytest.raises(IndexStaleError) as refused:
                open_index(settings_, template.corpus, template.embedder, rebuild=False)
            changed = {"add": ["extra-"], "swap": [name, other]}.get(kind, [name])
            assert any(f"/{file}" in str(refused.value) for file in changed), str(refused.value)
            COUNTS["index files"][f"refused ({kind})"] += 1


@_budget(20)
@given(data=st.data())
def test_a_changed_index_is_rebuilt_and_answers(template: Template, data: st.DataObject) -> None:
    kind, name, seed, extra, other = data.draw(_mutation(template.files))
    with tempfile.TemporaryDirectory() as scratch:
        settings_ = _copy(template, Path(scratch))
        if not _mutate((settings_.index_dir / "current").resolve(), kind, name, seed, extra, other):
            return
        with _outcome("index files, rebuilt"):
            index = open_index(settings_, template.corpus, template.embedder)
            assert index.manifest.rows == TINY_ROWS
            assistant = Assistant(settings_, template.embedder, index)
            assert assistant.ask("Are backups encrypted?").answer is not None
            index.close()


# Rewriting the manifest can make FAISS or numpy read anything: run those inputs in a child process, so a crash
# there (a signal) is seen and counted instead of ending the test run.
_FORGED = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from test_fuzz_index import run_forged
    print(json.dumps(run_forged(Path(sys.argv[2]), int(sys.argv[3]))))
    """
)


def test_changed_files_with_a_rewritten_manifest_never_crash(template: Template) -> None:
    examples = max(1, round(120 * SCALE))
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _FORGED,
            str(Path(__file__).parent),
            str(template.settings.corpus_dir.parent),
            str(examples),
        ],
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    category = COUNTS["index files, manifest rewritten"]
    if done.returncode != 0:  # a signal (crash) or an exception the child did not handle
        category["tried"] += 1
        category["crashed"] += 1
        pytest.fail(f"the child process ended with {done.returncode}:\n{done.stderr[-3000:]}")
    category.update(json.loads(done.stdout.strip().splitlines()[-1]))
    crashes = {key: value for key, value in category.items() if key.startswith("crashed")}
    assert category["crashed"] == 0, crashes


def forge(index_dir: Path) -> None:
    """Rewrite the manifest to vouch for the files as they are now (and rename the version to match)."""
    version = (index_dir / "current").resolve()
    manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"] = {}
    for path in sorted(version.iterdir()):
        if path.name != "manifest.json":
            stamp, digest = hash_file(path, sha256=path.name == "rows.jsonl")
            manifest["files"][path.name] = stamp.model_dump()
            manifest["rows_sha256"] = digest or manifest["rows_sha256"]
    (version / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    token = hashlib.sha256((version / "manifest.json").read_bytes()).hexdigest()[:16]
    forged = version.with_name(version.name.rsplit("-", 1)[0] + "-" + token)
    version.rename(forged)
    (index_dir / "current").unlink()
    (index_dir / "current").symlink_to(forged.name)


def run_forged(root: Path, examples: int) -> dict[str, int]:
    """In a child process: ``examples`` changed files with a rewritten manifest, counted by how they ended."""
    settings_ = Settings(
        model="hashing", corpus_dir=root / "corpus", index_dir=root / "index", cache_dir=root / "cache"
    )
    index = (settings_.index_dir / "current").resolve()
    template = Template(
        settings_, load_corpus(settings_.corpus_dir), HashingEmbedder(), tuple(sorted(p.name for p in index.iterdir()))
    )
    counts: Counter[str] = Counter()
    files = tuple(name for name in template.files if name != "manifest.json")

    @_budget(examples)
    @given(mutation=_mutation(files))
    def one(mutation: tuple[str, str, int, bytes, str]) -> None:
        kind, name, seed, extra, other = mutation
        with tempfile.TemporaryDirectory() as scratch:
            copied = _copy(template, Path(scratch))
            if not _mutate((copied.index_dir / "current").resolve(), kind, name, seed, extra, other):
                return
            forge(copied.index_dir)
            counts["tried"] += 1
            try:
                opened = open_index(copied, template.corpus, template.embedder, rebuild=False)
            except IndexStaleError:
                counts["handled cleanly"] += 1
                counts[f"refused when opened ({name})"] += 1
                return
            try:
                if name == "rows.jsonl" or (kind == "swap" and other == "rows.jsonl"):
                    raise AssertionError("changed rows were loaded")
                assistant = Assistant(copied, template.embedder, opened)
                for question, vendor in (("Are backups encrypted?", None), ("SSO", "Borealis"), ("二要素認証", None)):
                    assistant.ask(question, vendor=vendor)
            except IndexStaleError:
                counts["handled cleanly"] += 1
                counts[f"refused when asked ({name})"] += 1
            except Exception as exc:  # the property is broken: counted, and reported by the parent
                counts["crashed"] += 1
                counts[f"crashed: {type(exc).__name__} ({kind} {name})"] += 1
            else:
                counts["handled cleanly"] += 1
                counts[f"loaded and answered ({name})"] += 1
            finally:
                opened.close()

    one()
    return dict(counts)
