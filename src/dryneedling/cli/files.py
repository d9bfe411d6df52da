"""Files the CLI reads and writes, checked before any work is done.

Each helper raises :class:`~dryneedling.errors.InputError` naming the argument or option (``PROFILE``,
``--output``, ``--forest``, ``--data-dir``) so a command reports one line and exits with code 2:
an input that is missing, a directory or not UTF-8 text; an output whose directory does not exist or
is not writable, or whose suffix the command cannot write. Outputs are checked up front so nothing is
rendered only to be thrown away, and written through a temporary file so a failed write never leaves
half a file in place of a good one.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from dryneedling.errors import InputError
from dryneedling.safe_input import read_text_file


def read_input_text(source: str, field: str) -> tuple[str, str]:
    """The text of ``source`` (``-`` for standard input) and its lower-case suffix (``-`` for stdin)."""
    if source == "-":
        stream = getattr(sys.stdin, "buffer", None)
        raw = stream.read() if stream is not None else sys.stdin.read().encode("utf-8", "surrogateescape")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(field, "standard input is not text (UTF-8)", value="-") from None
        return text, "-"
    return read_text_file(source, field), Path(source).suffix.lower()


def check_input_file(path: str | Path, field: str) -> Path:
    """``path`` as a Path, when it names a readable file (not a directory)."""
    file = Path(path)
    if not file.exists():
        raise InputError(field, f"no such file: {file}", value=str(file))
    if file.is_dir():
        raise InputError(field, f"{file} is a directory, not a file", value=str(file))
    if not os.access(file, os.R_OK):
        raise InputError(field, f"{file} is not readable", value=str(file))
    return file


def check_input_dir(path: str | Path, field: str) -> Path:
    """``path`` as a Path, when it names an existing directory."""
    folder = Path(path)
    if not folder.exists():
        raise InputError(field, f"directory {folder} does not exist", value=str(folder))
    if not folder.is_dir():
        raise InputError(field, f"{folder} is not a directory", value=str(folder))
    return folder


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def check_output_file(
    path: str | Path,
    field: str,
    suffixes: Iterable[str] | None = None,
    others: Mapping[str, str | Path | None] | None = None,
) -> Path:
    """``path`` as a Path, when a file can be written there (and, given ``suffixes``, ends in one of them).

    Checks, without creating anything: the suffix, that the path is not a directory, that its directory
    exists and is a directory, that the file (if it exists) or else its directory is writable, and that it
    is none of ``others`` (the command's input files and other outputs, by name), which it would overwrite.
    """
    file = Path(path)
    for name, other in (others or {}).items():
        if other is not None and str(other) != "-" and _same_file(file, Path(other)):
            raise InputError(field, f"{file} is also {name}; refusing to overwrite it", value=str(file))
    if suffixes is not None:
        valid = [suffix.lower() for suffix in suffixes]
        if file.suffix.lower() not in valid:
            raise InputError(
                field,
                f"cannot write {file.name or file}: the file name must end in {', '.join(valid)}",
                value=str(file),
                choices=valid,
            )
    if file.is_dir():
        raise InputError(field, f"{file} is a directory, not a file", value=str(file))
    folder = file.parent
    if not folder.exists():
        raise InputError(field, f"directory {folder} does not exist", value=str(file))
    if not folder.is_dir():
        raise InputError(field, f"{folder} is not a directory", value=str(file))
    if file.exists():
        if not os.access(file, os.W_OK):
            raise InputError(field, f"{file} is not writable", value=str(file))
    elif not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(field, f"directory {folder} is not writable", value=str(file))
    return file


def write_output(path: str | Path, data: str | bytes, field: str) -> None:
    """Write ``data`` to ``path`` (text as UTF-8). A regular file is replaced whole through a temporary file
    in the same directory; anything else (``/dev/stdout``, a pipe) is written directly.
    """
    file = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if file.exists() and (file.is_symlink() or not file.is_file()):
            with file.open("wb") as handle:
                handle.write(payload)
            return
        descriptor, temporary = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(payload)
            if file.exists():
                os.chmod(temporary, file.stat().st_mode & 0o7777)
            else:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(temporary, 0o666 & ~umask)
            os.replace(temporary, file)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise InputError(field, f"cannot write {file}: {exc.strerror or exc}", value=str(file)) from None
