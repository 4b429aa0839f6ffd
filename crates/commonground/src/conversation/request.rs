//! The one entry point: how a conversation's votes are analysed, decided once, here.
//!
//! Every front end (the CLI, the Python bindings, the worker) used to choose for itself between a
//! one-batch analysis and a replay, check that a replay has timestamps, and validate parameters.
//! They now hand the core a [`Request`] (parameters plus how to run), built from flags or parsed
//! from one JSON object ([`Request::from_json`]), and call [`Conversation::run`]; they only
//! convert inputs and outputs.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Batching, Conversation, Restarts};
use crate::error::{Error, Result};
use crate::params::Params;
use crate::progress::Progress;
use crate::votes::{Id, ModerationStatus, Statement, StatementList, VoteBatch, Votes};

/// How the votes go through the analysis.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Mode {
    /// All votes at once: a cold start, as `commonground analyze` does by default.
    #[default]
    OneBatch,
    /// The timestamped votes in time order, batch by batch, as Polis's worker saw them
    /// ([`Conversation::replay`]).
    Replay(Batching),
}

/// Parameters and mode of one analysis, and the statements the analyst marks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    pub params: Params,
    pub mode: Mode,
    /// Statements to treat as meta: they describe the participant ("I have a driver's licence"),
    /// not an opinion. As in Polis (`mod-update`, `conversation.clj`), a meta statement is
    /// moderated out of the math: never representative, consensus or bridging.
    pub meta: Vec<Id>,
    /// Statements to exclude, as a moderator's rejection (Polis's `mod = -1`) would.
    pub exclude: Vec<Id>,
}

/// The keys of a request's JSON object that are not [`Params`] fields.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModeKeys {
    #[serde(default)]
    replay: bool,
    #[serde(default)]
    window_ms: Option<i64>,
    /// `null`, absent or `0`: no cap (the default).
    #[serde(default)]
    max_updates: Option<usize>,
    /// `none`, `final` or `gaps:DURATION` ([`super::Restarts::parse`]); absent: the default.
    #[serde(default)]
    restarts: Option<String>,
}

const MODE_KEYS: [&str; 4] = ["replay", "window_ms", "max_updates", "restarts"];

/// The keys of a request's JSON object that mark statements: each a list of statement ids.
const MARK_KEYS: [&str; 2] = ["meta", "exclude"];

impl Request {
    /// Parses one JSON object: any [`Params`] field (Polis's default for the others), the
    /// mode keys `replay` (bool), `window_ms`, `max_updates` (0 or null: no cap, the default) and
    /// `restarts` (`"none"`, `"final"` or `"gaps:1d"`, see [`super::Restarts`]), and the marks
    /// `meta` and `exclude` (lists of statement ids, read by [`Id::from_json`]: `"42"` is
    /// statement 42). An unknown key, a value of the wrong kind or out of range is an
    /// [`Error::InvalidParameter`] that names the key.
    pub fn from_json(text: &str) -> Result<Request> {
        let invalid = |name: &str, message: String| Error::InvalidParameter { name: name.to_string(), message };
        let given: Value = serde_json::from_str(text).map_err(|e| invalid("parameters", e.to_string()))?;
        let Value::Object(all) = given else {
            return Err(invalid("parameters", "must be a JSON object".into()));
        };
        let (mut mode, mut params) = (Map::new(), Map::new());
        let (mut meta, mut exclude) = (Vec::new(), Vec::new());
        for (k, v) in all {
            if MARK_KEYS.contains(&k.as_str()) {
                let ids = statement_ids(&k, &v)?;
                if k == "meta" {
                    meta = ids;
                } else {
                    exclude = ids;
                }
            } else if MODE_KEYS.contains(&k.as_str()) {
                mode.insert(k, v);
            } else {
                params.insert(k, v);
            }
        }
        let params: Params = parse_naming_key(params)?;
        params.check()?;
        let m: ModeKeys = parse_naming_key(mode)?;
        let defaults = Batching::default();
        if m.window_ms.is_some_and(|w| w < 1) {
            return Err(invalid("window_ms", "must be at least 1 (ms)".into()));
        }
        let restarts = m.restarts.as_deref().map(Restarts::parse).transpose()?.unwrap_or(defaults.restarts);
        let mode = if m.replay {
            Mode::Replay(Batching {
                window_ms: m.window_ms.unwrap_or(defaults.window_ms),
                max_updates: m.max_updates.filter(|&n| n > 0),
                restarts,
            })
        } else {
            Mode::OneBatch
        };
        Ok(Request { params, mode, meta, exclude })
    }

