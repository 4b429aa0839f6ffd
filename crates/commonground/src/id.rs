//! External ids of participants and statements, and the one rule that turns input values into
//! them. Every reader and the Python bindings use it, so the same value is the same id whatever
//! the input: `42`, `"42"` and `42.0` are the integer 42; `"p42"` is a string.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

/// An external participant or statement id, kept exactly as the input gave it.
///
/// Polis uses integers; exports with `xid`s or other platforms use strings. Integers order
/// numerically and before strings, so a Polis conversation's statements sort by `tid`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Id {
    Int(i64),
    Str(String),
}

impl Id {
    /// Parses a field: an integer when it is one (`"42"`), else the string itself (trimmed).
    pub fn parse(text: &str) -> Id {
        let t = text.trim();
        match t.parse::<i64>() {
            Ok(n) => Id::Int(n),
            Err(_) => Id::Str(t.to_string()),
        }
    }

    /// A number as an id: an integral, finite value within the integers an `f64` holds exactly
    /// (|x| < 2^53) is that integer; anything else is no id. (pandas turns an integer column
    /// with gaps into floats; JSON writers sometimes write `3.0`.)
    pub fn from_f64(x: f64) -> Option<Id> {
        (x.is_finite() && x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0).then_some(Id::Int(x as i64))
    }

    /// A JSON value as an id: an integer, a number by [`Id::from_f64`], a non-empty string by
    /// [`Id::parse`] (so `"42"` is the integer 42, as in a CSV file); anything else is no id.
    pub fn from_json(value: &serde_json::Value) -> Option<Id> {
        match value {
            serde_json::Value::Number(n) => n.as_i64().map(Id::Int).or_else(|| n.as_f64().and_then(Id::from_f64)),
            serde_json::Value::String(s) if !s.trim().is_empty() => Some(Id::parse(s)),
            _ => None,
        }
    }
}

impl Ord for Id {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Id::Int(a), Id::Int(b)) => a.cmp(b),
            (Id::Int(_), Id::Str(_)) => Ordering::Less,
            (Id::Str(_), Id::Int(_)) => Ordering::Greater,
            (Id::Str(a), Id::Str(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Id {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Id::Int(n) => write!(f, "{n}"),
            // Ids appear in error messages: a pathological one is cut (see `excerpt`).
            Id::Str(s) => f.write_str(&crate::error::excerpt(s)),
        }
    }
}

impl From<i64> for Id {
    fn from(n: i64) -> Self {
        Id::Int(n)
    }
}
impl From<u32> for Id {
    fn from(n: u32) -> Self {
        Id::Int(n as i64)
    }
}
impl From<i32> for Id {
    fn from(n: i32) -> Self {
        Id::Int(n as i64)
    }
}
impl From<&str> for Id {
    fn from(s: &str) -> Self {
        Id::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_value_is_one_id_whatever_the_input() {
        for same in [Id::parse("42"), Id::parse(" 42 "), Id::from_json(&json!(42)).unwrap()] {
            assert_eq!(same, Id::Int(42));
        }
        assert_eq!(Id::from_json(&json!("42")), Some(Id::Int(42)));
        assert_eq!(Id::from_json(&json!(42.0)), Some(Id::Int(42)));
        assert_eq!(Id::from_f64(-3.0), Some(Id::Int(-3)));
        assert_eq!(Id::from_json(&json!("p42")), Some(Id::Str("p42".into())));
        // Not an id: a fraction, a float beyond f64's exact integers, an empty string, null.
        assert_eq!(Id::from_f64(2.5), None);
        assert_eq!(Id::from_f64(1e300), None);
        assert_eq!(Id::from_f64(f64::NAN), None);
        assert_eq!(Id::from_json(&json!("  ")), None);
        assert_eq!(Id::from_json(&json!(null)), None);
        assert_eq!(Id::from_json(&json!(true)), None);
    }
}
