"""``python -m bench.documents [--rounds N] [--out DIR]``: the seven document kinds rendered
by Typst (the engine the system uses) and by WeasyPrint, side by side: median render time
and output size per kind, and their ratios (WeasyPrint ÷ Typst). With ``--out`` the Typst
PDFs are written there (``docs/documents/`` keeps their first pages as PNG).

Both engines render the same blocks from the same template files, with the same fonts.
ReportLab was not measured: it has no template files (layouts are Python code), which the
issue rules out ("templates are files a clerk's office could adapt").
"""

from __future__ import annotations

import argparse
import base64
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.documents.render import TEMPLATES, Templates, TypstEngine, qr_svg
from mediation.application import MediationApplication
from mediation.document_store import files_of
from mediation.documents import DocumentKind
from mediation.issuing import facts_of, issue_document
from mediation.settings import persistence_env
from mediation.values import FailureReason, Party
from tests.support.factories import (
    CLERK,
    MEDIATOR,
    ApplicantInput,
    Claim,
    ClaimCategory,
    RespondentInput,
    Route,
    WorkerCategory,
    credit_code,
    ready_for_entrustment,
    resident_id,
    studio_with_mediator,
)

D0 = date(2026, 3, 2)


def weasyprint_engine(templates: Templates) -> Callable[[Mapping[str, Any]], bytes]:
    from weasyprint import HTML

    env = Environment(
        loader=FileSystemLoader(TEMPLATES / "default"), autoescape=select_autoescape(["html"])
    )

    def render(facts: Mapping[str, Any]) -> bytes:
        html = env.get_template("layout.html").render(
            facts=facts,
            blocks=templates.blocks(facts),
            qr=base64.b64encode(qr_svg(str(facts["verify_url"])).encode()).decode(),
        )
        out = HTML(string=html).write_pdf()
        assert out is not None
        return bytes(out)

    return render


def _case(app: MediationApplication, studio: UUID, mediator: UUID, kind: DocumentKind) -> UUID:
    """A case in the state the kind needs (one claim of wages, one of overtime)."""
    case = app.receive_case(
        CLERK,
        region_code="420102",
        received_on=D0,
        applicant=ApplicantInput(
            "张三", resident_id(11), "13800138000", WorkerCategory.DELIVERY_RIDER
        ),
        respondent=RespondentInput("武汉某某即时配送服务有限公司", credit_code(11)),
        claims=[
            Claim(ClaimCategory.REMUNERATION, Decimal("12800.00")),
            Claim(ClaimCategory.WORKING_CONDITIONS, Decimal("3600.00")),
        ],
    )
    cid = case.id
    K = DocumentKind
    if kind in (K.MEDIATION_SUGGESTION, K.SERVICE_RECEIPT):
        return cid
    if kind is K.ACCEPTANCE_NOTICE:
        app.decide_acceptance(CLERK, cid, on=D0 + timedelta(days=2), accepted=True)
        return cid
    if kind is K.NON_ACCEPTANCE_NOTICE:
        app.decide_acceptance(
            CLERK,
            cid,
            on=D0 + timedelta(days=2),
            accepted=False,
            reason="申请人与被申请人之间的争议不属于劳动人事争议处理范围",
        )
        return cid
    ready_for_entrustment(app, cid, D0 + timedelta(days=1))
    app.entrust(CLERK, cid, studio_id=studio, route=Route.PRE_FILING, on=D0 + timedelta(days=2))
    app.assign_mediator(CLERK, cid, mediator_id=mediator, on=D0 + timedelta(days=3))
    if kind is K.ENTRUSTMENT_LETTER:
        return cid
    app.record_session(MEDIATOR, cid, held_on=D0 + timedelta(days=5), summary="双方到场")
    if kind is K.MEDIATION_ENDED_NOTICE:
        app.fail(
            MEDIATOR,
            cid,
            on=D0 + timedelta(days=8),
            reason="双方对加班费计算基数分歧较大",
            reason_code=FailureReason.NO_AGREEMENT,
        )
        return cid
    app.sign_agreement(
        MEDIATOR,
        cid,
        signed_on=D0 + timedelta(days=8),
        amount=Decimal("11000.00"),
        performance_due_on=D0 + timedelta(days=20),
        terms="被申请人通过银行转账支付至申请人账户。\n双方就本案争议再无其他纠纷。",
        obligor=Party.RESPONDENT,
    )
    return cid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = MediationApplication(
            persistence_env(f"sqlite:///{Path(tmp) / 'b.sqlite3'}"),
            clock=lambda: datetime(2026, 12, 20, 8, 0, tzinfo=UTC),
        )
        studio, mediator = studio_with_mediator(app)
        templates = Templates()
        typst_engine = TypstEngine(templates)
        weasy = weasyprint_engine(templates)
        files = files_of(app, app.env)
        rows = []
        for kind in DocumentKind:
            cid = _case(app, studio, mediator, kind)
            if kind is DocumentKind.SERVICE_RECEIPT:
                issue_document(
                    app,
                    CLERK,
                    cid,
                    kind=DocumentKind.MEDIATION_SUGGESTION,
                    on=D0,
                    render=typst_engine,
                    files=files,
                    verify_base="https://example.invalid",
                )
            _, doc = issue_document(  # renders once: fonts cached before the timings
                app,
                CLERK,
                cid,
                kind=kind,
                on=date(2026, 3, 20),
                render=typst_engine,
                files=files,
                verify_base="http://127.0.0.1:8000",
            )
            facts = facts_of(
                app,
                app.get_case(cid),
                kind=kind,
                number=doc.number,
                issued_on=doc.issued_on,
                verification_code=doc.verification_code,
                verify_url=f"http://127.0.0.1:8000/verify/{doc.verification_code}",
            )
            times: dict[str, list[float]] = {"typst": [], "weasyprint": []}
            sizes: dict[str, int] = {}
            for r in range(args.rounds):
                order: list[tuple[str, Callable[[Mapping[str, Any]], Any]]] = [
                    ("typst", typst_engine.pdf),
                    ("weasyprint", weasy),
                ]
                for name, render in order if r % 2 == 0 else reversed(order):
                    t = time.perf_counter()
                    pdf = render(facts)
                    times[name].append(time.perf_counter() - t)
                    sizes[name] = len(pdf)
                    if name == "typst" and args.out:
                        args.out.mkdir(parents=True, exist_ok=True)
                        (args.out / f"{kind.value}.pdf").write_bytes(pdf)
            same = typst_engine.pdf(facts) == typst_engine.pdf(facts)
            t_ms = statistics.median(times["typst"]) * 1000
            w_ms = statistics.median(times["weasyprint"]) * 1000
            rows.append((kind.value, t_ms, w_ms, sizes["typst"], sizes["weasyprint"], same))
        app.close()
    print(
        f"{'kind':24} {'typst ms':>9} {'weasy ms':>9} {'ratio':>6} "
        f"{'typst KB':>9} {'weasy KB':>9} {'ratio':>6} deterministic"
    )
    for kind, t_ms, w_ms, ts, ws, same in rows:
        print(
            f"{kind:24} {t_ms:9.1f} {w_ms:9.1f} {w_ms / t_ms:6.2f} "
            f"{ts / 1024:9.1f} {ws / 1024:9.1f} {ws / ts:6.2f} {same}"
        )
    tt = sum(r[1] for r in rows)
    wt = sum(r[2] for r in rows)
    print(f"{'all seven':24} {tt:9.1f} {wt:9.1f} {wt / tt:6.2f}")


if __name__ == "__main__":
    main()
