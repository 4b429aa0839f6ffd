//! `_core.Conversation`: every vote event and statement given so far, plus the live
//! [`commonground::Conversation`] that `update` advances with Polis's warm starts.
//!
//! The GIL is released while the core works (reading files, analysing), so Python threads can
//! analyse different conversations at once. One conversation is not meant to be shared between
//! threads: the Python wrapper serialises calls on it with a lock.

use std::path::PathBuf;
use std::sync::Arc;

use commonground::io::{self, ConversationData};
use commonground::{Conversation, ConversationState, Params, Request, Statement, StatementList, VoteBatch, VoteEvent};
use numpy::PyReadonlyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use crate::analysis::PyAnalysis;
use crate::convert::{array, ids_to_py, optional_ints, statements_from_py, vote_batch, vote_table};
use crate::errors::to_py;

/// What a pickle of a conversation holds (see `__getstate__`).
#[derive(serde::Serialize, serde::Deserialize)]
struct Pickled {
    votes: Vec<VoteEvent>,
    statements: Vec<Statement>,
    source: Option<io::SourceInfo>,
    live: Option<ConversationState>,
}

#[pyclass(module = "commonground._core", name = "Conversation")]
pub struct PyConversation {
    /// Every vote event so far, in the order given (agree = +1).
    votes: VoteBatch,
    statements: StatementList,
    /// How the votes were read, for a conversation read from disk.
    source: Option<io::SourceInfo>,
    /// The conversation that `update` advances; made by `analyze` or by the first `update`.
    live: Option<Arc<Conversation>>,
}

impl PyConversation {
    fn set_statements_inner(&mut self, statements: Vec<Statement>) {
        statements.into_iter().for_each(|s| self.statements.upsert(s));
    }
}

/// Polis's default parameters, as a JSON object (the Python side turns it into a dict).
#[pyfunction]
pub fn default_params() -> String {
    serde_json::to_string(&Params::default()).unwrap_or_else(|_| "{}".into())
}

#[pymethods]
impl PyConversation {
    /// An empty conversation.
    #[new]
    fn new() -> Self {
        PyConversation { votes: VoteBatch::new(), statements: StatementList::new(), source: None, live: None }
    }

    /// Reads a Polis export folder or API dump folder (or one of its vote files).
    #[staticmethod]
    fn read_polis(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let ConversationData { votes, statements, source } = py.detach(|| io::load(&path)).map_err(|e| to_py(py, e))?;
        let mut conversation = PyConversation::new();
        conversation.votes = votes;
        conversation.set_statements_inner(statements);
        conversation.source = Some(source);
        Ok(conversation)
    }

    /// Adds or replaces statement metadata. Columns: ids, texts (or None), moderation (-1
    /// rejected, 0 unmoderated, 1 accepted), is_meta. Takes effect at the next analysis.
    fn set_statements(
        &mut self,
        py: Python<'_>,
        ids: &Bound<'_, PyAny>,
        texts: Vec<Option<String>>,
        moderation: Vec<i64>,
        is_meta: Vec<bool>,
    ) -> PyResult<()> {
        let statements = statements_from_py(py, ids, texts, moderation, is_meta)?;
        if let Some(live) = self.live.as_mut() {
            Arc::make_mut(live).set_statements(statements.clone());
        }
        self.set_statements_inner(statements);
        Ok(())
    }

    /// Adds vote events without analysing. Timestamps are epoch ms, with i64 minimum for none.
    /// The batch is checked first (vote values, ids, and statements when a statement list is
    /// known); on error nothing is added.
    #[pyo3(signature = (participants, statements, votes, timestamps=None))]
    fn add_votes(
        &mut self,
        py: Python<'_>,
        participants: &Bound<'_, PyAny>,
        statements: &Bound<'_, PyAny>,
        votes: &Bound<'_, PyAny>,
        timestamps: Option<PyReadonlyArray1<'_, i64>>,
    ) -> PyResult<()> {
        let events = self.new_votes(py, participants, statements, votes, timestamps)?;
        self.keep(events);
        Ok(())
    }

    /// Adds the vote events of an Arrow table (any object with `__arrow_c_stream__` or
    /// `__arrow_c_array__`), read by the CLI's vote table rules; `flip_signs` for Polis's raw sign
    /// (agree = -1). Checked as `add_votes` checks; on error nothing is added.
    #[pyo3(signature = (table, flip_signs=false))]
    fn add_table(&mut self, py: Python<'_>, table: &Bound<'_, PyAny>, flip_signs: bool) -> PyResult<()> {
        let events = self.new_table_votes(py, table, flip_signs)?;
        self.keep(events);
        Ok(())
    }

