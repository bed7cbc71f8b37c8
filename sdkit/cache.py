"""A private, per-user cache folder for generated Python and compiled kernels.

Everything sdkit imports or loads from disk that it generated itself lives under
one folder: ``$SDKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/sdkit``, else the platform's
user cache folder. sdkit creates it with mode 0700 and uses it only while it is a real
folder owned by the current user that nobody else can write to; otherwise (planted by
another user, or not creatable) it uses a fresh private folder for this process, which
is removed at exit. Files are named by the hash of their contents and verified against
it on every load (:func:`cached_file`), so a file that was changed is rewritten, never
trusted.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import logging
import os
import shutil
import stat
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


def _configured_root() -> Path:
    if os.environ.get("SDKIT_CACHE_DIR"):
        return Path(os.environ["SDKIT_CACHE_DIR"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "sdkit"
    import platformdirs

    return Path(platformdirs.user_cache_dir("sdkit", appauthor=False))


def untrusted_reason(folder: Path) -> str:
    """Why ``folder`` must not hold code sdkit loads ('' when it is private to this user)."""
    try:
        info = os.lstat(folder)
    except OSError as exc:
        return exc.strerror or str(exc)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        return "it is not a plain folder"
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return f"it belongs to user id {info.st_uid}"
    if info.st_mode & 0o022:
        return "other users can write to it"
    return ""


def _private_folder(folder: Path) -> Path:
    """``folder`` created 0700 if missing; raises OSError when it is not private."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    reason = untrusted_reason(folder)
    if reason:
        raise PermissionError(f"cache folder {folder} is not private: {reason}")
    return folder


@functools.cache
def _fallback_root() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="sdkit-cache-"))  # 0700, unique, ours
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def cache_folder(*parts: str) -> Path:
    """A private cache folder ``<root>/<parts...>``, created 0700 and checked on every call."""
    root = _configured_root()
    try:
        folder = _private_folder(root)
        for part in parts:
            folder = _private_folder(folder / part)
        return folder
    except OSError as exc:
        fallback = _fallback_root()
        log.warning("not using cache folder %s (%s); using %s for this run", root, exc, fallback)
        folder = fallback
        for part in parts:
            folder = _private_folder(folder / part)
        return folder


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cached_file(folder: Path, name: str, text: str) -> Path:
    """``folder/name`` holding exactly ``text``: verified if present, (re)written if not.

    The file is read and compared on every call, so a planted or changed file is
    replaced before anything imports it.
    """
    path = folder / name
    try:
        info = os.lstat(path)
        if stat.S_ISREG(info.st_mode) and path.read_text(encoding="utf-8") == text:
            return path
    except (OSError, UnicodeDecodeError):
        pass
    return write_private(folder, name, text.encode("utf-8"))


def write_private(folder: Path, name: str, data: bytes) -> Path:
    """``folder/name`` (re)written with ``data`` at once: readers see the old file or the new one."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, folder / name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return folder / name
