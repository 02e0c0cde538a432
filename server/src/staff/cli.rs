//! `gapless staff add EMAIL --role admin|agent`: the first admin has to come from
//! somewhere, and the shell of the machine running the shop is where trust starts.

use std::io::{BufRead, IsTerminal};

use anyhow::Context;
use gapless_store::Store;

use super::accounts::{self, AccountError, Password, StaffRole};

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The staff member's email; it is their sign-in name.
    pub email: String,
    /// What the account may do.
    #[arg(long, value_enum)]
    pub role: StaffRole,
}

/// Creates the account and returns the line to print. The password comes from standard
/// input when that is not a terminal (first line, for scripts:
/// `printf '%s\n' "$PW" | gapless staff add …`), else from two prompts without echo.
pub async fn add(store: &dyn Store, args: &AddArgs) -> anyhow::Result<String> {
    // Checked before asking for a password, so a typo does not cost typing one twice.
    let email = accounts::normalize_email(&args.email)?;
    if store.staff_by_email(&email).await?.is_some() {
        return Err(AccountError::EmailTaken(email).into());
    }
    let password = tokio::task::spawn_blocking(read_password)
        .await
        .context("reading the password failed")??;
    let account = accounts::create(store, &email, args.role, &password).await?;
    Ok(format!("staff account {} ({}) created", account.email, args.role))
}

fn read_password() -> anyhow::Result<Password> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        return Ok(Password::new(strip_newline(line)));
    }
    let first = rpassword::prompt_password("Password: ").context("cannot read the password")?;
    let second =
        rpassword::prompt_password("Same password again: ").context("cannot read the password")?;
    let same = first == second;
    let (first, _second) = (Password::new(first), Password::new(second));
    anyhow::ensure!(same, "the two passwords differ; nothing was created");
    Ok(first)
}

fn strip_newline(mut line: String) -> String {
    if line.ends_with('\n') {
        line.pop();
        if line.ends_with('\r') {
            line.pop();
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_line_ending_is_stripped() {
        assert_eq!(strip_newline("secret pass \n".into()), "secret pass ");
        assert_eq!(strip_newline("secret\r\n".into()), "secret");
        assert_eq!(strip_newline("secret".into()), "secret");
        assert_eq!(strip_newline("\n".into()), "");
    }
}
