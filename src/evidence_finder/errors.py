"""User-facing errors.

Every error a user can cause derives from :class:`EvidenceError`. Messages name the bad
value and say what to do; the CLI maps them to exit codes without a traceback and the UI
shows them as readable messages.
"""

from __future__ import annotations


class EvidenceError(Exception):
    """Base class for errors shown to users as a message, never a traceback."""

    exit_code = 1


class BadInputError(EvidenceError):
    """An input file, question or query file is unusable."""

    exit_code = 2


class UnsupportedFileError(BadInputError):
    """The file's extension is not one we can read."""


class EmptyDocumentError(BadInputError):
    """The file holds no text."""


class CorruptFileError(BadInputError):
    """The file cannot be parsed (corrupt, truncated, encrypted, or not what its name says)."""


class EncodingError(BadInputError):
    """A text file is not valid UTF-8 (or another encoding we can detect safely)."""


class FileTooLargeError(BadInputError):
    """The file exceeds the configured size limit."""


class NoIndexError(EvidenceError):
    """No index exists yet at the configured location."""

    exit_code = 3


class IndexMismatchError(EvidenceError):
    """The index was built with another embedder or chunker than the current settings."""

    exit_code = 3


class MissingDependencyError(EvidenceError):
    """An optional dependency is not installed; the message names the install command."""


class BackendError(EvidenceError):
    """An external backend (LLM endpoint, embedding service) failed."""


class IndexWriteError(EvidenceError):
    """The index directory cannot be written (read-only, no permission, disk full)."""


class ParseLimitError(BadInputError):
    """Parsing a document went over a limit (memory, time, pages, characters)."""
