//! The do-not-contact list in SQL, shared by both backends: single statements, whose
//! changed rows are read back with `RETURNING`.

pub mod ops {
    use chrono::{DateTime, Utc};
    use parley_types::AccountId;
    use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

    use crate::accept_group::Statement;
    use crate::rows::millis;
    use crate::{OptOutSource, StoreResult};

    /// Puts the number on the list; `false` if it already was.
    pub async fn opt_out<DB>(
        conn: &mut DB::Connection,
        account: &AccountId,
        msisdn: &str,
        source: OptOutSource,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        (String,): for<'r> FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new(
            "INSERT INTO opt_outs (account_id, msisdn, source, created_at) VALUES (",
        );
        q.bind(account.to_string())?
            .push(", ")
            .bind(msisdn.to_owned())?
            .push(", ")
            .bind(source.as_str().to_owned())?
            .push(", ")
            .bind(millis(at))?
            .push(") ON CONFLICT (account_id, msisdn) DO NOTHING RETURNING msisdn");
        Ok(!fetch_as!((String,), conn, q).is_empty())
    }

    /// Takes the number off the list; `false` if it was not on it.
    pub async fn opt_in<DB>(
        conn: &mut DB::Connection,
        account: &AccountId,
        msisdn: &str,
    ) -> StoreResult<bool>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        (String,): for<'r> FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new("DELETE FROM opt_outs WHERE account_id = ");
        q.bind(account.to_string())?
            .push(" AND msisdn = ")
            .bind(msisdn.to_owned())?
            .push(" RETURNING msisdn");
        Ok(!fetch_as!((String,), conn, q).is_empty())
    }

    /// Which of `msisdns` are on the account's list.
    pub async fn opted_out<DB>(
        conn: &mut DB::Connection,
        account: &AccountId,
        msisdns: &[String],
    ) -> StoreResult<Vec<String>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        (String,): for<'r> FromRow<'r, DB::Row>,
    {
        if msisdns.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Statement::<DB>::new("SELECT msisdn FROM opt_outs WHERE account_id = ");
        q.bind(account.to_string())?.push(" AND msisdn IN (");
        for (i, msisdn) in msisdns.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(msisdn.clone())?;
        }
        q.push(")");
        let found: Vec<(String,)> = fetch_as!((String,), conn, q);
        Ok(found.into_iter().map(|(m,)| m).collect())
    }
}
