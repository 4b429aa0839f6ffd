//! What the CLI tests share: running the binary, scratch folders, and the shape of an input error.

#![allow(dead_code)] // each test file uses its own part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_commonground"))
}

pub fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/vtaiwan.uberx")
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scratch folder, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("commonground-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    pub fn file(&self, name: &str, text: &str) -> &Scratch {
        std::fs::write(self.0.join(name), text).unwrap();
        self
    }
    pub fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A bad input: exit code 2 and one error line on standard error, naming each of `needles`;
/// the lines before it can only be the reader's notes and warnings.
pub fn assert_input_error(o: &Output, needles: &[&str]) {
    assert_eq!(o.status.code(), Some(2), "stdout: {} stderr: {}", stdout(o), stderr(o));
    let e = stderr(o);
    let errors: Vec<&str> = e.lines().filter(|l| l.starts_with("commonground: error")).collect();
    assert_eq!(errors.len(), 1, "one error line: {e}");
    assert!(
        e.lines().all(|l| l.starts_with("commonground: note: ")
            || l.starts_with("commonground: warning: ")
            || l == errors[0]),
        "only notes, warnings and the error: {e}"
    );
    for n in needles {
        assert!(errors[0].contains(n), "error lacks {n:?}: {e}");
    }
}
