"""What the page needs to be served from several replicas (tools/serve.py): nothing to see, one behaviour to fix.

When a tab's websocket drops (its replica died, or the one server restarted) the browser reconnects, through the load
balancer, to a live replica, which knows nothing of the tab: it starts a new session. Streamlit's page asks the new
session for a full run on reconnecting only in some cases (the last run was a fragment's, or the page holds a fragment
that reruns on a timer). After a full run it does not, and the new session then drops every click and stroke, because
they name fragments it never ran: the page looks alive and answers nothing until it is reloaded.

A fragment on a timer is one of those cases, so the page carries one that draws nothing and, once an hour, does
nothing. A reconnected tab is then run again at once, with the drawing still on its canvas: the visitor sees their
reading come back, and the next stroke is read by the new replica.
"""

from __future__ import annotations

import os
from datetime import timedelta

import streamlit as st

BEHIND_PROXY = "DIGITS_BEHIND_PROXY"  # set by tools/serve.py for its replicas, which only its nginx reaches
LOOPBACK = ("127.0.0.1", "::1")


def client_address() -> str:
    """The visitor's address, for limits per client: the one the proxy saw (the last entry its X-Forwarded-For
    appends) when the page runs behind tools/serve.py's nginx, else the connection's own. A header a client sends
    directly is never trusted."""
    ip = st.context.ip_address
    ip = ip if isinstance(ip, str) else None  # None where there is no connection (tests without a browser)
    if os.environ.get(BEHIND_PROXY) and ip in LOOPBACK:
        forwarded = str(st.context.headers.get("X-Forwarded-For") or "").split(",")[-1].strip()
        if forwarded:
            return forwarded[:64]
    return ip or "unknown"


@st.fragment(run_every=timedelta(hours=1))
def rerun_on_reconnect() -> None:
    """Draws nothing; its timer makes a reconnected page ask its new session for a full run."""
