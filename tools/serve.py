"""Serve the page from several replicas behind nginx, on one machine: `make serve REPLICAS=4 PORT=8080`.

One Streamlit process runs every session in one Python process, so it uses about one core. This starts N identical
`streamlit run app.py` replicas on local ports and Debian's nginx in front of them on PORT:

- sticky sessions by a cookie: a browser's first request gets a random `replica` cookie and nginx hashes it to a
  replica (`hash $cookie consistent`), so each tab's page, assets and websocket go to one replica. A cookie rather
  than `ip_hash`: a whole school behind one address would otherwise land on one replica;
- websockets proxied (Streamlit's `/_stcore/stream`), closed after 10 minutes of silence (Streamlit pings them);
- strangers told little: no nginx version, the answering replica (X-Replica) and Streamlit's metrics only to this
  machine itself; each other client address limited to 256 requests at once and 100 a second (bursts of 2,000);
- health: every second each replica's `/_stcore/health` is asked. One whose process ended, or that fails three
  checks in a row, is marked `down` in nginx (a reload, no dropped connection), restarted if its process ended, and
  put back once it answers again; the last one in service stays in while it runs. Between two checks nginx's own
  `max_fails` takes a replica out on its first refused connection;
- one drawings store for all: $DRAWINGS_DB (PostgreSQL for several machines), else the SQLite file under data/,
  which processes on one machine share safely (WAL mode).

Ctrl-C (or SIGTERM) stops nginx and every replica and removes the temporary folder; nothing is left running.

    python -m tools.serve --replicas 4 --port 8080
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.pagedriver import free_port  # noqa: E402
from ui.serving import BEHIND_PROXY  # noqa: E402

NGINX_HINT = "install Debian's nginx package (apt-get install nginx); make serve starts it itself, as you"
FAILS_BEFORE_OUT = 3  # health checks in a row a running replica may fail before it is taken out

NGINX_CONF = """\
# Written by tools/serve.py for this run; removed when it stops.
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    access_log off;
    server_tokens off;  # "nginx", not its version

    # Per client address: at most 256 requests at once (a page and its websocket are two; a school behind one
    # address is a few hundred), and 100 a second with bursts of 2,000 (a page's first load is about 30, so a class
    # of 60 loading at once); above either, 429 Too Many Requests. The serving machine itself is not limited.
    geo $limited {{ default 1; 127.0.0.1 0; ::1 0; }}
    map $limited $limit_key {{ 0 ""; 1 $binary_remote_addr; }}
    limit_conn_zone $limit_key zone=per_address:10m;
    limit_req_zone $limit_key zone=requests:10m rate=100r/s;
    limit_conn_status 429;
    limit_req_status 429;

    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    # The sticky key: the browser's replica cookie, or a new random one on its first request (set below).
    map $cookie_replica $sticky {{ "" $request_id; default $cookie_replica; }}
    map $cookie_replica $new_cookie {{ "" "replica=$request_id; Path=/; HttpOnly; SameSite=Lax"; default ""; }}
    # Which replica answered, by number (never its address): the X-Replica header, for people running the servers,
    # so only to requests from this machine itself (an empty value sends no header).
    map $upstream_addr $replica_number {{
{numbers}
        default "-";
    }}
    map $remote_addr $replica_shown {{ "127.0.0.1" $replica_number; "::1" $replica_number; default ""; }}

    upstream replicas {{
        hash $sticky consistent;
{servers}
    }}
    server {{
        listen {host}:{port};
        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_next_upstream error timeout http_502 http_503;
        proxy_connect_timeout 2s;
        # Large answers (Plotly's script is megabytes) pass straight through rather than into temporary files,
        # which nginx's workers, run as another user when started as root, could not write here.
        proxy_max_temp_file_size 0;
        add_header Set-Cookie $new_cookie always;
        add_header X-Replica $replica_shown always;
        limit_conn per_address 256;
        limit_req zone=requests burst=2000 nodelay;
        location / {{
            proxy_pass http://replicas;
        }}
        # Streamlit's memory and session figures, for the people running the servers: from this machine only
        location = /_stcore/metrics {{
            allow 127.0.0.1;
            allow ::1;
            deny all;
            proxy_pass http://replicas;
        }}
        location /_stcore/stream {{
            proxy_pass http://replicas;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            # Streamlit pings each open websocket, so only a connection silent this long is closed (the page then
            # reconnects by itself)
            proxy_read_timeout 10m;
            proxy_send_timeout 10m;
        }}
    }}
}}
"""


def nginx_path() -> str | None:
    """nginx on the PATH, or where Debian puts it (/usr/sbin, off a plain user's PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


def healthy(port: int, timeout: float = 2) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


@dataclass
class Replica:
    number: int
    port: int
    log: Path
    proc: subprocess.Popen | None = None
    up: bool = False  # in nginx's upstream as a live server
    fails: int = 0  # health checks failed in a row

    def start(self) -> None:
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(self.port), "--server.address", "127.0.0.1",
               "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
        with open(self.log, "ab") as log:
            # only nginx reaches a replica: the address it passes on is the visitor's (ui/serving.py)
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1", BEHIND_PROXY: "1"},
                                         stdout=log, stderr=subprocess.STDOUT)


