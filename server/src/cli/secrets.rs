//! Reading passwords and passphrases: from an environment variable, one line of stdin, or a prompt
//! that does not echo. Never from argv.

use std::io::BufRead;

use anyhow::{bail, Context};
use zeroize::Zeroizing;

/// `var` if set and non-empty, else a no-echo prompt on the terminal.
pub fn from_env_or_prompt(var: &str, prompt: &str) -> anyhow::Result<Zeroizing<String>> {
    if let Ok(value) = std::env::var(var) {
        if !value.is_empty() {
            return Ok(Zeroizing::new(value));
        }
    }
    prompt_hidden(prompt)
        .with_context(|| format!("set {var}, or run this in a terminal to be asked"))
}

/// Like `from_env_or_prompt`, but a prompted value is asked twice: a typo in a new secret would
/// lock its owner out.
pub fn new_from_env_or_prompt(var: &str, prompt: &str) -> anyhow::Result<Zeroizing<String>> {
    if let Ok(value) = std::env::var(var) {
        if !value.is_empty() {
            return Ok(Zeroizing::new(value));
        }
    }
    new_from_prompt(prompt)
        .with_context(|| format!("set {var}, or run this in a terminal to be asked"))
}

pub fn new_from_prompt(prompt: &str) -> anyhow::Result<Zeroizing<String>> {
    let first = prompt_hidden(prompt)?;
    let second = prompt_hidden("Type it again: ")?;
    if *first != *second {
        bail!("the two entries differ; nothing was changed");
    }
    Ok(first)
}

fn prompt_hidden(prompt: &str) -> anyhow::Result<Zeroizing<String>> {
    rpassword::prompt_password(prompt)
        .map(Zeroizing::new)
        .context("cannot read from the terminal")
}

/// One line of standard input, without its line ending (for `--password-stdin`).
pub fn read_stdin_line() -> anyhow::Result<Zeroizing<String>> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let trimmed = line.trim_end_matches(['\n', '\r']);
    if trimmed.is_empty() {
        bail!("standard input held no password");
    }
    Ok(Zeroizing::new(trimmed.to_owned()))
}
