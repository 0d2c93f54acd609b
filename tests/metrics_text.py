"""Reading a /metrics answer in tests: the exposition parsed by prometheus-client,
samples picked by name and a subset of their labels (so a `process` label or the
label order does not matter)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


def samples(text: str) -> list[Sample]:
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def families(text: str) -> dict[str, str]:
    """Family name -> type (a counter's family is named without `_total`)."""
    return {f.name: f.type for f in text_string_to_metric_families(text)}


def matching(text: str, name: str, **labels: str) -> list[Sample]:
    return [
        s
        for s in samples(text)
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]


def value(text: str, name: str, **labels: str) -> float:
    """The one sample of that name whose labels include these; fails if not one."""
    found = matching(text, name, **labels)
    assert len(found) == 1, (name, labels, found)
    return found[0].value


def total(text: str, name: str, **labels: str) -> float:
    return sum(s.value for s in matching(text, name, **labels))
