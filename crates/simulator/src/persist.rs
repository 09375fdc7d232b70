//! The simulated WhatsApp remembers across restarts, as Meta does: its state lives in a
//! SQLite file of its own (`simulator.db` in Parley's data directory), apart from
//! Parley's database, whichever engine that is. The file holds
//!
//! - a **snapshot** of the whole state as JSON (businesses, templates and their reviews,
//!   phones and chats, windows, tiers, reach and quality, pending receipts and webhooks,
//!   faults), written at once after every change a caller is told about (a template
//!   created, a phone writing, a fault set: rare), every second while sends change it,
//!   and when the simulator stops;
//! - a **journal** of the sends accepted since that snapshot: a send is answered only
//!   once its record (the chat bubble, the receipts it scheduled, what it costs) is on
//!   disk, so a send WhatsApp acknowledged is never forgotten, even when the process is
//!   killed. Writing the whole state per send would cost as much as the state; a record
//!   costs as much as the send, and concurrent sends share one transaction;
//! - the **files** media bytes, each written once (they are not in the JSON).
//!
//! Loading replays the journal on the snapshot. What is lost to a kill is only what no
//! caller was told about: webhooks posted since the snapshot go out again (Meta, too,
//! repeats webhooks; receivers drop duplicates) and throughput buckets start full.

use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::sync::{mpsc, oneshot};

use crate::state::{AcceptedSend, PhoneMessage, Scheduled, State};
use crate::template_send::TemplateSend;

/// Why the state file could not be read or written.
pub type PersistError = String;

fn failed(what: &str) -> impl Fn(sqlx::Error) -> PersistError + '_ {
    move |e| format!("{what}: {e}")
}

/// What one accepted send changed, as the journal keeps it and as it is applied, live
/// and on replay ([`State::apply_send`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendRecord {
    /// The user's number (digits).
    pub to: String,
    pub accepted: AcceptedSend,
    /// The bubble on the phone, when the send went through.
    pub bubble: Option<PhoneMessage>,
    /// The template sent, for taps on its buttons.
    pub template: Option<TemplateSend>,
    /// The receipts it scheduled, each with when it falls due.
    pub receipts: Vec<(DateTime<Utc>, Scheduled)>,
    /// The business answered the user (a free entry point may open), and when.
    pub replied: Option<DateTime<Utc>>,
}

/// The state file.
pub struct StateFile {
    pool: SqlitePool,
    journal: mpsc::Sender<(u64, String, oneshot::Sender<()>)>,
    /// Ids of the files whose bytes are in the file already.
    saved_files: std::sync::Mutex<HashSet<String>>,
}

/// Most journal records written in one transaction.
const JOURNAL_BATCH: usize = 512;

