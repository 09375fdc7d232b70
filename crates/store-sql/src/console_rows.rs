//! Console users and sessions in SQL, shared by both backends.

use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use crate::StoreError;
use crate::rows::{account_id, from_millis};
use crate::{ConsoleRole, ConsoleSession, ConsoleUser};

pub const USER_COLUMNS: &str =
    "id, account_id, email, name, role, password_hash, disabled, created_at";
pub const SESSION_COLUMNS: &str = "token_hash, user_id, csrf_token, created_at, expires_at";

#[derive(Debug, sqlx::FromRow)]
pub struct ConsoleUserRow {
    pub id: String,
    pub account_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: i64,
}

impl ConsoleUserRow {
    pub fn into_model(self) -> crate::StoreResult<ConsoleUser> {
        Ok(ConsoleUser {
            id: self
                .id
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("console user id {:?}", self.id)))?,
            account_id: account_id(&self.account_id)?,
            email: self.email,
            name: self.name,
            role: ConsoleRole::parse(&self.role)
                .ok_or_else(|| StoreError::Corrupt(format!("console role {:?}", self.role)))?,
            password_hash: self.password_hash,
            disabled: self.disabled,
            created_at: from_millis(self.created_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct ConsoleSessionRow {
    pub token_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl ConsoleSessionRow {
    pub fn into_model(self) -> crate::StoreResult<ConsoleSession> {
        Ok(ConsoleSession {
            token_hash: self.token_hash,
            user_id: self
                .user_id
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("console user id {:?}", self.user_id)))?,
            csrf_token: self.csrf_token,
            created_at: from_millis(self.created_at)?,
            expires_at: from_millis(self.expires_at)?,
        })
    }
}

/// Every statement here is written once for both backends; these bounds say what each
/// needs from the driver.
pub mod ops {
    use chrono::{DateTime, Utc};
    use parley_types::{AccountId, ConsoleUserId};

    use super::*;
    use crate::StoreResult;
    use crate::accept_group::Statement;
    use crate::rows::millis;

    pub async fn insert_user<DB>(conn: &mut DB::Connection, user: &ConsoleUser) -> StoreResult<()>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'a> bool: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::<DB>::new(format!("INSERT INTO console_users ({USER_COLUMNS})"));
        q.values(std::slice::from_ref(user), |row, user| {
            row.bind(user.id.to_string())?
                .bind(user.account_id.to_string())?
                .bind(user.email.clone())?
                .bind(user.name.clone())?
                .bind(user.role.as_str().to_owned())?
                .bind(user.password_hash.clone())?
                .bind(user.disabled)?
                .bind(millis(user.created_at))?;
            Ok(())
        })?;
        execute!(conn, q);
        Ok(())
    }

    /// Users whose `column` equals `value`, oldest first.
    pub async fn users_where<DB>(
        conn: &mut DB::Connection,
        column: &str,
        value: String,
    ) -> StoreResult<Vec<ConsoleUser>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        ConsoleUserRow: for<'r> FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new(format!(
            "SELECT {USER_COLUMNS} FROM console_users WHERE {column} = "
        ));
        q.bind(value)?.push(" ORDER BY created_at, id");
        Ok(fetch!(ConsoleUserRow, conn, q))
    }

    pub async fn user_by_id<DB>(
        conn: &mut DB::Connection,
        id: ConsoleUserId,
    ) -> StoreResult<Option<ConsoleUser>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        ConsoleUserRow: for<'r> FromRow<'r, DB::Row>,
    {
        Ok(users_where::<DB>(conn, "id", id.to_string()).await?.pop())
    }

    pub async fn users_of<DB>(
        conn: &mut DB::Connection,
        account: &AccountId,
    ) -> StoreResult<Vec<ConsoleUser>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        ConsoleUserRow: for<'r> FromRow<'r, DB::Row>,
    {
        users_where::<DB>(conn, "account_id", account.to_string()).await
    }

    pub async fn update_user<DB>(
        conn: &mut DB::Connection,
        user: &ConsoleUser,
        end_sessions: bool,
    ) -> StoreResult<bool>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> bool: Encode<'a, DB> + Type<DB>,
        (String,): for<'r> FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new("UPDATE console_users SET name = ");
        q.bind(user.name.clone())?
            .push(", role = ")
            .bind(user.role.as_str().to_owned())?
            .push(", password_hash = ")
            .bind(user.password_hash.clone())?
            .push(", disabled = ")
            .bind(user.disabled)?
            .push(" WHERE id = ")
            .bind(user.id.to_string())?
            .push(" RETURNING id");
        let updated = !fetch_as!((String,), conn, q).is_empty();
        if updated && end_sessions {
            end_sessions_of::<DB>(conn, user.id).await?;
        }
        Ok(updated)
    }

    async fn end_sessions_of<DB>(conn: &mut DB::Connection, user: ConsoleUserId) -> StoreResult<()>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::<DB>::new("DELETE FROM console_sessions WHERE user_id = ");
        q.bind(user.to_string())?;
        execute!(conn, q);
        Ok(())
    }

    /// Deletes the user and their sessions (run it in a transaction).
    pub async fn delete_user<DB>(conn: &mut DB::Connection, id: ConsoleUserId) -> StoreResult<bool>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        (String,): for<'r> FromRow<'r, DB::Row>,
    {
        end_sessions_of::<DB>(conn, id).await?;
        let mut q = Statement::<DB>::new("DELETE FROM console_users WHERE id = ");
        q.bind(id.to_string())?.push(" RETURNING id");
        Ok(!fetch_as!((String,), conn, q).is_empty())
    }

    pub async fn insert_session<DB>(
        conn: &mut DB::Connection,
        session: &ConsoleSession,
    ) -> StoreResult<()>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        let mut q =
            Statement::<DB>::new(format!("INSERT INTO console_sessions ({SESSION_COLUMNS})"));
        q.values(std::slice::from_ref(session), |row, s| {
            row.bind(s.token_hash.clone())?
                .bind(s.user_id.to_string())?
                .bind(s.csrf_token.clone())?
                .bind(millis(s.created_at))?
                .bind(millis(s.expires_at))?;
            Ok(())
        })?;
        execute!(conn, q);
        Ok(())
    }

    /// The live session and its user, unless the user is disabled.
    pub async fn live_session<DB>(
        conn: &mut DB::Connection,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(ConsoleSession, ConsoleUser)>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        ConsoleSessionRow: for<'r> FromRow<'r, DB::Row>,
        ConsoleUserRow: for<'r> FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new(format!(
            "SELECT {SESSION_COLUMNS} FROM console_sessions WHERE token_hash = "
        ));
        q.bind(token_hash.to_owned())?
            .push(" AND expires_at > ")
            .bind(millis(now))?;
        let Some(session) = fetch!(ConsoleSessionRow, conn, q).pop() else {
            return Ok(None);
        };
        let user = user_by_id::<DB>(conn, session.user_id).await?;
        Ok(user.filter(|u| !u.disabled).map(|u| (session, u)))
    }

    pub async fn delete_session<DB>(conn: &mut DB::Connection, token_hash: &str) -> StoreResult<()>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::<DB>::new("DELETE FROM console_sessions WHERE token_hash = ");
        q.bind(token_hash.to_owned())?;
        execute!(conn, q);
        Ok(())
    }

    pub async fn delete_expired_sessions<DB>(
        conn: &mut DB::Connection,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        (String,): for<'r> FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new("DELETE FROM console_sessions WHERE expires_at <= ");
        q.bind(millis(now))?.push(" RETURNING token_hash");
        Ok(fetch_as!((String,), conn, q).len() as u64)
    }
}
