"""Scenario results: frozen rows and targets, a rich table, a JSON file and a PNG plot."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from benchmarks.machine import Machine

__all__ = ["Column", "Row", "ScenarioResult", "Target", "print_result", "save_result"]

Value = float | int | str | bool | None


@dataclass(frozen=True, slots=True)
class Row:
    """One contender in one case (``case`` names the variant, e.g. ``c=64``)."""

    contender: str
    case: str
    ok: bool
    metrics: Mapping[str, Value]
    error: str | None = None

    def get(self, key: str) -> Value:
        return self.metrics.get(key)


@dataclass(frozen=True, slots=True)
class Column:
    """A metric shown in the table: its key, header and format (``{:.2f}``)."""

    key: str
    header: str
    fmt: str = "{:.2f}"

    def render(self, value: Value) -> str:
        if value is None:
            return "—"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            return "—"
        if isinstance(value, (int, float)):
            return self.fmt.format(value)
        return str(value)


@dataclass(frozen=True, slots=True)
class Target:
    """A performance target: ``measured`` compared with ``limit`` (``<=`` or ``>=``)."""

    name: str
    measured: float | None
    limit: float
    op: Literal["<=", ">="]

    @property
    def met(self) -> bool:
        if self.measured is None or math.isnan(self.measured):
            return False
        return self.measured <= self.limit if self.op == "<=" else self.measured >= self.limit

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "measured": self.measured,
            "limit": self.limit,
            "op": self.op,
            "met": self.met,
        }


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """Everything one scenario run produced, as written to ``<scenario>.json``."""

    scenario: str
    title: str
    date: str
    machine: Machine
    command: str
    quick: bool
    params: Mapping[str, Value]
    columns: Sequence[Column]
    rows: Sequence[Row]
    targets: Sequence[Target] = ()
    notes: Sequence[str] = ()
    plot_key: str = ""
    plot_label: str = ""
    emulator: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "title": self.title,
            "date": self.date,
            "machine": self.machine.as_dict(),
            "command": self.command,
            "quick": self.quick,
            "params": dict(self.params),
            "rows": [
                {
                    "contender": r.contender,
                    "case": r.case,
                    "ok": r.ok,
                    "error": r.error,
                    **dict(r.metrics),
                }
                for r in self.rows
            ],
            "targets": [t.as_dict() for t in self.targets],
            "notes": list(self.notes),
            "emulator": dict(self.emulator),
        }


def print_result(result: ScenarioResult) -> None:
    """Print the scenario's table, its targets and notes with rich."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(140, Console().width))
    table = Table(title=f"{result.scenario}: {result.title}", title_justify="left")
    table.add_column("contender")
    table.add_column("case")
    table.add_column("ok")
    for col in result.columns:
        table.add_column(col.header, justify="right")
    for row in result.rows:
        cells = [col.render(row.get(col.key)) for col in result.columns]
        table.add_row(row.contender, row.case, "yes" if row.ok else "[red]no[/]", *cells)
    console.print(table)
    for target in result.targets:
        measured = "—" if target.measured is None else f"{target.measured:.3g}"
        mark = "[green]met[/]" if target.met else "[red]missed[/]"
        console.print(f"  target {target.name}: {measured} {target.op} {target.limit:g}: {mark}")
    for row in result.rows:
        if row.error:
            console.print(f"  [yellow]{row.contender} {row.case}[/]: {row.error}")
    for note in result.notes:
        console.print(f"  note: {note}")


def save_result(result: ScenarioResult, out_dir: Path) -> tuple[Path, Path | None]:
    """Write ``<scenario>.json`` and, when there is something to plot, ``<scenario>.png``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{result.scenario}.json"
    json_path.write_text(json.dumps(result.as_dict(), indent=2) + "\n")
    png_path = out_dir / f"{result.scenario}.png"
    return json_path, (png_path if _plot(result, png_path) else None)


def _plot(result: ScenarioResult, path: Path) -> bool:
    points = [
        (f"{r.contender}\n{_wrap(r.case)}", float(v))
        for r in result.rows
        if isinstance(v := r.get(result.plot_key), (int, float)) and not isinstance(v, bool)
    ]
    if not result.plot_key or not points:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(4.0, 1.6 * len(points) + 1.5), 4.4))
    labels = [p[0] for p in points]
    values = [p[1] for p in points]
    colors = [_color(label) for label in labels]
    bars = ax.bar(range(len(points)), values, color=colors, yerr=_spread(result, values))
    ax.bar_label(bars, labels=[bar_text(v) for v in values], fontsize=8)
    ax.set_xticks(range(len(points)), labels, fontsize=8)
    ax.set_ylabel(result.plot_label or result.plot_key)
    ax.set_title(f"{result.scenario}: {result.title}", fontsize=10)
    for target in result.targets:
        if target.name.startswith(result.plot_key + ":"):
            ax.axhline(target.limit, color="grey", linestyle="--", linewidth=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def bar_text(value: float) -> str:
    """A bar's figure as people read it: ``1,948``, ``2.62``, ``1.054`` (never ``1.95e+03``)."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}"


def _wrap(case: str, width: int = 16) -> str:
    """A case label broken into lines of about ``width`` characters at spaces, so the
    labels of neighbouring bars do not run into each other."""
    lines: list[str] = []
    for word in case.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


def _spread(result: ScenarioResult, values: list[float]) -> list[list[float]] | None:
    """Error bars from each row's ``<plot_key>_min``/``_max`` over repeats, if every row has
    them (asymmetric: median down to min, up to max)."""
    key = result.plot_key
    rows = [r for r in result.rows if isinstance(r.get(key), (int, float))]
    lows = [r.get(f"{key}_min") for r in rows]
    highs = [r.get(f"{key}_max") for r in rows]
    if not all(isinstance(v, (int, float)) for v in [*lows, *highs]):
        return None
    return [
        [v - float(lo) for v, lo in zip(values, lows, strict=True)],  # type: ignore[arg-type]
        [float(hi) - v for v, hi in zip(values, highs, strict=True)],  # type: ignore[arg-type]
    ]


def _color(label: str) -> str:
    if label.startswith("s5cmd"):
        return "#cc79a7"
    if label.startswith("partcopy"):
        return "#2a7ab9"
    if label.startswith("boto3"):
        return "#e69f00"
    if label.startswith("rclone"):
        return "#009e73"
    return "#999999"