    /// The statements with the request's marks applied: each id in [`Request::meta`] becomes
    /// meta and each in [`Request::exclude`] rejected, keeping its text. An id that is neither a
    /// listed statement nor voted on is an [`Error::InvalidParameter`] naming `meta` or
    /// `exclude` and the id (a typo would otherwise mark nothing, silently).
    pub fn mark_statements<V: Votes + ?Sized>(&self, statements: Vec<Statement>, votes: &V) -> Result<Vec<Statement>> {
        if self.meta.is_empty() && self.exclude.is_empty() {
            return Ok(statements);
        }
        let mut list: StatementList = statements.into_iter().collect();
        let batch = votes.as_batch();
        if list.is_empty() {
            // Votes without a statement list (a participants-votes.csv matrix): once one statement
            // is listed, every voted one must be, or its votes would be refused as unknown.
            batch.statement_ids().iter().for_each(|id| list.upsert(Statement::new(id.clone())));
        }
        let voted: HashSet<&Id> = batch.statement_ids().iter().collect();
        for (name, ids) in [("meta", &self.meta), ("exclude", &self.exclude)] {
            for id in ids {
                if !list.contains(id) && !voted.contains(id) {
                    return Err(Error::InvalidParameter {
                        name: name.into(),
                        message: format!("statement {id} is neither in the statement list nor voted on"),
                    });
                }
                let mut statement = list.get(id).cloned().unwrap_or_else(|| Statement::new(id.clone()));
                if name == "meta" {
                    statement.is_meta = true;
                } else {
                    statement.moderation = ModerationStatus::Rejected;
                }
                list.upsert(statement);
            }
        }
        Ok(list.into_vec())
    }
}

/// A mark key's value: a list of statement ids.
fn statement_ids(key: &str, value: &Value) -> Result<Vec<Id>> {
    let invalid = |message: String| Error::InvalidParameter { name: key.to_string(), message };
    let Value::Array(items) = value else {
        return Err(invalid(format!("must be a list of statement ids, not {value}")));
    };
    items.iter().map(|v| Id::from_json(v).ok_or_else(|| invalid(format!("{v} is not a statement id")))).collect()
}

/// Deserialises `object`; on failure, names the first key that does not deserialise on its own.
fn parse_naming_key<T: serde::de::DeserializeOwned>(object: Map<String, Value>) -> Result<T> {
    serde_json::from_value(Value::Object(object.clone())).map_err(|e| {
        let name = object
            .iter()
            .find(|(k, v)| {
                let mut one = Map::new();
                one.insert((*k).clone(), (*v).clone());
                serde_json::from_value::<T>(Value::Object(one)).is_err()
            })
            .map_or_else(|| "parameters".to_string(), |(k, _)| k.clone());
        Error::InvalidParameter { name, message: e.to_string() }
    })
}

impl Conversation {
    /// Analyses `votes` as `request` says: in one batch, or replayed in time order (which needs
    /// timestamps: without them, an [`Error::InvalidParameter`] named `replay`). The result is a
    /// conversation whose [`Conversation::update`] continues from it.
    pub fn run<V: Votes + ?Sized>(request: &Request, statements: Vec<Statement>, votes: &V) -> Result<Conversation> {
        Conversation::run_reporting(request, statements, votes, None)
    }

    /// [`Conversation::run`], reporting the progress of its long stages to `progress` (see
    /// [`Conversation::set_progress`]; a replay reports none). The result is the same.
    pub fn run_reporting<V: Votes + ?Sized>(
        request: &Request,
        statements: Vec<Statement>,
        votes: &V,
        progress: Option<Arc<dyn Progress>>,
    ) -> Result<Conversation> {
        Conversation::run_batch(request, statements, votes.as_batch(), progress)
    }

    /// [`Conversation::run_reporting`], taking the votes: an analysis in one batch builds its vote
    /// matrix out of the batch's arrays and frees them before the analysis
    /// ([`Conversation::update_owned`]), so that the votes are not held twice. The result is the
    /// same.
    pub fn run_owned(
        request: &Request,
        statements: Vec<Statement>,
        votes: VoteBatch,
        progress: Option<Arc<dyn Progress>>,
    ) -> Result<Conversation> {
        Conversation::run_batch(request, statements, Cow::Owned(votes), progress)
    }

