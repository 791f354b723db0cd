//! `credit-dev`: developer tool.
//!
//! `credit-dev token-key --dir DIR` makes a development token key pair in DIR once
//! (`development-token-key.pem`, private, and `development-token-public-key.pem`, the host's
//! `development_token_public_key`, read only with `auth_mode=development`).
//! `credit-dev token --role entity|staff|department|admin [--uscc X] [--unit 县税务局]
//! [--name 名称] [--sub S] [--key-file F] [--hours N]` prints a development bearer token
//! as its last line, signed with the private key in `--key-file`, else in the file
//! `CREDIT_DEV_TOKEN_KEY_FILE` names; there is no default key.
//! `credit-dev seed --base-url URL --marker FILE [--key-file F]` pushes demo records into a
//! running host once (the marker file says it was done) and prints a guide with tokens.
//! `credit-dev seal-ca --dir DIR` makes a development CA and seal certificate in DIR once
//! (`seal-ca.pem`, `seal-key.pem`, `seal-chain.pem`), for `make run` and the tests.
//! `credit-dev seal-cost [--runs N]` times rendering a 4-page sample report with and without
//! the seal, natively, for `make bench`.
//! `credit-dev audit-verify --state-dir DIR --day YYYY-MM-DD` checks a day's audit logs in the
//! state folder's SQLite store and names the first missing or altered entry (exit status 1).
//! `credit-dev audit-prune --state-dir DIR --day YYYY-MM-DD` prunes an access log older than
//! the retention to its summary (the daily cron of docs/operations.md).

mod audit;
mod pem_files;
mod seal;
mod seed;
mod token_key;

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{NaiveDate, Utc};
use clap::{Parser, Subcommand};
use credit_core::auth::Role;
use credit_core::auth::development::{Claims, mint};
use credit_core::uscc::CreditCode;

