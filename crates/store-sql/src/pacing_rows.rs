//! Messaging limits and pacing holds in SQL, shared by both backends.

pub mod ops {
    use chrono::{DateTime, Utc};
    use parley_types::Umid;
    use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

    use crate::StoreResult;
    use crate::accept_group::Statement;
    use crate::rows::{from_millis, millis};

    /// Records a reported tier unless a later report is already stored.
    pub async fn set_messaging_limit<DB>(
        conn: &mut DB::Connection,
        waba_id: &str,
        tier: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        (String,): for<'r> FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new(
            "INSERT INTO messaging_limits (waba_id, tier, updated_at) VALUES (",
        );
        q.bind(waba_id.to_owned())?
            .push(", ")
            .bind(tier.to_owned())?
            .push(", ")
            .bind(millis(at))?
            .push(
                ") ON CONFLICT (waba_id) DO UPDATE SET tier = excluded.tier, \
                 updated_at = excluded.updated_at \
                 WHERE messaging_limits.updated_at <= excluded.updated_at RETURNING waba_id",
            );
        fetch_as!((String,), conn, q);
        Ok(())
    }

    pub async fn messaging_limits<DB>(
        conn: &mut DB::Connection,
    ) -> StoreResult<Vec<(String, String)>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        (String, String): for<'r> FromRow<'r, DB::Row>,
    {
        let q = Statement::<DB>::new("SELECT waba_id, tier FROM messaging_limits");
        Ok(fetch_as!((String, String), conn, q))
    }

    /// Makes the lanes held for `reason` due now; yields how many.
    pub async fn release_holds<DB>(
        conn: &mut DB::Connection,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        (String,): for<'r> FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new("UPDATE dispatch_lanes SET ready_at = ");
        q.bind(millis(now))?
            .push(" WHERE hold_reason = ")
            .bind(reason.to_owned())?
            .push(" AND handed_off_at IS NULL AND ready_at > ")
            .bind(millis(now))?
            .push(" RETURNING head_umid");
        Ok(fetch_as!((String,), conn, q).len() as u64)
    }

    /// Why and until when the message waits, if it heads its lane and is held.
    pub async fn hold<DB>(
        conn: &mut DB::Connection,
        umid: Umid,
    ) -> StoreResult<Option<(DateTime<Utc>, String)>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        (i64, String): for<'r> FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new(
            "SELECT ready_at, hold_reason FROM dispatch_lanes WHERE head_umid = ",
        );
        q.bind(umid.to_string())?
            .push(" AND hold_reason IS NOT NULL AND handed_off_at IS NULL");
        let held: Vec<(i64, String)> = fetch_as!((i64, String), conn, q);
        held.into_iter()
            .next()
            .map(|(at, reason)| Ok((from_millis(at)?, reason)))
            .transpose()
    }

    /// See [`crate::DispatchStore::note_receipts`].
    pub async fn note_receipts<DB>(
        conn: &mut DB::Connection,
        channel: &str,
        through: DateTime<Utc>,
        seen_at: DateTime<Utc>,
    ) -> StoreResult<()>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::<DB>::new(
            "INSERT INTO receipt_progress (channel_id, through_at, seen_at) VALUES (",
        );
        q.bind(channel.to_owned())?
            .push(", ")
            .bind(millis(through))?
            .push(", ")
            .bind(millis(seen_at))?
            .push(
                ") ON CONFLICT (channel_id) DO UPDATE SET seen_at = excluded.seen_at, \
                 through_at = CASE WHEN receipt_progress.through_at > excluded.through_at \
                                   THEN receipt_progress.through_at \
                                   ELSE excluded.through_at END",
            );
        execute!(conn, q);
        Ok(())
    }

    /// The condition, on a `dispatch_lanes` row aliased `lane`, that its channel's receipts
    /// are not still coming in behind its hand-off: `{grace}` and `{seen_after}` are
    /// replaced by the grace in milliseconds and the earliest `seen_at` that counts as
    /// coming in. Literal numbers, as the rest of the statement binds its own parameters.
    pub fn receipts_not_behind(grace: chrono::Duration, seen_after: DateTime<Utc>) -> String {
        format!(
            "NOT EXISTS (SELECT 1 FROM receipt_progress p \
                         WHERE p.channel_id = lane.channel_id \
                           AND p.seen_at > {} \
                           AND p.through_at < lane.handed_off_at + {})",
            millis(seen_after),
            grace.num_milliseconds()
        )
    }
}
