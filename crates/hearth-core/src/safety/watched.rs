//! Watched words and phrases: an admin-managed list, matched whole-word and case-insensitively
//! in new posts, each with an action — block the post (the form keeps the text), hold it for
//! approval, flag it for review, or replace the words with a mask.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::clock;
use crate::db::schema::watched_words;
use crate::db::{write_tx, DbConn};
use crate::error::{Error, Result};
use crate::ids::WatchedWordId;
use crate::moderation::log::{self, Entry, LoggedAction};
use crate::policy::{self, Action, MemberActor};
use crate::safety::screening::PhraseList;
use crate::text_enum::text_enum;

const MAX_PHRASE_CHARS: usize = 100;

text_enum! {
    /// What happens to a post that contains a watched word.
    #[derive(Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum WatchAction ("watched-word action") {
        Block = "block",
        Hold = "hold",
        Flag = "flag",
        Mask = "mask",
    }
}

impl WatchAction {
    pub fn label(self) -> &'static str {
        match self {
            WatchAction::Block => "Refuse the post, saying why",
            WatchAction::Hold => "Hold the post for approval",
            WatchAction::Flag => "Publish, and flag it for review",
            WatchAction::Mask => "Publish with the words masked",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = watched_words)]
pub struct WatchedWord {
    pub id: WatchedWordId,
    pub phrase: String,
    #[diesel(deserialize_as = String)]
    pub action: WatchAction,
    pub created_at: NaiveDateTime,
}

/// Every watched word, alphabetically.
pub fn list(conn: &mut DbConn) -> Result<Vec<WatchedWord>> {
    Ok(watched_words::table
        .order(watched_words::phrase_lower.asc())
        .select(WatchedWord::as_select())
        .load(conn)?)
}

/// The watched words compiled for matching, one list per action.
#[derive(Debug, Default, Clone)]
pub struct WatchLists {
    pub block: PhraseList,
    pub hold: PhraseList,
    pub flag: PhraseList,
    pub mask: PhraseList,
}

impl WatchLists {
    pub fn is_empty(&self) -> bool {
        self.block.is_empty()
            && self.hold.is_empty()
            && self.flag.is_empty()
            && self.mask.is_empty()
    }
}

/// The watched words as last compiled, with the rows they were compiled from.
type Compiled = (Vec<(String, String)>, WatchLists);
static COMPILED: std::sync::Mutex<Option<Compiled>> = std::sync::Mutex::new(None);

/// Loads the watched words (a handful of rows, read for every post, so another server's change
/// counts at once) and compiles them, or takes the lists compiled for the same rows before:
/// compiling is most of the cost, and the rows seldom change.
pub fn lists(conn: &mut DbConn) -> Result<WatchLists> {
    let mut rows: Vec<(String, String)> = watched_words::table
        .select((watched_words::phrase, watched_words::action))
        .load(conn)?;
    // In one order to compare with the rows compiled before (sorted here: an ORDER BY would
    // sort in a temporary b-tree on every post).
    rows.sort_unstable();
    let mut compiled = COMPILED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((from, lists)) = compiled.as_ref() {
        if *from == rows {
            return Ok(lists.clone());
        }
    }
    let lists = compile(&rows)?;
    *compiled = Some((rows, lists.clone()));
    Ok(lists)
}

fn compile(rows: &[(String, String)]) -> Result<WatchLists> {
    let of = |action: WatchAction| {
        PhraseList::new(
            rows.iter()
                .filter(|(_, a)| a == action.as_str())
                .map(|(p, _)| p.as_str()),
        )
    };
    Ok(WatchLists {
        block: of(WatchAction::Block)?,
        hold: of(WatchAction::Hold)?,
        flag: of(WatchAction::Flag)?,
        mask: of(WatchAction::Mask)?,
    })
}

/// Adds a watched word (admins). Adding a phrase again changes its action.
pub fn add(conn: &mut DbConn, member: &MemberActor, phrase: &str, action: &str) -> Result<()> {
    policy::authorize(&member.actor(), Action::ManageWatchedWords)?;
    let phrase = phrase.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut invalid = crate::error::Invalid::default();
    let n_chars = phrase.chars().count();
    if n_chars == 0 || n_chars > MAX_PHRASE_CHARS {
        invalid.add(
            "phrase",
            format!("a word or phrase of 1 to {MAX_PHRASE_CHARS} characters"),
        );
    } else if PhraseList::new([phrase.as_str()]).is_err() {
        invalid.add("phrase", "this phrase cannot be matched; try plain words");
    }
    let action = WatchAction::parse(action);
    if action.is_none() {
        invalid.add("action", "choose what happens to a post that contains it");
    }
    invalid.into_result()?;
    let action = action.ok_or_else(|| Error::Internal("watched-word action".to_owned()))?;
    write_tx(conn, |conn| {
        let now = clock::now();
        let lower = phrase.to_lowercase();
        diesel::delete(watched_words::table.filter(watched_words::phrase_lower.eq(&lower)))
            .execute(conn)?;
        diesel::insert_into(watched_words::table)
            .values((
                watched_words::phrase.eq(&phrase),
                watched_words::phrase_lower.eq(&lower),
                watched_words::action.eq(action.as_str()),
                watched_words::created_by.eq(member.id),
                watched_words::created_at.eq(now),
            ))
            .execute(conn)?;
        let reason = format!("added “{phrase}”: {}", action.as_str());
        let mut entry = Entry::new(LoggedAction::WatchedWords, None);
        entry.reason = &reason;
        log::write(conn, member, entry, now)
    })
}

/// Removes a watched word (admins).
pub fn remove(conn: &mut DbConn, member: &MemberActor, id: WatchedWordId) -> Result<()> {
    policy::authorize(&member.actor(), Action::ManageWatchedWords)?;
    write_tx(conn, |conn| {
        let phrase: String = watched_words::table
            .find(id)
            .select(watched_words::phrase)
            .get_result(conn)
            .optional()?
            .ok_or(Error::NotFound)?;
        diesel::delete(watched_words::table.find(id)).execute(conn)?;
        let now = clock::now();
        let reason = format!("removed “{phrase}”");
        let mut entry = Entry::new(LoggedAction::WatchedWords, None);
        entry.reason = &reason;
        log::write(conn, member, entry, now)
    })
}

/// The watched words, for the administrators who manage them.
pub fn list_for(conn: &mut DbConn, member: &MemberActor) -> Result<Vec<WatchedWord>> {
    policy::authorize(&member.actor(), Action::ManageWatchedWords)?;
    list(conn)
}
