//! PostgreSQL: staff accounts. Each write is one statement, so two app servers creating
//! the same email cannot both succeed.

use async_trait::async_trait;

use crate::{postgres::PostgresStore, NewStaff, StaffRow, StaffStore, StoreError};

const COLUMNS: &str = "id, email, role, password_hash, created_at, disabled_at";

#[async_trait]
impl StaffStore for PostgresStore {
    async fn create_staff(&self, new: &NewStaff) -> Result<bool, StoreError> {
        // Only a taken email is an expected outcome; a taken id (a random 128-bit value)
        // stays an error rather than being mistaken for it.
        let inserted = sqlx::query(
            "INSERT INTO staff_accounts (id, email, role, password_hash, created_at, disabled_at)
             VALUES ($1, $2, $3, $4, $5, NULL)
             ON CONFLICT (email) DO NOTHING",
        )
        .bind(&new.id)
        .bind(&new.email)
        .bind(&new.role)
        .bind(&new.password_hash)
        .bind(new.created_at)
        .execute(&self.pool)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn staff_by_email(&self, email: &str) -> Result<Option<StaffRow>, StoreError> {
        Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM staff_accounts WHERE email = $1"))
            .bind(email)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn staff_by_id(&self, id: &str) -> Result<Option<StaffRow>, StoreError> {
        Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM staff_accounts WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }
}
