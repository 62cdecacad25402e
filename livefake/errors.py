"""Typed errors. Each carries one line that says what failed and what to do.

Errors are raised where the problem is found and turned into a single line with a
non-zero exit at the CLI edge; tracebacks are shown only with ``--debug``.
"""

from __future__ import annotations


class LivefakeError(Exception):
    """Base class: ``str(error)`` is a one-line message meant for the user."""

    exit_code = 1


class InputError(LivefakeError):
    """A file, URL or parameter given by the user cannot be used."""

    exit_code = 2


class SettingsError(InputError):
    """A setting (TOML file, flag or live change) has an unknown key, a wrong type or is out of range."""


class DeviceError(LivefakeError):
    """A camera, virtual camera, sound device or GPU is missing or failed."""

    exit_code = 3


class ModelError(LivefakeError):
    """A model file is missing, corrupt or breaks the model contract."""

    exit_code = 4


class StageError(LivefakeError):
    """A pipeline stage raised; names the stage and keeps the original error as ``__cause__``."""

    exit_code = 5

    def __init__(self, stage: str, error: BaseException) -> None:
        self.stage = stage
        self.error = error
        detail = str(error) or type(error).__name__
        if isinstance(error, LivefakeError):
            self.exit_code = error.exit_code
        super().__init__(f"stage '{stage}' failed: {detail}")
