//! SQLite: staff accounts. Writes go through the single writer connection, reads through
//! the reader pool; times are bound as fixed-width UTC text (see `sqlite_sessions.rs`).

use async_trait::async_trait;

use crate::{
    sqlite::SqliteStore, sqlite_sessions::sortable, NewStaff, StaffRow, StaffStore, StoreError,
};

const COLUMNS: &str = "id, email, role, password_hash, created_at, disabled_at";

#[async_trait]
impl StaffStore for SqliteStore {
    async fn create_staff(&self, new: &NewStaff) -> Result<bool, StoreError> {
        // Only a taken email is an expected outcome; a taken id (a random 128-bit value)
        // stays an error rather than being mistaken for it.
        let inserted = sqlx::query(
            "INSERT INTO staff_accounts (id, email, role, password_hash, created_at, disabled_at)
             VALUES (?, ?, ?, ?, ?, NULL)
             ON CONFLICT (email) DO NOTHING",
        )
        .bind(&new.id)
        .bind(&new.email)
        .bind(&new.role)
        .bind(&new.password_hash)
        .bind(sortable(new.created_at)?)
        .execute(&self.writer)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn staff_by_email(&self, email: &str) -> Result<Option<StaffRow>, StoreError> {
        Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM staff_accounts WHERE email = ?"))
            .bind(email)
            .fetch_optional(&self.reader)
            .await?)
    }

    async fn staff_by_id(&self, id: &str) -> Result<Option<StaffRow>, StoreError> {
        Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM staff_accounts WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.reader)
            .await?)
    }
}
