"""Where `make dev` listens: on 127.0.0.1 only, unless HEADWATER_UI_HOST says otherwise.

Read from the kernel's socket tables (/proc/net/tcp, tcp6) for the sockets the run's processes
hold, and checked by connecting. The second test starts a dev.sh of its own (the one extra
start of the UI tests) on 127.0.0.2, which is loopback too, so the UI is never opened to the
network by a test.
"""

import ipaddress
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.ui.conftest import START_TIMEOUT_S, STOP_TIMEOUT_S, DevServer

pytestmark = pytest.mark.timeout(180)

LISTEN = "0A"  # TCP state in /proc/net/tcp


def _address(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    raw = bytes.fromhex(hex_address)
    # /proc/net/tcp{,6} print each 32-bit word of an address in host (little-endian) order.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(words)


def listening(server: DevServer) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket that the run's processes listen on."""
    inodes = set()
    for pid in server.processes():
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except (FileNotFoundError, PermissionError):
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except (FileNotFoundError, PermissionError):
                continue
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == LISTEN and inode in inodes:
                address, port = local.split(":")
                found.add((str(_address(address)), int(port, 16)))
    return found


def local_addresses() -> set[str]:
    """This machine's own addresses, loopback and link-local left out."""
    found = set()
    lines = Path("/proc/net/fib_trie").read_text().splitlines()
    for previous, line in zip(lines, lines[1:], strict=False):
        if "/32 host LOCAL" in line:  # the address is on the line before
            found.add(previous.split()[-1])
    for line in Path("/proc/net/if_inet6").read_text().splitlines():  # in network order here
        found.add(str(ipaddress.ip_address(bytes.fromhex(line.split()[0]))))
    return {
        a
        for a in found
        if not ipaddress.ip_address(a).is_loopback and not ipaddress.ip_address(a).is_link_local
    }


def _refused(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def _answers(url: str, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status == 200
        except OSError:  # listening, still starting
            time.sleep(0.5)
    return False


def test_ui_listens_on_loopback_only(dev_server):
    sockets = listening(dev_server)
    assert ("127.0.0.1", dev_server.port) in sockets, sockets
    # Nothing that make dev started listens beyond loopback (its code servers use Unix sockets).
    assert all(ipaddress.ip_address(a).is_loopback for a, _ in sockets), sockets
    for address in sorted(local_addresses()):
        assert _refused(address, dev_server.port), f"the UI answers on {address}"


def test_ui_host_is_configurable(tmp_path):
    server = DevServer.start(tmp_path, host="127.0.0.2", HEADWATER_UI_HOST="127.0.0.2")
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        ports = set()
        while not ports and time.monotonic() < deadline and server.proc.poll() is None:
            time.sleep(0.5)
            ports = {s for s in listening(server) if s[1] == server.port}
        assert ports, f"nothing listens on port {server.port}:\n{server.log_tail()}"
        assert ports == {("127.0.0.2", server.port)}, f"HEADWATER_UI_HOST=127.0.0.2: {ports}"
        assert _answers(f"{server.url}/server_info", deadline), server.log_tail()
        assert _refused("127.0.0.1", server.port)
    finally:
        os.killpg(server.pgid, signal.SIGINT)
        try:
            server.proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pass
        server.kill_everything()
