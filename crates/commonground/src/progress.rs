//! Progress of long work, reported to whoever wants to show it: the core never prints.
//!
//! A front end that shows progress (the CLI draws bars on a terminal) implements [`Progress`] and
//! hands it to [`crate::Conversation::set_progress`]; the stages that can take seconds on a large
//! conversation report through it. Today that is the bootstrap of the groups' stability (one unit
//! per replicate, each a full reclustering). Reports never change results: a run with progress is
//! byte-identical to one without.

use std::fmt;

/// Receives the progress of long stages. Called from worker threads (rayon), so implementations
/// must be cheap and thread-safe; `advance` comes at most once per unit of work.
pub trait Progress: Send + Sync {
    /// A stage starts: its name, for people ("group stability"), and how many units it has.
    fn start(&self, stage: &str, total: u64);
    /// `done` more units of the current stage are finished.
    fn advance(&self, done: u64);
    /// The current stage is finished.
    fn finish(&self);
}

impl fmt::Debug for dyn Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Progress")
    }
}

/// Reports `stage` of `total` units on `progress`, if any, around `work`, which gets a callback to
/// call once per finished unit.
pub(crate) fn report<T>(
    progress: Option<&dyn Progress>,
    stage: &str,
    total: u64,
    work: impl FnOnce(&(dyn Fn() + Sync)) -> T,
) -> T {
    match progress {
        None => work(&|| {}),
        Some(p) => {
            p.start(stage, total);
            let result = work(&|| p.advance(1));
            p.finish();
            result
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorder {
        events: Mutex<Vec<String>>,
        done: AtomicU64,
    }

    impl Progress for Recorder {
        fn start(&self, stage: &str, total: u64) {
            self.events.lock().unwrap().push(format!("start {stage} {total}"));
        }
        fn advance(&self, done: u64) {
            self.done.fetch_add(done, Ordering::Relaxed);
        }
        fn finish(&self) {
            self.events.lock().unwrap().push("finish".into());
        }
    }

    #[test]
    fn a_stage_is_started_advanced_once_per_unit_and_finished() {
        let recorder = Recorder::default();
        let sum = report(Some(&recorder), "counting", 5, |tick| {
            let mut sum = 0;
            for i in 0..5u64 {
                tick();
                sum += i;
            }
            sum
        });
        assert_eq!(sum, 10);
        assert_eq!(*recorder.events.lock().unwrap(), ["start counting 5", "finish"]);
        assert_eq!(recorder.done.load(Ordering::Relaxed), 5);
        assert_eq!(
            report(None, "silent", 1, |tick| {
                tick();
                7
            }),
            7
        );
    }
}
