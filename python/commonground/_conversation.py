"""A conversation: votes and statements in, analyses out.

Wraps ``_core.Conversation``, which keeps every vote event and the live Rust conversation that
``update`` advances with Polis's warm starts. Calls on one conversation are serialised by a lock;
different conversations analyse in parallel (the GIL is released while Rust works).
"""

from __future__ import annotations

import json
import math
import os
import threading
from typing import Any, Dict, Optional, Sequence, Union

import numpy as np
import pandas as pd

from . import _core
from ._analysis import Analysis, _frame
from ._core import InvalidVoteError, ParseError
from ._inputs import check_agree, is_arrow_table, statement_columns, vote_columns

PathLike = Union[str, "os.PathLike[str]"]


def _json_safe(value: Any) -> Any:
    """``value`` with non-finite floats as strings and numpy scalars as Python numbers, so that
    JSON carries it to the core unchanged in meaning."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


class Conversation:
    """A deliberation: who voted agree (+1), disagree (-1) or pass (0) on which statement.

    Make one with :func:`read_polis`, :meth:`from_votes` or :meth:`from_matrix`; then
    :meth:`analyze` it, and :meth:`update` it as new votes arrive::

        conv = commonground.read_polis("vtaiwan.uberx")
        analysis = conv.analyze()
        analysis.participants      # DataFrame: id, x, y, group, ...
        analysis = conv.update(new_votes_df)   # warm-started, as Polis's worker does
    """

    def __init__(self) -> None:
        self._core = _core.Conversation()
        self._lock = threading.Lock()

    @classmethod
    def _wrap(cls, core: _core.Conversation) -> "Conversation":
        conversation = cls.__new__(cls)
        conversation._core = core
        conversation._lock = threading.Lock()
        return conversation

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def read_polis(cls, path: PathLike) -> "Conversation":
        """Reads a Polis export folder (``votes.csv`` or ``participants-votes.csv``, with
        ``comments.csv``) or a Polis API dump folder (``votes.json`` + ``comments.json``), or one
        of their vote files. The vote sign is checked against Polis's per-statement tallies and
        fixed if needed; ``source`` says what was found."""
        return cls._wrap(_core.Conversation.read_polis(os.fspath(path)))

    @classmethod
    def from_votes(cls, votes: Any, *, statements: Any = None, agree: int = 1) -> "Conversation":
        """A conversation from vote records.

        ``votes`` may be:

        - a pandas DataFrame with columns participant, statement, vote and optionally timestamp
          (red-dwarf's and Polis's names are accepted too: participant_id / pid / voter-id,
          statement_id / tid / comment-id, modified);
        - a dict of such columns (lists or numpy arrays);
        - a tuple of arrays ``(participants, statements, votes[, timestamps])``;
        - a list of dicts in red-dwarf's vote format:
          ``{"participant_id": 3, "statement_id": 7, "vote": 1, "modified": 1714782753431}``;
        - an Arrow table: any object with the Arrow PyCapsule interface (``__arrow_c_stream__``),
          such as a pyarrow Table or RecordBatchReader, a polars DataFrame or a DuckDB relation.
          It is read where it lies, without a copy, by the rules of the CLI's Parquet and Arrow
          vote tables: columns found by name as in ``votes.csv`` (case and ``_``/``-`` ignored);
          ids integers of any width or text (large, view or dictionary-encoded too); votes
          integers, floats or text (-1, 0, 1); timestamps Arrow timestamps, or numbers in epoch
          ms (below 10^11: seconds, converted). An error names the 1-based row and the column.

        Ids are ints or strs. Votes are 1 agree, -1 disagree, 0 pass; pass ``agree=-1`` for data
        in Polis's raw database sign (agree = -1). Timestamps are epoch milliseconds (or
        datetimes); of several votes by one participant on one statement the latest counts.

        ``statements`` (optional) attaches texts and moderation: a DataFrame or list of dicts
        with columns id, text, moderated (-1 rejected, 0, 1 accepted), is_meta; a dict id -> text;
        or a list of texts for ids 0, 1, 2, ... With statements given, a vote on a statement not
        among them is an :class:`UnknownStatementError`.
        """
        conversation = cls()
        if statements is not None:
            conversation.set_statements(statements)
        conversation.add_votes(votes, agree=agree)
        return conversation

    @classmethod
    def from_matrix(
        cls,
        matrix: Any,
        *,
        participants: Any = None,
        statement_ids: Any = None,
        statements: Any = None,
        agree: int = 1,
    ) -> "Conversation":
        """A conversation from a participants x statements vote matrix (red-dwarf's and
        valency-anndata's layout): 1 agree, -1 disagree, 0 pass, NaN not voted. A DataFrame gives
        the ids by its index and columns; for a numpy array pass ``participants`` and
        ``statement_ids`` (default 0, 1, 2, ...)."""
        if isinstance(matrix, pd.DataFrame):
            if any(pd.api.types.is_complex_dtype(t) for t in matrix.dtypes):
                raise InvalidVoteError("the vote matrix holds complex numbers, not votes -1, 0, 1")
            row_ids = list(matrix.index) if participants is None else list(participants)
            column_ids = list(matrix.columns) if statement_ids is None else list(statement_ids)
            values = matrix.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            if np.iscomplexobj(matrix):
                raise InvalidVoteError("the vote matrix holds complex numbers, not votes -1, 0, 1")
            values = np.asarray(matrix, dtype=np.float64)
            if values.ndim != 2:
                raise ParseError(f"a vote matrix must be 2-D (participants x statements), not {values.ndim}-D")
            row_ids = list(range(values.shape[0])) if participants is None else list(participants)
            column_ids = list(range(values.shape[1])) if statement_ids is None else list(statement_ids)
        if len(row_ids) != values.shape[0] or len(column_ids) != values.shape[1]:
            raise ParseError(
                f"matrix is {values.shape[0]} x {values.shape[1]} but {len(row_ids)} participant ids "
                f"and {len(column_ids)} statement ids were given"
            )
        rows, columns = np.nonzero(~np.isnan(values))
        row_array = pd.Series(row_ids).iloc[rows].reset_index(drop=True)
        column_array = pd.Series(column_ids).iloc[columns].reset_index(drop=True)
        return cls.from_votes((row_array, column_array, values[rows, columns]), statements=statements, agree=agree)

    def set_statements(self, statements: Any) -> None:
        """Adds or replaces statement texts and moderation (see :meth:`from_votes`). Moderation
        takes effect at the next analysis or update, as in Polis."""
        ids, texts, moderation, is_meta = statement_columns(statements)
        with self._lock:
            self._core.set_statements(ids, texts, moderation, is_meta)

    def add_votes(self, votes: Any, *, agree: int = 1) -> None:
        """Adds votes without analysing (see :meth:`from_votes` for the formats). The batch is
        checked first; on error nothing is added."""
        if is_arrow_table(votes):
            check_agree(agree)
            with self._lock:
                self._core.add_table(votes, agree == -1)
            return
        participants, statements, values, timestamps = vote_columns(votes, agree)
        with self._lock:
            self._core.add_votes(participants, statements, values, timestamps)

    # -- analysing -------------------------------------------------------------------------

    def analyze(
        self,
        seed: int = 0,
        *,
        replay: bool = False,
        window_ms: int = 1000,
        restarts: Optional[str] = None,
        max_updates: Optional[int] = None,
        pca_iters: Optional[int] = None,
        pca_cold_iters: Optional[int] = None,
        pca_cold_tolerance: Optional[float] = None,
        base_k: Optional[int] = None,
        base_iters: Optional[int] = None,
        max_k: Optional[int] = None,
        groups: Union[int, str, None] = None,
        group_iters: Optional[int] = None,
        group_k_buffer: Optional[int] = None,
        min_votes_in_conv: Optional[int] = None,
        min_in_conv: Optional[int] = None,
        polis_all_priorities_49: bool = False,
        group_cold_starts: Optional[int] = None,
        pca_cold_start: Optional[str] = None,
        pca_warm_start: Optional[str] = None,
        profile: Optional[str] = None,
        bridging: Optional[Dict[str, Any]] = None,
        group_stability: Optional[Dict[str, Any]] = None,
        meta: Optional[Sequence[Any]] = None,
        exclude: Optional[Sequence[Any]] = None,
    ) -> Analysis:
        """Analyses every vote so far, as the Polis math worker does, and returns the result.

        By default all votes are analysed at once (a cold start, like ``commonground analyze``).
        With ``replay=True`` the timestamped votes are fed in time order, in batches of
        ``window_ms``, as Polis's worker saw them: this reproduces the warm starts, the monotone
        in-conversation set and the smoothed number of groups of a live Polis conversation.
        ``restarts`` says which restarts of Polis's worker the replay models (a restart keeps the
        PCA, base clusters and in-conversation set and forgets the group clusterings and the
        smoother, so the groups are clustered anew): ``"final"`` restarts after the last vote, which
        reproduces the groups Polis stores (the core's default, taken when ``restarts`` is None); ``"none"``; or ``"gaps:1d"`` (any
        duration in ``ms``, ``s``, ``m``, ``h``, ``d`` or ``w``) also restarts at every quiet spell
        longer than that. ``max_updates`` merges windows into at most that many batches (faster,
        but it changes the history, so the groups can change); None, the default, merges none.

        Parameters left at None take Polis's defaults (see :func:`default_params`): PCA
        iterations, base clusters (``base_k`` = 100), largest number of groups (``max_k`` = 5),
        the group-count smoother (``group_k_buffer`` = 4), participation thresholds. ``seed``
        drives every random choice (the Polis pipeline itself is deterministic). ``groups=4``
        asks for exactly four opinion groups instead of Polis's rule (``groups="polis"``, the
        default); an :class:`InvalidParameterError` says why when the data cannot give that many.
        ``groups="discover"`` finds the groups from the votes themselves (a mixture model, k up
        to 8, groups down to about 5% of participants; ``Analysis.group_discovery`` says how).

        Beyond Polis, opt-in: ``group_cold_starts`` > 1 also tries seeded k-means++ starts when
        groups are clustered from scratch and keeps the least-inertia result (Polis's own start
        can stop in a poor local optimum); ``pca_warm_start="lanczos"`` makes each
        :meth:`update` much faster (the same components to about 1e-9); ``pca_cold_start`` is
        ``"lanczos"`` (default) or ``"power_iteration"``. ``profile="fast"`` trades Polis's exact
        iteration for speed on very large conversations (k-means until at most one point in a
        hundred moves, Lanczos PCA without Polis's polish, the factorization to a loss gap of
        1e-6; BENCHMARKS.md measures how close it stays); ``"polis"``, the default, is exact.
        ``bridging`` overrides the bridging parameters (e.g. ``{"interval": 0.95,
        "common_ground_threshold": 0.6, "mf": {"enabled": False}}``) and ``group_stability={"enabled": True, "replicates": 50}`` adds the bootstrap
        stability of the groups (see :attr:`Analysis.group_stability`).

        ``meta`` lists statements (by id) that describe the participant rather than an opinion ("I
        have a driver's licence"): as Polis treats meta statements, they are left out of the
        representative statements, consensus and bridging. ``exclude`` lists statements to leave
        out as if a moderator had rejected them. The same as the CLI's ``--meta`` and
        ``--exclude``; an id the conversation does not have is an ``InvalidParameterError``.

        The result becomes the conversation's state: :meth:`update` continues from it.
        """
        request: Dict[str, Any] = {
            "seed": seed, "replay": replay, "window_ms": window_ms, "restarts": restarts,
            # The core's "no cap" is 0; None here means no cap too.
            "max_updates": 0 if max_updates is None else max_updates,
            "pca_iters": pca_iters, "pca_cold_iters": pca_cold_iters,
            "pca_cold_tolerance": pca_cold_tolerance, "base_k": base_k, "base_iters": base_iters,
            "max_k": max_k, "groups": groups, "group_iters": group_iters, "group_k_buffer": group_k_buffer,
            "min_votes_in_conv": min_votes_in_conv, "min_in_conv": min_in_conv,
            "polis_all_priorities_49": polis_all_priorities_49, "group_cold_starts": group_cold_starts,
            "pca_cold_start": pca_cold_start, "pca_warm_start": pca_warm_start,
            "profile": profile,
            "bridging": bridging, "group_stability": group_stability,
            "meta": None if meta is None else list(meta), "exclude": None if exclude is None else list(exclude),
        }
        # The core parses and checks the request, naming a bad key; here only what JSON cannot
        # carry is converted (a NaN or infinity becomes its name, which the core then rejects).
        text = json.dumps(_json_safe({k: v for k, v in request.items() if v is not None}))
        with self._lock:
            core = self._core.analyze(text)
        return Analysis(core)

    def update(self, votes: Any, *, statements: Any = None, agree: int = 1) -> Analysis:
        """Adds a batch of votes (any format of :meth:`from_votes`) and updates the analysis
        incrementally, as Polis's worker does on each poll: PCA, base clusters and groups start
        from the previous update, the number of groups changes only after it has been the best
        for ``group_k_buffer`` updates, and group ids stay stable. ``statements`` adds or changes
        statement metadata first. Before any :meth:`analyze`, the first update analyses every
        vote so far with Polis's default parameters."""
        if statements is not None:
            self.set_statements(statements)
        if is_arrow_table(votes):
            check_agree(agree)
            with self._lock:
                core = self._core.update_table(votes, agree == -1)
            return Analysis(core)
        participants, statement_ids, values, timestamps = vote_columns(votes, agree)
        with self._lock:
            core = self._core.update(participants, statement_ids, values, timestamps)
        return Analysis(core)

    # -- what it holds ---------------------------------------------------------------------

    @property
    def analysis(self) -> Optional[Analysis]:
        """The latest analysis (from :meth:`analyze` or :meth:`update`), or None."""
        core = self._core.analysis
        return None if core is None else Analysis(core)

    @property
    def params(self) -> Optional[Dict[str, Any]]:
        """The parameters of the latest analysis, or None before any."""
        params = self._core.params
        return None if params is None else json.loads(params)

    @property
    def source(self) -> Optional[Dict[str, Any]]:
        """For a conversation read from disk: path, format, vote sign and the reader's notes."""
        return self._core.source

    @property
    def n_votes(self) -> int:
        """Vote events so far, superseded ones included."""
        return self._core.n_votes

    @property
    def votes(self) -> pd.DataFrame:
        """Every vote event so far: participant, statement, vote (agree = +1), timestamp (epoch ms)."""
        return _frame(self._core.vote_columns())

    @property
    def statements(self) -> pd.DataFrame:
        """The statements' metadata: id, text, moderated (-1, 0, 1), is_meta, author, created."""
        return _frame(self._core.statement_columns())

    def __getstate__(self) -> Dict[str, Any]:
        # The core pickles itself (votes, statements, source and the live conversation's state);
        # the lock is made anew.
        return {"core": self._core}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self._core = state["core"]
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        source = self._core.source
        where = f" from {source['path']}" if source else ""
        return f"<commonground.Conversation{where}: {self._core.n_votes} votes, {self._core.n_statements} statements>"


InvalidParameterError = _core.InvalidParameterError


def read_polis(path: PathLike) -> Conversation:
    """Reads a Polis export folder or API dump folder; see :meth:`Conversation.read_polis`."""
    return Conversation.read_polis(path)


def default_params() -> Dict[str, Any]:
    """Polis's default analysis parameters (``Conversation.analyze`` keyword arguments)."""
    return json.loads(_core.default_params())