    /// Analyses every vote so far as `request` says: one JSON object of parameters (any
    /// `Params` field) and mode (`replay`, `window_ms`, `max_updates`, `restarts`), which
    /// the core parses and checks, naming the bad key. The result becomes the state that `update`
    /// continues.
    #[pyo3(signature = (request="{}"))]
    fn analyze(&mut self, py: Python<'_>, request: &str) -> PyResult<PyAnalysis> {
        let request = Request::from_json(request).map_err(|e| to_py(py, e))?;
        let (votes, statements) = (&self.votes, &self.statements);
        let conversation = py
            .detach(|| Conversation::run(&request, statements.as_slice().to_vec(), votes))
            .map_err(|e| to_py(py, e))?;
        let conversation = Arc::new(conversation);
        self.live = Some(conversation.clone());
        PyAnalysis::new(conversation, self.source.clone())
    }

    /// Adds a batch of votes and updates the analysis with Polis's warm starts. Before any
    /// analysis, the first update analyses every vote so far with Polis's default parameters.
    #[pyo3(signature = (participants, statements, votes, timestamps=None))]
    fn update(
        &mut self,
        py: Python<'_>,
        participants: &Bound<'_, PyAny>,
        statements: &Bound<'_, PyAny>,
        votes: &Bound<'_, PyAny>,
        timestamps: Option<PyReadonlyArray1<'_, i64>>,
    ) -> PyResult<PyAnalysis> {
        let events = self.new_votes(py, participants, statements, votes, timestamps)?;
        self.update_with(py, events)
    }

    /// `update` with the vote events of an Arrow table (see `add_table`).
    #[pyo3(signature = (table, flip_signs=false))]
    fn update_table(&mut self, py: Python<'_>, table: &Bound<'_, PyAny>, flip_signs: bool) -> PyResult<PyAnalysis> {
        let events = self.new_table_votes(py, table, flip_signs)?;
        self.update_with(py, events)
    }

    /// The latest analysis (from `analyze` or `update`), if any.
    #[getter]
    fn analysis(&self) -> PyResult<Option<PyAnalysis>> {
        self.live
            .as_ref()
            .filter(|l| l.analysis().is_some())
            .map(|l| PyAnalysis::new(l.clone(), self.source.clone()))
            .transpose()
    }

    /// The parameters of the live conversation (the last `analyze`, or the first `update`), as a
    /// JSON object.
    #[getter]
    fn params(&self) -> Option<String> {
        self.live.as_ref().map(|l| serde_json::to_string(l.params()).unwrap_or_else(|_| "{}".into()))
    }

    /// Number of vote events so far (superseded votes included).
    #[getter]
    fn n_votes(&self) -> usize {
        self.votes.len()
    }

    /// Number of statements with metadata.
    #[getter]
    fn n_statements(&self) -> usize {
        self.statements.len()
    }

    /// Whether any vote carries a timestamp (needed by `replay`).
    #[getter]
    fn has_timestamps(&self) -> bool {
        self.votes.has_timestamps()
    }

