//! Reading a new password: from stdin with `--password-stdin`, otherwise
//! from a prompt on the terminal. Never from a flag, where it would land
//! in the shell history and the process list.

use std::io::{IsTerminal as _, Read as _};

use anyhow::{Context as _, bail};
use oauth_core::Password;

pub(crate) fn read_new(from_stdin: bool) -> anyhow::Result<Password> {
    let text = if from_stdin {
        let mut text = String::new();
        std::io::stdin()
            .take(64 * 1024)
            .read_to_string(&mut text)
            .context("reading the password from stdin")?;
        // A here-string or `echo` adds one line ending; it is not part of
        // the password.
        let trimmed = text.strip_suffix('\n').unwrap_or(&text);
        let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
        trimmed.to_owned()
    } else {
        if !std::io::stdin().is_terminal() {
            bail!(
                "no terminal to prompt for a password; pass --password-stdin and write it to stdin"
            );
        }
        let first = rpassword::prompt_password("New password: ").context("reading the password")?;
        let second = rpassword::prompt_password("Repeat it: ").context("reading the password")?;
        if first != second {
            bail!("the passwords do not match");
        }
        first
    };
    Ok(Password::new(text)?)
}
