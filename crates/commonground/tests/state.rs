//! A conversation's serialised state carries everything: restored from its bytes, a conversation
//! gives exactly the next update that the uninterrupted one gives (PCA, clusterings, the k
//! smoother, the matrix factorization's warm start), and damaged or foreign bytes are errors.

mod common;

use commonground::{io, Batching, Conversation, ConversationState, Error, Params, VoteBatch};

/// The bundled vTaiwan conversation cut into 12 time-ordered batches.
fn vtaiwan_batches() -> (Vec<commonground::Statement>, Vec<VoteBatch>) {
    let data = io::load(&common::bundled_example()).unwrap();
    let batching = Batching { window_ms: 1, max_updates: Some(12), ..Batching::default() };
    (data.statements, batching.split(&data.votes))
}

#[test]
fn a_restored_state_gives_the_same_next_updates_as_the_uninterrupted_conversation() {
    let (statements, batches) = vtaiwan_batches();
    assert!(batches.len() >= 10);
    let mut uninterrupted = Conversation::new(Params::default()).unwrap();
    uninterrupted.set_statements(statements.clone());
    let mut restored = Conversation::new(Params::default()).unwrap();
    restored.set_statements(statements);
    for (i, batch) in batches.iter().enumerate() {
        let expected = uninterrupted.update(batch).unwrap().to_json();
        // Stop and restore from bytes before every update but the first.
        if i > 0 {
            let bytes = restored.state().to_bytes();
            restored = Conversation::from_state(ConversationState::from_bytes(&bytes).unwrap()).unwrap();
            assert!(restored.analysis().is_none());
        }
        assert_eq!(restored.update(batch).unwrap().to_json(), expected, "update {i}");
    }
    // Per-k group clusterings, the smoother and the factorization's warm start all came through:
    // the states are equal, not only the outputs.
    assert_eq!(restored.state(), uninterrupted.state());
    assert!(uninterrupted.state().warm.group_clusterings.len() >= 2);
    assert!(uninterrupted.state().warm.mf.is_some());
}

#[test]
fn the_state_of_a_restored_conversation_encodes_to_the_same_bytes() {
    let (statements, batches) = vtaiwan_batches();
    let mut conv = Conversation::new(Params::default()).unwrap();
    conv.set_statements(statements);
    conv.update(&batches[0]).unwrap();
    conv.update(&batches[1]).unwrap();
    let bytes = conv.state().to_bytes();
    let again = Conversation::from_state(ConversationState::from_bytes(&bytes).unwrap()).unwrap();
    assert_eq!(again.state().to_bytes(), bytes);
}

#[test]
fn another_format_version_is_refused_with_a_clear_error() {
    let (statements, batches) = vtaiwan_batches();
    let mut conv = Conversation::new(Params::default()).unwrap();
    conv.set_statements(statements);
    conv.update(&batches[0]).unwrap();
    let mut old = conv.state();
    old.version = 0;
    let err = ConversationState::from_bytes(&old.to_bytes()).unwrap_err();
    assert!(matches!(err, Error::InvalidState(_)));
    assert!(err.to_string().contains("version 0"), "{err}");
    assert!(Conversation::from_state(old).is_err());
}

#[test]
fn damaged_bytes_and_inconsistent_arrays_are_errors_not_panics() {
    let (statements, batches) = vtaiwan_batches();
    let mut conv = Conversation::new(Params::default()).unwrap();
    conv.set_statements(statements);
    conv.update(&batches[0]).unwrap();
    let bytes = conv.state().to_bytes();
    for cut in [0, 1, 10, bytes.len() / 2, bytes.len() - 1] {
        assert!(matches!(ConversationState::from_bytes(&bytes[..cut]), Err(Error::InvalidState(_))), "cut at {cut}");
    }
    assert!(ConversationState::from_bytes(b"{\"format\": 1}").is_err());

    let state = conv.state();
    let mut s = state.clone();
    s.matrix.indices[0] = s.matrix.statements.len() as u32;
    assert!(matches!(Conversation::from_state(s), Err(Error::InvalidState(_))));
    let mut s = state.clone();
    s.matrix.values[0] = 7;
    assert!(matches!(Conversation::from_state(s), Err(Error::InvalidState(_))));
    let mut s = state.clone();
    s.matrix.indptr.pop();
    assert!(matches!(Conversation::from_state(s), Err(Error::InvalidState(_))));
    let mut s = state.clone();
    s.warm.base_clusters[0].members.push(s.matrix.participants.len());
    assert!(matches!(Conversation::from_state(s), Err(Error::InvalidState(_))));
    let mut s = state.clone();
    let first = s.matrix.participants[0].clone();
    s.matrix.participants[1] = first;
    assert!(matches!(Conversation::from_state(s), Err(Error::InvalidState(_))));
    let mut s = state;
    s.params.base_k = 0;
    assert!(Conversation::from_state(s).is_err());
}

#[test]
fn a_state_with_its_analysis_restores_the_analysis_and_the_plain_state_does_not() {
    let (statements, batches) = vtaiwan_batches();
    let mut conv = Conversation::new(Params::default()).unwrap();
    conv.set_statements(statements);
    let expected = conv.update(&batches[0]).unwrap().to_json();
    let with = ConversationState::from_bytes(&conv.state_with_analysis().to_bytes()).unwrap();
    assert_eq!(Conversation::from_state(with).unwrap().analysis().unwrap().to_json(), expected);
    assert!(Conversation::from_state(conv.state()).unwrap().analysis().is_none());
}
