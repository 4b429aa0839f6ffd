//! The one entry point: how a conversation's votes are analysed, decided once, here.
//!
//! Every front end (the CLI, the Python bindings, the worker) used to choose for itself between a
//! one-batch analysis and a replay, check that a replay has timestamps, and validate parameters.
//! They now hand the core a [`Request`] (parameters plus how to run), built from flags or parsed
//! from one JSON object ([`Request::from_json`]), and call [`Conversation::run`]; they only
//! convert inputs and outputs.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Batching, Conversation, Restarts};
use crate::error::{Error, Result};
use crate::params::Params;
use crate::votes::{Statement, Votes};

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

/// Parameters and mode of one analysis.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    pub params: Params,
    pub mode: Mode,
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

impl Request {
    /// Parses one JSON object: any [`Params`] field (Polis's default for the others) and the
    /// mode keys `replay` (bool), `window_ms`, `max_updates` (0 or null: no cap, the default) and
    /// `restarts` (`"none"`, `"final"` or `"gaps:1d"`, see [`super::Restarts`]).
    /// An unknown key, a value of the wrong kind or out of range is an
    /// [`Error::InvalidParameter`] that names the key.
    pub fn from_json(text: &str) -> Result<Request> {
        let invalid = |name: &str, message: String| Error::InvalidParameter { name: name.to_string(), message };
        let given: Value = serde_json::from_str(text).map_err(|e| invalid("parameters", e.to_string()))?;
        let Value::Object(all) = given else {
            return Err(invalid("parameters", "must be a JSON object".into()));
        };
        let (mut mode, mut params) = (Map::new(), Map::new());
        for (k, v) in all {
            if MODE_KEYS.contains(&k.as_str()) {
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
        Ok(Request { params, mode })
    }
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
        match &request.mode {
            Mode::OneBatch => {
                let mut conversation = Conversation::new(request.params.clone())?;
                conversation.set_statements(statements);
                conversation.update(votes)?;
                Ok(conversation)
            }
            Mode::Replay(batching) => {
                let votes = votes.as_batch();
                if !votes.is_empty() && !votes.has_timestamps() {
                    return Err(Error::InvalidParameter {
                        name: "replay".into(),
                        message: "needs vote timestamps, and these votes have none (a participants-votes.csv \
                                  matrix, or votes given without times)"
                            .into(),
                    });
                }
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
}
