//! `_core.Analysis`: a read-only view of one [`commonground::Analysis`], handed to Python column by
//! column (numpy arrays and lists) for the pandas helpers in `commonground/_analysis.py`.
//!
//! It shares the conversation that produced it (an `Arc`), so handing it out copies nothing; when
//! the conversation is updated while an `Analysis` is still alive, the conversation is copied on
//! write and this view keeps showing the state it was made from.

use std::sync::Arc;

use commonground::io::{html_card, html_report, summary, PolisMath, SourceInfo};
use commonground::stats::{RepfulFor, VoteCounts};
use commonground::{Conversation, StageTimings};
use numpy::{PyArray2, PyArray3};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use pyo3::IntoPyObjectExt;

use crate::convert::{array, ids_to_py, optional_ints};

#[pyclass(module = "commonground._core", name = "Analysis", frozen)]
pub struct PyAnalysis {
    conversation: Arc<Conversation>,
    timings: StageTimings,
    /// How the votes were read, for a conversation read from files (the report's data notes).
    source: Option<SourceInfo>,
}

impl PyAnalysis {
    /// Only made from a conversation on which an update has run.
    pub fn new(conversation: Arc<Conversation>, source: Option<SourceInfo>) -> PyResult<PyAnalysis> {
        if conversation.analysis().is_none() {
            return Err(PyRuntimeError::new_err("internal: a conversation without an analysis"));
        }
        let timings = conversation.timings();
        Ok(PyAnalysis { conversation, timings, source })
    }

    /// The title the caller gave, else the name of the folder the votes were read from.
    fn title(&self, title: Option<&str>) -> String {
        match (title, &self.source) {
            (Some(t), _) => t.to_string(),
            (None, Some(source)) => source.name(),
            (None, None) => "conversation".to_string(),
        }
    }

    fn get(&self) -> &commonground::Analysis {
        // Checked in `new`; the conversation behind the Arc is never mutated.
        match self.conversation.analysis() {
            Some(a) => a,
            None => unreachable!("PyAnalysis::new checks that an analysis exists"),
        }
    }
}

fn counts_array<'py>(py: Python<'py>, rows: &[Vec<VoteCounts>]) -> PyResult<Bound<'py, PyAny>> {
    let m = rows.first().map_or(0, |r| r.len());
    let nested: Vec<Vec<Vec<i64>>> = rows
        .iter()
        .map(|r| r.iter().map(|c| vec![c.agree as i64, c.disagree as i64, c.seen as i64]).collect())
        .collect();
    if nested.is_empty() {
        return Ok(PyArray3::<i64>::zeros(py, [0, m, 3], false).into_any());
    }
    Ok(PyArray3::from_vec3(py, &nested).map_err(|e| PyRuntimeError::new_err(e.to_string()))?.into_any())
}

/// The core's one percentage ([`commonground::stats::percent`]) of each `(n, of)`, as a nullable
/// integer column.
fn percents<'py>(py: Python<'py>, counts: impl Iterator<Item = (u32, u32)>) -> PyResult<Bound<'py, PyAny>> {
    optional_ints(py, counts.map(|(n, of)| commonground::stats::percent(n, of).map(i64::from)))
}

