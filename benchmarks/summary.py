"""``python -m benchmarks.summary [DIR]``: the README's Markdown tables from results JSON.

Reads ``<scenario>.json`` files written by ``benchmarks.run`` and prints, per scenario,
the rows (contender, case and the scenario's headline metrics) and the targets, so the
README's figures are pasted from a run, never typed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.procs import ROOT

ORDER = ("overhead", "schedule", "stragglers", "faults", "memory", "relay", "bulk")
HEADLINES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "overhead": (
        ("parts_per_s", "parts/s", "{:.0f}"),
        ("cpu_s", "CPU s", "{:.2f}"),
        ("peak_rss_mib", "peak RSS MiB", "{:.0f}"),
        ("server_cpu_s", "emulator CPU s", "{:.2f}"),
    ),
    "schedule": (
        ("seconds", "makespan s", "{:.3f}"),
        ("ideal_s", "ideal s", "{:.3f}"),
        ("vs_ideal", "÷ ideal", "{:.3f}"),
        ("cpu_s", "CPU s", "{:.2f}"),
    ),
    "stragglers": (
        ("seconds", "makespan s", "{:.3f}"),
        ("vs_ideal", "÷ ideal", "{:.3f}"),
        ("hedges", "hedges", "{}"),
    ),
    "faults": (
        ("completed", "completed", "{}"),
        ("runs", "runs", "{}"),
        ("seconds", "median s", "{:.3f}"),
        ("vs_fault_free", "÷ fault-free", "{:.3f}"),
        ("retries", "retries", "{}"),
    ),
    "memory": (
        ("parts", "parts", "{}"),
        ("peak_rss_mib", "peak RSS MiB", "{:.1f}"),
        ("rss_growth_mib", "growth MiB", "{:.1f}"),
    ),
    "relay": (
        ("mib_per_s", "MiB/s", "{:.0f}"),
        ("vs_bare", "÷ bare pipe", "{:.3f}"),
        ("cpu_s", "CPU s", "{:.2f}"),
        ("server_cpu_s", "emulators CPU s", "{:.2f}"),
    ),
    "bulk": (
        ("objects", "objects", "{}"),
        ("objects_per_s", "objects/s", "{:.0f}"),
        ("cpu_s", "CPU s", "{:.1f}"),
        ("server_cpu_s", "emulator CPU s", "{:.1f}"),
    ),
}


def _cell(value: Any, fmt: str) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)


def _params(params: dict[str, Any]) -> str:
    from partcopy.units import format_size

    shown = []
    for key, value in params.items():
        if key in {"size", "part_size", "bytes"} and isinstance(value, int):
            value = format_size(value)
        elif isinstance(value, float):
            value = f"{value:g}"
        shown.append(f"{key} {value}")
    return ", ".join(shown)


def render(data: dict[str, Any]) -> str:
    """One scenario as Markdown: a heading, its rows and its targets."""
    name = data["scenario"]
    heads = HEADLINES.get(name, ())
    machine = data["machine"]
    load = ", ".join(f"{x:.2f}" for x in machine.get("load", ()))
    lines = [
        f"**{name}** — {data['title']} (`{data['command']}`, {data['date']}, "
        f"load average {load or '?'})",
        "",
        "Parameters: " + _params(data.get("params", {})),
        "",
        "| contender | case | " + " | ".join(h for _, h, _ in heads) + " |",
        "|---|---|" + "---|" * len(heads),
    ]
    for row in data["rows"]:
        if not row["ok"] and str(row.get("error") or "").startswith("absent"):
            cells = ["absent (not on PATH)"] + ["—"] * (len(heads) - 1)
        elif not row["ok"]:
            cells = [f"failed: {str(row.get('error'))[:60]}"] + ["—"] * (len(heads) - 1)
        else:
            cells = [_cell(row.get(key), fmt) for key, _, fmt in heads]
        lines.append(f"| {row['contender']} | {row['case']} | " + " | ".join(cells) + " |")
    for note in data.get("notes", ()):
        lines.append("")
        lines.append(f"Note: {note}")
    for t in data.get("targets", ()):
        measured = "—" if t["measured"] is None else f"{t['measured']:.3g}"
        verdict = "met" if t["met"] else "**missed**"
        lines.append("")
        lines.append(f"Target {t['name']}: {measured} {t['op']} {t['limit']:g} — {verdict}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else ROOT / "benchmarks" / "results"
    found = [folder / f"{name}.json" for name in ORDER if (folder / f"{name}.json").exists()]
    if not found:
        sys.stderr.write(f"no results in {folder}: run python -m benchmarks.run first\n")
        return 2
    first = json.loads(found[0].read_text())["machine"]
    print(
        f"Machine: {first['cores']} cores ({first['cpu_model']}), {first['system']}, "
        f"Python {first['python']}; rclone: {first['rclone'] or 'not installed'}.\n"
    )
    for path in found:
        print(render(json.loads(path.read_text())))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
