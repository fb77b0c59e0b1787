//! The small command-line surface the test programs in `src/bin` share (`interop_device`,
//! `sync_bench`): `SUBCOMMAND --name value …`, a JSON answer on stdout, and a one-line error
//! with exit code 1. No panics: these programs are driven by scripts.

use std::{collections::HashMap, process::ExitCode};

use serde_json::Value;

/// Any error, shown as one line.
pub type BoxError = Box<dyn std::error::Error>;

/// Runs `run` on the command line after the program name; prints its JSON answer or the error.
pub fn main_with(
    program: &str,
    run: impl FnOnce(&[String]) -> Result<Value, BoxError>,
) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{program}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--name value` pairs after the subcommand.
#[derive(Debug)]
pub struct Args(HashMap<String, String>);

impl Args {
    /// Parses `--name value` pairs; anything else is an error.
    pub fn parse(rest: &[String]) -> Result<Self, BoxError> {
        let mut map = HashMap::new();
        let mut it = rest.iter();
        while let Some(flag) = it.next() {
            let name = flag
                .strip_prefix("--")
                .ok_or_else(|| format!("expected an option, got {flag:?}"))?;
            let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
            map.insert(name.to_string(), value.clone());
        }
        Ok(Self(map))
    }

    /// A required option.
    pub fn get(&self, name: &str) -> Result<&str, BoxError> {
        self.0
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| format!("--{name} is required").into())
    }

    /// An optional option.
    pub fn opt(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn options_come_in_pairs() {
        let a = Args::parse(&words("--store /tmp/x --count 3")).unwrap();
        assert_eq!(a.get("store").unwrap(), "/tmp/x");
        assert_eq!(a.opt("count"), Some("3"));
        assert!(a.get("token").is_err());
        assert!(Args::parse(&words("--store")).is_err());
        assert!(Args::parse(&words("store /tmp/x")).is_err());
    }
}
