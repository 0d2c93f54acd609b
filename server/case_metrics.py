"""The shared figures of /metrics: queues (from the store) and the case
register's deadlines and follow-ups, as prometheus-client custom collectors.

They are the same whichever process answers the scrape (Redis and the register
are shared), so they carry no `process` label: a dashboard takes them as they
are, never summed over processes. The register collector queries at collect
time (the scrape renders in a worker thread, server/scrape.py): open cases per
department and state, and per department those overdue and due within 1
working day (server/register/case_deadlines.py), and the follow-ups (整改) of
bad ratings still open. Labels name items, departments and states only, never
a case, an applicant or an account.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from server.catalogue import Catalogue
from server.register.case_deadlines import open_tallies
from server.register.cases import CaseService
from server.register.followups import FollowUpService


def departments(catalogue: Catalogue) -> list[str]:
    """Every department of the catalogue, as the register stores it (its zh name)."""
    return sorted({item.department.zh for item in catalogue.items.values()})


class QueueCollector(Collector):
    """Applicants waiting per item and the longest wait so far (取号 until now), read
    from the store just before the scrape: {item: (waiting, longest wait in s)}."""

    def __init__(self, queues: dict[str, tuple[int, float]]) -> None:
        self._queues = queues

    def collect(self) -> Iterator[GaugeMetricFamily]:
        waiting = GaugeMetricFamily(
            "rw_queue_waiting", "Applicants waiting, per service item.", labels=("item",)
        )
        longest = GaugeMetricFamily(
            "rw_queue_longest_wait_seconds",
            "The longest wait of those waiting now (joined until now), per service item.",
            labels=("item",),
        )
        for item, (n, seconds) in sorted(self._queues.items()):
            waiting.add_metric((item,), n)
            longest.add_metric((item,), seconds)
        yield waiting
        yield longest


class RegisterCollector(Collector):
    """Blocking (register queries): collect from a worker thread."""

    def __init__(
        self, cases: CaseService, catalogue: Catalogue, followups: FollowUpService
    ) -> None:
        self._cases = cases
        self._catalogue = catalogue
        self._followups = followups

    def collect(self) -> Iterator[GaugeMetricFamily]:
        tallies = open_tallies(self._cases, departments(self._catalogue))
        open_cases = GaugeMetricFamily(
            "rw_cases_open",
            "Open cases (办件), per department and state.",
            labels=("department", "state"),
        )
        overdue: dict[str, int] = defaultdict(int)
        soon: dict[str, int] = defaultdict(int)
        for t in tallies:
            open_cases.add_metric((t.department, t.state), t.open)
            overdue[t.department] += t.overdue
            soon[t.department] += t.due_soon
        yield open_cases
        for name, per_dept, help_text in (
            ("rw_cases_overdue", overdue, "Open cases past their deadline, per department."),
            (
                "rw_cases_due_soon",
                soon,
                "Open cases due within 1 working day (not overdue), per department.",
            ),
        ):
            family = GaugeMetricFamily(name, help_text, labels=("department",))
            for dept in sorted(per_dept):
                family.add_metric((dept,), per_dept[dept])
            yield family
        counts = self._followups.counts()
        yield GaugeMetricFamily(
            "rw_followups_open", "Follow-ups of bad ratings not yet closed.", value=counts["open"]
        )
        yield GaugeMetricFamily(
            "rw_followups_overdue",
            "Follow-ups not yet closed and past their deadline.",
            value=counts["overdue"],
        )
