"""One live training run per server: who runs, who waits and in what order (the run itself: cnn/live.py)."""

from __future__ import annotations

import threading
import time


class LiveQueue:
    """At most one live run per server: who runs, who waits and in what order. Thread-safe.

    A session asks for its turn again and again while it waits or runs (each ask is a sign of life); one not heard
    from for `expire` seconds has left (its tab closed, or stopped listening) and loses its place, or its run. A
    client (an address) holds at most `per_client` places, waiting or running, whatever number of sessions it opens.
    """

    def __init__(self, expire: float = 15.0, per_client: int = 1, clock=time.monotonic):
        self._lock, self._expire, self._clock = threading.Lock(), expire, clock
        self.per_client = per_client
        self._waiting: list[str] = []
        self._seen: dict[str, float] = {}
        self._client: dict[str, str] = {}  # session -> the client it came from
        self.running: str | None = None

    def ask(self, session: str, client: str | None = None) -> int:
        """0: this session runs now (it may start, or go on); n > 0: it is n-th in the queue; -1: its client already
        holds all the places it may (nothing is queued)."""
        with self._lock:
            now = self._clock()
            for s in [s for s, t in self._seen.items() if now - t > self._expire and s != session]:
                self._drop(s)
            holding = self.running == session or session in self._waiting
            if not holding and client is not None:
                held = [s for s in (*self._waiting, self.running) if s is not None and self._client.get(s) == client]
                if len(held) >= self.per_client:
                    return -1
            self._seen[session] = now
            if client is not None:
                self._client[session] = client
            if self.running == session:
                return 0
            if session not in self._waiting:
                self._waiting.append(session)
            if self.running is None and self._waiting[0] == session:
                self._waiting.pop(0)
                self.running = session
                return 0
            return self._waiting.index(session) + 1

    def done(self, session: str) -> None:
        """The session's run ended or it stopped waiting: free its place."""
        with self._lock:
            self._drop(session)

    def _drop(self, session: str) -> None:
        if self.running == session:
            self.running = None
        if session in self._waiting:
            self._waiting.remove(session)
        self._seen.pop(session, None)
        self._client.pop(session, None)

    def waiting(self) -> int:
        with self._lock:
            return len(self._waiting)
