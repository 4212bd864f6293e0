"""The docs' claims about serving a class (docs/serving.md, and the training queue in docs/page.md), checked the way
the page's are: each number against the code or the configuration that makes it true."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = "\n".join((ROOT / "docs" / name).read_text() for name in ("serving.md", "page.md"))


def said(text: str) -> bool:
    """Whether the docs say `text`, whatever its line breaks."""
    return text in re.sub(r"\s+", " ", DOCS)


def test_the_teachers_key_rules_are_the_codes():
    from classroom.drawings import MIN_KEY_DISTINCT, MIN_KEY_LENGTH, KeyGuard

    guard = KeyGuard()
    assert said(f"Use at least {MIN_KEY_LENGTH} characters, at least {MIN_KEY_DISTINCT} of them different")
    assert said(f"(1 s, 2 s, 4 s, … up to {guard.longest_wait / 60:.0f} minutes)") and guard.first_wait == 1
    assert said(f"a server takes at most {guard.per_minute} wrong keys a minute from everyone together "
                f"({guard.per_minute * 60 * 24:,} a day)")


def test_the_stores_limits_are_the_codes():
    from classroom.drawings import ClientCap, Limits
    from ui.drawings import VISIT_SECONDS

    limits, cap = Limits(), ClientCap()
    assert said(f"A visitor keeps at most {limits.per_session} drawings and the store {limits.total:,}")
    assert said(f"One client address saves at most {cap.per_client:,} drawings a day") and cap.window == 86_400
    assert said(f"a canvas's PNG may be {limits.png_bytes // 1024} kB")
    assert said("holding the visit's random number") and said("a day long") and VISIT_SECONDS == 86_400


def test_the_queue_and_the_servers_limits_are_the_codes():
    from tools.serve import NGINX_CONF
    from ui.replay import QUEUE_EXPIRE_S

    assert said(f"loses its place after {QUEUE_EXPIRE_S:g} s") and said("one place per address")
    assert "limit_conn per_address 256;" in NGINX_CONF and said("256 requests open at once")
    assert "rate=100r/s" in NGINX_CONF and "burst=2000" in NGINX_CONF
    assert said("make 100 a second with bursts of 2,000")
    assert "proxy_read_timeout 10m;" in NGINX_CONF and said("a websocket silent for 10 minutes is closed")
    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert said(f"when one message it sends is over {server['maxWidgetStateSize']} MB")
    assert said(f"keeps a session whose browser went away for {server['disconnectedSessionTTL']} s")
