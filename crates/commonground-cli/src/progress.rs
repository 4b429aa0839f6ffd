//! Progress bars on standard error (indicatif), drawn only when standard error is a terminal, so
//! pipes, files and tests see nothing. Work of unknown length (reading a large export, generating,
//! the analysis) gets a spinner once it has taken a second; the core's counted stages (the groups'
//! bootstrap stability) report through [`commonground::Progress`] and get a bar.

use std::io::IsTerminal;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// How long work runs before its spinner appears: shorter work shows nothing.
const QUIET: Duration = Duration::from_secs(1);

/// The bars of one command, drawn together (a stage's bar under the spinner of the work it is in).
pub struct Bars {
    multi: MultiProgress,
    /// The counted stage the core is reporting, if any.
    bar: Mutex<Option<ProgressBar>>,
}

impl Bars {
    /// Bars for this process: `None` when standard error is not a terminal.
    pub fn for_stderr() -> Option<Arc<Bars>> {
        std::io::stderr().is_terminal().then(|| Arc::new(Bars { multi: MultiProgress::new(), bar: Mutex::new(None) }))
    }
}

/// Runs `work`, showing a spinner with `message` once it has taken [`QUIET`] (only with `bars`).
pub fn spinner<T>(bars: Option<&Arc<Bars>>, message: &str, work: impl FnOnce() -> T) -> T {
    let Some(bars) = bars else { return work() };
    let multi = bars.multi.clone();
    let (done, finished) = mpsc::channel::<()>();
    let message = message.to_string();
    let shower = std::thread::spawn(move || {
        if finished.recv_timeout(QUIET).is_ok() {
            return;
        }
        let spinner = multi.add(ProgressBar::new_spinner().with_message(message));
        spinner.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        spinner.enable_steady_tick(Duration::from_millis(120));
        let _ = finished.recv();
        spinner.finish_and_clear();
    });
    let result = work();
    let _ = done.send(());
    let _ = shower.join();
    result
}

impl commonground::Progress for Bars {
    fn start(&self, stage: &str, total: u64) {
        let bar = self.multi.add(ProgressBar::new(total).with_message(stage.to_string()));
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({elapsed}, {eta} left)")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        if let Ok(mut current) = self.bar.lock() {
            *current = Some(bar);
        }
    }

    fn advance(&self, done: u64) {
        if let Ok(current) = self.bar.lock() {
            if let Some(bar) = current.as_ref() {
                bar.inc(done);
            }
        }
    }

    fn finish(&self) {
        if let Ok(mut current) = self.bar.lock() {
            if let Some(bar) = current.take() {
                bar.finish_and_clear();
            }
        }
    }
}
