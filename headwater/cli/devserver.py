"""`make dev` (scripts/dev.sh execs this): the Dagster webserver and daemon, started and
stopped together.

Each server runs in its own process group, so the code servers and runs it starts go with
it. Ctrl-C (SIGINT) or SIGTERM here gives both SIGTERM and HEADWATER_STOP_GRACE_S seconds
(15) to finish a tick or a request, then SIGKILL: the terminal always comes back. If one
server exits by itself, the other is stopped the same way. The signals are Python's to
handle (a flag and a short poll), not a shell trap around `wait -n`, which a busy machine
showed can miss a Ctrl-C.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

POLL_S = 0.2


def grace_s() -> float:
    return float(os.environ.get("HEADWATER_STOP_GRACE_S", "15"))


def say(message: str) -> None:
    print(f"headwater: {message}", flush=True)


def servers(host: str, port: str) -> dict[str, list[str]]:
    bin_dir = Path(sys.executable).parent
    return {
        "UI": [str(bin_dir / "dagster-webserver"), "-h", host, "-p", port, "-w", "workspace.yaml"],
        "daemon": [str(bin_dir / "dagster-daemon"), "run", "-w", "workspace.yaml"],
    }


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


def main() -> int:
    host = os.environ.get("HEADWATER_UI_HOST", "127.0.0.1")
    port = os.environ.get("HEADWATER_UI_PORT", "3000")
    received: list[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda number, _frame: received.append(number))
    processes = {
        name: subprocess.Popen(command, process_group=0, stdin=subprocess.DEVNULL)
        for name, command in servers(host, port).items()
    }
    say(f"UI on http://{host}:{port} (Ctrl-C stops it)")
    while not received and all(p.poll() is None for p in processes.values()):
        time.sleep(POLL_S)
    ended = [name for name, p in processes.items() if p.poll() is not None]
    if received:
        say("stopping the UI and daemon")
    else:
        say(f"the {ended[0]} exited ({processes[ended[0]].returncode}); stopping the other")
    stop(processes, grace_s())
    say("UI and daemon stopped")
    if received:
        return 128 + received[0]
    return 1


if __name__ == "__main__":
    sys.exit(main())
