"""`make dev` (scripts/dev.sh execs this): one code server, the Dagster webserver and the daemon,
started and stopped together.

The code location is loaded once, by one code server (`dagster code-server start`, on a Unix
socket), which the webserver and the daemon both use, as `dagster dev` does. Given
workspace.yaml itself, each of them would start its own code server, and the daemon replaces
its one every minute (it drops its code servers at each workspace refresh; the old one goes
after 20 s without heartbeat), importing the definitions again each time (seconds, on two
cores) and delaying any run it was about to launch. Reload (UI: Deployment > Reload) restarts
the code server's loaded process; both see the new code.

Each server runs in its own process group, so the code servers and runs it starts go with
it. Ctrl-C (SIGINT) or SIGTERM here gives all of them SIGTERM and HEADWATER_STOP_GRACE_S
seconds (15) to finish a tick or a request, then SIGKILL: the terminal always comes back. If
one server exits by itself, the others are stopped the same way. The signals are Python's to
handle (a flag and a short poll), not a shell trap around `wait -n`, which a busy machine
showed can miss a Ctrl-C.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

POLL_S = 0.2
WORKSPACE = Path("workspace.yaml")


def grace_s() -> float:
    return float(os.environ.get("HEADWATER_STOP_GRACE_S", "15"))


def code_server_timeout_s() -> float:
    """How long the code location may take to load before `make dev` gives up."""
    return float(os.environ.get("HEADWATER_CODE_SERVER_TIMEOUT_S", "300"))


def say(message: str) -> None:
    print(f"headwater: {message}", flush=True)


def code_location(workspace: Path = WORKSPACE) -> dict:
    """The code location workspace.yaml names (its one `python_module` entry)."""
    entry = yaml.safe_load(workspace.read_text())["load_from"][0]["python_module"]
    directory = (workspace.resolve().parent / entry.get("working_directory", ".")).resolve()
    return {
        "module": entry["module_name"],
        "name": entry["location_name"],
        "directory": str(directory),
    }


def grpc_workspace(location: dict, socket_path: Path, path: Path) -> Path:
    """A workspace file that points at the running code server instead of starting one."""
    server = {"socket": str(socket_path), "location_name": location["name"]}
    path.write_text(yaml.safe_dump({"load_from": [{"grpc_server": server}]}))
    return path


def code_server(location: dict, socket_path: Path) -> list[str]:
    bin_dir = Path(sys.executable).parent
    return [
        str(bin_dir / "dagster"),
        "code-server",
        "start",
        "--module-name",
        location["module"],
        "--working-directory",
        location["directory"],
        "--location-name",
        location["name"],
        "--socket",
        str(socket_path),
    ]


def servers(host: str, port: str, workspace: Path) -> dict[str, list[str]]:
    bin_dir = Path(sys.executable).parent
    w = str(workspace)
    return {
        "UI": [str(bin_dir / "dagster-webserver"), "-h", host, "-p", port, "-w", w],
        "daemon": [str(bin_dir / "dagster-daemon"), "run", "-w", w],
    }


def listening(socket_path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(str(socket_path))
        except OSError:
            return False
    return True


def stop(processes: dict[str, subprocess.Popen], grace: float) -> None:
    """SIGTERM to each server's group, then SIGKILL to what is left after `grace` s."""

    def signal_groups(signum: int) -> None:
        for process in processes.values():
            try:
                os.killpg(process.pid, signum)
            except ProcessLookupError:
                pass

    signal_groups(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(p.poll() is None for p in processes.values()) and time.monotonic() < deadline:
        time.sleep(POLL_S)
    if any(p.poll() is None for p in processes.values()):
        say(f"still running {grace:g} s after SIGTERM; killing them")
    signal_groups(signal.SIGKILL)  # also whatever they started and left behind
    for process in processes.values():
        process.wait()


def start(command: list[str]) -> subprocess.Popen:
    return subprocess.Popen(command, process_group=0, stdin=subprocess.DEVNULL)


def main() -> int:
    host = os.environ.get("HEADWATER_UI_HOST", "127.0.0.1")
    port = os.environ.get("HEADWATER_UI_PORT", "3000")
    received: list[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda number, _frame: received.append(number))
    location = code_location()
    # A short path: a Unix socket's path is limited to about 100 characters.
    folder = Path(tempfile.mkdtemp(prefix="headwater-dev-"))
    socket_path = folder / "code.sock"
    processes = {"code server": start(code_server(location, socket_path))}
    try:
        say(f"loading the code location {location['name']} (module {location['module']})")
        deadline = time.monotonic() + code_server_timeout_s()
        while not received and processes["code server"].poll() is None:
            if listening(socket_path) or time.monotonic() > deadline:
                break
            time.sleep(POLL_S)
        if not received and processes["code server"].poll() is None:
            if not listening(socket_path):
                say(f"the code server did not answer in {code_server_timeout_s():g} s; stopping")
                stop(processes, grace_s())
                return 1
            workspace = grpc_workspace(location, socket_path, folder / "workspace.yaml")
            for name, command in servers(host, port, workspace).items():
                processes[name] = start(command)
            say(f"UI on http://{host}:{port} (Ctrl-C stops it)")
        while not received and all(p.poll() is None for p in processes.values()):
            time.sleep(POLL_S)
        ended = [name for name, p in processes.items() if p.poll() is not None]
        if received:
            say("stopping the UI and daemon")
        else:
            code = processes[ended[0]].returncode
            say(f"the {ended[0]} exited ({code}); stopping the others")
        stop(processes, grace_s())
        say("UI and daemon stopped")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if received:
        return 128 + received[0]
    return 1


if __name__ == "__main__":
    sys.exit(main())
