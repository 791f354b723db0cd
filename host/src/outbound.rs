//! Outbound HTTP, allowed only where the manifest says, with Spin's `allowed_outbound_hosts`
//! semantics: `scheme://host[:port]` patterns, `*` for any scheme, host or port, `*.domain` for
//! its subdomains, an IP network in CIDR notation, `a..b` for a port range (b excluded), the
//! scheme's well-known port when none is given; no entry, no outbound request at all.
//! `{{ variable }}` templates are resolved before (manifest.rs); an entry that resolves to
//! nothing (`""`, `"http://"`, `"https://"`) is skipped, as in Spin.

use std::net::IpAddr;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use wasmtime_wasi_http::{WasiBody, WasiHttpHooks};

/// One component's outbound permissions.
#[derive(Debug)]
pub struct OutboundPolicy {
    component: String,
    allowed: Vec<AllowedHost>,
}

impl OutboundPolicy {
    /// Parses the component's resolved `allowed_outbound_hosts` entries.
    pub fn parse(component: &str, entries: &[String]) -> Result<Self> {
        let mut allowed = Vec::new();
        for entry in entries {
            let entry = entry.trim();
            if matches!(entry, "" | "http://" | "https://") {
                continue;
            }
            allowed.push(
                AllowedHost::parse(entry)
                    .with_context(|| format!("allowed_outbound_hosts entry {entry:?}"))?,
            );
        }
        Ok(Self {
            component: component.to_owned(),
            allowed,
        })
    }

    /// Whether a request to this URI may leave the host.
    pub fn allows(&self, uri: &http::Uri) -> bool {
        let (Some(scheme), Some(host)) = (uri.scheme_str(), uri.host()) else {
            return false;
        };
        let scheme = scheme.to_ascii_lowercase();
        let host = Host::of(host);
        let Some(port) = uri.port_u16().or_else(|| well_known_port(&scheme)) else {
            return false;
        };
        self.allowed
            .iter()
            .any(|a| a.scheme.allows(&scheme) && a.host.allows(&host) && a.port.allows(port))
    }
}

#[derive(Debug)]
struct AllowedHost {
    scheme: Pattern<String>,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug)]
enum Pattern<T> {
    Any,
    Exactly(T),
}

impl Pattern<String> {
    fn allows(&self, scheme: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Exactly(s) => s == scheme,
        }
    }
}

#[derive(Debug)]
enum HostPattern {
    Any,
    /// `*.example.com`: stored as `.example.com`.
    SubdomainOf(String),
    /// `self`: the application itself; this host has no service chaining, so it matches nothing.
    ToSelf,
    Name(String),
    Network {
        base: IpAddr,
        prefix: u8,
    },
}

/// A request's host: a lowercase name or an address.
enum Host {
    Name(String),
    Ip(IpAddr),
}

impl Host {
    fn of(host: &str) -> Host {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        match bare.parse::<IpAddr>() {
            Ok(ip) => Host::Ip(ip),
            Err(_) => Host::Name(bare.trim_end_matches('.').to_ascii_lowercase()),
        }
    }
}

impl HostPattern {
    fn parse(host: &str) -> Result<Self> {
        if let Some((base, prefix)) = host.split_once('/') {
            let base = base.trim_start_matches('[').trim_end_matches(']');
            let base: IpAddr = base.parse().context("a host must not include a path")?;
            return HostPattern::network(base, prefix.parse().context("not a prefix length")?);
        }
        Ok(match host {
            "*" => HostPattern::Any,
            "self" | "self.alt" => HostPattern::ToSelf,
            _ => match host.strip_prefix("*.") {
                Some(domain) if !domain.is_empty() && !domain.contains('*') => {
                    HostPattern::SubdomainOf(format!(".{}", domain.to_ascii_lowercase()))
                }
                Some(_) => bail!("wildcards are allowed only as `*.domain`"),
                None if host.contains('*') => bail!("wildcards are allowed only as `*.domain`"),
                None if host.is_empty() => bail!("no host"),
                None => match Host::of(host) {
                    Host::Ip(ip) => HostPattern::Network {
                        base: ip,
                        prefix: if ip.is_ipv4() { 32 } else { 128 },
                    },
                    Host::Name(name) => HostPattern::Name(name),
                },
            },
        })
    }

    fn network(base: IpAddr, prefix: u8) -> Result<Self> {
        let bits = if base.is_ipv4() { 32 } else { 128 };
        if prefix > bits {
            bail!("prefix /{prefix} is longer than the address");
        }
        Ok(HostPattern::Network { base, prefix })
    }

    fn allows(&self, host: &Host) -> bool {
        match (self, host) {
            (HostPattern::Any, _) => true,
            (HostPattern::SubdomainOf(suffix), Host::Name(name)) => name.ends_with(suffix.as_str()),
            (HostPattern::Name(pattern), Host::Name(name)) => pattern == name,
            (HostPattern::Network { base, prefix }, Host::Ip(ip)) => {
                in_network(*ip, *base, *prefix)
            }
            _ => false,
        }
    }
}

fn in_network(ip: IpAddr, base: IpAddr, prefix: u8) -> bool {
    match (ip, base) {
        (IpAddr::V4(ip), IpAddr::V4(base)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(base) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(base)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(base) & mask
        }
        _ => false,
    }
}

#[derive(Debug)]
enum PortPattern {
    Any,
    Exactly(u16),
    /// `a..b`, b excluded (as in Spin).
    Range(u16, u16),
}

