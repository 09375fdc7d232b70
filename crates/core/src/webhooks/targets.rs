//! Where webhooks may go. Outside the sandbox, Parley refuses endpoints on private,
//! loopback, link-local and other internal addresses, so a webhook cannot be used to reach
//! the network Parley runs in (server-side request forgery). An allow-list names the
//! exceptions: host names, addresses or networks (`10.1.0.0/16`).
//!
//! The check runs twice: on the URL when a webhook is saved (a literal address or
//! `localhost`), and on every address a host name resolves to when a request is made
//! (so a name that later resolves inward is refused too).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One allow-list entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Allowed {
    Host(String),
    Network { base: IpAddr, prefix: u8 },
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TargetPolicy {
    /// The sandbox delivers anywhere (local receivers are the point of it).
    allow_internal: bool,
    allowed: Vec<Allowed>,
}

impl TargetPolicy {
    /// Anything goes: the sandbox.
    pub fn open() -> Self {
        Self {
            allow_internal: true,
            allowed: Vec::new(),
        }
    }

    /// Internal addresses refused except those `allow` names.
    pub fn guarded(allow: &[String]) -> Result<Self, String> {
        let allowed = allow
            .iter()
            .map(|entry| parse_entry(entry))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            allow_internal: false,
            allowed,
        })
    }

    fn host_allowed(&self, host: &str) -> bool {
        self.allowed
            .iter()
            .any(|a| matches!(a, Allowed::Host(h) if h.eq_ignore_ascii_case(host)))
    }

    fn ip_allowed(&self, ip: IpAddr) -> bool {
        self.allowed.iter().any(|a| match a {
            Allowed::Network { base, prefix } => in_network(ip, *base, *prefix),
            Allowed::Host(_) => false,
        })
    }

    /// Whether a request to `host` (a name or a literal address) may go to `ip`.
    pub fn permits(&self, host: &str, ip: IpAddr) -> bool {
        self.allow_internal || !is_internal(ip) || self.host_allowed(host) || self.ip_allowed(ip)
    }

    /// The check that needs no resolving, for a URL being saved: `None` when fine, else
    /// why not.
    pub fn refuse_url(&self, url: &str) -> Option<&'static str> {
        if self.allow_internal {
            return None;
        }
        let host = url::Url::parse(url).ok()?.host()?.to_owned();
        let (name, ip) = match host {
            url::Host::Domain(name) => {
                let internal_name = name.eq_ignore_ascii_case("localhost")
                    || name.to_ascii_lowercase().ends_with(".localhost");
                if !internal_name || self.host_allowed(&name) {
                    return None;
                }
                return Some("must not point at this machine (localhost)");
            }
            url::Host::Ipv4(ip) => (ip.to_string(), IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => (ip.to_string(), IpAddr::V6(ip)),
        };
        (!self.permits(&name, ip))
            .then_some("must not point at a private, loopback or link-local address")
    }
}

fn parse_entry(entry: &str) -> Result<Allowed, String> {
    let entry = entry.trim();
    let bad = || format!("{entry:?} is not a host name, address or network");
    if let Some((base, prefix)) = entry.split_once('/') {
        let base: IpAddr = base.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        let bits = if base.is_ipv4() { 32 } else { 128 };
        if prefix > bits {
            return Err(bad());
        }
        return Ok(Allowed::Network { base, prefix });
    }
    if let Ok(ip) = entry.trim_matches(['[', ']']).parse::<IpAddr>() {
        let prefix = if ip.is_ipv4() { 32 } else { 128 };
        return Ok(Allowed::Network { base: ip, prefix });
    }
    if entry.is_empty() || entry.contains(|c: char| c.is_whitespace() || c == '/') {
        return Err(bad());
    }
    Ok(Allowed::Host(entry.to_owned()))
}

fn in_network(ip: IpAddr, base: IpAddr, prefix: u8) -> bool {
    match (canonical(ip), base) {
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

/// An IPv4 address written in IPv6 (`::ffff:10.0.0.1`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Loopback, private, link-local, shared (CGNAT), unspecified, broadcast, multicast and
/// documentation ranges: nothing a customer's public endpoint lives on.
pub fn is_internal(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(ip) => internal_v4(ip),
        IpAddr::V6(ip) => internal_v6(ip),
    }
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
}

fn internal_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    #[test]
    fn internal_ranges_are_refused_and_public_ones_allowed() {
        for internal in [
            "127.0.0.1",
            "10.2.3.4",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal(ip(internal)), "{internal}");
        }
        for public in ["8.8.8.8", "172.32.0.1", "2001:4860:4860::8888"] {
            assert!(!is_internal(ip(public)), "{public}");
        }
    }

    #[test]
    fn the_allow_list_names_hosts_addresses_and_networks() {
        let policy = TargetPolicy::guarded(&[
            "hooks.internal".into(),
            "10.1.0.0/16".into(),
            "127.0.0.1".into(),
        ])
        .unwrap();
        assert!(policy.permits("hooks.internal", ip("10.9.9.9")));
        assert!(policy.permits("other.test", ip("10.1.200.3")));
        assert!(!policy.permits("other.test", ip("10.2.0.1")));
        assert!(policy.permits("127.0.0.1", ip("127.0.0.1")));
        assert!(policy.permits("example.com", ip("93.184.216.34")));
        assert!(TargetPolicy::guarded(&["10.0.0.0/40".into()]).is_err());
        assert!(TargetPolicy::guarded(&["a b".into()]).is_err());
    }

    #[test]
    fn saved_urls_are_checked_without_resolving() {
        let guarded = TargetPolicy::guarded(&[]).unwrap();
        assert!(guarded.refuse_url("http://127.0.0.1:8080/hook").is_some());
        assert!(guarded.refuse_url("http://[::1]/hook").is_some());
        assert!(guarded.refuse_url("http://localhost/hook").is_some());
        assert!(
            guarded
                .refuse_url("http://169.254.169.254/latest")
                .is_some()
        );
        assert!(guarded.refuse_url("https://hooks.example.com/a").is_none());
        assert!(
            TargetPolicy::open()
                .refuse_url("http://127.0.0.1/hook")
                .is_none()
        );
    }
}
