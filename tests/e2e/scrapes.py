"""Scrapes a process's Prometheus endpoint and reads samples from it, as Prometheus would."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx2 as httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


@dataclass(frozen=True)
class Scrape:
    text: str
    samples: list[Sample]

    def value(self, name: str, **labels: str) -> float | None:
        """The sample with exactly these labels (le aside), None when there is none."""
        for sample in self.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
        return None

    def labelled(self, name: str) -> list[dict[str, str]]:
        return [dict(sample.labels) for sample in self.samples if sample.name == name]

    def label_values(self) -> set[str]:
        return {value for sample in self.samples for value in sample.labels.values()}


def scrape(port: int | None) -> Scrape:
    assert port, "the process serves no metrics"
    response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert response.status_code == 200
    families = text_string_to_metric_families(response.text)
    return Scrape(response.text, [sample for family in families for sample in family.samples])


def scrape_until(port: int | None, holds: Callable[[Scrape], bool], timeout: float = 10) -> Scrape:
    """The first scrape for which holds() is true; the last one when time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        found = scrape(port)
        if holds(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)
