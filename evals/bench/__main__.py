"""``python -m evals.bench``: measure this machine and print a table plus JSON (see evals/bench/README.md).

Every measurement runs in a fresh process (builds, one serving process per corpus size, cold starts), so
memory numbers belong to one size and one process, and a slow step cannot skew the next one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from evals.bench import cold
from evals.bench.report import table
from evals.bench.synthetic import cached, recipe

REPO_ROOT = Path(__file__).resolve().parents[2]
PARTS = ("build", "serve", "threads", "batching", "embeddings", "cold")
BACKENDS = ("onnx", "onnx-int8", "torch")
#: (Settings.threads, Settings.search_threads) compared by the "threads" part; 0 means all cores.
THREAD_SETTINGS = (("0", "1"), ("1", "1"), ("0", "0"))


def _worker(module: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    command = [sys.executable, "-m", f"evals.bench.{module}", *args]
    print(f"  $ {' '.join(command[1:])}", file=sys.stderr, flush=True)
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO_ROOT, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _machine() -> dict[str, Any]:
    model = "unknown"
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next((line.split(":", 1)[1].strip() for line in lscpu.splitlines() if "Model name" in line), model)
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def index_dir(work: Path, size: str, backend: str) -> Path:
    """Where the index of ``size`` built with ``backend`` goes; onnx and torch share one (same vectors)."""
    return work / (f"index-{size}" if backend in ("onnx", "torch") else f"index-{size}-{backend}")


def _index_is_cached(index_dir: Path, size: int, backend: str) -> bool:
    """Whether a synthetic index of ``size`` with mixed vectors is already built for the current model."""
    from assistant.corpus import load_corpus
    from assistant.embedding import ensure_converted
    from assistant.settings import Settings

    settings = Settings.from_env(backend=backend)
    fingerprint = ensure_converted(settings.cache_dir).fingerprint  # torch's and onnx's
    if backend == "onnx-int8":
        from assistant.embedding.quantization import quantized_fingerprint

        fingerprint = quantized_fingerprint(fingerprint)
    return cached(index_dir, recipe(size, False, fingerprint, load_corpus(settings.corpus_dir)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench", description=__doc__)
    parser.add_argument("--sizes", default="seed,10000,100000,1000000", help="comma-separated: seed and row counts")
    parser.add_argument("--questions", type=int, default=300, help="questions per size (EN/JA/KO in turn)")
    parser.add_argument(
        "--backend", default="onnx", help=f"Settings.backend to measure; several, comma-separated, side by side "
        f"(the first also runs the thread comparison): {', '.join(BACKENDS)}"
    )  # fmt: skip
    parser.add_argument("--threads", type=int, default=0, help="Settings.threads (0: all cores)")
    parser.add_argument("--skip", default="", help=f"comma-separated parts to leave out: {', '.join(PARTS)}")
    parser.add_argument("--work", type=Path, default=REPO_ROOT / "artifacts" / "bench", help="indexes and logs")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached 10^5/10^6 synthetic indexes")
    parser.add_argument("--profile", default="", help="comma-separated sizes to profile the ask loop of")
    parser.add_argument("--batching-rows", type=int, default=512, help="passages per round of the batching part")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    skip = {part for part in args.skip.split(",") if part}
    if skip - set(PARTS):
        parser.error(f"unknown parts to skip: {', '.join(sorted(skip - set(PARTS)))}; known: {', '.join(PARTS)}")
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    backends = [b.strip() for b in args.backend.split(",") if b.strip()]
    if not backends or set(backends) - set(BACKENDS):
        parser.error(f"unknown backend in {args.backend!r}; known: {', '.join(BACKENDS)}")
    profiled = {s.strip() for s in args.profile.split(",") if s.strip()}
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python -m evals.bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": _machine(),
        "backends": backends,
        "threads": args.threads,
        "builds": {backend: {} for backend in backends},
        "serving": {backend: {} for backend in backends},
    }

    for backend in backends:
        common = ["--backend", backend, "--threads", str(args.threads)]
        print(f"building indexes ({backend})", file=sys.stderr)
        for size in sizes:
            folder = index_dir(args.work, size, backend)
            real = size in ("seed", "10000") or int(size) <= 10_000
            if not real and not args.rebuild and _index_is_cached(folder, int(size), backend):
                print(f"  reusing {folder} (--rebuild to build it again)", file=sys.stderr)
                continue
            if "build" in skip and (folder / "manifest.json").is_file() and real:
                continue
            flags = ["--real"] if real else []
            results["builds"][backend][size] = _worker(
                "building", "--size", size, "--index", str(folder), *common, *flags
            )

        if "serve" not in skip:
            print(f"serving ({backend})", file=sys.stderr)
            for size in sizes:
                extra = ["--profile"] if size in profiled else []
                folder = index_dir(args.work, size, backend)
                served = _worker("serving", "--index", str(folder), "--questions", str(args.questions), *common, *extra)
                results["serving"][backend][size] = served

    if "threads" not in skip:
        print(f"threads: model / FAISS search (seed and 10^4, {backends[0]})", file=sys.stderr)
        results["threads_compare"] = {}
        for size in [s for s in sizes if s in ("seed", "10000")]:
            for model_threads, search_threads in THREAD_SETTINGS:
                folder = index_dir(args.work, size, backends[0])
                results["threads_compare"][f"{size}/{model_threads}/{search_threads}"] = _worker(
                    "serving", "--index", str(folder), "--questions", str(args.questions), "--backend",
                    backends[0], "--threads", model_threads, "--search-threads", search_threads, "--no-reference",
                )  # fmt: skip

    onnx_backends = [b for b in backends if b != "torch"]
    if "batching" not in skip and onnx_backends:
        print("batching: build throughput by batch layout (10^4 passages)", file=sys.stderr)
        results["batching"] = {
            backend: _worker("batching", "--backend", backend, "--rows", str(args.batching_rows))
            for backend in onnx_backends
        }

    if "embeddings" not in skip:
        print("inference paths: agreement and speed", file=sys.stderr)
        results["embeddings"] = _worker(
            "embeddings", "--questions", str(args.questions), "--backends", ",".join(onnx_backends or ["onnx"])
        )

    if "cold" not in skip and "seed" in sizes:
        # torch serves onnx's index (the same vectors); int8 serves its own.
        shared = any(b in ("onnx", "torch") for b in backends)
        compared = list(dict.fromkeys(["torch", *backends])) if shared else backends
        print(f"cold starts (seed index): {', '.join(compared)}", file=sys.stderr)
        results["cold"] = {}
        for backend in compared:
            env = cold.environment(index_dir(args.work, "seed", backend), backend, args.threads)
            log = args.work / f"streamlit-{backend}.log"
            results["cold"][backend] = {"cli": cold.cli(env), "streamlit": cold.streamlit(env, log)}

    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["seconds"] = round(time.perf_counter() - started, 1)
    print(table(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
