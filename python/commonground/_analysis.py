"""The result of an analysis, as pandas DataFrames and numpy arrays.

Everything here only reshapes what ``_core.Analysis`` hands over column by column; the numbers are
the Rust core's, the same that the CLI writes.
"""

from __future__ import annotations

import json
import os
from functools import cached_property
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple, Union

import numpy as np
import pandas as pd

from . import _core

if TYPE_CHECKING:  # pragma: no cover
    import anndata
    from matplotlib.axes import Axes

PathLike = Union[str, "os.PathLike[str]"]


def _column(value: Any) -> Any:
    """A column from ``_core``: an array, a list (ids that are not all integers, texts, nested
    lists), or (values, valid) for a nullable integer column."""
    if isinstance(value, tuple):
        values, valid = value
        return pd.arrays.IntegerArray(np.asarray(values, dtype=np.int64), ~np.asarray(valid, dtype=bool))
    if isinstance(value, list):
        column = np.empty(len(value), dtype=object)
        for i, item in enumerate(value):  # item by item: nested lists must not become a 2-D array
            column[i] = item
        return column
    return value


def _frame(columns: Dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame({name: _column(value) for name, value in columns.items()})


def _score_fields(statements: List[Dict[str, Any]]) -> Tuple[List[str], List[str]]:
    """The fields of the per-statement bridging JSON that hold a score, as the core lists the scores
    (``_core.bridging_scores()``; two scores may read one field): those without an interval, then
    those with one, each in the order the core writes them."""
    has_interval = {score["field"]: score["has_interval"] for score in _core.bridging_scores()}
    written = list(statements[0]) if statements else []
    fields = sorted(has_interval, key=lambda field: written.index(field) if field in written else len(written))
    return [f for f in fields if not has_interval[f]], [f for f in fields if has_interval[f]]


class Analysis:
    """One analysis of a conversation: the opinion map, groups, representative statements,
    consensus and group-aware consensus, all as Polis computes them.

    DataFrames (built on first access, then cached):

    - ``participants``: id, x, y, group, base_cluster, in_conv, n_votes
    - ``statements``: id, text, n_agree, n_disagree, n_pass, group_aware_consensus, extremity,
      priority, moderated (the moderator's -1, 0, 1), moderated_out, is_meta, mean, x, y
    - ``groups``: group, n_members, x, y, base_clusters
    - ``repness``: group, rank, statement, repful_for, n_success, n_trials, p_success, percent,
      p_test, repness, repness_test, best_agree, n_agree, text
    - ``consensus``: direction, rank, statement, n_success, n_trials, p_success, percent, p_test,
      text

    Percentages: ``percent`` is the one percentage every output prints (the CLI's summary too):
    ``n_success`` of ``n_trials`` voters (passes count as votes), rounded half up to a whole
    percent. ``p_success`` is Polis's pseudo-counted ``(n_success + 1) / (n_trials + 2)``, which
    its statistics use; it reads lower than the votes (14 of 16: ``percent`` 88, ``p_success``
    0.83), so print ``percent``.
    - ``base_clusters``: base_cluster, n_members, x, y, members
    - ``bridging``: beyond Polis, one row per statement, ranked: group-aware consensus, its
      geometric mean over groups and the minimum group agreement, each with its credible interval
      (``*_lower``, ``*_upper``), the minimum agreement among those who took a side
      (``min_side_agreement``), whether it is common ground (its lower bound above the threshold,
      and no smaller group inside a group credibly disagrees) and the group it hinges on
      (``weakest_group``), the subgroup most against it (``weakest_subgroup``, inside
      ``weakest_subgroup_group``, of ``weakest_subgroup_size`` participants, and
      ``subgroup_disagrees`` when it vetoes the flag), whether it is ``unresolved`` (every group
      agrees, but too few votes to rule out a hidden minority), whether it is ``uncertain`` (many passed),
      the matrix-factorization intercept and factor, and per group, with intervals: the agree rate
      (``agree_group_<g>``), the side-takers' agreement (``side_agree_group_<g>``) and the pass
      rate (``pass_group_<g>``)

    Votes use agree = +1, disagree = -1, pass = 0 throughout.
    """

    def __init__(self, core: _core.Analysis) -> None:
        self._core = core

    def __getstate__(self) -> Dict[str, Any]:
        # The core pickles the conversation state behind it; cached frames are rebuilt on demand.
        return {"core": self._core}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self._core = state["core"]

    # -- scalars ---------------------------------------------------------------------------

    @property
    def tick(self) -> int:
        """How many updates the conversation has had, this one included (Polis's ``math_tick``)."""
        return self._core.tick

    @property
    def n_participants(self) -> int:
        return self._core.n_participants

    @property
    def n_statements(self) -> int:
        return self._core.n_statements

    @property
    def n_votes(self) -> int:
        """Votes in the matrix: the latest per (participant, statement)."""
        return self._core.n_votes

    @property
    def n_groups(self) -> int:
        return len(self.groups)

    @property
    def k(self) -> Optional[int]:
        """The number of groups in use (after Polis's smoother)."""
        return self._core.k

    @property
    def best_k(self) -> Optional[int]:
        """The number of groups with the best silhouette in this update."""
        return self._core.best_k

    @property
    def silhouettes(self) -> Dict[int, float]:
        """Silhouette of the group clustering for each number of groups tried."""
        return self._core.silhouettes

    @property
    def last_vote_timestamp(self) -> Optional[int]:
        """Latest vote timestamp (epoch ms), when votes carried timestamps."""
        return self._core.last_vote_timestamp

    @property
    def timings(self) -> Dict[str, float]:
        """Wall time in seconds of each stage of the update that produced this analysis (matrix,
        pca, clustering, statistics, stability, bridging, mf) and of the whole update (total).
        The matrix factorization (mf) runs beside the other stages, so the stages add
        up to more than the total."""
        return self._core.timings

    # -- DataFrames ------------------------------------------------------------------------

    @cached_property
    def participants(self) -> pd.DataFrame:
        """One row per participant (vote-matrix order): position on the opinion map (x, y),
        opinion group and base cluster (<NA> when not clustered), in_conv, n_votes."""
        return _frame(self._core.participant_columns())

    @cached_property
    def statements(self) -> pd.DataFrame:
        """One row per statement (ascending id): text, vote counts, Polis's group-aware consensus,
        extremity and priority, whether moderated out, and its projection (x, y) on the map."""
        return _frame(self._core.statement_columns())

    @cached_property
    def groups(self) -> pd.DataFrame:
        """One row per opinion group: size and centre on the opinion map."""
        return _frame(self._core.group_columns())

    @cached_property
    def base_clusters(self) -> pd.DataFrame:
        """One row per base cluster (Polis's up to 100 fine clusters): size, centre, members."""
        return _frame(self._core.base_cluster_columns())

    def _texts(self, ids: pd.Series) -> pd.Series:
        texts = dict(zip(self.statements["id"].tolist(), self.statements["text"].tolist()))
        return pd.Series([texts.get(i) for i in ids.tolist()], index=ids.index, dtype=object)

    @cached_property
    def repness(self) -> pd.DataFrame:
        """What each group believes: its representative statements, in Polis's order (rank 0 is
        shown first), with Polis's statistics: ``repful_for`` is "agree" or "disagree",
        ``percent`` the share of the group's voters (passes count) who voted that way, as the CLI
        prints it; ``p_success`` Polis's pseudo-counted share; ``repness`` how much more than the
        rest, ``p_test`` and ``repness_test`` their z-scores."""
        frame = _frame(self._core.repness_columns())
        frame["text"] = self._texts(frame["statement"])
        return frame

    @cached_property
    def consensus(self) -> pd.DataFrame:
        """Statements most participants agree on (direction "agree") or reject ("disagree"),
        in Polis's order; ``percent`` of the ``n_trials`` voters, as the CLI prints it."""
        frame = _frame(self._core.consensus_columns())
        frame["text"] = self._texts(frame["statement"])
        return frame

    @cached_property
    def _json(self) -> Dict[str, Any]:
        result: Dict[str, Any] = json.loads(self._core.to_json())
        return result

    @cached_property
    def bridging(self) -> pd.DataFrame:
        """Bridging scores with credible intervals, one row per statement in ranking order
        (empty when there are no groups). Read from the core's JSON; see the class docs."""
        bridging = self._json.get("bridging")
        if not bridging:
            return pd.DataFrame(columns=["statement", "rank", "common_ground"])
        texts = dict(zip(self.statements["id"].tolist(), self.statements["text"].tolist()))
        order = {statement: rank for rank, statement in enumerate(bridging["ranking"])}
        points, intervals = _score_fields(bridging["statements"])
        uncertain = set(bridging.get("uncertain", []))
        rows = []
        for entry in bridging["statements"]:
            row: Dict[str, Any] = {
                "statement": entry["statement"],
                "rank": order.get(entry["statement"]),
                "text": texts.get(entry["statement"]),
                "common_ground": entry["common_ground"],
            }
            for field in points:
                row[field] = entry.get(field)
            # The factorization's polarity: reported beside its intercept, but not a score.
            row["mf_factor"] = entry.get("mf_factor")
            for field in intervals:
                estimate = entry[field]
                row[field], row[f"{field}_lower"], row[f"{field}_upper"] = (
                    estimate["value"], estimate["lower"], estimate["upper"],
                )
            row["weakest_group"] = entry.get("weakest_group")
            # The subgroup hidden in a group that is most against the statement (the flag's
            # check beyond the groups), its size, and whether it vetoes the flag.
            weakest = entry.get("weakest_subgroup") or {}
            row["weakest_subgroup"] = weakest.get("subgroup")
            row["weakest_subgroup_group"] = weakest.get("group")
            row["weakest_subgroup_size"] = weakest.get("n_members")
            row["subgroup_disagrees"] = bool(weakest.get("disagrees", False))
            # Every group agrees, but too few votes to rule out a hidden minority: not common ground.
            row["unresolved"] = bool(entry.get("unresolved", False))
            row["uncertain"] = entry["statement"] in uncertain
            for prefix, key in (("agree_group", "group_agreement"), ("side_agree_group", "side_agreement"),
                                ("pass_group", "pass_rate")):
                for group, estimate in zip(bridging["groups"], entry.get(key, [])):
                    row[f"{prefix}_{group}"] = estimate["value"]
                    row[f"{prefix}_{group}_lower"] = estimate["lower"]
                    row[f"{prefix}_{group}_upper"] = estimate["upper"]
            rows.append(row)
        frame = pd.DataFrame(rows)
        frame["rank"] = pd.array(frame["rank"], dtype="Int64")
        return frame.sort_values("rank", kind="stable", na_position="last").reset_index(drop=True)

    @property
    def group_stability(self) -> Optional[Dict[str, Any]]:
        """Bootstrap stability of the groups per candidate k, when it was asked for
        (``analyze(group_stability={"enabled": True})``); else None."""
        stability: Optional[Dict[str, Any]] = self._json.get("group_stability")
        return stability

    @property
    def group_discovery(self) -> Optional[Dict[str, Any]]:
        """How the groups were discovered (k, the criterion per k tried, participants fitted),
        with ``analyze(groups="discover")``; else None."""
        discovery: Optional[Dict[str, Any]] = self._json.get("group_discovery")
        return discovery

    @property
    def merged(self) -> pd.DataFrame:
        """The smaller groups the opinion groups merge (the core's ``bridging.merged``): one row
        per pooled subgroup whose side-takers differ credibly from its group's ``core`` (the
        group's largest subgroup) on several statements, with its ``group``, ``n_members``,
        ``share`` of the grouped participants and the ``statements`` it differs on. Empty when the
        groups hide none."""
        bridging = self._json.get("bridging") or {}
        columns = ["subgroup", "group", "n_members", "core", "share", "statements"]
        return pd.DataFrame(bridging.get("merged", []), columns=columns)

    def common_ground(self, n: Optional[int] = None) -> pd.DataFrame:
        """The statements that are common ground, as the core defines it everywhere: with the
        analysis's credibility (90% by default), in every group more of those who took a side
        agree than disagree (the lower credible bound of the minimum side-takers' agreement is at
        least the threshold, 0.5 by default), and no smaller group inside a group (pooled base
        clusters, ``bridging.subgroups``) credibly disagrees. Ranked by the bridging score (:attr:`bridging`), the
        first ``n`` (all when None), with each group's agree share (a fraction) and percentage
        (``agree_percent_group_*``, as the CLI prints it). Polis's own ranking is
        :meth:`top_group_aware_consensus`."""
        bridging = self.bridging
        if bridging.empty:
            return pd.DataFrame(columns=["id", "text", "min_side_agreement_lower", "group_aware_consensus"])
        flagged = bridging[bridging["common_ground"].astype(bool)]
        ids = flagged["statement"].tolist()
        if n is not None:
            ids = ids[:n]
        return self._with_group_shares(
            ids, ["min_side_agreement", "min_side_agreement_lower", "min_side_agreement_upper", "weakest_group"]
        )

    def top_group_aware_consensus(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` statements with the highest group-aware consensus (Polis's measure: the
        product over groups of each group's smoothed agree rate), moderated-out statements left
        out, with each group's agree share. Unlike :meth:`common_ground`, no statement needs every
        group's agreement to be credible: this is a ranking, not a test."""
        statements = self.statements[~self.statements["moderated_out"].to_numpy(dtype=bool)]
        top = statements.sort_values("group_aware_consensus", ascending=False, kind="stable").head(n)
        return self._with_group_shares(top["id"].tolist(), [])

    def _with_group_shares(self, ids: List[Any], bridging_columns: List[str]) -> pd.DataFrame:
        """Rows of :attr:`statements` for ``ids`` in that order, with the given :attr:`bridging`
        columns and each group's agree share (a fraction) and agree percentage (:func:`_core.percent`,
        as the CLI prints it)."""
        statements = self.statements.reset_index(drop=True)
        position = {statement: i for i, statement in enumerate(statements["id"].tolist())}
        rows = [position[i] for i in ids]
        columns = ["id", "text", "group_aware_consensus", "n_agree", "n_disagree", "n_pass"]
        frame = statements.loc[rows, columns].reset_index(drop=True)
        if bridging_columns:
            scores = self.bridging.set_index("statement")
            for column in bridging_columns:
                frame.insert(2 + bridging_columns.index(column), column, scores.loc[ids, column].to_numpy())
        votes = self.group_votes
        for g, group in enumerate(self.groups["group"].tolist()):
            agree, seen = votes[g, rows, 0], votes[g, rows, 2]
            with np.errstate(invalid="ignore", divide="ignore"):
                frame[f"agree_share_group_{group}"] = np.where(seen > 0, agree / np.maximum(seen, 1), np.nan)
            frame[f"agree_percent_group_{group}"] = pd.array(
                [_core.percent(int(a), int(s)) for a, s in zip(agree, seen)], dtype="Int64"
            )
        return frame

    # -- arrays ----------------------------------------------------------------------------

    @cached_property
    def projections(self) -> np.ndarray:
        """Participants' positions on the opinion map, shape (participants, 2)."""
        p = self.participants
        return np.column_stack([p["x"].to_numpy(), p["y"].to_numpy()])

    @cached_property
    def statement_projections(self) -> np.ndarray:
        """Where a participant who agreed with only one statement would sit, shape (statements, 2)."""
        s = self.statements
        return np.column_stack([s["x"].to_numpy(), s["y"].to_numpy()])

    @cached_property
    def components(self) -> np.ndarray:
        """The two principal components, shape (2, statements), agree = +1."""
        return self._core.components()

    @cached_property
    def center(self) -> np.ndarray:
        """Mean vote per statement (the PCA centre), agree = +1."""
        return self._core.center()

    @cached_property
    def group_votes(self) -> np.ndarray:
        """Vote counts per group and statement, shape (groups, statements, 3): agree, disagree,
        seen (passes included)."""
        return self._core.group_votes()

    @cached_property
    def votes_base(self) -> np.ndarray:
        """Vote counts per base cluster and statement (Polis's ``votes-base``), shape
        (base clusters, statements, 3): agree, disagree, seen."""
        return self._core.votes_base()

    def vote_matrix(self) -> pd.DataFrame:
        """The votes analysed (the latest per participant and statement) as a dense
        participants x statements DataFrame: 1 agree, -1 disagree, 0 pass, NaN not voted. Dense:
        for large conversations use ``to_anndata(sparse=True)``."""
        indptr, indices, values, participants, statements = self._core.vote_matrix()
        dense = np.full((len(indptr) - 1, len(statements)), np.nan)
        rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        dense[rows, indices] = values
        return pd.DataFrame(dense, index=pd.Index(participants, name="participant"), columns=pd.Index(statements, name="statement"))

    # -- serialisation ---------------------------------------------------------------------

    def to_json(self, path: Optional[PathLike] = None) -> Dict[str, Any]:
        """commonground's full analysis as a dict (the CLI's ``--format json``); with ``path``,
        also writes it there, byte for byte as the CLI does."""
        text = self._core.to_json()
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text if text.endswith("\n") else text + "\n")
        result: Dict[str, Any] = json.loads(text)
        return result

    def to_polis_json(self, path: Optional[PathLike] = None) -> Dict[str, Any]:
        """The Polis math JSON (the shape of Polis's ``math-pca2``, Polis's agree = -1 sign) as a
        dict, the same as the CLI's ``--format polis``; with ``path``, also writes it there."""
        text = self._core.to_polis_json()
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text if text.endswith("\n") else text + "\n")
        result: Dict[str, Any] = json.loads(text)
        return result

    def to_html(self, path: Optional[PathLike] = None, *, title: Optional[str] = None) -> str:
        """The shareable report as one self-contained HTML page (the CLI's ``--format html``):
        overview, opinion map, what each group stands for, common ground and consensus with
        their intervals, uncertain statements, the bridging ranking, group stability when
        measured, and notes on the data. It works offline and runs no script. ``title`` defaults
        to the name of the folder the votes were read from; with ``path``, also writes it there."""
        text = self._core.to_html(title)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text if text.endswith("\n") else text + "\n")
        return text

    def _repr_html_(self) -> str:
        """A compact card for notebooks: counts, groups and common ground (the full report:
        :meth:`to_html`)."""
        return self._core.html_card()

    def summary(self, title: str = "conversation") -> str:
        """The human summary the CLI prints: groups, what each stands for, consensus, common ground."""
        return self._core.summary(title)

    # -- plotting and interop --------------------------------------------------------------

    def plot(
        self,
        ax: Optional["Axes"] = None,
        *,
        statements: bool = False,
        n_statements: int = 4,
        statement_labels: str = "id",
        title: Optional[str] = None,
        show_ungrouped: bool = True,
        key: bool = True,
    ) -> "Axes":
        """Draws the opinion map: participants coloured by opinion group (open grey rings: not
        clustered), numbered group centres, and with ``statements=True`` arrows to the projections
        of each group's ``n_statements`` first representative statements that it agrees with,
        labelled by id (``statement_labels="text"`` adds their text, wrapped) where no label
        overlaps another, and, with ``key=True``, a key under the map that lists each statement's
        text and says how the arrows are scaled. Chinese, Japanese and Korean text is drawn with a
        CJK font when one is installed (Debian: ``fonts-noto-cjk``). Draws on ``ax`` or a new
        figure; returns the Axes. Needs matplotlib (``pip install 'commonground[plot]'``)."""
        from ._plot import plot_opinion_map

        return plot_opinion_map(
            self,
            ax=ax,
            statements=statements,
            n_statements=n_statements,
            statement_labels=statement_labels,
            title=title,
            show_ungrouped=show_ungrouped,
            key=key,
        )

    def to_anndata(self, *, sparse: bool = False) -> "anndata.AnnData":
        """The votes and the analysis as an AnnData, with valency-anndata's keys, so its tools and
        scanpy's take it as is:

        - ``X``: the participants x statements votes (1 agree, -1 disagree, 0 pass, NaN not
          voted); with ``sparse=True`` the CSR matrix of ``layers["raw_sparse"]`` instead;
        - ``layers["raw_sparse"]``: the votes as a CSR matrix, where pass is a stored 0;
        - ``obs``: the participants table, plus ``kmeans_polis`` (the opinion group, categorical,
          NaN when not clustered; ``group`` is its alias);
        - ``var``: the statements table, plus ``content`` (the text, also ``text``),
          ``moderation_state`` (the moderator's -1, 0, 1, also ``moderated``) and ``is_meta``;
        - ``obsm["X_pca_polis"]`` the projections, ``varm["PCs"]`` and ``varm["X_pca_polis"]``
          the components;
        - ``uns``: groups, repness, consensus and k selection.

        Needs anndata (``pip install 'commonground[anndata]'``)."""
        try:
            import anndata
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError(
                "Analysis.to_anndata() needs the optional dependency anndata: "
                "pip install 'commonground[anndata]' (or pip install anndata)"
            ) from e
        from scipy.sparse import csr_matrix

        indptr, indices, values, participant_ids, statement_ids = self._core.vote_matrix()
        shape = (len(indptr) - 1, len(statement_ids))
        raw_sparse = csr_matrix((np.asarray(values, dtype=np.float32), indices, indptr), shape=shape)
        X: Any = raw_sparse.copy() if sparse else self.vote_matrix().to_numpy(dtype=np.float32)
        obs = self.participants.copy()
        obs.index = pd.Index([str(i) for i in obs["id"]], name="participant")
        # valency-anndata's clustering key: a categorical of group ids, NaN for the unclustered;
        # ``group`` stays as our alias.
        obs["group"] = obs["group"].astype("category")
        obs["kmeans_polis"] = obs["group"]
        var = self.statements.copy()
        var.index = pd.Index([str(i) for i in var["id"]], name="statement")
        var["content"] = var["text"]
        var["moderation_state"] = var["moderated"]
        adata = anndata.AnnData(X=X, obs=obs, var=var)
        adata.layers["raw_sparse"] = raw_sparse
        adata.obsm["X_pca_polis"] = self.projections
        adata.varm["PCs"] = self.components.T.copy()
        adata.varm["X_pca_polis"] = adata.varm["PCs"]
        adata.uns["commonground"] = {
            "k": -1 if self.k is None else self.k,
            "silhouettes": {str(k): v for k, v in self.silhouettes.items()},
            "tick": self.tick,
        }
        adata.uns["groups"] = self.groups.drop(columns=["base_clusters"])
        adata.uns["repness"] = self.repness
        adata.uns["consensus"] = self.consensus
        return adata

    def __repr__(self) -> str:
        return (
            f"<commonground.Analysis: {self.n_participants} participants, {self.n_statements} statements, "
            f"{self.n_votes} votes, {len(self._core.group_columns()['group'])} groups, tick {self.tick}>"
        )
