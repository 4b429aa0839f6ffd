//! The worker's Prometheus metrics and the plain HTTP endpoint that serves them (`--metrics-addr`).
//!
//! A scrape is a `GET` on any path; the answer is Prometheus's text format (version 0.0.4). The
//! endpoint is a thread with a blocking listener: a scrape every few seconds needs no HTTP stack.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Upper bounds (seconds) of the update-duration histogram's buckets.
const BUCKETS: [f64; 10] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0];

#[derive(Debug, Default)]
struct Inner {
    updates: u64,
    failures: u64,
    bad_rows: u64,
    skipped_busy: u64,
    duration_buckets: [u64; BUCKETS.len()],
    duration_sum: f64,
    /// Per conversation: seconds from its newest vote to its stored math, at the last update.
    lag: BTreeMap<i32, f64>,
    in_memory: usize,
}

/// Counters shared by the worker loop and the endpoint.
#[derive(Debug, Clone, Default)]
pub struct Metrics(Arc<Mutex<Inner>>);

impl Metrics {
    fn with(&self, f: impl FnOnce(&mut Inner)) {
        if let Ok(mut inner) = self.0.lock() {
            f(&mut inner);
        }
    }
    /// One update stored: its duration and the lag from its newest vote to the stored math.
    pub fn update(&self, zid: i32, took: Duration, lag_ms: Option<i64>) {
        self.with(|m| {
            m.updates += 1;
            let s = took.as_secs_f64();
            m.duration_sum += s;
            for (b, &le) in m.duration_buckets.iter_mut().zip(&BUCKETS) {
                if s <= le {
                    *b += 1;
                }
            }
            if let Some(lag) = lag_ms {
                m.lag.insert(zid, lag.max(0) as f64 / 1000.0);
            }
        });
    }
    pub fn failure(&self) {
        self.with(|m| m.failures += 1);
    }
    pub fn bad_rows(&self, n: u64) {
        self.with(|m| m.bad_rows += n);
    }
    pub fn busy(&self) {
        self.with(|m| m.skipped_busy += 1);
    }
    pub fn in_memory(&self, n: usize) {
        self.with(|m| m.in_memory = n);
    }
    /// Forgets a conversation's lag (dropped from memory or taken over by another worker).
    pub fn forget(&self, zid: i32) {
        self.with(|m| {
            m.lag.remove(&zid);
        });
    }

    /// The metrics in Prometheus's text format.
    pub fn render(&self) -> String {
        let Ok(m) = self.0.lock() else { return String::new() };
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, v: u64| {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}\n"));
        };
        counter("commonground_worker_updates_total", "Conversation updates stored.", m.updates);
        counter("commonground_worker_update_failures_total", "Conversation updates that failed.", m.failures);
        counter("commonground_worker_bad_rows_total", "Vote rows skipped as malformed.", m.bad_rows);
        counter(
            "commonground_worker_claims_busy_total",
            "Conversations skipped because another worker held them.",
            m.skipped_busy,
        );
        out.push_str("# HELP commonground_worker_conversations_in_memory Conversations held in memory.\n");
        out.push_str("# TYPE commonground_worker_conversations_in_memory gauge\n");
        out.push_str(&format!("commonground_worker_conversations_in_memory {}\n", m.in_memory));
        out.push_str("# HELP commonground_worker_update_duration_seconds Wall time of one update, read to commit.\n");
        out.push_str("# TYPE commonground_worker_update_duration_seconds histogram\n");
        for (le, n) in BUCKETS.iter().zip(m.duration_buckets) {
            out.push_str(&format!("commonground_worker_update_duration_seconds_bucket{{le=\"{le}\"}} {n}\n"));
        }
        out.push_str(&format!("commonground_worker_update_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", m.updates));
        out.push_str(&format!("commonground_worker_update_duration_seconds_sum {}\n", m.duration_sum));
        out.push_str(&format!("commonground_worker_update_duration_seconds_count {}\n", m.updates));
        out.push_str(
            "# HELP commonground_worker_lag_seconds Newest vote to stored math, per conversation, at its last update.\n",
        );
        out.push_str("# TYPE commonground_worker_lag_seconds gauge\n");
        for (zid, lag) in &m.lag {
            out.push_str(&format!("commonground_worker_lag_seconds{{zid=\"{zid}\"}} {lag}\n"));
        }
        out
    }

    /// Serves the metrics on `addr` from a background thread. Returns the bound address (so that
    /// port 0 picks a free one).
    pub fn serve(&self, addr: SocketAddr) -> std::io::Result<SocketAddr> {
        let listener = TcpListener::bind(addr)?;
        let bound = listener.local_addr()?;
        let metrics = self.clone();
        std::thread::Builder::new().name("metrics".into()).spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
                // The request itself does not matter: read what has arrived, then answer.
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf);
                let body = metrics.render();
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(body.as_bytes()));
            }
        })?;
        Ok(bound)
    }
}
