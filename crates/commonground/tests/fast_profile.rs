//! The fast profile (`Profile::Fast`) against Polis's exact one on the bundled vTaiwan
//! conversation: how close its groups, representative statements and components stay (floors
//! under the figures BENCHMARKS.md reports, "Fast profile"), that it does less iteration, that it
//! is deterministic across thread counts, and that the default's outputs carry no trace of it.

mod common;

use commonground::compare::analysis_agreement;
use commonground::{io, Analysis, Conversation, Mode, Params, Profile, Request};

fn vtaiwan(profile: Profile) -> Analysis {
    let data = io::load(&common::bundled_example()).expect("the bundled example reads");
    let params = Params { profile, ..Params::default() };
    let conv = Conversation::run(
        &Request { params, mode: Mode::OneBatch, ..Default::default() },
        data.statements,
        &data.votes,
    )
    .expect("the bundled example analyses");
    conv.analysis().expect("an analysis").clone()
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool").install(f)
}

#[test]
fn the_fast_profile_keeps_the_exact_groups_repness_and_components_on_vtaiwan() {
    let exact = vtaiwan(Profile::Polis);
    let fast = vtaiwan(Profile::Fast);
    let agreement = analysis_agreement(&exact, &fast);
    // Floors, not the measured values (BENCHMARKS.md has those): the components agree to about
    // the Lanczos tolerance, the groups to a handful of boundary participants.
    assert_eq!(agreement.groups.0, agreement.groups.1, "{agreement:?}");
    assert!(agreement.component_cosine > 1.0 - 1e-6, "{agreement:?}");
    assert!(agreement.group_ari >= 0.95, "{agreement:?}");
    assert!(agreement.repness_jaccard >= 0.8, "{agreement:?}");
}

#[test]
fn the_fast_profile_runs_fewer_pca_products_than_the_exact_one() {
    let exact = vtaiwan(Profile::Polis);
    let fast = vtaiwan(Profile::Fast);
    let products = |a: &Analysis| a.pca.iterations[0] + a.pca.iterations[1];
    assert!(products(&fast) < products(&exact), "fast {:?}, exact {:?}", fast.pca.iterations, exact.pca.iterations);
}

#[test]
fn the_fast_profile_is_byte_identical_across_thread_counts() {
    let one = in_pool(1, || vtaiwan(Profile::Fast).to_json());
    let four = in_pool(4, || vtaiwan(Profile::Fast).to_json());
    assert!(one == four, "the fast profile's JSON differs between 1 and 4 threads");
}

#[test]
fn the_profile_is_a_request_key_and_only_the_fast_one_is_written_out() {
    let request = Request::from_json(r#"{"profile": "fast"}"#).expect("profile is a request key");
    assert_eq!(request.params.profile, Profile::Fast);
    let e = Request::from_json(r#"{"profile": "fastest"}"#).unwrap_err().to_string();
    assert!(e.contains("profile"), "{e}");
    // The default writes no `profile` key, so every existing output keeps its bytes.
    let exact = serde_json::to_value(Params::default()).expect("params serialise");
    assert!(exact.get("profile").is_none(), "{exact}");
    let fast = serde_json::to_value(Params { profile: Profile::Fast, ..Params::default() }).expect("params serialise");
    assert_eq!(fast["profile"], "fast");
    let back: Params = serde_json::from_value(fast).expect("params read back");
    assert_eq!(back.profile, Profile::Fast);
}
