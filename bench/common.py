"""Shared bits of the benchmarks: percentiles, result files, the PostgreSQL URL."""

from __future__ import annotations

import json
import os
import platform
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results")
PG_URL = os.environ.get(
    "READGROUP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def compile_bytecode() -> str:
    """Compile the project's modules to bytecode, as ``pip install`` does for
    an installed package and already did for every library in a benchmark's
    baseline. Without it, a run with PYTHONDONTWRITEBYTECODE=1 in the
    environment (or a fresh checkout) times our ~150 modules compiled from
    source at every start (about 0.1 s and 2 MB) against libraries loaded
    from bytecode. Returns a line for the benchmark's output."""
    import compileall

    root = Path(__file__).resolve().parents[1]
    for package in ("bot", "adapters", "storage", "prompts"):
        compileall.compile_dir(str(root / package), quiet=1)
    return "our modules compiled to bytecode first (as an install does), like the libraries"


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def summary_ms(samples: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(samples) * 1000, 3),
        "p95_ms": round(percentile(samples, 95) * 1000, 3),
        "p99_ms": round(percentile(samples, 99) * 1000, 3),
        "n": len(samples),
    }


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    data = {
        "benchmark": name,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        **data,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def table(rows: list[list[object]], header: list[str]) -> str:
    cells = [header, *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)
