"""`crm import FILE`: a JSON Lines or CSV file in, a summary out, safe to run twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from services.crm.server import RunningService
from tests import random_refs

ROOT = Path(__file__).resolve().parents[2]


def crm_import(service: RunningService, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.crm", "import", str(path)],
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONPATH": f"{ROOT / 'gen' / 'python'}{os.pathsep}{ROOT}",
            "CRM_LISTEN_ADDRESS": f"127.0.0.1:{service.port}",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def csv_file(folder: Path, header: str, *rows: str) -> Path:
    path = folder / "export.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_a_json_lines_file_imports_once_and_names_the_lines_that_failed(
    service: RunningService, tmp_path: Path
) -> None:
    email, batch = random_refs.email(), random_refs.suffix()
    lines = [
        {
            "identity": {"email": email},
            "interaction": {
                "channel": "CHANNEL_EMAIL",
                "direction": "DIRECTION_INBOUND",
                "occurredTime": f"2026-01-0{day}T10:00:00Z",
                "externalId": f"{batch}-{day}",
                "summary": f"ticket {day}",
            },
        }
        for day in (1, 2, 3)
    ]
    path = tmp_path / "export.jsonl"
    bad = {"identity": {"email": "nobody"}, "interaction": lines[0]["interaction"]}
    path.write_text(
        "\n".join([*map(json.dumps, lines), "{not json", json.dumps(bad)]) + "\n",
        encoding="utf-8",
    )

    first = crm_import(service, path)
    second = crm_import(service, path)

    assert first.returncode == 1, first.stderr
    assert "imported 3, already imported 0, failed 2" in first.stdout
    assert "line 4: not a record" in first.stdout
    assert "line 5: INVALID_EMAIL (identity.email)" in first.stdout
    assert "imported 0, already imported 3, failed 2" in second.stdout


def test_a_csv_file_imports_with_its_header_naming_the_columns(
    service: RunningService, tmp_path: Path
) -> None:
    batch = random_refs.suffix()
    path = csv_file(
        tmp_path,
        "phone,channel,direction,occurred_time,external_id,summary",
        f"{random_refs.phone()},PHONE,OUTBOUND,2026-02-01T09:30:00Z,call-{batch},Called back",
    )

    result = crm_import(service, path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "imported 1, already imported 0, failed 0" in result.stdout


def test_a_spreadsheet_csv_with_a_bom_and_a_broken_row_imports_the_rest(
    service: RunningService, tmp_path: Path
) -> None:
    batch = random_refs.suffix()
    path = csv_file(
        tmp_path,
        "\ufeffemail,channel,direction,occurred_time,external_id,summary",
        f"{random_refs.email()},EMAIL,INBOUND,2026-02-01T09:30:00Z,a-{batch},Hello",
        f"{random_refs.email()},EMAIL,INBOUND,2026-02-01T09:31:00Z,b-{batch},Hello, again",
    )

    result = crm_import(service, path)

    assert "imported 1, already imported 0, failed 1" in result.stdout, result.stderr
    assert "line 3: more fields than the header names" in result.stdout
