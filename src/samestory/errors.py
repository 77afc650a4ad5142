"""One exception tree for samestory.

    SamestoryError            base of everything samestory raises on purpose
    ├── InputError            a file, line or record the user gave us is unusable
    ├── SettingsError         an option has a bad value; the message says how to fix it
    ├── StoreError            an index file is unusable or made with other settings
    └── MissingDependency     an optional extra is not installed ("pip install samestory[x]")

The CLI maps InputError and SettingsError to exit code 2 and everything else to 1, always with a
one-line message and never a traceback.
"""

from __future__ import annotations


class SamestoryError(Exception):
    """Base class of every error samestory raises on purpose."""


class InputError(SamestoryError):
    """Unusable input; carries the path and (1-based) line or record number when known."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = message
        where = path or ""
        if path is not None and line is not None:
            where = f"{path}:{line}"
        super().__init__(f"{where}: {message}" if where else message)


class SettingsError(SamestoryError):
    """A setting has a value that cannot work."""


class StoreError(SamestoryError):
    """A store (index file) is unusable, or was made with other settings."""


class MissingDependency(SamestoryError):
    """An optional dependency is missing."""

    def __init__(self, package: str, extra: str, *, install: str | None = None) -> None:
        self.package = package
        self.extra = extra
        how = install or f"pip install 'samestory[{extra}]'"
        super().__init__(f"{package} is not installed; install it with: {how}")
