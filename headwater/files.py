"""Writing files other processes may be reading, and moving what lands in an inbox."""

import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Readers in other processes see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def stamp() -> str:
    """Now, for a file name: sortable, unique to the microsecond."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def archive(path: Path, target: Path) -> str:
    """Move an inbox entry to `target`. A symbolic link to a file is archived as its data:
    the target's bytes are copied and the link removed (its target is not ours to move,
    and a moved link would keep nothing once the target changes). A dangling link or a
    directory moves as it is. Returns a note on what was archived, or ''."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() and path.is_file():
        link = path.readlink()
        shutil.copyfile(path, target)
        path.unlink()
        return f"{path.name} was a symbolic link to {link}; its content is archived here"
    shutil.move(path, target)
    return ""


def reject(path: Path, reason: str) -> Path:
    """Move a bad inbox entry (file, link or folder) to rejected/ beside it, with a note
    `<name>.reason.txt` saying why: nothing is dropped silently."""
    suffix = "".join(path.suffixes) if path.is_file() else ""
    target = path.parent / "rejected" / f"{path.name.removesuffix(suffix)}-{stamp()}{suffix}"
    note = archive(path, target)
    target.with_name(target.name + ".reason.txt").write_text(
        "".join(f"{line}\n" for line in (reason, note) if line)
    )
    return target