impl PortPattern {
    fn parse(port: &str, scheme: &str) -> Result<Self> {
        Ok(match port {
            "" => PortPattern::Exactly(well_known_port(scheme).with_context(|| {
                format!("no port given and the scheme {scheme:?} has no well-known port")
            })?),
            "*" => PortPattern::Any,
            _ => match port.split_once("..") {
                Some((start, end)) => PortPattern::Range(
                    start.parse().context("port range start")?,
                    end.parse().context("port range end")?,
                ),
                None => PortPattern::Exactly(port.parse().context("not a port number")?),
            },
        })
    }

    fn allows(&self, port: u16) -> bool {
        match self {
            PortPattern::Any => true,
            PortPattern::Exactly(p) => *p == port,
            PortPattern::Range(start, end) => (*start..*end).contains(&port),
        }
    }
}

fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        _ => None,
    }
}

impl AllowedHost {
    fn parse(entry: &str) -> Result<Self> {
        let Some((scheme, rest)) = entry.split_once("://") else {
            bail!("no scheme: write <scheme>://<host>[:<port>], e.g. https://api.example.com");
        };
        let scheme = match scheme {
            "*" => Pattern::Any,
            s if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphabetic()) => {
                Pattern::Exactly(s.to_ascii_lowercase())
            }
            _ => bail!("invalid scheme {scheme:?}"),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = split_host_port(rest)?;
        let port = PortPattern::parse(
            port,
            match &scheme {
                Pattern::Exactly(s) => s,
                Pattern::Any => "",
            },
        )?;
        Ok(AllowedHost {
            scheme,
            host: HostPattern::parse(host)?,
            port,
        })
    }
}

/// `host[:port]`, `[v6]`, `[v6]:port`, `[v6]/len`, `v4/len[:port]`.
fn split_host_port(rest: &str) -> Result<(&str, &str)> {
    if rest.starts_with('[') {
        let close = rest.find(']').context("unclosed '['")?;
        let (host, after) = rest.split_at(close + 1);
        return match after {
            "" => Ok((host, "")),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, port)),
                None if after.starts_with('/') => {
                    let (len, port) = after.split_once(':').unwrap_or((after, ""));
                    Ok((&rest[..close + 1 + len.len()], port))
                }
                None => bail!("unexpected {after:?} after the address"),
            },
        };
    }
    Ok(match rest.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host, port),
        // A bare IPv6 address or network, without a port.
        Some(_) => (rest, ""),
        None => (rest, ""),
    })
}

/// The `wasi:http` hooks of one request: outbound requests pass the component's policy.
pub struct OutboundGate(pub Arc<OutboundPolicy>);

type SendResult = Result<
    (
        http::Response<WasiBody>,
        Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ),
    wasmtime_wasi_http::Error,
>;

impl WasiHttpHooks for OutboundGate {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        if !self.0.allows(request.uri()) {
            eprintln!(
                "credit-host: component {}: outbound request to {} denied (not in its allowed_outbound_hosts)",
                self.0.component,
                request.uri()
            );
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(entries: &[&str]) -> OutboundPolicy {
        let entries: Vec<String> = entries.iter().map(|e| (*e).to_owned()).collect();
        OutboundPolicy::parse("c", &entries).unwrap()
    }

    fn allows(policy: &OutboundPolicy, url: &str) -> bool {
        policy.allows(&url.parse().unwrap())
    }

    #[test]
    fn nothing_declared_allows_nothing() {
        let none = policy(&[]);
        assert!(!allows(&none, "https://example.com/"));
        let empty_template = policy(&["", "https://"]);
        assert!(!allows(&empty_template, "https://example.com/"));
    }

    #[test]
    fn scheme_host_and_port_must_all_match() {
        let p = policy(&["https://api.example.com", "http://127.0.0.1:8080"]);
        assert!(allows(&p, "https://api.example.com/x"));
        assert!(allows(&p, "https://API.example.com:443/x"));
        assert!(!allows(&p, "http://api.example.com/x"), "scheme");
        assert!(!allows(&p, "https://api.example.com:8443/x"), "port");
        assert!(!allows(&p, "https://evil.example.com/x"), "host");
        assert!(allows(&p, "http://127.0.0.1:8080/"));
        assert!(!allows(&p, "http://127.0.0.1:8081/"));
    }

    #[test]
    fn wildcards_networks_and_ranges() {
        let p = policy(&[
            "*://*.example.com:*",
            "http://10.0.0.0/8:8000..8002",
            "https://[::1]:9000",
        ]);
        assert!(allows(&p, "ftp://a.example.com:21/"));
        assert!(
            !allows(&p, "https://example.com/"),
            "the domain itself is not a subdomain"
        );
        assert!(allows(&p, "http://10.2.3.4:8001/"));
        assert!(!allows(&p, "http://10.2.3.4:8002/"), "range end excluded");
        assert!(!allows(&p, "http://11.2.3.4:8001/"));
        assert!(allows(&p, "https://[::1]:9000/"));
        let all = policy(&["*://*:*"]);
        assert!(allows(&all, "http://anything:1/"));
    }

    #[test]
    fn malformed_entries_are_refused() {
        for bad in [
            "example.com",
            "https://exa*mple.com",
            "ftp://example.com",
            "https://a.com/path",
        ] {
            assert!(
                OutboundPolicy::parse("c", &[bad.to_owned()]).is_err(),
                "{bad}"
            );
        }
    }
}
