//! `credit-dev`: developer tool.
//!
//! `credit-dev token --role entity|staff|department|admin [--uscc X] [--unit 县税务局]
//! [--name 名称] [--sub S] [--secret S] [--hours N]` prints a development bearer token
//! as its last line. The key is `--secret`, else `SPIN_VARIABLE_JWT_SECRET`, else the
//! public development key (spin.toml's default).
//! `credit-dev seed --base-url URL --marker FILE [--secret S]` pushes demo records into a
//! running host once (the marker file says it was done) and prints a guide with tokens.

mod seed;

use std::process::ExitCode;

use chrono::Utc;
use credit_core::auth::{Claims, DEVELOPMENT_SECRET, Role, mint};
use credit_core::uscc::CreditCode;

const USAGE: &str = "usage: credit-dev seed --base-url URL --marker FILE [--secret KEY]\n       credit-dev token --role entity|staff|department|admin [--uscc CODE] [--unit 单位] \
[--name 名称] [--sub SUBJECT] [--secret KEY] [--hours N]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("token") => token(&args[1..]),
        Some("seed") => seed::run(&args[1..]),
        _ => Err(USAGE.to_owned()),
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

fn token(args: &[String]) -> Result<String, String> {
    let mut role = None;
    let (mut uscc, mut unit, mut name, mut sub, mut secret) = (None, None, None, None, None);
    let mut hours: i64 = 12;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--role" => role = Some(value()?.parse::<Role>().map_err(|e| e.to_string())?),
            "--uscc" => uscc = Some(value()?),
            "--unit" => unit = Some(value()?),
            "--name" => name = Some(value()?),
            "--sub" => sub = Some(value()?),
            "--secret" => secret = Some(value()?),
            "--hours" => {
                hours = value()?
                    .parse()
                    .map_err(|_| "--hours needs a whole number".to_owned())?
            }
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    let role = role.ok_or_else(|| format!("--role is required\n{USAGE}"))?;
    if hours <= 0 {
        return Err("--hours must be positive".into());
    }
    match role {
        Role::Entity => {
            let code = uscc.as_deref().ok_or("role entity needs --uscc")?;
            let parsed: CreditCode = code.parse().map_err(|e| format!("--uscc: {e}"))?;
            uscc = Some(parsed.to_string());
        }
        Role::Department if unit.is_none() => {
            return Err("role department needs --unit (e.g. 县税务局)".into());
        }
        _ => {}
    }
    let secret = secret.unwrap_or_else(secret_from_env);
    let now = Utc::now().timestamp();
    let claims = Claims {
        sub: sub.unwrap_or_else(|| format!("dev-{}", role.as_str())),
        role,
        uscc,
        unit,
        name,
        exp: now + hours * 3600,
        iat: Some(now),
    };
    let jwt = mint(secret.as_bytes(), &claims).map_err(|e| e.to_string())?;
    eprintln!("# {} token, valid {hours} h", role.as_str());
    Ok(jwt)
}

/// `SPIN_VARIABLE_JWT_SECRET`, else the public development key (spin.toml's default).
fn secret_from_env() -> String {
    std::env::var("SPIN_VARIABLE_JWT_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEVELOPMENT_SECRET.to_owned())
}
