"""`make bench` in its tiny mode: every step runs against real processes and PostgreSQL
and writes every figure. No timing is asserted: the machine is shared and noisy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.table import ROWS

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = [
    "echo_rps",
    "naive_rps",
    "record_rps",
    "record_p50_ms",
    "record_p99_ms",
    "record_ratio",
    "timeline_rps",
    "timeline_p99_ms",
    "record_rps_1proc",
    "record_rps_2proc",
    "timeline_rps_1proc",
    "timeline_rps_2proc",
    "timeline_2proc_to_1proc",
    "timeline_p99_ms_c1_small",
    "timeline_p99_ms_c1_large",
    "projection_lag_p99_ms",
    "import_eps",
    "replay_eps",
    "server_rss_mb",
]


def test_the_tiny_benchmark_writes_every_figure_and_prints_the_table(
    postgres_server: str, tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench"],
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONPATH": f"{ROOT / 'gen' / 'python'}{os.pathsep}{ROOT}",
            "BENCH_TINY": "1",
            "BENCH_DATABASE_URL": postgres_server,
            "BENCH_OUT": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads((tmp_path / "results.json").read_text())
    assert {key: figures.get(key, 0) > 0 for key in REQUIRED} == dict.fromkeys(REQUIRED, True)
    assert figures["run"]["postgres"]["fsync"] == "on"
    for load in ("record", "timeline", "import"):
        # Where the cores went: the service and PostgreSQL did work under every load.
        shares = figures[f"{load}_cpu_pct"]
        assert shares["service"] > 0
        assert shares["postgres"] > 0
    assert "cpu % of a core" in result.stdout
    for key, _, _ in ROWS:
        assert key in result.stdout