    fn run_batch(
        request: &Request,
        statements: Vec<Statement>,
        votes: Cow<'_, VoteBatch>,
        progress: Option<Arc<dyn Progress>>,
    ) -> Result<Conversation> {
        match &request.mode {
            Mode::OneBatch => {
                let statements = request.mark_statements(statements, &*votes)?;
                let mut conversation = Conversation::new(request.params.clone())?;
                if let Some(progress) = progress {
                    conversation.set_progress(progress);
                }
                conversation.set_statements(statements);
                conversation.update_batch(votes)?;
                Ok(conversation)
            }
            Mode::Replay(batching) => {
                if !votes.is_empty() && !votes.has_timestamps() {
                    return Err(Error::InvalidParameter {
                        name: "replay".into(),
                        message: "needs vote timestamps, and none of these votes has one (a votes.csv without \
                                  a timestamp column, a participants-votes.csv matrix, or votes given without times)"
                            .into(),
                    });
                }
                let statements = request.mark_statements(statements, &*votes)?;
                Conversation::replay(request.params.clone(), statements, &*votes, batching)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::votes::{Vote, VoteEvent};

    fn name_of(text: &str) -> String {
        match Request::from_json(text) {
            Err(Error::InvalidParameter { name, .. }) => name,
            other => panic!("{text}: expected an invalid parameter, got {other:?}"),
        }
    }

    #[test]
    fn a_request_parses_params_and_mode_from_one_object() {
        let r = Request::from_json(r#"{"seed": 3, "max_k": 4, "replay": true, "window_ms": 500, "max_updates": 0}"#)
            .unwrap();
        assert_eq!((r.params.seed, r.params.max_k), (3, 4));
        assert_eq!(r.mode, Mode::Replay(Batching { window_ms: 500, max_updates: None, restarts: Restarts::Final }));
        let r = Request::from_json(r#"{"replay": true, "restarts": "gaps:1d", "max_updates": 12}"#).unwrap();
        assert_eq!(
            r.mode,
            Mode::Replay(Batching {
                max_updates: Some(12),
                restarts: Restarts::Gaps(86_400_000),
                ..Batching::default()
            })
        );
        assert_eq!(Request::from_json("{}").unwrap(), Request::default());
        let r = Request::from_json(r#"{"replay": true}"#).unwrap();
        assert_eq!(r.mode, Mode::Replay(Batching::default()));
    }

    #[test]
    fn the_bad_key_is_named() {
        assert_eq!(name_of(r#"{"seed": -1}"#), "seed");
        assert_eq!(name_of(r#"{"base_k": 2.5}"#), "base_k");
        assert_eq!(name_of(r#"{"max_k": 1}"#), "max_k");
        assert_eq!(name_of(r#"{"pca_cold_tolerance": "nan"}"#), "pca_cold_tolerance");
        assert_eq!(name_of(r#"{"no_such_thing": 1}"#), "no_such_thing");
        assert_eq!(name_of(r#"{"replay": true, "max_updates": -2}"#), "max_updates");
        assert_eq!(name_of(r#"{"replay": true, "window_ms": 0}"#), "window_ms");
        assert_eq!(name_of(r#"{"replay": true, "restarts": "daily"}"#), "restarts");
        assert_eq!(name_of(r#"{"replay": true, "restarts": "gaps:1y"}"#), "restarts");
        assert_eq!(name_of(r#"{"bridging": {"interval": 2}}"#), "bridging.interval");
        assert_eq!(name_of("[1]"), "parameters");
    }

    #[test]
    fn a_replay_without_timestamps_is_refused_and_one_batch_equals_analyze() {
        let votes: Vec<VoteEvent> = (0..20)
            .flat_map(|p| {
                (0..6).map(move |s| VoteEvent::new(p, s, if (p + s) % 3 == 0 { Vote::Agree } else { Vote::Disagree }))
            })
            .collect();
        let replay = Request { mode: Mode::Replay(Batching::default()), ..Request::default() };
        let err = Conversation::run(&replay, vec![], &votes).unwrap_err();
        assert!(matches!(&err, Error::InvalidParameter { name, .. } if name == "replay"), "{err}");
        let one = Conversation::run(&Request::default(), vec![], &votes).unwrap();
        let direct = crate::analyze(&votes, &[], &Params::default()).unwrap();
        assert_eq!(one.analysis().unwrap().to_json(), direct.to_json());
    }

    /// Two camps of 30 over 8 statements: camp A agrees with the even statements and rejects the
    /// odd ones, camp B the reverse, and everyone agrees with statement 7.
    fn two_camps() -> Vec<VoteEvent> {
        (0..60)
            .flat_map(|p: i64| {
                (0..8).map(move |s: i64| {
                    let vote = match (s == 7, (p < 30) == (s % 2 == 0)) {
                        (true, _) | (false, true) => Vote::Agree,
                        (false, false) => Vote::Disagree,
                    };
                    VoteEvent::new(p, s, vote)
                })
            })
            .collect()
    }

    #[test]
    fn the_marks_parse_as_statement_ids_and_a_bad_mark_is_named() {
        let r = Request::from_json(r#"{"meta": ["3", 4], "exclude": ["p9"], "seed": 1}"#).unwrap();
        assert_eq!(r.meta, vec![Id::Int(3), Id::Int(4)]);
        assert_eq!(r.exclude, vec![Id::Str("p9".into())]);
        assert_eq!(r.params.seed, 1);
        assert_eq!(name_of(r#"{"meta": 3}"#), "meta");
        assert_eq!(name_of(r#"{"exclude": [[1]]}"#), "exclude");
        let unknown = Request { meta: vec![Id::Int(99)], ..Request::default() };
        let err = Conversation::run(&unknown, vec![], &two_camps()).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidParameter { name, message } if name == "meta" && message.contains("99")),
            "{err}"
        );
    }

    #[test]
    fn a_statement_marked_meta_or_excluded_is_analysed_as_if_its_export_said_so() {
        let votes = two_camps();
        // The reference: the statement list itself says meta (an export's is-meta column) or
        // rejected (moderated = -1), as the readers pass it on.
        let mut listed: Vec<Statement> = (0..8).map(Statement::new).collect();
        listed[0].is_meta = true;
        listed[7].moderation = ModerationStatus::Rejected;
        let reference = Conversation::run(&Request::default(), listed, &votes).unwrap();
        // Marked on votes that come without a statement list (a matrix export), and with one.
        let marked = Request { meta: vec![Id::Int(0)], exclude: vec![Id::Int(7)], ..Request::default() };
        let by_request = Conversation::run(&marked, vec![], &votes).unwrap();
        let with_list = Conversation::run(&marked, (0..8).map(Statement::new).collect(), &votes).unwrap();
        assert_eq!(with_list.analysis().unwrap().to_json(), by_request.analysis().unwrap().to_json());
        let (a, b) = (reference.analysis().unwrap(), by_request.analysis().unwrap());
        assert_eq!(a.to_json(), b.to_json());
        // And what that means: neither statement is representative, consensus or bridging.
        let unmarked = Conversation::run(&Request::default(), vec![], &votes).unwrap();
        let everywhere = |a: &crate::Analysis, id: &Id| {
            a.repness.iter().flatten().any(|r| &r.statement == id)
                || a.consensus.agree.iter().chain(&a.consensus.disagree).any(|c| &c.statement == id)
                || a.bridging.as_ref().is_some_and(|b| b.ranking.contains(id))
        };
        let u = unmarked.analysis().unwrap();
        assert!(everywhere(u, &Id::Int(0)) && everywhere(u, &Id::Int(7)), "the unmarked statements are in the results");
        assert!(!everywhere(b, &Id::Int(0)) && !everywhere(b, &Id::Int(7)));
        assert_eq!(
            (b.moderation.meta.clone(), b.moderation.moderated_out.clone()),
            (vec![Id::Int(0)], vec![Id::Int(0), Id::Int(7)])
        );
    }

    #[test]
    fn the_stability_bootstrap_reports_one_unit_per_replicate_and_changes_nothing() {
        use std::sync::atomic::{AtomicU64, Ordering};
        use std::sync::Mutex;
        #[derive(Default)]
        struct Recorder(Mutex<Vec<String>>, AtomicU64);
        impl Progress for Recorder {
            fn start(&self, stage: &str, total: u64) {
                self.0.lock().unwrap().push(format!("{stage} {total}"));
            }
            fn advance(&self, done: u64) {
                self.1.fetch_add(done, Ordering::Relaxed);
            }
            fn finish(&self) {
                self.0.lock().unwrap().push("finish".into());
            }
        }
        let mut request = Request::default();
        request.params.group_stability = crate::cluster::StabilityParams { enabled: true, replicates: 6 };
        let recorder = Arc::new(Recorder::default());
        let reported = Conversation::run_reporting(&request, vec![], &two_camps(), Some(recorder.clone())).unwrap();
        assert_eq!(*recorder.0.lock().unwrap(), ["group stability 6", "finish"]);
        assert_eq!(recorder.1.load(Ordering::Relaxed), 6);
        let silent = Conversation::run(&request, vec![], &two_camps()).unwrap();
        assert_eq!(reported.analysis().unwrap().to_json(), silent.analysis().unwrap().to_json());
    }
}
