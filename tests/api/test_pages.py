"""The web pages behind the session cookie: work queues and a refused roster form."""

from __future__ import annotations

from typing import Any

from api.pages.common import COOKIE
from tests.api.conftest import World


def _page(world: World, who: str, path: str, form: dict[str, str] | None = None) -> Any:
    world.client.cookies.set(COOKIE, world.tokens[who])
    try:
        if form is None:
            return world.client.get(path, follow_redirects=False)
        return world.client.post(path, data=form, follow_redirects=False)
    finally:
        world.client.cookies.clear()


def test_queues_start_again_from_the_first_page_on_a_bad_cursor(world: World) -> None:
    for who, path, heading in (
        ("clerk", "/clerk", "我的待办"),
        ("mediator", "/queue", "我的调解案件"),
    ):
        first = _page(world, who, path)
        bad = _page(world, who, f"{path}?cursor=not-a-cursor")
        assert first.status_code == bad.status_code == 200, (who, bad.text[:300])
        assert heading in bad.text
        assert bad.text.count('class="cases"') == first.text.count('class="cases"') == 2


def test_a_refused_appointment_keeps_the_form_open_with_what_was_typed(world: World) -> None:
    r = _page(
        world,
        "coordinator",
        f"/roster/{world.studio_id}/appoint",
        {"name": "赵调解", "qualification": "astrologer", "appointed_on": "2026-03-02"},
    )
    assert r.status_code == 422
    assert 'class="refusal"' in r.text
    assert "赵调解" in r.text  # the typed name is back in the form
    assert "appointed_on" in r.text and "2026-03-02" in r.text
    studio = world.system.app.get_studio(world.studio_id)
    assert [m.name for m in studio.roster.values()] == ["王调解", "李调解"]  # nothing recorded
