"""The readable table: each figure, its ratio to the baselines, and the target."""

from __future__ import annotations

from typing import Any

ROWS: list[tuple[str, str, str]] = [
    ("echo_rps", "calls/s", "baseline"),
    ("naive_rps", "calls/s", "baseline"),
    ("record_rps", "calls/s", ">= 0.6 x echo"),
    ("record_p50_ms", "ms", ""),
    ("record_p99_ms", "ms", ""),
    ("timeline_rps", "calls/s", ">= 0.5 x echo"),
    ("timeline_p99_ms", "ms", ""),
    ("record_rps_1proc", "calls/s", "1 serving process, 2 client processes"),
    ("record_rps_2proc", "calls/s", "2 serving processes, 2 client processes"),
    ("record_2proc_to_1proc", "x", ">= 1"),
    ("timeline_rps_1proc", "calls/s", "1 serving process, 2 client processes"),
    ("timeline_rps_2proc", "calls/s", "2 serving processes, 2 client processes"),
    ("timeline_2proc_to_1proc", "x", ">= 1.5"),
    ("timeline_p99_ms_c1_small", "ms", ""),
    ("timeline_p99_ms_c1_large", "ms", "<= 1.3 x small, <= 5"),
    ("projection_lag_p99_ms", "ms", "<= 100"),
    ("import_eps", "records/s", ">= 10,000"),
    ("replay_eps", "events/s", ">= 30,000"),
    ("server_rss_mb", "MB", "<= 400"),
]


def table(results: dict[str, Any]) -> str:
    echo, naive = results.get("echo_rps") or 0, results.get("naive_rps") or 0
    lines = [
        f"{'figure':<26}{'value':>12}  {'unit':<9}{'/ echo':>8}{'/ naive':>9}  target",
        "-" * 86,
    ]
    for key, unit, target in ROWS:
        value = results.get(key)
        shown = "not run" if value is None else f"{value:,.2f}"
        per_echo = per_naive = ""
        if unit == "calls/s" and value is not None:
            per_echo = f"{value / echo:.2f}" if echo else ""
            per_naive = f"{value / naive:.2f}" if naive else ""
        lines.append(f"{key:<26}{shown:>12}  {unit:<9}{per_echo:>8}{per_naive:>9}  {target}")
    return "\n".join(lines)


def cpu_table(results: dict[str, Any]) -> str:
    """Percent of one core each party used during the loads (two cores make 200)."""
    parties = ("service", "projector", "postgres", "client")
    lines = [f"\n{'cpu % of a core':<26}" + "".join(f"{party:>11}" for party in parties)]
    serving = [f"{load}_{n}proc" for n in (1, 2) for load in ("record", "timeline")]
    for load in ["record", "timeline", "import", *serving]:
        shares = results.get(f"{load}_cpu_pct") or {}
        cells = "".join(f"{shares.get(party, 0):>11.1f}" for party in parties)
        lines.append(f"{load:<26}{cells}")
    return "\n".join(lines)
