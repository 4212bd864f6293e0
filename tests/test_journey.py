"""One visit in a real browser, in the quick tier: draw a digit with the mouse, read it, open a part.

The full tier (tests/test_e2e*.py, make test-all) walks every part, both themes, phones, and hostile clients."""

from __future__ import annotations

import pytest

from tests.conftest import require_browser
from tools import pagedriver

pytestmark = pytest.mark.e2e
require_browser()


def test_draw_a_digit_read_it_and_open_a_part():
    with pagedriver.streamlit_server() as (url, _), pagedriver.browser() as b:
        page, ready = pagedriver.open_page(b, url)
        pagedriver.draw_digit(page, 3)
        shown, seconds = pagedriver.wait_for_prediction(page)
        assert shown == "3"
        pagedriver.open_part(page, "Feature maps")
        assert page.get_by_text("conv1", exact=False).count() > 0
        assert pagedriver.error_elements(page) == []
        print(f"\npage usable in {ready:.1f} s; the 3 read {seconds * 1000:.0f} ms after mouse-up")
