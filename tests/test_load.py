"""A short classroom: several browser sessions drawing at once each see their own digit, with no errors."""

from __future__ import annotations

import pytest

from tools import sessions as load
from tests.conftest import require_browser
from tools import pagedriver as driver

pytestmark = [pytest.mark.e2e, pytest.mark.full]
require_browser()


def test_four_sessions_each_see_their_own_digit():
    with driver.streamlit_server() as (url, proc):
        r = load.run(url, proc.pid, sessions=4, rounds=3, log=lambda *a: None)
    for s in r["sessions"]:
        assert s.errors == []
        assert s.seen == [str(s.digit)] * 3, (s.digit, s.seen)
    print(f"\n4 sessions x 3 strokes: median {r['median_ms']:.0f} ms, worst {r['worst_ms']:.0f} ms, "
          f"server memory {r['start_mb']:.0f} -> {r['end_mb']:.0f} MB")
