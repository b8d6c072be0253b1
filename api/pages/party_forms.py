"""The intake form's parties: repeatable rows of applicants and respondents.

Rows are named ``applicants.{i}.name``, ``respondents.{i}.credit_code``, ...; a row left
blank is skipped, so the page can offer blank rows without a script (and a small script,
``/static/parties.js``, adds more). A form of the single-party layout (``applicant.name``,
``respondent.name``: older pages, tools) is read as row 0. A refusal names the domain's
field (``applicants.2.id_number``, or ``applicant.id_number`` for a single applicant);
:meth:`PartyRows.form_field` turns it back into the name of the input that holds it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from starlette.datastructures import FormData

from api.pages import forms as F
from mediation import identifiers
from mediation.errors import ValidationFailed
from mediation.parties import MAX_PARTIES
from mediation.values import AgentInput, AgentKind, ApplicantInput, RespondentInput, WorkerCategory

# blank rows offered beyond the filled ones (the first page: this many of each side)
APPLICANT_ROWS = 3
RESPONDENT_ROWS = 2
# the typed fields of a row; a row with none of them filled is blank (selects do not count)
_TYPED = {
    "applicants": ("name", "id_number", "phone", "address", "agent.name"),
    "respondents": ("name", "credit_code", "legal_representative", "address", "agent.name"),
}
_INDEX = re.compile(r"^(applicants|respondents)\.(\d+)\.")
_DOMAIN_FIELD = re.compile(r"^(applicant|respondent)s?(?:\.(\d+))?\.(.+)$")


def _present(form: FormData, side: str) -> list[int]:
    """The row numbers the form holds for ``side`` (bounded: at most MAX_PARTIES + blanks)."""
    found = {int(m.group(2)) for k in form if (m := _INDEX.match(k)) and m.group(1) == side}
    return sorted(i for i in found if i < MAX_PARTIES + 50)


def rows_to_show(values: dict[str, str], side: str, blank: int) -> range:
    """How many rows a (re)displayed form offers: those filled, and one blank at least."""
    filled = [
        int(m.group(2))
        for k, v in values.items()
        if v and (m := _INDEX.match(k)) and m.group(1) == side
    ]
    return range(max(blank, (max(filled) + 2) if filled else 0))


@dataclass
class PartyRows:
    """The parties read from a submitted intake form, and where each came from."""

    applicants: list[ApplicantInput] = field(default_factory=list)
    respondents: list[RespondentInput] = field(default_factory=list)
    representatives: list[str] = field(default_factory=list)
    # the form prefix of each party read (e.g. "applicants.3" or "applicant")
    sources: dict[str, list[str]] = field(
        default_factory=lambda: {"applicants": [], "respondents": []}
    )

    def form_field(self, domain_field: str | None) -> str | None:
        """The form input that holds the value a refusal names."""
        if not domain_field:
            return domain_field
        if domain_field in self.sources:  # none given at all: the first row's name
            return f"{domain_field}.0.name"
        m = _DOMAIN_FIELD.match(domain_field)
        if m is None:
            return domain_field
        side, index, rest = m.group(1) + "s", int(m.group(2) or 0), m.group(3)
        sources = self.sources[side]
        if index >= len(sources):
            return domain_field
        return f"{sources[index]}.{rest}"


def _blank(form: FormData, prefix: str, side: str) -> bool:
    return not any(F.text(form, f"{prefix}.{name}", required=False) for name in _TYPED[side])


def _agent(form: FormData, prefix: str) -> AgentInput | None:
    name = F.text(form, f"{prefix}.agent.name", required=False)
    if not name:
        return None
    return AgentInput(name, F.choice(form, f"{prefix}.agent.kind", AgentKind))


def _rows(form: FormData, side: str) -> list[str]:
    rows = [f"{side}.{i}" for i in _present(form, side)]
    single = side[:-1]
    if not rows and f"{single}.name" in form:
        rows = [single]  # the single-party layout
    return [prefix for prefix in rows if not _blank(form, prefix, side)]


def read(r: F.Reader, received_on: date | None) -> PartyRows:
    """Every filled row of both sides, each problem collected by ``r`` under its input's
    name (``r.check()`` raises them all); at least one row of each side is required."""
    form = r.form
    out = PartyRows()
    applicant_rows = _rows(form, "applicants")
    for prefix in applicant_rows:
        name = r.read(F.text, f"{prefix}.name")
        id_number = r.read(F.checked, f"{prefix}.id_number", identifiers.validate_resident_id)
        phone = r.read(F.checked, f"{prefix}.phone", identifiers.validate_phone)
        worker = r.read(F.choice, f"{prefix}.worker_category", WorkerCategory)
        address = r.read(F.text, f"{prefix}.address", required=False)
        agent = r.read(_agent, prefix)
        if id_number is not None and received_on is not None:
            try:
                identifiers.require_born_by(id_number, received_on)
            except ValidationFailed as exc:
                r.refuse(f"{prefix}.id_number", exc.detail)
        if name and id_number and phone and worker:
            out.applicants.append(
                ApplicantInput(name, id_number, phone, worker, address or "", agent)
            )
            out.sources["applicants"].append(prefix)
            if F.text(form, f"{prefix}.representative", required=False):
                out.representatives.append(id_number)
    if not applicant_rows:
        r.read(F.text, "applicants.0.name")  # required: its refusal
    respondent_rows = _rows(form, "respondents")
    for prefix in respondent_rows:
        employer = r.read(F.text, f"{prefix}.name")
        credit = r.read(F.checked, f"{prefix}.credit_code", identifiers.validate_credit_code)
        address = r.read(F.text, f"{prefix}.address", required=False)
        legal = r.read(F.text, f"{prefix}.legal_representative", required=False)
        agent = r.read(_agent, prefix)
        if employer and credit:
            out.respondents.append(
                RespondentInput(employer, credit, address or "", agent, legal or "")
            )
            out.sources["respondents"].append(prefix)
    if not respondent_rows:
        r.read(F.text, "respondents.0.name")
    return out