#[pymethods]
impl PyAnalysis {
    /// How many updates the conversation has had, this one included (Polis's `math_tick`).
    #[getter]
    fn tick(&self) -> u64 {
        self.get().tick
    }
    #[getter]
    fn n_participants(&self) -> usize {
        self.get().n_participants
    }
    #[getter]
    fn n_statements(&self) -> usize {
        self.get().n_statements
    }
    #[getter]
    fn n_votes(&self) -> usize {
        self.get().n_votes
    }
    /// Latest vote timestamp (epoch ms), when votes carried timestamps.
    #[getter]
    fn last_vote_timestamp(&self) -> Option<i64> {
        self.get().last_vote_timestamp
    }
    /// The number of groups used (after Polis's smoother).
    #[getter]
    fn k(&self) -> Option<usize> {
        self.get().k_selection.k
    }
    /// The number of groups with the best silhouette in this update.
    #[getter]
    fn best_k(&self) -> Option<usize> {
        self.get().k_selection.best_k
    }
    /// Silhouette of the group clustering for each number of groups tried.
    #[getter]
    fn silhouettes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, s) in &self.get().k_selection.silhouettes {
            d.set_item(k, s)?;
        }
        Ok(d)
    }
    /// Power-iteration products per component in this update.
    #[getter]
    fn pca_iterations(&self) -> (usize, usize) {
        let [a, b] = self.get().pca.iterations;
        (a, b)
    }
    /// Wall time in seconds of each stage of the update that made this analysis.
    #[getter]
    fn timings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("matrix", self.timings.matrix.as_secs_f64())?;
        d.set_item("pca", self.timings.pca.as_secs_f64())?;
        d.set_item("clustering", self.timings.clustering.as_secs_f64())?;
        d.set_item("statistics", self.timings.statistics.as_secs_f64())?;
        d.set_item("stability", self.timings.stability.as_secs_f64())?;
        d.set_item("bridging", self.timings.bridging.as_secs_f64())?;
        // Beside the PCA and the clustering, so the stages add up to more than the total.
        d.set_item("mf", self.timings.mf.as_secs_f64())?;
        d.set_item("total", self.timings.total.as_secs_f64())?;
        Ok(d)
    }

    /// Per-participant columns, in vote-matrix row order.
    fn participant_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let p = &self.get().participants;
        let d = PyDict::new(py);
        d.set_item("id", ids_to_py(py, p.iter().map(|p| &p.id))?)?;
        d.set_item("x", array(py, p.iter().map(|p| p.x).collect()))?;
        d.set_item("y", array(py, p.iter().map(|p| p.y).collect()))?;
        d.set_item("group", optional_ints(py, p.iter().map(|p| p.group.map(i64::from)))?)?;
        d.set_item("base_cluster", optional_ints(py, p.iter().map(|p| p.base_cluster.map(i64::from)))?)?;
        d.set_item("in_conv", array(py, p.iter().map(|p| p.in_conv).collect()))?;
        d.set_item("n_votes", array(py, p.iter().map(|p| p.n_votes as i64).collect()))?;
        Ok(d)
    }

    /// Per-statement columns, in vote-matrix column order (ascending id).
    fn statement_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = &self.get().statements;
        let d = PyDict::new(py);
        d.set_item("id", ids_to_py(py, s.iter().map(|s| &s.id))?)?;
        d.set_item("text", PyList::new(py, s.iter().map(|s| s.text.as_deref()))?)?;
        d.set_item("n_agree", array(py, s.iter().map(|s| s.n_agree as i64).collect()))?;
        d.set_item("n_disagree", array(py, s.iter().map(|s| s.n_disagree as i64).collect()))?;
        d.set_item("n_pass", array(py, s.iter().map(|s| s.n_pass as i64).collect()))?;
        d.set_item("group_aware_consensus", array(py, s.iter().map(|s| s.group_aware_consensus).collect()))?;
        d.set_item("extremity", array(py, s.iter().map(|s| s.extremity).collect()))?;
        d.set_item("priority", array(py, s.iter().map(|s| s.priority).collect()))?;
        // The moderator's decision (-1, 0, 1) as the conversation's statement list holds it (0 for
        // a statement without metadata); moderated_out also counts meta statements.
        let listed: std::collections::HashMap<&commonground::Id, i64> =
            self.conversation.statements().iter().map(|s| (&s.id, s.moderation.value())).collect();
        d.set_item("moderated", array(py, s.iter().map(|s| listed.get(&s.id).copied().unwrap_or(0)).collect()))?;
        d.set_item("moderated_out", array(py, s.iter().map(|s| s.moderated_out).collect()))?;
        d.set_item("is_meta", array(py, s.iter().map(|s| s.is_meta).collect()))?;
        d.set_item("mean", array(py, s.iter().map(|s| s.mean).collect()))?;
        d.set_item("x", array(py, s.iter().map(|s| s.projection[0]).collect()))?;
        d.set_item("y", array(py, s.iter().map(|s| s.projection[1]).collect()))?;
        Ok(d)
    }

    /// Per-group columns, sorted by group id.
    fn group_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let g = &self.get().groups;
        let d = PyDict::new(py);
        d.set_item("group", array(py, g.iter().map(|g| g.id as i64).collect()))?;
        d.set_item("n_members", array(py, g.iter().map(|g| g.n_members as i64).collect()))?;
        d.set_item("x", array(py, g.iter().map(|g| g.center[0]).collect()))?;
        d.set_item("y", array(py, g.iter().map(|g| g.center[1]).collect()))?;
        d.set_item("base_clusters", PyList::new(py, g.iter().map(|g| g.base_clusters.clone()))?)?;
        Ok(d)
    }

    /// Per-base-cluster columns, sorted by base-cluster id.
    fn base_cluster_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let b = &self.get().base_clusters;
        let d = PyDict::new(py);
        d.set_item("base_cluster", array(py, b.iter().map(|c| c.id as i64).collect()))?;
        d.set_item("n_members", array(py, b.iter().map(|c| c.members.len() as i64).collect()))?;
        d.set_item("x", array(py, b.iter().map(|c| c.center[0]).collect()))?;
        d.set_item("y", array(py, b.iter().map(|c| c.center[1]).collect()))?;
        let members = PyList::empty(py);
        for c in b {
            members.append(ids_to_py(py, c.members.iter())?)?;
        }
        d.set_item("members", members)?;
        Ok(d)
    }

    /// Representative statements: one row per (group, statement), in Polis's order within a group.
    fn repness_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let a = self.get();
        let rows: Vec<(u32, usize, &commonground::stats::RepnessEntry<commonground::Id>)> = a
            .groups
            .iter()
            .zip(&a.repness)
            .flat_map(|(g, entries)| entries.iter().enumerate().map(move |(rank, e)| (g.id, rank, e)))
            .collect();
        let d = PyDict::new(py);
        d.set_item("group", array(py, rows.iter().map(|r| r.0 as i64).collect()))?;
        d.set_item("rank", array(py, rows.iter().map(|r| r.1 as i64).collect()))?;
        d.set_item("statement", ids_to_py(py, rows.iter().map(|r| &r.2.statement))?)?;
        let repful: Vec<&str> = rows
            .iter()
            .map(|r| match r.2.repful_for {
                RepfulFor::Agree => "agree",
                RepfulFor::Disagree => "disagree",
            })
            .collect();
        d.set_item("repful_for", PyList::new(py, repful)?)?;
        d.set_item("n_success", array(py, rows.iter().map(|r| r.2.n_success as i64).collect()))?;
        d.set_item("n_trials", array(py, rows.iter().map(|r| r.2.n_trials as i64).collect()))?;
        d.set_item("p_success", array(py, rows.iter().map(|r| r.2.p_success).collect()))?;
        d.set_item("percent", percents(py, rows.iter().map(|r| (r.2.n_success, r.2.n_trials)))?)?;
        d.set_item("p_test", array(py, rows.iter().map(|r| r.2.p_test).collect()))?;
        d.set_item("repness", array(py, rows.iter().map(|r| r.2.repness).collect()))?;
        d.set_item("repness_test", array(py, rows.iter().map(|r| r.2.repness_test as f64).collect()))?;
        d.set_item("best_agree", array(py, rows.iter().map(|r| r.2.best_agree).collect()))?;
        d.set_item("n_agree", optional_ints(py, rows.iter().map(|r| r.2.n_agree.map(i64::from)))?)?;
        Ok(d)
    }

    /// Consensus statements: the agreed ones first, then the rejected ones, each in Polis's order.
    fn consensus_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = &self.get().consensus;
        let rows: Vec<(&str, usize, &commonground::stats::ConsensusEntry<commonground::Id>)> = c
            .agree
            .iter()
            .enumerate()
            .map(|(i, e)| ("agree", i, e))
            .chain(c.disagree.iter().enumerate().map(|(i, e)| ("disagree", i, e)))
            .collect();
        let d = PyDict::new(py);
        d.set_item("direction", PyList::new(py, rows.iter().map(|r| r.0))?)?;
        d.set_item("rank", array(py, rows.iter().map(|r| r.1 as i64).collect()))?;
        d.set_item("statement", ids_to_py(py, rows.iter().map(|r| &r.2.statement))?)?;
        d.set_item("n_success", array(py, rows.iter().map(|r| r.2.n_success as i64).collect()))?;
        d.set_item("n_trials", array(py, rows.iter().map(|r| r.2.n_trials as i64).collect()))?;
        d.set_item("p_success", array(py, rows.iter().map(|r| r.2.p_success).collect()))?;
        d.set_item("percent", percents(py, rows.iter().map(|r| (r.2.n_success, r.2.n_trials)))?)?;
        d.set_item("p_test", array(py, rows.iter().map(|r| r.2.p_test).collect()))?;
        Ok(d)
    }

    /// The PCA centre: mean vote per statement (agree = +1), in statement order.
    fn center<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        array(py, self.get().pca.center.clone())
    }

    /// The two principal components, shape (2, statements), agree = +1.
    fn components<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyArray2::from_owned_array(py, self.get().components()).into_any())
    }

    /// Vote counts per group and statement, shape (groups, statements, 3): agree, disagree, seen.
    fn group_votes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyArray3::from_owned_array(py, self.get().group_votes().mapv(i64::from)).into_any())
    }

    /// Vote counts per base cluster and statement (Polis's `votes-base`), shape (base clusters,
    /// statements, 3): agree, disagree, seen.
    fn votes_base<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        counts_array(py, &self.get().votes_base)
    }

    /// The vote matrix the analysis ran on, as CSR arrays (indptr, statement indices, votes), with
    /// the participant ids of its rows and the statement ids of its columns.
    fn vote_matrix<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let m = self.conversation.matrix();
        let (indptr, indices, values) = m.csr();
        (
            array(py, indptr.iter().map(|&i| i as i64).collect()),
            array(py, indices.to_vec()),
            array(py, values.to_vec()),
            ids_to_py(py, m.participants().iter())?,
            ids_to_py(py, m.statements().iter())?,
        )
            .into_bound_py_any(py)
    }

    /// commonground's own JSON, as the CLI's `--format json` writes it.
    fn to_json(&self, py: Python<'_>) -> String {
        let a = self.get();
        py.detach(|| a.to_json())
    }

    /// The Polis math JSON (math-pca2), as the CLI's `--format polis` writes it.
    fn to_polis_json(&self, py: Python<'_>) -> String {
        let a = self.get();
        py.detach(|| PolisMath::from_analysis(a).to_json())
    }

    /// The human summary, as the CLI's `--format summary` prints it.
    #[pyo3(signature = (title, source=None))]
    fn summary(&self, title: &str, source: Option<&str>) -> String {
        summary(self.get(), title, source)
    }

    /// The shareable HTML report, as the CLI's `--format html` writes it. `title` defaults to
    /// the name of the folder the votes were read from.
    #[pyo3(signature = (title=None))]
    fn to_html(&self, py: Python<'_>, title: Option<&str>) -> String {
        let (a, title, source) = (self.get(), self.title(title), self.source.as_ref());
        py.detach(|| html_report(a, &title, source))
    }

    /// The compact HTML card a notebook shows.
    #[pyo3(signature = (title=None))]
    fn html_card(&self, title: Option<&str>) -> String {
        html_card(self.get(), &self.title(title))
    }

    /// Pickling: the conversation state behind this analysis, the analysis included, and how the
    /// votes were read (as JSON); unpickled by `_core._analysis_from_state`.
    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>, Option<String>))> {
        let restore = py.import("commonground._core")?.getattr("_analysis_from_state")?;
        let bytes = self.conversation.state_with_analysis().to_bytes();
        let source = self.source.as_ref().map(serde_json::to_string).transpose().map_err(|e| {
            PyRuntimeError::new_err(format!("internal: the source of the analysis does not serialise: {e}"))
        })?;
        Ok((restore, (PyBytes::new(py, &bytes), source)))
    }

    fn __repr__(&self) -> String {
        let a = self.get();
        format!(
            "<commonground._core.Analysis tick={} participants={} statements={} votes={} groups={}>",
            a.tick,
            a.n_participants,
            a.n_statements,
            a.n_votes,
            a.groups.len()
        )
    }
}