@dataclass
class Cluster:
    replicas: int
    port: int
    host: str = "127.0.0.1"
    restart: bool = True  # start a replica again when its process ends (off: it stays out, as a lost machine would)
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="digit-serve-")))
    members: list[Replica] = field(default_factory=list)
    nginx: subprocess.Popen | None = None
    nginx_bin: str | None = None

    @property
    def url(self) -> str:
        return f"http://{'127.0.0.1' if self.host in ('0.0.0.0', '::') else self.host}:{self.port}/"

    def write_conf(self) -> Path:
        servers = "\n".join(
            f"        server 127.0.0.1:{r.port} max_fails=1 fail_timeout=3s{'' if r.up else ' down'};"
            for r in self.members
        )
        conf = self.tmp / "nginx.conf"
        # the last address tried: after a failed try, nginx lists every replica it tried ("a, b")
        numbers = "\n".join(f'        "~127\\.0\\.0\\.1:{r.port}$" "{r.number}";' for r in self.members)
        conf.write_text(NGINX_CONF.format(tmp=self.tmp, servers=servers, numbers=numbers, host=self.host,
                                          port=self.port))
        return conf

    def start(self, timeout: float = 120) -> None:
        self.nginx_bin = nginx_path()
        if self.nginx_bin is None:
            raise RuntimeError(f"nginx is not installed: {NGINX_HINT}")
        self.members = [Replica(i, free_port(), self.tmp / f"replica-{i}.log") for i in range(self.replicas)]
        for r in self.members:
            r.start()
        deadline = time.monotonic() + timeout
        while not all(r.up for r in self.members):
            for r in self.members:
                if r.proc.poll() is not None:
                    raise RuntimeError(f"replica {r.number} exited with code {r.proc.returncode}:\n{self.tail(r)}")
                r.up = r.up or healthy(r.port, timeout=0.5)
            if time.monotonic() > deadline:
                raise TimeoutError(f"replicas did not answer within {timeout:.0f} s")
            time.sleep(0.2)
        conf = self.write_conf()
        check = subprocess.run([self.nginx_bin, "-t", "-q", "-c", str(conf), "-p", str(self.tmp)],
                               capture_output=True, text=True)
        if check.returncode:
            raise RuntimeError(f"nginx refused the configuration:\n{check.stderr}")
        with open(self.tmp / "nginx.out", "wb") as out:
            self.nginx = subprocess.Popen([self.nginx_bin, "-c", str(conf), "-p", str(self.tmp)],
                                          stdout=subprocess.DEVNULL, stderr=out)
        while not healthy(self.port):
            if self.nginx.poll() is not None:
                raise RuntimeError(f"nginx exited: {(self.tmp / 'nginx.out').read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"nginx did not answer on port {self.port}")
            time.sleep(0.1)

    def tail(self, r: Replica, chars: int = 2000) -> str:
        return r.log.read_text(errors="replace")[-chars:] if r.log.exists() else ""

    def reload(self) -> None:
        self.write_conf()
        self.nginx.send_signal(signal.SIGHUP)  # new workers with the new upstream; open websockets stay

    def check(self) -> list[str]:
        """One round of health checks; what changed, in words.

        A replica whose process has ended is taken out at once. One that is running but does not answer within 2 s
        is taken out after FAILS_BEFORE_OUT checks in a row: a replica busy with a class is slow, not dead. The last
        replica in service is never taken out while its process runs (with none, nginx could only answer 502)."""
        changed = []
        for r in self.members:
            code = r.proc.poll()
            answers = code is None and healthy(r.port, timeout=2)
            r.fails = 0 if answers else r.fails + 1
            in_service = sum(m.up for m in self.members)
            if r.up and code is not None:
                r.up = False
                changed.append(f"replica {r.number} (port {r.port}) exited with code {code}: taken out")
            elif r.up and r.fails >= FAILS_BEFORE_OUT and in_service > 1:
                r.up = False
                changed.append(f"replica {r.number} (port {r.port}) stopped answering: taken out")
            elif not r.up and answers:
                r.up = True
                changed.append(f"replica {r.number} (port {r.port}) answers again: put back")
            if code is not None and self.restart:
                r.fails = 0
                r.start()
                changed.append(f"replica {r.number} restarted (its log: {r.log})")
        if changed:
            self.reload()
        return changed

    @contextmanager
    def watched(self, interval: float = 1.0, log=print):
        """Health checks every `interval` seconds in a thread while the block runs; yields the list of changes."""
        changes: list[str] = []
        done = threading.Event()

        def loop():
            while not done.wait(interval):
                for line in self.check():
                    changes.append(line)
                    log(line)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        try:
            yield changes
        finally:
            done.set()
            thread.join()

    def stop(self) -> None:
        procs = [p for p in [self.nginx, *(r.proc for r in self.members)] if p is not None]
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGQUIT if p is self.nginx else signal.SIGTERM)
        deadline = time.monotonic() + 10
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> "Cluster":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.serve", description=__doc__.splitlines()[0])
    p.add_argument("--replicas", type=int, default=os.cpu_count() or 1, help="streamlit processes (default: cores)")
    p.add_argument("--port", type=int, default=8080, help="where nginx listens (default 8080)")
    p.add_argument("--host", default="0.0.0.0", help="address nginx listens on (default: every interface)")
    args = p.parse_args(argv)
    if args.replicas < 1:
        p.error("--replicas must be at least 1")
    if not 1 <= args.port <= 65535:
        p.error("--port must be between 1 and 65535")
    if nginx_path() is None:
        print(f"error: nginx is not installed: {NGINX_HINT}", file=sys.stderr)
        return 2
    from classroom.drawings import ENV_TEACHER_KEY, DrawingsStore, key_problem, store_url

    problem = key_problem(os.environ.get(ENV_TEACHER_KEY))
    if problem:
        print(f"error: {problem}; or leave {ENV_TEACHER_KEY} unset for no teacher's controls", file=sys.stderr)
        return 2
    store = DrawingsStore(store_url())
    print(f"drawings store for every replica: {getattr(store, 'where', store_url())}"
          + (f" (saving is off: {store.problem})" if store.problem else ""), flush=True)
    store.close()

    def interrupt(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # as Ctrl-C: stop everything
    cluster = Cluster(args.replicas, args.port, args.host)
    try:
        print(f"starting {args.replicas} replicas and nginx (temporary files in {cluster.tmp}) ...", flush=True)
        cluster.start()
        ports = ", ".join(str(r.port) for r in cluster.members)
        print(f"serving on {cluster.url} : {args.replicas} replicas (local ports {ports}), sticky by cookie; "
              "Ctrl-C stops everything", flush=True)
        with cluster.watched(log=lambda line: print(line, flush=True)):
            while cluster.nginx.poll() is None:
                time.sleep(1)
        errors = cluster.tmp / "nginx-error.log"
        said = errors.read_text(errors="replace")[-1000:] if errors.exists() else ""
        print(f"error: nginx stopped (code {cluster.nginx.returncode}); the replicas are stopped too. {said}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    except (RuntimeError, TimeoutError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        cluster.stop()
        print("stopped nginx and every replica", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
