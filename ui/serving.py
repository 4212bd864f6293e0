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

from datetime import timedelta

import streamlit as st


@st.fragment(run_every=timedelta(hours=1))
def rerun_on_reconnect() -> None:
    """Draws nothing; its timer makes a reconnected page ask its new session for a full run."""
