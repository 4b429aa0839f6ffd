use std::collections::HashMap;

use super::{Id, Statement, VoteBatch};
use crate::error::{Error, Location, Result};

/// Statements by id, in the order first given: the one place that holds the rules for a
/// statement list (a re-listing must agree with the first; a metadata update replaces it; a vote
/// must name a listed statement). Used by the readers, [`crate::Conversation`] and the bindings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatementList {
    list: Vec<Statement>,
    index: HashMap<Id, usize>,
}

impl StatementList {
    pub fn new() -> Self {
        StatementList::default()
    }
    pub fn len(&self) -> usize {
        self.list.len()
    }
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    pub fn as_slice(&self) -> &[Statement] {
        &self.list
    }
    pub fn into_vec(self) -> Vec<Statement> {
        self.list
    }
    pub fn get(&self, id: &Id) -> Option<&Statement> {
        self.index.get(id).map(|&i| &self.list[i])
    }
    pub fn contains(&self, id: &Id) -> bool {
        self.index.contains_key(id)
    }

    /// Adds the statement, or replaces the metadata of one with the same id (a moderation
    /// decision, an edited text): the later word wins.
    pub fn upsert(&mut self, statement: Statement) {
        match self.index.get(&statement.id) {
            Some(&i) => self.list[i] = statement,
            None => {
                self.index.insert(statement.id.clone(), self.list.len());
                self.list.push(statement);
            }
        }
    }

    /// Adds one listing of a statement from an input file: a second listing of the same id must
    /// agree with the first (an exact repeat is dropped), else it is a
    /// [`Error::ConflictingStatement`] at `location`.
    pub fn add_listing(&mut self, statement: Statement, location: impl FnOnce() -> Location) -> Result<()> {
        if let Some(first) = self.get(&statement.id) {
            let field = if first.text != statement.text {
                "text"
            } else if first.moderation != statement.moderation {
                "moderation"
            } else if first.is_meta != statement.is_meta {
                "is_meta"
            } else if first.author != statement.author {
                "author"
            } else if first.created != statement.created {
                "created time"
            } else {
                return Ok(());
            };
            return Err(Error::ConflictingStatement { location: location(), statement: statement.id, field });
        }
        self.upsert(statement);
        Ok(())
    }

    /// Once statements are listed, every vote must be on one of them: the first that is not is an
    /// [`Error::UnknownStatement`], located by its 1-based position in `votes`. An empty list
    /// accepts any vote (statements are then known only by their votes).
    pub fn check_votes(&self, votes: &VoteBatch) -> Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        let unknown: Vec<bool> = votes.statement_ids().iter().map(|id| !self.contains(id)).collect();
        if !unknown.contains(&true) {
            return Ok(());
        }
        let i = votes.statements().iter().position(|&s| unknown[s as usize]).expect("an unknown statement has a vote");
        Err(Error::UnknownStatement {
            location: Location { file: None, line: Some(i as u64 + 1) },
            statement: votes.statement_ids()[votes.statements()[i] as usize].clone(),
        })
    }
}

impl FromIterator<Statement> for StatementList {
    /// Collects with [`StatementList::upsert`]: the later listing of an id wins.
    fn from_iter<T: IntoIterator<Item = Statement>>(iter: T) -> Self {
        let mut list = StatementList::new();
        iter.into_iter().for_each(|s| list.upsert(s));
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::votes::{Vote, VoteEvent};

    #[test]
    fn a_relisted_statement_must_match_the_first_listing() {
        let mut list = StatementList::new();
        let mut s = Statement::new(3);
        s.text = Some("a".into());
        list.add_listing(s.clone(), Location::none).unwrap();
        list.add_listing(s.clone(), Location::none).unwrap();
        assert_eq!(list.len(), 1);
        s.text = Some("b".into());
        let err = list.add_listing(s, || Location::new("c.csv", Some(4))).unwrap_err();
        assert!(matches!(err, Error::ConflictingStatement { field: "text", .. }), "{err}");
        assert!(err.to_string().contains("c.csv:4"));
    }

    #[test]
    fn an_upsert_replaces_metadata_in_place() {
        let mut list: StatementList = [Statement::new(1), Statement::new(2)].into_iter().collect();
        let mut moderated = Statement::new(1);
        moderated.moderation = crate::votes::ModerationStatus::Rejected;
        list.upsert(moderated.clone());
        assert_eq!(list.as_slice(), &[moderated, Statement::new(2)]);
    }

    #[test]
    fn votes_must_name_listed_statements_once_there_are_any() {
        let votes = VoteBatch::from_events(&[VoteEvent::new(1, 1, Vote::Agree), VoteEvent::new(1, 7, Vote::Agree)]);
        assert!(StatementList::new().check_votes(&votes).is_ok());
        let list: StatementList = [Statement::new(1)].into_iter().collect();
        let err = list.check_votes(&votes).unwrap_err();
        assert!(
            matches!(&err, Error::UnknownStatement { statement, location } if *statement == 7.into() && location.line == Some(2))
        );
    }
}
