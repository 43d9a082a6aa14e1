"""`python -m engine bench index`: reports/README.md, a generated index of every benchmark report.

Each reports/**/*.json is one benchmark run; its kind is the file name's first word (reconet,
influence, fidelity, app, voice, ...). The command, date and machine are read from the report; older
reports that did not record them get the command their kind is run with (marked "inferred") and
"not recorded", so a new kind of report appears without changing this module.
"""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path

TITLES = {
    "reconet": "RecoNet accuracy (recall@k vs baselines)",
    "influence": "Influence lens: FIA vs retraining, FIA vs IA",
    "fidelity": "Relevance lens fidelity: perturbation test, LIME baseline",
    "pixels": "Pixel lens: relation model, planted-mark ground truth, pixel flipping",
    "experts": "Expert lens: static Intrp-MLP (HR@10 / NDCG@10 vs PureSVD and its control)",
    "experts-session": "Expert lens: session model on rating sittings (accuracy vs baselines)",
    "app": "App latency (start, edits, explanations)",
    "voice": "Voice: recognition and intent accuracy",
}
COMMANDS = {  # how each kind is run, for reports that did not record their command
    "reconet": "python -m engine bench reconet --dataset {dataset}",
    "influence": "python -m engine bench influence --dataset {dataset}",
    "fidelity": "python -m engine bench fidelity --dataset {dataset}",
    "pixels": "python -m engine bench pixels",
    "experts": "python -m engine bench experts --dataset {dataset}",
    "experts-session": "python -m engine bench experts --part session --dataset {dataset}",
    "app": "python -m assistant bench app --dataset {dataset}",
    "voice": "python -m assistant bench voice --dataset {dataset}",
}


def entries(folder: Path) -> list[dict]:
    rows = []
    for path in sorted(folder.rglob("*.json")):
        try:
            report = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(report, dict):
            continue
        kind = path.stem.split("-")[0]
        if path.stem.startswith("experts-session"):  # the expert lens's second benchmark
            kind = "experts-session"
        dataset = str(report.get("dataset") or path.stem.removeprefix(kind + "-"))
        command = report.get("command")
        inferred = not command and kind in COMMANDS
        if inferred:
            command = COMMANDS[kind].format(dataset=dataset)
        markdown = path.with_suffix(".md")
        rows.append({
            "kind": kind,
            "title": TITLES.get(kind, kind),
            "dataset": dataset,
            "seed": report.get("seed"),
            "json": path.relative_to(folder).as_posix(),
            "markdown": markdown.relative_to(folder).as_posix() if markdown.exists() else None,
            "figures": [(path.parent / f).relative_to(folder).as_posix() for f in (report.get("figures") or {}).values()
                        if isinstance(f, str)],
            "command": command or "not recorded",
            "inferred": inferred,
            "date": report.get("date") or report.get("measured_at") or "not recorded",
            "machine": machine_text(report.get("machine")),
            "figure": headline(kind, report),
        })
    return rows


def machine_record(**extra) -> dict:
    """The "machine" entry of a benchmark report: platform, processor and CPU count, plus the
    bench's own facts (threads, load); `machine_text` reads it back for the index."""
    return {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count(), **extra}


def machine_text(machine) -> str:
    if not isinstance(machine, dict):
        return "not recorded"
    parts = [str(machine["platform"])] if machine.get("platform") else []
    if machine.get("processor"):
        parts.append(str(machine["processor"]))
    if machine.get("cpus"):
        parts.append(f"{machine['cpus']} CPUs")
    return ", ".join(parts) or "not recorded"


