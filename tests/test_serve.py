"""Several replicas behind nginx (tools/serve.py, `make serve`): sticky sessions through the load balancer, a replica
killed under a session, the health checks taking it out and putting it back, and a clean stop on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import require_browser
from tools import pagedriver, serve

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.e2e, pytest.mark.full]


def require_nginx() -> None:
    if serve.nginx_path() is None:
        if os.environ.get("REQUIRE_E2E") == "1":
            raise RuntimeError(f"REQUIRE_E2E=1 but nginx is missing: {serve.NGINX_HINT}")
        pytest.skip(f"no nginx: {serve.NGINX_HINT}")


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise TimeoutError(f"{what} within {timeout:.0f} s")


def test_two_replicas_keep_their_sessions_and_a_killed_one_loses_nobody():
    require_browser()
    require_nginx()
    from classroom.drawings import DrawingsStore

    store = DrawingsStore(os.environ["DRAWINGS_DB"])  # the tests' store, which every replica is given
    saved_before = store.count()
    with serve.Cluster(2, pagedriver.free_port(), restart=False) as cluster, \
            cluster.watched(interval=0.5) as changes, pagedriver.browser() as b:
        pages: dict[str, object] = {}
        for _ in range(12):  # each browser gets a random cookie: open sessions until both replicas hold one
            page, _ = pagedriver.open_page(b.new_context(viewport={"width": 1280, "height": 800}), cluster.url)
            pages.setdefault(pagedriver.replica_of(page), page)
            if len(pages) == 2:
                break
        assert sorted(pages) == ["0", "1"], f"sessions landed on replicas {sorted(pages)} only"
        doomed, other = pages["0"], pages["1"]
        for page, digit in ((doomed, 3), (other, 7)):
            pagedriver.draw_digit(page, digit)
        assert pagedriver.wait_for_prediction(doomed, timeout=60)[0] == "3"
        assert pagedriver.wait_for_prediction(other, timeout=60)[0] == "7"
        assert [pagedriver.replica_of(p) for p in (doomed, other)] == ["0", "1"]  # sticky: assets, health, stream

        pagedriver.turn_saving_on(doomed)
        pagedriver.label_reading(doomed, 3, "3")
        doomed.get_by_text("Labelled as 3 (saved on the server)").wait_for(timeout=30_000)
        assert store.count() == saved_before + 1

        cluster.members[0].proc.kill()  # as a crash would: no goodbye to its sessions
        wait_until(lambda: any("replica 0" in c and "taken out" in c for c in changes), 10, "replica 0 not taken out")
        pagedriver.clear(other, timeout=60)  # the session on the live replica goes on as if nothing happened
        pagedriver.draw_digit(other, 4)
        assert pagedriver.wait_for_prediction(other, "4", timeout=60)[0] == "4"
        assert pagedriver.replica_of(other) == "1"

        # the session that was on the dead replica reconnects through nginx to the live one and reads its next digit
        assert wait_until(lambda: pagedriver.replica_of(doomed) == "1", 30, "the session did not move to replica 1")
        pagedriver.clear(doomed, timeout=60)
        pagedriver.draw_digit(doomed, 5)
        assert pagedriver.wait_for_prediction(doomed, "5", timeout=60)[0] == "5"
        assert pagedriver.error_elements(doomed) == [] and pagedriver.error_elements(other) == []
        assert store.count() == saved_before + 1  # the drawing it saved is in the shared store still

        cluster.restart = True  # the health checks start the dead replica again and put it back
        wait_until(lambda: any("replica 0" in c and "put back" in c for c in changes), 90, "replica 0 not put back")
        assert serve.healthy(cluster.members[0].port)
    store.close()


def test_a_slow_replica_is_taken_out_only_after_three_failed_checks_and_never_the_last_one():
    require_nginx()
    with serve.Cluster(2, pagedriver.free_port(), restart=False) as cluster:
        first, second = cluster.members
        os.kill(second.proc.pid, signal.SIGSTOP)  # running, but answering nothing: as a replica stuck in work
        try:
            assert cluster.check() == [] and cluster.check() == []  # two failed checks: still in service
            assert cluster.check() == [f"replica 1 (port {second.port}) stopped answering: taken out"]
            assert "down;" in (cluster.tmp / "nginx.conf").read_text()
            # nginx sends everyone to the replica left, once its reload has started new workers
            wait_until(lambda: serve.healthy(cluster.port), 15, "nginx did not answer with one replica left")
            os.kill(first.proc.pid, signal.SIGSTOP)  # now the last one in service stops answering too
            try:
                assert [cluster.check() for _ in range(4)] == [[]] * 4 and first.up  # kept: nginx needs someone
            finally:
                os.kill(first.proc.pid, signal.SIGCONT)
        finally:
            os.kill(second.proc.pid, signal.SIGCONT)
        assert cluster.check() == [f"replica 1 (port {second.port}) answers again: put back"]
        assert "down;" not in (cluster.tmp / "nginx.conf").read_text()


def test_make_serve_starts_the_replicas_and_ctrl_c_stops_everything():
    require_nginx()
    port = pagedriver.free_port()
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "serve", "REPLICAS=2", f"PORT={port}", f"VENV={sys.prefix}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    lines: list[str] = []
    try:
        for line in proc.stdout:  # until it says it is serving
            lines.append(line)
            if "serving on" in line or proc.poll() is not None:
                break
        out = "".join(lines)
        assert "serving on" in out, out
        assert serve.healthy(port)
        replica_ports = [int(p) for p in re.search(r"local ports ([\d, ]+)\)", out).group(1).split(", ")]
        assert len(replica_ports) == 2 and all(serve.healthy(p) for p in replica_ports)
        tmp = Path(re.search(r"temporary files in (\S+)\)", out).group(1))
        assert (tmp / "nginx.conf").is_file()

        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the terminal: the whole foreground group gets it
        rest, _ = proc.communicate(timeout=60)
        assert "stopped nginx and every replica" in rest, rest
        assert not any(serve.healthy(p) for p in [port, *replica_ports])
        assert not tmp.exists()
        with pytest.raises(ProcessLookupError):  # nothing it started is left, in its process group or elsewhere
            os.killpg(proc.pid, 0)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_if_nginx_dies_serve_stops_the_replicas_and_says_so():
    require_nginx()
    import psutil

    proc = subprocess.Popen([sys.executable, "-m", "tools.serve", "--replicas", "1", "--port",
                             str(pagedriver.free_port()), "--host", "127.0.0.1"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "serving on" in line:
                break
        replica_port = int(re.search(r"local ports (\d+)\)", "".join(lines)).group(1))
        (nginx,) = [c for c in psutil.Process(proc.pid).children() if c.name() == "nginx"]
        nginx.kill()
        rest, _ = proc.communicate(timeout=60)
        assert proc.returncode == 1
        assert "error: nginx stopped" in rest and "stopped nginx and every replica" in rest
        assert not serve.healthy(replica_port)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_says_what_is_missing_and_refuses_wrong_flags(monkeypatch, capsys):
    monkeypatch.setattr(serve, "nginx_path", lambda: None)
    assert serve.main(["--replicas", "2"]) == 2
    assert "nginx is not installed" in capsys.readouterr().err and "apt-get install nginx" in serve.NGINX_HINT
    for wrong in (["--replicas", "0"], ["--port", "70000"], ["--replicas", "two"]):
        with pytest.raises(SystemExit) as e:
            serve.main(wrong)
        assert e.value.code == 2


def _get(port: int, path: str, source: str, conn=None):
    """A GET to nginx from the loopback address `source` (any 127.x.y.z is this machine's): (status, headers)."""
    import http.client

    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    conn.request("GET", path)
    r = conn.getresponse()
    r.read()
    return r.status, dict(r.getheaders()), conn


def test_nginx_tells_strangers_nothing_and_limits_each_address():
    """nginx said its version, which replica answered and served Streamlit's metrics to anyone, and limited nothing
    per client. Requests from 127.0.0.2 and 127.0.0.3 stand for other machines: this one's own address is 127.0.0.1."""
    require_nginx()
    with serve.Cluster(1, pagedriver.free_port()) as cluster:
        status, headers, _ = _get(cluster.port, "/", "127.0.0.1")
        assert status == 200 and headers["Server"] == "nginx" and headers.get("X-Replica") == "0"
        status, headers, _ = _get(cluster.port, "/", "127.0.0.2")
        assert status == 200 and headers["Server"] == "nginx" and "X-Replica" not in headers
        assert _get(cluster.port, "/_stcore/metrics", "127.0.0.2")[0] == 403
        assert _get(cluster.port, "/_stcore/metrics", "127.0.0.1")[0] != 403
        statuses, conn = [], None
        for _ in range(3000):  # as fast as one connection goes: far over 100 a second after a burst of 2,000
            status, _, conn = _get(cluster.port, "/_stcore/health", "127.0.0.3", conn)
            statuses.append(status)
        assert set(statuses[:2000]) == {200} and statuses.count(429) > 0, statuses.count(429)
        assert _get(cluster.port, "/_stcore/health", "127.0.0.4")[0] == 200  # another address is not held back
        for _ in range(3000):  # the serving machine itself is not limited
            status, _, conn = _get(cluster.port, "/_stcore/health", "127.0.0.1", None if _ == 0 else conn)
            assert status == 200
        print(f"\n3,000 requests from one address: {statuses.count(429)} refused with 429")
