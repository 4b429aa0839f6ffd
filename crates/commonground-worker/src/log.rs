//! Structured logs: one JSON object per line on standard error, so that a site's log pipeline (and
//! our tests) read fields, not prose. Every line has `ts` (epoch ms), `level`, `event` and the
//! worker's id; an update's line has `zid`, `votes`, `participants`, `groups` and `ms`.

use std::io::Write;

use serde_json::{Map, Value};

/// Milliseconds since the epoch, as Polis stores times.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Writes one log line. `fields` are added after the standard ones.
pub fn log(level: &str, event: &str, worker: &str, fields: &[(&str, Value)]) {
    let mut line = Map::new();
    line.insert("ts".into(), now_ms().into());
    line.insert("level".into(), level.into());
    line.insert("event".into(), event.into());
    line.insert("worker".into(), worker.into());
    for (k, v) in fields {
        line.insert((*k).to_string(), v.clone());
    }
    let mut text = Value::Object(line).to_string();
    text.push('\n');
    // One write per line, so that lines from threads do not interleave; a closed stderr is ignored.
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
