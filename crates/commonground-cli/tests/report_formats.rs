//! `analyze --format html` and `--format csv`: the shareable report as one file, and the tables
//! for spreadsheets as a folder, checked against the JSON analysis of the same run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn analyze(args: &[&str]) -> Output {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/vtaiwan.uberx");
    Command::new(env!("CARGO_BIN_EXE_commonground"))
        .arg("analyze")
        .arg(example)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("commonground-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn html_is_one_self_contained_page_written_to_the_output_file_or_stdout() {
    let dir = scratch("html");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("report.html");
    let o = analyze(&["--format", "html", "--output", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let written = std::fs::read_to_string(&file).unwrap();
    let printed = analyze(&["--format", "html"]);
    assert_eq!(String::from_utf8(printed.stdout).unwrap(), written);
    assert!(written.starts_with("<!DOCTYPE html>") && written.ends_with("</html>\n"));
    assert!(written.contains("<h1 dir=\"auto\">vtaiwan.uberx</h1>"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn csv_writes_the_four_tables_into_the_output_folder_matching_the_json() {
    let dir = scratch("csv");
    let o = analyze(&["--format", "csv", "--output", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty());
    let json: serde_json::Value =
        serde_json::from_slice(&analyze(&["--format", "json"]).stdout).expect("the JSON parses");
    let rows = |name: &str| -> Vec<csv::StringRecord> {
        let mut reader = csv::Reader::from_path(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        reader.records().map(|r| r.unwrap()).collect()
    };
    let participants = rows("participants.csv");
    assert_eq!(participants.len(), json["participants"].as_array().unwrap().len());
    // Participant ids and groups in the JSON's order.
    for (row, p) in participants.iter().zip(json["participants"].as_array().unwrap()) {
        assert_eq!(row[0], p["id"].to_string());
        assert_eq!(row[3], p["group"].as_u64().map_or(String::new(), |g| g.to_string()));
    }
    assert_eq!(rows("statements.csv").len(), json["statements"].as_array().unwrap().len());
    let repness: usize = json["repness"].as_array().unwrap().iter().map(|g| g.as_array().unwrap().len()).sum();
    assert_eq!(rows("repness.csv").len(), repness);
    // The bridging table starts with the ranking.
    let bridging = rows("bridging.csv");
    let ranking = json["bridging"]["ranking"].as_array().unwrap();
    for (rank, (row, id)) in bridging.iter().zip(ranking).take(10).enumerate() {
        assert_eq!((&row[0], &row[1]), (id.to_string().as_str(), rank.to_string().as_str()));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn csv_without_an_output_folder_is_a_usage_error() {
    let o = analyze(&["--format", "csv"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--output"));
}
