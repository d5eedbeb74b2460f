"""The local target's front door: an nginx of its own (prefix, config, pid under the
state directory) whose upstreams are rewritten and reloaded to move traffic."""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from netra.deploy.runner import Runner
from netra.settings import Service

RELOAD_TIMEOUT = 10.0

MAIN = """# Written by `netra deploy`; traffic moves by rewriting upstreams.conf and reloading.
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections {connections}; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    include {prefix}/upstreams.conf;
{servers}
}}
"""

SERVER = """    server {{
        listen {listen};
        location / {{
            proxy_pass http://netra_{service};
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_read_timeout 3600s;
            proxy_next_upstream error timeout;
        }}
    }}"""


class Nginx:
    def __init__(
        self, prefix: Path, listen: dict[Service, str], runner: Runner, connections: int = 1024
    ) -> None:
        """`connections`: nginx's worker_connections; a proxied WebSocket holds two."""
        self.prefix = prefix
        self.listen = listen
        self.runner = runner
        self.connections = connections
        self.conf = prefix / "nginx.conf"
        self.binary = shutil.which("nginx") or "/usr/sbin/nginx"

    def _argv(self, *extra: str) -> list[str]:
        return [
            self.binary,
            "-p",
            str(self.prefix),
            "-c",
            str(self.conf),
            "-e",
            str(self.prefix / "error.log"),
            *extra,
        ]

    def upstreams(self, ports: Mapping[Service, int | Sequence[int]]) -> str:
        """One upstream per service; several ports share its requests round-robin."""
        lines = []
        for service, port in ports.items():
            servers = " ".join(f"server {address};" for address in _addresses(port))
            lines.append(f"upstream netra_{service.value} {{ {servers} keepalive 16; }}\n")
        return "".join(lines)

    def point_at(self, ports: Mapping[Service, int | Sequence[int]]) -> None:
        """Write the upstreams for `ports`, then start nginx or reload it gracefully."""
        upstreams = self.prefix / "upstreams.conf"
        self.runner.note(
            f"write {upstreams}: "
            + ", ".join(f"{s.value} → {' '.join(_addresses(p))}" for s, p in ports.items())
        )
        if not self.runner.dry_run:
            for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
                (self.prefix / "tmp" / sub).mkdir(parents=True, exist_ok=True)
            servers = "\n".join(
                SERVER.format(listen=listen, service=service.value)
                for service, listen in self.listen.items()
            )
            main = MAIN.format(prefix=self.prefix, servers=servers, connections=self.connections)
            self.conf.write_text(main)
            tmp = upstreams.with_suffix(".tmp")
            tmp.write_text(self.upstreams(ports))
            tmp.replace(upstreams)
        self.runner.run(self._argv("-t", "-q"), env={})
        if self.running():
            self._reload()
        else:
            self.runner.run(self._argv(), env={})

    def _reload(self) -> None:
        """`nginx -s reload`, returning once no worker on the old upstreams takes new
        requests (the new workers are up, the old ones shutting down): `nginx -s` only
        signals the master, and a revision stopped before that would answer 502."""
        before = set(self.workers())
        self.runner.run(self._argv("-s", "reload"), env={})
        if self.runner.dry_run:
            return
        deadline = time.monotonic() + RELOAD_TIMEOUT
        while time.monotonic() < deadline:
            workers = self.workers()
            fresh = set(workers) - before
            serving_old = [p for p in before if p in workers and "shutting down" not in workers[p]]
            if fresh and not serving_old:
                return
            time.sleep(0.02)
        raise RuntimeError(f"nginx did not reload within {RELOAD_TIMEOUT:g}s ({self.prefix})")

    def workers(self) -> dict[int, str]:
        """The master's worker processes and their titles (Linux: /proc)."""
        master = self.pid()
        found: dict[int, str] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
                if parent == master:
                    title = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ")
                    found[int(stat.parent.name)] = title.decode(errors="replace").strip()
            except (OSError, ValueError, IndexError):
                continue  # exited while we looked
        return found

    def pid(self) -> int | None:
        try:
            return int((self.prefix / "nginx.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def running(self) -> bool:
        from netra.deploy.targets.processes import alive  # noqa: PLC0415

        pid = self.pid()
        return pid is not None and alive(pid)

    def stop(self) -> None:
        if self.running():
            self.runner.run(self._argv("-s", "quit"), env={})


def _addresses(ports: int | Sequence[int]) -> list[str]:
    return [f"127.0.0.1:{port}" for port in ([ports] if isinstance(ports, int) else ports)]
