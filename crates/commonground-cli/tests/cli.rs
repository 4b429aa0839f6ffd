//! The `commonground` command-line contract (other tools depend on it): arguments, formats, exit
//! codes, and one-line errors that name the file, the line and the problem.

mod support;

use support::{assert_input_error, example, run, stderr, stdout, Scratch};

#[test]
fn summary_of_the_bundled_example_has_the_groups_and_one_section_for_what_everyone_agrees_on() {
    let o = run(&["analyze", example().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    for needle in ["1,921 participants", "Group 0 — 325 participants", "Group 1 — 893 participants", "#40"] {
        assert!(s.contains(needle), "summary lacks {needle:?}:\n{s}");
    }
    // One section, where the Consensus, Group-aware consensus and Bridging sections overlapped.
    assert_eq!(s.matches("What everyone agrees on").count(), 1, "{s}");
    for gone in ["Group-aware consensus —", "Bridging statements —", "\nConsensus —"] {
        assert!(!s.contains(gone), "the summary still has {gone:?}:\n{s}");
    }
}

#[test]
fn a_representative_statement_reads_as_a_share_of_the_groups_voters_against_the_others() {
    let s = stdout(&run(&["analyze", example().to_str().unwrap()]));
    let group0 = s.split("Group 0 —").nth(1).unwrap().split("Group 1 —").next().unwrap();
    assert!(group0.contains("passes count as votes"), "{group0}");
    // Group 0's votes on #44 (the JSON's group votes): 190 of its 220 voters agree, 86%; 58 of
    // group 1's 444, 13%.
    let line = group0.lines().find(|l| l.contains("#44")).unwrap();
    assert!(line.starts_with("  agree     86% of  220  (others  13%)"), "{line}");
}

#[test]
fn what_everyone_agrees_on_lists_the_common_ground_with_each_groups_share_then_polis_consensus() {
    let o = run(&["analyze", example().to_str().unwrap()]);
    let s = stdout(&o);
    let section = s.split("What everyone agrees on").nth(1).expect("the section");
    // The flag reads those who took a side (passes set apart), and no smaller group inside a group
    // may credibly disagree: 21 of 119 on vTaiwan, 11 more that a subgroup vetoes, and 8 with too
    // few side-takers for a 5% minority to show its disagreement.
    assert!(section.contains("Common ground: 21 of 119 statements every group agrees with"), "{section}");
    assert!(section.contains("a smaller group inside one credibly disagrees: 11 statements (#62,"), "{section}");
    assert!(
        section.contains("too few votes to rule out a hidden minority of 5%: 8 statements (#94, #150,"),
        "{section}"
    );
    assert!(section.contains("with 90% credibility"), "{section}");
    let first = section.lines().find(|l| l.contains("every group >=") && l.contains('#')).unwrap();
    assert!(first.contains(">=  95%") && first.contains("g0 94%  g1 92%") && first.contains("#40"), "{first}");
    assert!(
        section.contains(
            "Uncertain, many passed (with 90% credibility, at least 30% of the grouped participants who saw it \
             passed): 2 statements (#162, #161)"
        ),
        "{section}"
    );
    assert!(section.contains("Polis's consensus") && section.contains("92% of  670 voters agree"), "{section}");

    // Ranked by another score: its value beside each statement, and the factorization's fit.
    let o = run(&["analyze", example().to_str().unwrap(), "--rank-by", "mf"]);
    let section = stdout(&o).split("What everyone agrees on").nth(1).unwrap().to_string();
    assert!(section.contains("(mf ") && section.contains("Community Notes matrix factorization"), "{section}");

    let o = run(&["analyze", example().to_str().unwrap(), "--format", "json", "--rank-by", "gac", "--no-mf"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let b = &v["bridging"];
    assert_eq!(b["statements"].as_array().unwrap().len(), v["statements"].as_array().unwrap().len());
    assert_eq!(b["rank_by"], "group_aware_consensus");
    assert!(b["mf"].is_null() && b["statements"][0]["mf_intercept"].is_null());
    for key in ["group_agreement", "group_aware_consensus", "geometric_mean", "min_group_agreement", "common_ground"] {
        assert!(b["statements"][0].get(key).is_some(), "bridging statement lacks {key}");
    }
}

#[test]
fn meta_and_excluded_statements_leave_every_result_and_an_unknown_id_is_named() {
    // #14 "I have a driver's licence" is common ground unmarked; #40 leads it.
    let plain = stdout(&run(&["analyze", example().to_str().unwrap()]));
    assert!(plain.contains("#14  我有小型車駕駛執照"), "{plain}");
    let o = run(&["analyze", example().to_str().unwrap(), "--meta", "14,16", "--exclude", "40"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("meta statements, left out of the results: #14, #16"), "{s}");
    for id in ["#14 ", "#16 ", "#40 "] {
        assert!(!s.split("What everyone agrees on").nth(1).unwrap().contains(id), "{id} is still listed:\n{s}");
    }
    let o = run(&["analyze", example().to_str().unwrap(), "--meta", "14", "--exclude", "40", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let statement = |id: i64| v["statements"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap().clone();
    assert_eq!(
        (statement(14)["is_meta"].as_bool(), statement(40)["moderated_out"].as_bool()),
        (Some(true), Some(true))
    );
    let ranked: Vec<i64> = v["bridging"]["ranking"].as_array().unwrap().iter().filter_map(|i| i.as_i64()).collect();
    assert!(!ranked.contains(&14) && !ranked.contains(&40));

    let o = run(&["analyze", example().to_str().unwrap(), "--meta", "9999"]);
    assert_input_error(&o, &["meta", "9999"]);
}

#[test]
fn stability_and_more_than_five_groups_on_request() {
    let o = run(&["analyze", example().to_str().unwrap(), "--stability", "4", "--max-k", "7"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    let section = s.split("Group stability").nth(1).expect("a stability section");
    assert!(section.contains("4 bootstrap replicates") && section.contains("k=7: silhouette"), "{section}");
    assert!(section.contains("<- groups shown"), "{section}");
    let o = run(&["analyze", example().to_str().unwrap(), "--stability", "4", "--max-k", "7", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ks: Vec<&String> = v["group_stability"]["by_k"].as_object().unwrap().keys().collect();
    assert_eq!(ks, ["2", "3", "4", "5", "6", "7"]);
    let o = run(&["analyze", example().to_str().unwrap(), "--stability", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("group_stability.replicates"), "{}", stderr(&o));
    // Without the flag the JSON says so.
    let o = run(&["analyze", example().to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["group_stability"].is_null());
}

#[test]
fn groups_polis_a_number_or_discover_and_the_reason_when_a_number_cannot_be_honoured() {
    let path = example();
    let json = |groups: &str| {
        let o = run(&["analyze", path.to_str().unwrap(), "--no-mf", "--groups", groups, "--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    assert_eq!(json("4")["groups"].as_array().unwrap().len(), 4);
    assert_eq!(json("polis")["groups"].as_array().unwrap().len(), 2);
    let discovered = json("discover");
    assert_eq!(discovered["groups"].as_array().unwrap().len() as u64, discovered["group_discovery"]["k"]);
    // 24 participants: 40 groups cannot be made; one line that says why.
    let dir = Scratch::new("groups");
    let votes: String = (0..24)
        .flat_map(|p| (0..3).map(move |s| format!("0,x,{s},{p},{}\n", if (p + s) % 2 == 0 { 1 } else { -1 })))
        .collect();
    dir.file("votes.csv", &format!("timestamp,datetime,comment-id,voter-id,vote\n{votes}"));
    let o = run(&["analyze", dir.path(), "--groups", "40"]);
    assert_input_error(&o, &["invalid parameter groups: 40 groups need at least 40 base clusters"]);
    let o = run(&["analyze", path.to_str().unwrap(), "--groups", "many"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("\"many\" is not a number of groups"), "{}", stderr(&o));
}

#[test]
fn profile_fast_runs_fewer_pca_products_and_an_unknown_profile_is_refused() {
    let path = example();
    let products = |extra: &[&str]| {
        let mut args = vec!["analyze", path.to_str().unwrap(), "--no-mf", "--format", "json"];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let json = serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap();
        json["pca"]["iterations"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).sum::<u64>()
    };
    // Lanczos alone against Lanczos then Polis's power-iteration polish.
    let (fast, exact) = (products(&["--profile", "fast"]), products(&["--profile", "polis"]));
    assert!(fast < exact, "fast {fast} products, exact {exact}");
    assert_eq!(products(&[]), exact, "polis is the default profile");
    let o = run(&["analyze", path.to_str().unwrap(), "--profile", "fastest"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("\"fastest\" is not a profile"), "{}", stderr(&o));
}

#[test]
fn ranking_by_the_factorization_without_it_is_a_parameter_error() {
    let o = run(&["analyze", example().to_str().unwrap(), "--rank-by", "mf", "--no-mf"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bridging.rank_by"), "{}", stderr(&o));
}

#[test]
fn analyze_defaults_to_the_bundled_example() {
    let o = run(&["analyze"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("vtaiwan.uberx"));
}

#[test]
fn polis_format_is_the_polis_math_blob_and_json_is_the_full_analysis() {
    let o = run(&["analyze", example().to_str().unwrap(), "--format", "polis"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for key in [
        "pca",
        "base-clusters",
        "group-clusters",
        "repness",
        "consensus",
        "group-aware-consensus",
        "comment-priorities",
        "votes-base",
        "group-votes",
        "in-conv",
        "user-vote-counts",
        "tids",
        "n",
        "n-cmts",
    ] {
        assert!(v.get(key).is_some(), "Polis blob lacks {key}");
    }
    assert_eq!(v["n"], 1921);
    assert!(v.get("bridging").is_none(), "the Polis blob stays Polis's");
    let o = run(&["analyze", example().to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["participants"].as_array().unwrap().len(), 1921);
}

#[test]
fn output_file_and_seed_give_byte_identical_results() {
    let dir = Scratch::new("output");
    let a = format!("{}/a.json", dir.path());
    let b = format!("{}/b.json", dir.path());
    for file in [&a, &b] {
        let o = run(&["analyze", example().to_str().unwrap(), "--format", "polis", "--seed", "7", "--output", file]);
        assert_eq!(o.status.code(), Some(0));
        assert!(o.stdout.is_empty());
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn timings_go_to_stderr_by_stage() {
    let o = run(&["analyze", example().to_str().unwrap(), "--timings", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let e = stderr(&o);
    for stage in ["load", "matrix", "pca", "clustering", "statistics", "bridging", "output"] {
        assert!(e.contains(stage), "timings lack {stage}: {e}");
    }
    serde_json::from_slice::<serde_json::Value>(&o.stdout).expect("stdout stays pure JSON");
}

#[test]
fn replay_runs_the_votes_in_time_order_and_ends_with_the_restart_asked_for() {
    // A small generated conversation (the bundled example's 42,000 one-second batches take a
    // minute): the default replay ends with a worker restart and one more update over the same
    // votes, `--replay-restarts none` does not, and a history the parser does not know is a
    // usage error that names the forms it knows.
    let dir = Scratch::new("replay");
    let out = format!("{}/conv", dir.path());
    let args = ["--participants", "80", "--statements", "12", "--votes", "700", "--seed", "5", "--output", &out];
    let o = run(&[&["generate"], &args[..]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let tick = |extra: &[&str]| {
        let o = run(&[&["analyze", &out, "--format", "polis"], extra].concat());
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["math_tick"].as_u64().unwrap()
    };
    let none = tick(&["--replay-restarts", "none"]);
    assert!(none > 10, "many updates: {none}");
    assert_eq!(tick(&["--replay"]), none + 1);
    assert_eq!(tick(&["--replay-restarts", "final"]), none + 1);
    assert!(tick(&["--replay-restarts", "gaps:1h"]) > none);
    let bad = run(&["analyze", &out, "--replay-restarts", "weekly"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("gaps:DURATION"), "{}", stderr(&bad));
}

#[test]
fn a_malformed_csv_row_is_a_one_line_error_with_file_and_line() {
    let dir = Scratch::new("malformed");
    dir.file("votes.csv", "timestamp,datetime,comment-id,voter-id,vote\n1,x,0,1,1\n2,x,0,2\n");
    assert_input_error(&run(&["analyze", dir.path()]), &["votes.csv:3"]);
}

#[test]
fn a_vote_outside_minus_one_zero_one_is_rejected_with_its_line() {
    let dir = Scratch::new("badvote");
    dir.file("votes.csv", "timestamp,datetime,comment-id,voter-id,vote\n1,x,0,1,1\n2,x,0,2,5\n");
    assert_input_error(&run(&["analyze", dir.path()]), &["votes.csv:3", "5"]);
}

#[test]
fn a_vote_on_an_unknown_statement_is_rejected() {
    let dir = Scratch::new("unknown");
    dir.file("votes.csv", "timestamp,datetime,comment-id,voter-id,vote\n1,x,0,1,1\n2,x,8,2,1\n").file(
        "comments.csv",
        "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n1,x,0,1,1,0,1,hello\n",
    );
    assert_input_error(&run(&["analyze", dir.path()]), &["votes.csv:3", "8"]);
}

#[test]
fn an_empty_conversation_and_a_missing_folder_are_input_errors() {
    let dir = Scratch::new("empty");
    dir.file("votes.csv", "timestamp,datetime,comment-id,voter-id,vote\n");
    assert_input_error(&run(&["analyze", dir.path()]), &["empty"]);
    assert_input_error(&run(&["analyze", "/nonexistent/conversation"]), &["/nonexistent/conversation"]);
}

#[test]
fn replay_without_timestamps_is_an_input_error() {
    let dir = Scratch::new("notime");
    dir.file(
        "participants-votes.csv",
        "participant,group-id,n-comments,n-votes,n-agree,n-disagree,0,1\n0,,0,2,1,1,1,-1\n1,,0,2,1,1,-1,1\n",
    );
    assert_input_error(&run(&["analyze", dir.path(), "--replay"]), &["replay: needs vote timestamps"]);
}

#[test]
fn bad_arguments_exit_with_code_two() {
    assert_eq!(run(&["analyze", "--format", "xml"]).status.code(), Some(2));
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn generate_writes_an_export_that_analyze_reads_back_with_the_planted_groups() {
    let dir = Scratch::new("generate");
    let out = format!("{}/conv", dir.path());
    let o = run(&[
        "generate",
        "--participants",
        "600",
        "--statements",
        "40",
        "--votes",
        "12000",
        "--groups",
        "2",
        "--seed",
        "3",
        "--output",
        &out,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{out}/truth.json")).unwrap()).unwrap();
    assert_eq!(truth["participant_group"].as_array().unwrap().len(), 600);
    let o = run(&["analyze", &out, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let a: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(a["groups"].as_array().unwrap().len(), 2, "two planted groups found");
    let bad = run(&["generate", "--participants", "10", "--statements", "5", "--votes", "100", "--output", &out]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("votes"));
}

#[test]
fn worker_parameters_are_checked_before_connecting() {
    let bad = run(&["worker", "--database-url", "postgres://nobody@127.0.0.1:1/none", "--params", r#"{"max_k": 1}"#]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("max_k"), "{}", String::from_utf8_lossy(&bad.stderr));
    let replay =
        run(&["worker", "--database-url", "postgres://nobody@127.0.0.1:1/none", "--params", r#"{"replay": true}"#]);
    assert_eq!(replay.status.code(), Some(2));
    // A database that cannot be reached is exit code 2 with a one-line error, not a hang.
    let unreachable = run(&["worker", "--database-url", "postgres://nobody@127.0.0.1:1/none", "--once"]);
    assert_eq!(unreachable.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unreachable.stderr).contains("database"));
}