def headline(kind: str, report: dict) -> str:
    """One figure that says how the run went; '' when the report lacks it (reports change shape)."""
    try:
        if kind == "reconet":
            models = report["models"]
            return "; ".join(f"{name} recall@50 {m['recall_at_50']:.3f}" for name, m in models.items()
                             if "RecoNet" in name and "recall_at_50" in m)
        if kind == "influence":
            return "; ".join(f"{name}: Pearson R {m['pearson_r']}, FIA {m['fia_ms']['median']} ms"
                             for name, m in report["models"].items())
        if kind == "fidelity":
            test, lime = report["top1_vs_random1"], report["lime"][str(report["lime_settings"]["default_budget"])]
            k5 = report["headline"]["5"]
            return (f"Δ logit at k=5: LRP {k5['lrp']:+.2f} vs random {k5['random']:+.2f}; Mann-Whitney p "
                    f"{test['p_two_sided']:.2g}; LIME {lime['speed_ratio_lime_over_lrp']:,.0f}x slower, top-5 overlap "
                    f"{lime['top5_overlap']['mean']:.2f}")
        if kind == "pixels":
            passed = sum(1 for check in report["checks"] if check["passed"])
            why_not = report["ground_truth"]["why_not"]["methods"]["lrp"]
            return (f"{passed} of {len(report['checks'])} bars; brand why-not mark mass {why_not['mass']:.2f}, style "
                    f"accuracy {report['relation']['style']['accuracy']:.3f}; heatmap {report['latency']['median_ms']:.1f} ms")
        if kind == "experts":
            bars = report["bars"].values()
            passed = sum(1 for bar in bars if bar["result"] == "PASS")
            return f"{passed} of {len(report['bars'])} bars; " + "; ".join(
                f"{name} {bar['value']}" for name, bar in report["bars"].items() if name.startswith("intrp_hr"))
        if kind == "experts-session":
            mean, folds = report["mean"], report["cross_validation"]
            return (f"interpretable {mean['interpretable_accuracy']['mean']:.3f} vs control "
                    f"{mean['control_accuracy']['mean']:.3f} accuracy (seeds {report['seeds']}); "
                    f"{folds['folds']}-fold users: {folds['interpretable']['accuracy']:.3f} vs best baseline "
                    f"{folds['best_baseline']}")
        if kind == "app":
            return (f"first Sankey {report['start_to_first_sankey_s']['median']} s; one explanation "
                    f"{report['one_explanation_ms']['median']} ms (median)")
        if kind == "voice":
            return f"intent accuracy {report['spoken']['intent_accuracy']:.2f} on {report['spoken']['questions']} questions"
    except (KeyError, TypeError, ValueError, AttributeError):
        return ""
    return ""


def render(rows: list[dict]) -> str:
    lines = [
        "# Benchmark reports",
        "",
        "Generated by `python -m engine bench index` from the JSON reports in this folder; do not edit by hand.",
        "A command marked *inferred* is how that kind of report is made; the report itself did not record it.",
        "",
    ]
    kinds = list(dict.fromkeys([k for k in TITLES if any(r["kind"] == k for r in rows)] + [r["kind"] for r in rows]))
    for kind in kinds:
        lines += [f"## {TITLES.get(kind, kind)}", "",
                  "| report | dataset | seed | key figure | command | date | machine |", "|---|---|---|---|---|---|---|"]
        for row in (r for r in rows if r["kind"] == kind):
            links = [f"[{row['markdown'] or row['json']}]({row['markdown'] or row['json']})"]
            if row["markdown"]:
                links.append(f"[json]({row['json']})")
            links += [f"[{Path(f).stem.split('-')[-1]}]({f})" for f in row["figures"]]
            command = "not recorded" if row["command"] == "not recorded" else f"`{row['command']}`"
            command += " (inferred)" if row["inferred"] else ""
            seed = "" if row["seed"] is None else str(row["seed"])
            lines.append(f"| {' '.join(links)} | {row['dataset']} | {seed} | {row['figure']} | {command} | "
                         f"{row['date']} | {row['machine']} |")
        lines.append("")
    return "\n".join(lines)


def write_index(folder: str | Path = "reports") -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "README.md"
    target.write_text(render(entries(folder)))
    return target
