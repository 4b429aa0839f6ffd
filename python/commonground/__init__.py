"""commonground: opinion groups and common ground in deliberations — the Pol.is math, faithful,
fast and reproducible, from Python.

    >>> import commonground as cg
    >>> conv = cg.datasets.vtaiwan()        # the bundled example; or cg.read_polis(folder)  # doctest: +SKIP
    >>> analysis = conv.analyze(seed=0)                           # doctest: +SKIP
    >>> analysis.participants.head()                              # doctest: +SKIP
    >>> analysis.repness[analysis.repness.group == 0]             # doctest: +SKIP
    >>> analysis.plot()                                           # doctest: +SKIP

Votes are agree = +1, disagree = -1, pass = 0 everywhere. The analysis runs in Rust with the GIL
released; the results come back as pandas DataFrames and numpy arrays.
"""

from . import datasets
from ._analysis import Analysis
from ._conversation import Conversation, default_params, read_polis
from ._core import (
    ConflictingStatementError,
    EmptyConversationError,
    Error,
    InputError,
    InvalidParameterError,
    InvalidVoteError,
    ParseError,
    UnknownFormatError,
    UnknownStatementError,
    __version__,
    percent,
)

__all__ = [
    "Analysis",
    "Conversation",
    "read_polis",
    "datasets",
    "default_params",
    "percent",
    "Error",
    "InputError",
    "ParseError",
    "InvalidVoteError",
    "UnknownStatementError",
    "ConflictingStatementError",
    "UnknownFormatError",
    "EmptyConversationError",
    "InvalidParameterError",
    "__version__",
]
