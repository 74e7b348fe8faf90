"""Phone-sized screens (#16.6, 390 × 844): after asking, the answer is in view; the open
evidence card shows its title; no scroll box inside the page traps the scrolling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conftest import ARTIFACTS, open_chat  # tests/browser/conftest.py

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DONE = "#ef-transcript .ef-turn:last-of-type :is(.ef-foot, .ef-error)"

# Elements (other than the page itself) that scroll on their own: overflow auto/scroll and
# content taller than the box. A phone user's swipe inside one scrolls it, not the page.
NESTED_SCROLLERS = """() => [...document.querySelectorAll('body *')].filter(el => {
  const s = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  return /(auto|scroll)/.test(s.overflowY) && el.scrollHeight > el.clientHeight + 2
    && r.width > 0 && r.height > 0 && el.tagName !== 'TEXTAREA';
}).map(el => (el.id ? '#' + el.id : el.tagName.toLowerCase()) + '.' + [...el.classList].join('.')
              + ' ' + el.clientHeight + '/' + el.scrollHeight)"""


@pytest.fixture
def phone(browser: Any, app_url: str) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="nl-NL")
    try:
        yield open_chat(context, app_url)
    finally:
        context.close()


def in_view(page: Any, selector: str) -> bool:
    """Whether the top of the element is inside the viewport."""
    return bool(page.evaluate("""(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
        return r.top >= 0 && r.top < window.innerHeight && r.bottom > 0; }""", selector))


def ask(page: Any, question: str) -> None:
    page.locator("#ef-question textarea, #ef-question input").first.fill(question)
    page.click("#ef-ask")
    page.wait_for_selector(DONE)
    page.wait_for_timeout(600)  # let the scroll into view settle


def test_phone_answer_in_view_card_title_and_no_nested_scrolling(phone: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "phone-start.png"))
    ask(phone, "what hinders KA2 applications in teacher training")
    phone.screenshot(path=str(ARTIFACTS / "phone-after-ask.png"))
    last = "#ef-transcript .ef-turn:last-of-type .ef-bot .ef-answer"
    assert in_view(phone, last), "the answer is not in view after asking"
    assert phone.evaluate(NESTED_SCROLLERS) == []

    phone.locator("#ef-transcript .ef-turn:last-of-type .ef-answer a.ef-cite").first.click()
    card = "#ef-evidence details.ef-card.ef-selected[open]"
    phone.wait_for_selector(card)
    phone.wait_for_timeout(800)
    phone.screenshot(path=str(ARTIFACTS / "phone-evidence-open.png"))
    assert in_view(phone, f"{card} .ef-title"), "the open card's title is not in view"
    title = phone.locator(f"{card} .ef-title")
    assert title.inner_text() == "Internationalisering op de pabo" and title.is_visible()
    assert phone.evaluate(NESTED_SCROLLERS) == []
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways ({width}px)"
    phone.screenshot(path=str(ARTIFACTS / "phone-full.png"), full_page=True)
    assert not phone.js_errors