/// Restores a pickled `Analysis` (see `Analysis.__reduce__`).
#[pyfunction]
#[pyo3(signature = (state, source=None))]
pub fn _analysis_from_state(py: Python<'_>, state: &[u8], source: Option<&str>) -> PyResult<PyAnalysis> {
    let state = commonground::ConversationState::from_bytes(state).map_err(|e| crate::errors::to_py(py, e))?;
    let conversation = Conversation::from_state(state).map_err(|e| crate::errors::to_py(py, e))?;
    let source = source
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("a pickled analysis's source: {e}")))?;
    PyAnalysis::new(Arc::new(conversation), source)
}

/// The bridging scores, as the core lists them (`commonground::bridging::SCORES`), one dict each:
/// The percentage every output shows for `n` of `of` voters (passes counted among the votes),
/// rounded half up; None when nobody voted. The summary prints the same number
/// ([`commonground::stats::percent`]).
#[pyfunction]
pub fn percent(n: u32, of: u32) -> Option<u32> {
    commonground::stats::percent(n, of)
}

/// `name` (the CLI's `--rank-by` value), `rank_by` (the value of `bridging.rank_by` in the
/// parameters), `field` (the key of the per-statement bridging JSON it is read from),
/// `has_interval`, `display_name` and `description`. `_analysis.py` builds the bridging frame's
/// score columns from it.
#[pyfunction]
pub fn bridging_scores(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let list = PyList::empty(py);
    for spec in commonground::bridging::SCORES {
        let d = PyDict::new(py);
        d.set_item("name", spec.short_name)?;
        let rank_by = serde_json::to_value(spec.score).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        d.set_item("rank_by", rank_by.as_str())?;
        d.set_item("field", spec.field)?;
        d.set_item("has_interval", spec.has_interval())?;
        d.set_item("display_name", spec.display_name)?;
        d.set_item("description", spec.description)?;
        list.append(d)?;
    }
    Ok(list)
}