    /// How a conversation read from disk was read: path, format, sign, files read, notes and
    /// warnings (what the reader decided or left out).
    #[getter]
    fn source<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(s) = &self.source else { return Ok(None) };
        let d = PyDict::new(py);
        d.set_item("path", s.path.to_string_lossy().into_owned())?;
        d.set_item("format", s.format.to_string())?;
        d.set_item("sign", s.sign.to_string())?;
        d.set_item("files", PyList::new(py, &s.files)?)?;
        d.set_item("notes", PyList::new(py, &s.notes)?)?;
        d.set_item("warnings", PyList::new(py, &s.warnings)?)?;
        Ok(Some(d))
    }

    /// Every vote event so far as columns: participant, statement, vote, timestamp (values, mask).
    fn vote_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let v = &self.votes;
        let d = PyDict::new(py);
        d.set_item("participant", ids_to_py(py, v.participants().iter().map(|&p| &v.participant_ids()[p as usize]))?)?;
        d.set_item("statement", ids_to_py(py, v.statements().iter().map(|&s| &v.statement_ids()[s as usize]))?)?;
        d.set_item("vote", array(py, v.values().to_vec()))?;
        d.set_item("timestamp", optional_ints(py, (0..v.len()).map(|i| v.timestamp(i)))?)?;
        Ok(d)
    }

    /// The statements as columns: id, text, moderated (-1, 0, 1), is_meta, author (values or
    /// None), created (values, mask).
    fn statement_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.statements.as_slice();
        let d = PyDict::new(py);
        d.set_item("id", ids_to_py(py, s.iter().map(|s| &s.id))?)?;
        d.set_item("text", PyList::new(py, s.iter().map(|s| s.text.as_deref()))?)?;
        d.set_item("moderated", array(py, s.iter().map(|s| s.moderation.value()).collect()))?;
        d.set_item("is_meta", array(py, s.iter().map(|s| s.is_meta).collect()))?;
        let authors = PyList::empty(py);
        for st in s {
            match &st.author {
                Some(a) => authors.append(crate::errors::id_to_py(py, a)?)?,
                None => authors.append(py.None())?,
            }
        }
        d.set_item("author", authors)?;
        d.set_item("created", optional_ints(py, s.iter().map(|s| s.created))?)?;
        Ok(d)
    }

    /// Pickling: every vote event, the statements, how they were read, and the live
    /// conversation's whole state (its analysis included), so that an unpickled conversation
    /// shows the same analysis and its next `update` gives exactly what this one's would.
    fn __getstate__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let pickled = Pickled {
            votes: self.votes.events().collect(),
            statements: self.statements.as_slice().to_vec(),
            source: self.source.clone(),
            live: self.live.as_ref().map(|l| l.state_with_analysis()),
        };
        let bytes = rmp_serde::to_vec_named(&pickled).map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(PyBytes::new(py, &bytes))
    }

    fn __setstate__(&mut self, py: Python<'_>, state: &[u8]) -> PyResult<()> {
        let pickled: Pickled = rmp_serde::from_slice(state)
            .map_err(|e| to_py(py, commonground::Error::InvalidState(format!("not a pickled conversation ({e})"))))?;
        let live = match pickled.live {
            Some(state) => Some(Arc::new(Conversation::from_state(state).map_err(|e| to_py(py, e))?)),
            None => None,
        };
        let mut statements = StatementList::new();
        pickled.statements.into_iter().for_each(|s| statements.upsert(s));
        *self =
            PyConversation { votes: VoteBatch::from_events(&pickled.votes), statements, source: pickled.source, live };
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!(
            "<commonground._core.Conversation votes={} statements={} analysed={}>",
            self.votes.len(),
            self.statements.len(),
            self.live.is_some()
        )
    }
}

impl PyConversation {
    /// Vote columns as a batch, checked: with a statement list, a vote on a statement not in it
    /// is an error (as the core's update checks), raised here when the votes are given rather
    /// than at the next analysis.
    fn new_votes(
        &self,
        py: Python<'_>,
        participants: &Bound<'_, PyAny>,
        statements: &Bound<'_, PyAny>,
        votes: &Bound<'_, PyAny>,
        timestamps: Option<PyReadonlyArray1<'_, i64>>,
    ) -> PyResult<VoteBatch> {
        let batch = vote_batch(py, participants, statements, votes, timestamps)?;
        self.statements.check_votes(&batch).map_err(|e| to_py(py, e))?;
        Ok(batch)
    }

    /// An Arrow table's vote events, checked as `new_votes` checks columns.
    fn new_table_votes(&self, py: Python<'_>, table: &Bound<'_, PyAny>, flip_signs: bool) -> PyResult<VoteBatch> {
        let batch = vote_table(py, table, flip_signs)?;
        self.statements.check_votes(&batch).map_err(|e| to_py(py, e))?;
        Ok(batch)
    }

    /// Keeps checked vote events: taken as they are when there are none yet (a 50-million-vote
    /// table is not copied into an empty conversation), else appended.
    fn keep(&mut self, events: VoteBatch) {
        if self.votes.is_empty() {
            self.votes = events;
        } else {
            self.votes.append(events);
        }
    }

    /// Adds checked vote events and updates the live conversation (or makes it: see `update`).
    fn update_with(&mut self, py: Python<'_>, events: VoteBatch) -> PyResult<PyAnalysis> {
        let live = self.live.take();
        let (all_votes, statement_list) = (&self.votes, &self.statements);
        let result = py.detach(move || match live {
            Some(mut live) => {
                // Copied only when an Analysis still shares it.
                let result = Arc::make_mut(&mut live).update(&events).map(|_| ());
                (result, Some(live), events)
            }
            None => {
                let mut all = all_votes.clone();
                all.append(events.clone());
                let first = Conversation::run(&Request::default(), statement_list.as_slice().to_vec(), &all);
                match first {
                    Ok(c) => (Ok(()), Some(Arc::new(c)), events),
                    Err(e) => (Err(e), None, events),
                }
            }
        });
        let (outcome, live, events) = result;
        self.live = live;
        outcome.map_err(|e| to_py(py, e))?;
        self.keep(events);
        match &self.live {
            Some(live) => PyAnalysis::new(live.clone(), self.source.clone()),
            None => Err(pyo3::exceptions::PyRuntimeError::new_err("internal: no conversation after an update")),
        }
    }
}