impl StateFile {
    /// Opens (or creates) the file; the journal writer runs until the file is dropped.
    pub async fn open(path: &Path) -> Result<Self, PersistError> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(failed("the simulator's state file"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A write is in the operating system's hands once committed: that survives the
            // process being killed, which is what a simulator must survive.
            .synchronous(SqliteSynchronous::Normal);
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .map_err(failed("opening the simulator's state file"))?;
        for statement in [
            "CREATE TABLE IF NOT EXISTS snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), \
             state TEXT NOT NULL, journal_seq INTEGER NOT NULL, saved_at INTEGER NOT NULL)",
            "CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, record TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS files (id TEXT PRIMARY KEY, bytes BLOB NOT NULL)",
        ] {
            sqlx::query(statement)
                .execute(&pool)
                .await
                .map_err(failed("preparing the simulator's state file"))?;
        }
        let (journal, records) = mpsc::channel(4096);
        tokio::spawn(write_journal(pool.clone(), records));
        Ok(Self {
            pool,
            journal,
            saved_files: Default::default(),
        })
    }

    /// The state as it was last saved, the journal replayed on it; `None` for a new file.
    pub async fn load(&self) -> Result<Option<State>, PersistError> {
        let row = sqlx::query("SELECT state, journal_seq FROM snapshot WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(failed("reading the simulator's state"))?;
        let saved = row.is_some();
        let (mut state, saved_seq) = match row {
            Some(row) => {
                let json: String = row.get(0);
                let seq: i64 = row.get(1);
                let state: State = serde_json::from_str(&json)
                    .map_err(|e| format!("the simulator's saved state is unreadable: {e}"))?;
                (state, seq)
            }
            None => (State::default(), 0),
        };
        let records = sqlx::query("SELECT seq, record FROM journal WHERE seq > ? ORDER BY seq")
            .bind(saved_seq)
            .fetch_all(&self.pool)
            .await
            .map_err(failed("reading the simulator's journal"))?;
        if !saved && records.is_empty() {
            return Ok(None);
        }
        for row in records {
            let seq: i64 = row.get(0);
            let json: String = row.get(1);
            let record: SendRecord = serde_json::from_str(&json)
                .map_err(|e| format!("journal record {seq} is unreadable: {e}"))?;
            state.journal_seq = seq as u64;
            state.apply_send(record);
        }
        let files = sqlx::query("SELECT id, bytes FROM files")
            .fetch_all(&self.pool)
            .await
            .map_err(failed("reading the simulator's files"))?;
        let mut saved = self.saved_files.lock().unwrap_or_else(|p| p.into_inner());
        for row in files {
            let id: String = row.get(0);
            let bytes: Vec<u8> = row.get(1);
            if state.media.restore_bytes(&id, Bytes::from(bytes)) {
                saved.insert(id);
            }
        }
        Ok(Some(state))
    }

    /// Writes a send's record; returns once it is committed.
    pub async fn journal(&self, seq: u64, record: &SendRecord) {
        let json = match serde_json::to_string(record) {
            Ok(json) => json,
            Err(e) => {
                tracing::error!(error = %e, "a send could not be journaled");
                return;
            }
        };
        let (done, committed) = oneshot::channel();
        if self.journal.send((seq, json, done)).await.is_ok() {
            let _ = committed.await;
        }
    }

    /// The files of `state` whose bytes are not in the file yet, and the ids of those no
    /// longer kept; taken under the state lock, cheap (the bytes are shared).
    pub fn file_changes(&self, state: &State) -> FileChanges {
        let saved = self.saved_files.lock().unwrap_or_else(|p| p.into_inner());
        let live: HashSet<&String> = state.media.files().map(|(id, _)| id).collect();
        FileChanges {
            added: state
                .media
                .files()
                .filter(|(id, bytes)| !saved.contains(*id) && !bytes.is_empty())
                .map(|(id, bytes)| (id.clone(), bytes.clone()))
                .collect(),
            removed: saved
                .iter()
                .filter(|id| !live.contains(id))
                .cloned()
                .collect(),
        }
    }

    /// Replaces the snapshot (taken with journal position `journal_seq`), drops the
    /// journal it contains, and brings the files up to date, in one transaction.
    pub async fn save(
        &self,
        state_json: String,
        journal_seq: u64,
        files: FileChanges,
        now: DateTime<Utc>,
    ) -> Result<(), PersistError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(failed("saving the simulator's state"))?;
        sqlx::query(
            "INSERT INTO snapshot (id, state, journal_seq, saved_at) VALUES (1, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET state = excluded.state, \
             journal_seq = excluded.journal_seq, saved_at = excluded.saved_at",
        )
        .bind(state_json)
        .bind(journal_seq as i64)
        .bind(now.timestamp_millis())
        .execute(&mut *tx)
        .await
        .map_err(failed("saving the simulator's state"))?;
        sqlx::query("DELETE FROM journal WHERE seq <= ?")
            .bind(journal_seq as i64)
            .execute(&mut *tx)
            .await
            .map_err(failed("trimming the simulator's journal"))?;
        for (id, bytes) in &files.added {
            sqlx::query("INSERT OR REPLACE INTO files (id, bytes) VALUES (?, ?)")
                .bind(id)
                .bind(bytes.as_ref())
                .execute(&mut *tx)
                .await
                .map_err(failed("saving a simulated file"))?;
        }
        for id in &files.removed {
            sqlx::query("DELETE FROM files WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(failed("removing a simulated file"))?;
        }
        tx.commit()
            .await
            .map_err(failed("saving the simulator's state"))?;
        let mut saved = self.saved_files.lock().unwrap_or_else(|p| p.into_inner());
        saved.extend(files.added.into_iter().map(|(id, _)| id));
        for id in &files.removed {
            saved.remove(id);
        }
        Ok(())
    }
}

/// Media bytes to bring the file up to date with.
pub struct FileChanges {
    added: Vec<(String, Bytes)>,
    removed: Vec<String>,
}

/// Writes journal records as they come, those waiting together in one transaction
/// (group commit), and tells each sender once its record is committed.
async fn write_journal(
    pool: SqlitePool,
    mut records: mpsc::Receiver<(u64, String, oneshot::Sender<()>)>,
) {
    while let Some(first) = records.recv().await {
        let mut batch = vec![first];
        while batch.len() < JOURNAL_BATCH {
            match records.try_recv() {
                Ok(record) => batch.push(record),
                Err(_) => break,
            }
        }
        let written = async {
            let mut tx = pool.begin().await?;
            for (seq, json, _) in &batch {
                sqlx::query("INSERT OR REPLACE INTO journal (seq, record) VALUES (?, ?)")
                    .bind(*seq as i64)
                    .bind(json)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        }
        .await;
        if let Err(e) = written {
            tracing::error!(error = %e, sends = batch.len(), "the simulator could not journal sends");
        }
        for (_, _, done) in batch {
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::media::StoredMedia;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    fn send(id: &str) -> SendRecord {
        SendRecord {
            to: "15551234567".into(),
            accepted: AcceptedSend {
                id: id.into(),
                phone_number_id: "pn-1".into(),
                to: "15551234567".into(),
                kind: "text".into(),
                callback_data: None,
                media_id: None,
                media_link: None,
                at: now(),
                error_code: None,
                pricing: None,
            },
            bubble: None,
            template: None,
            receipts: vec![(now(), Scheduled::TemplateReview { id: id.into() })],
            replied: None,
        }
    }

    #[tokio::test]
    async fn a_saved_state_comes_back_with_its_files_and_the_sends_journaled_since() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("simulator.db");
        let file = StateFile::open(&path).await.unwrap();
        assert!(
            file.load().await.unwrap().is_none(),
            "a new file holds nothing"
        );
        // A state without any send yet (a template, a phone that wrote) is a state too.
        let mut quiet = State::default();
        quiet.phone("15551234567");
        let changes = file.file_changes(&quiet);
        file.save(serde_json::to_string(&quiet).unwrap(), 0, changes, now())
            .await
            .unwrap();
        let loaded = file.load().await.unwrap().expect("saved before any send");
        assert_eq!(loaded.known_users().collect::<Vec<_>>(), ["15551234567"]);
        let mut state = State::default();
        let pdf = Bytes::from_static(b"%PDF-1.4 a receipt");
        let media = StoredMedia::new(pdf.clone(), "application/pdf", Some("r.pdf".into()), now());
        let id = state.media.insert(media, now());
        state.journal_seq = 1;
        state.apply_send(send("wamid.saved"));
        let changes = file.file_changes(&state);
        file.save(serde_json::to_string(&state).unwrap(), 1, changes, now())
            .await
            .unwrap();
        // Journaled after the snapshot, then the process dies.
        file.journal(2, &send("wamid.journaled")).await;
        drop(file);

        let file = StateFile::open(&path).await.unwrap();
        let loaded = file.load().await.unwrap().expect("saved");
        assert_eq!(
            loaded.media.get(&id).unwrap().bytes,
            pdf,
            "the file's bytes"
        );
        let sends: Vec<&str> = loaded.sends.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(sends, ["wamid.saved", "wamid.journaled"]);
        assert_eq!(loaded.journal_seq, 2);
        assert_eq!(loaded.timeline.len(), 2, "both sends' scheduled events");
        // Saved again, the journal is folded in and the file unchanged.
        assert!(file.file_changes(&loaded).added.is_empty());
    }
}
