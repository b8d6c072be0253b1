"""Documents in the browser (issue 17): a clerk issues an entrustment letter and the case's
mediator the agreement from the case page's 文书 section; both PDFs download with the
recorded SHA-256; the case page prints without navigation, forms or the 文书 form."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser import given
from tests.browser.conftest import SCREENSHOTS, Site
from tests.support.factories import MEDIATOR


def _issue_and_download(page: Page, site: Site, case_id: object, title: str) -> bytes:
    section = page.locator("#documents")
    section.get_by_label("出具文书").select_option(label=title)
    section.get_by_role("button", name="出具文书").click()
    expect(page.locator(".notice")).to_contain_text("出具文书")
    row = page.locator("#documents tbody tr", has_text=title)
    expect(row).to_have_count(1)
    with page.expect_download() as info:
        row.get_by_role("link", name="PDF").click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    data = Path(download.path()).read_bytes()
    case = site.system.app.get_case(case_id)  # type: ignore[attr-defined]
    recorded = next(d for d in case.documents if row.inner_text().find(d.number) >= 0)
    assert hashlib.sha256(data).hexdigest() == recorded.sha256
    assert data.startswith(b"%PDF")
    return data


def test_clerk_and_mediator_issue_and_download_documents(page_for, site: Site) -> None:  # type: ignore[no-untyped-def]
    case_id = given.in_mediation(site)
    clerk: Page = page_for("clerk")
    clerk.goto(f"{site.base_url}/cases/{case_id}")
    options = clerk.locator("#documents").get_by_label("出具文书").locator("option")
    assert "委托调解函" in options.all_inner_texts()
    assert "调解建议书" not in options.all_inner_texts()  # not while in mediation
    _issue_and_download(clerk, site, case_id, "委托调解函")

    app = site.system.app  # type: ignore[attr-defined]
    app.record_session(MEDIATOR, case_id, held_on=site.today, summary="双方到场")
    app.sign_agreement(
        MEDIATOR,
        case_id,
        signed_on=site.today,
        amount=Decimal("6000.00"),
        performance_due_on=site.today + timedelta(days=10),
        terms="被申请人于十日内一次性支付",
    )
    site.system.catch_up()  # type: ignore[attr-defined]

    mediator: Page = page_for("mediator")
    mediator.goto(f"{site.base_url}/cases/{case_id}")
    kinds = mediator.locator("#documents").get_by_label("出具文书").locator("option")
    assert kinds.all_inner_texts()[1:] == ["劳动争议调解协议书"]  # the studio's own only
    _issue_and_download(mediator, site, case_id, "劳动争议调解协议书")
    docx = mediator.locator("#documents tbody tr", has_text="委托调解函")
    with mediator.expect_download() as info:
        docx.get_by_role("link", name="DOCX（可编辑）").click()
    assert info.value.suggested_filename.endswith(".docx")

    # print: the case page on A4 without navigation or forms, the timeline on its own page
    clerk.goto(f"{site.base_url}/cases/{case_id}")
    clerk.emulate_media(media="print")
    expect(clerk.locator("header.top")).to_be_hidden()
    expect(clerk.locator("form.issue-document")).to_be_hidden()
    expect(clerk.locator("#documents")).to_be_visible()
    clerk.screenshot(path=str(SCREENSHOTS / "case-print.png"), full_page=True)
    pdf = clerk.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
