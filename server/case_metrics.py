"""The case register's deadline figures for /metrics (Prometheus text format).

Computed per scrape by one register query (server/register/case_deadlines.py,
run in a worker thread by the route): open cases per department and state,
and per department those overdue and due within 1 working day. Labels name
departments and states only, never a case, an applicant or an account.
"""

from __future__ import annotations

from collections import defaultdict

from server.catalogue import Catalogue
from server.metrics import _labels
from server.register.case_deadlines import OpenTally, open_tallies
from server.register.cases import CaseService


def departments(catalogue: Catalogue) -> list[str]:
    """Every department of the catalogue, as the register stores it (its zh name)."""
    return sorted({item.department.zh for item in catalogue.items.values()})


def case_tallies(cases: CaseService, catalogue: Catalogue) -> list[OpenTally]:
    """Blocking (a register query): call from a worker thread."""
    return open_tallies(cases, departments(catalogue))


def case_lines(tallies: list[OpenTally]) -> list[str]:
    lines: list[str] = []
    overdue: dict[str, int] = defaultdict(int)
    soon: dict[str, int] = defaultdict(int)
    lines += [
        "# HELP rw_cases_open Open cases (办件), per department and state.",
        "# TYPE rw_cases_open gauge",
    ]
    for t in tallies:
        lines.append(f"rw_cases_open{_labels(department=t.department, state=t.state)} {t.open}")
        overdue[t.department] += t.overdue
        soon[t.department] += t.due_soon
    for name, values, help_text in (
        ("rw_cases_overdue", overdue, "Open cases past their deadline, per department."),
        (
            "rw_cases_due_soon",
            soon,
            "Open cases due within 1 working day (not overdue), per department.",
        ),
    ):
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for dept in sorted(values):
            lines.append(f"{name}{_labels(department=dept)} {values[dept]}")
    return lines