#[derive(Parser)]
#[command(
    name = "credit-dev",
    about = "Development tokens and their key, demo data and the development seal for the local host"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a development bearer token as the last line.
    Token {
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The entity's credit code (role entity).
        #[arg(long)]
        uscc: Option<CreditCode>,
        /// The unit, by the catalog's name (role department), e.g. 县税务局.
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        sub: Option<String>,
        /// The development token key (private, PEM); default: the file CREDIT_DEV_TOKEN_KEY_FILE names.
        #[arg(long)]
        key_file: Option<PathBuf>,
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(i64).range(1..=24 * 366))]
        hours: i64,
    },
    /// Push the demo records into a running host once and print a guide with tokens.
    Seed {
        #[arg(long)]
        base_url: String,
        /// Written once the demo data is in; its presence skips seeding.
        #[arg(long)]
        marker: PathBuf,
        /// As for `token`.
        #[arg(long)]
        key_file: Option<PathBuf>,
    },
    /// Make a development token key pair in DIR, unless it is there already.
    TokenKey {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Make a development CA and seal certificate in DIR, unless they are there already.
    SealCa {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Time rendering a 4-page sample report unsealed and sealed (medians, JSON).
    SealCost {
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        runs: u32,
    },
    /// Check a day's change chain and access log in a state folder (JSON; exit 1 if broken).
    AuditVerify {
        #[arg(long)]
        state_dir: PathBuf,
        /// The China-time day, YYYY-MM-DD.
        #[arg(long)]
        day: NaiveDate,
        /// The verify_rate_limit_per_minute in force (for visitors indexed without it).
        #[arg(long, default_value_t = 120)]
        verify_limit: u32,
    },
    /// Replace an old day's access log by its summary in the change log.
    AuditPrune {
        #[arg(long)]
        state_dir: PathBuf,
        #[arg(long)]
        day: NaiveDate,
        /// verifier_address_retention_days: only older days are pruned.
        #[arg(long, default_value_t = 180)]
        retention_days: u32,
        #[arg(long, default_value_t = 120)]
        verify_limit: u32,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse::<Role>().map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Token {
            role,
            uscc,
            unit,
            name,
            sub,
            key_file,
            hours,
        } => private_key(key_file).and_then(|key| token(role, uscc, unit, name, sub, &key, hours)),
        Command::Seed {
            base_url,
            marker,
            key_file,
        } => private_key(key_file)
            .and_then(|key| seed::run(base_url.trim_end_matches('/'), &marker, key)),
        Command::TokenKey { dir } => token_key::make_once(&dir),
        Command::SealCa { dir } => seal::development_ca(&dir),
        Command::SealCost { runs } => seal::cost(runs),
        Command::AuditVerify {
            state_dir,
            day,
            verify_limit,
        } => match audit::verify(&state_dir, day, verify_limit) {
            Ok((json, true)) => Ok(json),
            Ok((json, false)) => {
                println!("{json}");
                eprintln!("audit of {day}: NOT intact (the first problem is named above)");
                return ExitCode::from(1);
            }
            Err(e) => Err(e),
        },
        Command::AuditPrune {
            state_dir,
            day,
            retention_days,
            verify_limit,
        } => audit::prune(&state_dir, day, retention_days, verify_limit),
    };
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}

/// A department token for a unit the catalog does not know would be refused
/// on every write (FORBIDDEN): say so now, with the units there are.
fn department_unit_is_in_the_catalog(unit: Option<&str>) -> Result<(), String> {
    let Some(unit) = unit else {
        return Err("role department needs --unit (e.g. 县税务局)".into());
    };
    if credit_core::catalog::catalog()
        .data_domains_of_unit(unit)
        .is_empty()
    {
        let mut units: Vec<&str> = credit_core::catalog::catalog()
            .data_domains
            .iter()
            .map(|d| d.unit.as_str())
            .collect();
        units.sort_unstable();
        units.dedup();
        return Err(format!(
            "unit {unit:?} answers for no data domain of the catalog; units: {}",
            units.join(", ")
        ));
    }
    Ok(())
}

fn token(
    role: Role,
    uscc: Option<CreditCode>,
    unit: Option<String>,
    name: Option<String>,
    sub: Option<String>,
    private_key_pem: &str,
    hours: i64,
) -> Result<String, String> {
    match role {
        Role::Entity if uscc.is_none() => return Err("role entity needs --uscc".into()),
        Role::Department => department_unit_is_in_the_catalog(unit.as_deref())?,
        _ => {}
    }
    let now = Utc::now().timestamp();
    let claims = Claims {
        sub: sub.unwrap_or_else(|| format!("dev-{}", role.as_str())),
        role,
        uscc: uscc.map(|code| code.to_string()),
        unit,
        name,
        exp: now + hours * 3600,
        iat: Some(now),
    };
    let jwt = mint(private_key_pem, &claims).map_err(|e| e.to_string())?;
    eprintln!("# {} token, valid {hours} h", role.as_str());
    Ok(jwt)
}

/// The environment variable naming the development token key's file when `--key-file` does not.
const KEY_FILE_ENV: &str = "CREDIT_DEV_TOKEN_KEY_FILE";

/// The development token key (private, PEM) from `--key-file`, else from the file
/// [`KEY_FILE_ENV`] names.
fn private_key(key_file: Option<PathBuf>) -> Result<String, String> {
    let path = key_file
        .or_else(|| std::env::var_os(KEY_FILE_ENV).map(PathBuf::from))
        .ok_or_else(|| {
            format!("no development token key: pass --key-file or set {KEY_FILE_ENV} (make run makes one)")
        })?;
    std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_department_token_needs_a_unit_of_the_catalog() {
        assert!(department_unit_is_in_the_catalog(Some("县税务局")).is_ok());
        let unknown = department_unit_is_in_the_catalog(Some("县税物局")).unwrap_err();
        assert!(unknown.contains("县税务局"), "{unknown}");
        assert!(department_unit_is_in_the_catalog(None).is_err());
    }
}
