"""Document numbers (issue 17): racing issues in threads get consecutive, unique 文号 per
commission, category and year, on both backends; a refused issue takes no number."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from api.documents.render import TypstEngine
from mediation.application import MediationApplication
from mediation.document_store import files_of
from mediation.documents import DocumentKind
from mediation.errors import InvalidTransition
from mediation.issuing import issue_document
from tests.support.factories import CLERK, new_case


def test_racing_issues_get_gap_free_unique_numbers(app: MediationApplication) -> None:
    engine, files = TypstEngine(), files_of(app, app.env)
    cases = [new_case(app).id for _ in range(6)]

    def issue(case_id: object) -> str:
        _, doc = issue_document(
            app,
            CLERK,
            case_id,  # type: ignore[arg-type]
            kind=DocumentKind.MEDIATION_SUGGESTION,
            on=date(2026, 3, 5),
            render=engine,
            files=files,
            verify_base="http://test",
        )
        return doc.number

    with ThreadPoolExecutor(max_workers=3) as pool:
        numbers = list(pool.map(issue, cases))
    seq = sorted(int(n.split("第")[1].rstrip("号")) for n in numbers)
    assert seq == list(range(1, 7)), numbers
    with pytest.raises(InvalidTransition):  # an acceptance notice before acceptance
        issue_document(
            app,
            CLERK,
            cases[0],
            kind=DocumentKind.ACCEPTANCE_NOTICE,
            on=date(2026, 3, 5),
            render=engine,
            files=files,
            verify_base="http://test",
        )
    _, doc = issue_document(
        app,
        CLERK,
        new_case(app).id,
        kind=DocumentKind.MEDIATION_SUGGESTION,
        on=date(2026, 3, 6),
        render=engine,
        files=files,
        verify_base="http://test",
    )
    assert doc.number.endswith("第7号")
    for case_id in cases:  # every recorded hash has its bytes
        d = app.get_case(case_id).documents[-1]
        pdf = files.pdf(d.sha256)
        assert pdf is not None and pdf.startswith(b"%PDF")
