//! Which client a request comes from, for rate limits and the audit log.
//!
//! Behind a load balancer or an ingress every request's TCP peer is the
//! proxy. When the peer is one of the `trusted_proxies`, the client is the
//! right-most hop of `X-Forwarded-For` that is not itself a trusted proxy:
//! hops to its left were written by the client and prove nothing. IPv6
//! clients are grouped by their /64, the block one subscriber gets, so one
//! caller cannot take a fresh address for every request.

use std::net::IpAddr;

use ipnet::IpNet;

/// The networks whose `X-Forwarded-For` the service believes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// CIDRs or single addresses, separated by commas or spaces.
    pub fn parse(text: &str) -> Result<TrustedProxies, String> {
        text.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("“{s}”不是 IP 地址或 CIDR 网段"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// The client as rate limits and the audit count it: an IPv4 address, an
/// IPv6 /64, or `unknown` when the host gave no peer address.
pub fn client_of(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &TrustedProxies,
) -> String {
    let Some(mut client) = peer else {
        return "unknown".into();
    };
    if trusted.trusts(client) {
        let hops = forwarded_for.unwrap_or_default().rsplit(',').map(str::trim);
        for hop in hops {
            // A hop that is not an address ends the walk at the last proxy
            // believed, rather than at whatever the client wrote.
            let Ok(ip) = hop.parse::<IpAddr>() else { break };
            client = ip;
            if !trusted.trusts(ip) {
                break;
            }
        }
    }
    grouped(client)
}

fn grouped(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => IpNet::new(IpAddr::V6(v6), 64)
                .map(|net| net.trunc().to_string())
                .unwrap_or_else(|_| v6.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_it_forwards() {
        let none = TrustedProxies::default();
        assert_eq!(
            client_of(ip("203.0.113.7"), Some("1.2.3.4"), &none),
            "203.0.113.7"
        );
        assert_eq!(client_of(None, Some("1.2.3.4"), &none), "unknown");
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 192.168.1.1").unwrap();
        // The client wrote "1.2.3.4" itself; the ingress appended the real address.
        let xff = "1.2.3.4, 198.51.100.9, 10.1.2.3";
        assert_eq!(
            client_of(ip("10.0.0.5"), Some(xff), &trusted),
            "198.51.100.9"
        );
        assert_eq!(
            client_of(ip("192.168.1.1"), Some("198.51.100.9"), &trusted),
            "198.51.100.9"
        );
        // Only proxies on the path: the left-most of them.
        assert_eq!(
            client_of(ip("10.0.0.5"), Some("10.9.9.9"), &trusted),
            "10.9.9.9"
        );
        assert_eq!(client_of(ip("10.0.0.5"), None, &trusted), "10.0.0.5");
        // Garbage ends the walk at the last proxy believed.
        assert_eq!(
            client_of(ip("10.0.0.5"), Some("evil, 10.1.1.1"), &trusted),
            "10.1.1.1"
        );
        // An untrusted peer's header is ignored.
        assert_eq!(
            client_of(ip("198.51.100.1"), Some("1.2.3.4"), &trusted),
            "198.51.100.1"
        );
    }

    #[test]
    fn ipv6_clients_are_grouped_by_their_64() {
        let none = TrustedProxies::default();
        assert_eq!(
            client_of(ip("2001:db8:1:2:aaaa::1"), None, &none),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            client_of(ip("2001:db8:1:2:bbbb::9"), None, &none),
            client_of(ip("2001:db8:1:2:aaaa::1"), None, &none)
        );
        assert_eq!(
            client_of(ip("::ffff:203.0.113.7"), None, &none),
            "203.0.113.7"
        );
    }

    #[test]
    fn a_malformed_list_is_refused() {
        assert!(TrustedProxies::parse("10.0.0.0/8, proxy.local").is_err());
        assert!(TrustedProxies::parse("").unwrap().0.is_empty());
    }
}
