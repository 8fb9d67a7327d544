//! Who is asking: the client address that login throttling and rate limits
//! count against.
//!
//! The socket's peer address, unless that peer is a configured trusted
//! proxy; then the right-most `X-Forwarded-For` entry that is not itself a
//! trusted proxy. Entries to the left of it were written by the client (or
//! by proxies we do not know) and are never believed, so a spoofed header
//! from an untrusted peer changes nothing.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use actix_web::http::header::HeaderMap;

/// A block of addresses: `10.0.0.0/8`, `fd00::/8`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                mask(u128::from(u32::from(n)), self.prefix, 32)
                    == mask(u128::from(u32::from(a)), self.prefix, 32)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                mask(u128::from(n), self.prefix, 128) == mask(u128::from(a), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn mask(bits: u128, prefix: u8, width: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        bits >> (width - prefix)
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, prefix) = s.split_once('/').map_or((s, None), |(a, p)| (a, Some(p)));
        let network = IpAddr::from_str(addr)
            .map_err(|_| format!("{s:?} is not an IP address or CIDR block"))?
            .to_canonical();
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {width}"))?,
        };
        Ok(Self { network, prefix })
    }
}

/// The proxies whose `X-Forwarded-For` is believed. Empty by default:
/// then the header is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<Cidr>);

impl TrustedProxies {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }
}

/// The client's address. See the module documentation.
pub fn client_ip(
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
) -> IpAddr {
    let Some(peer) = peer.map(|p| p.ip().to_canonical()) else {
        // Only a Unix socket or a test request has no peer; one bucket
        // for all of them.
        return IpAddr::from([0, 0, 0, 0]);
    };
    if !trusted.contains(peer) {
        return peer;
    }
    // Several X-Forwarded-For lines form one list, in order.
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut nearest = peer;
    for entry in entries.iter().rev() {
        let Some(ip) = parse_entry(entry) else {
            // A garbled hop: nothing left of it can be traced, so the
            // request counts against the last proxy we trust.
            return nearest;
        };
        if !trusted.contains(ip) {
            return ip;
        }
        nearest = ip;
    }
    nearest
}

/// An `X-Forwarded-For` entry: an address, maybe with a port
/// (`192.0.2.1:443`, `[2001:db8::1]:443`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    IpAddr::from_str(entry)
        .or_else(|_| SocketAddr::from_str(entry).map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// The bucket an address counts against: an IPv4 address alone, an IPv6
/// address by its /64, the smallest block a site is usually given (one
/// host can use every address in it).
pub fn rate_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !u128::from(u64::MAX);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append(
                HeaderName::from_static("x-forwarded-for"),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn peer(s: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(s.parse().unwrap(), 4000))
    }

    fn trusted(list: &[&str]) -> TrustedProxies {
        TrustedProxies(list.iter().map(|s| s.parse().unwrap()).collect())
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let h = headers(&["203.0.113.9"]);
        assert_eq!(
            client_ip(peer("192.0.2.1"), &h, &trusted(&[])),
            ip("192.0.2.1")
        );
        // A peer outside the list is not believed either.
        let t = trusted(&["10.0.0.0/8"]);
        assert_eq!(client_ip(peer("192.0.2.1"), &h, &t), ip("192.0.2.1"));
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_entry_is_the_client() {
        let t = trusted(&["10.0.0.0/8", "fd00::/8"]);
        // The client wrote "1.1.1.1"; the first proxy appended the real
        // client, the second proxy appended the first.
        let h = headers(&["1.1.1.1, 198.51.100.7", "10.0.0.5"]);
        assert_eq!(client_ip(peer("10.0.0.6"), &h, &t), ip("198.51.100.7"));
        let h = headers(&["[2001:db8::1]:443, 198.51.100.7:80"]);
        assert_eq!(client_ip(peer("fd00::1"), &h, &t), ip("198.51.100.7"));
        let h = headers(&["2001:db8::1"]);
        assert_eq!(
            client_ip(peer("::ffff:10.1.2.3"), &h, &t),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn a_missing_or_garbled_header_counts_against_the_nearest_proxy() {
        let t = trusted(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(peer("10.0.0.6"), &headers(&[]), &t),
            ip("10.0.0.6")
        );
        let h = headers(&["not an ip, 10.0.0.9"]);
        assert_eq!(client_ip(peer("10.0.0.6"), &h, &t), ip("10.0.0.9"));
    }

    #[test]
    fn cidr_blocks_parse_and_match() {
        let c: Cidr = "192.0.2.0/24".parse().unwrap();
        assert!(c.contains(ip("192.0.2.255")));
        assert!(c.contains(ip("::ffff:192.0.2.1")));
        assert!(!c.contains(ip("192.0.3.0")));
        assert!(!c.contains(ip("::1")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")));
        let one: Cidr = "::1".parse().unwrap();
        assert!(one.contains(ip("::1")) && !one.contains(ip("::2")));
        for bad in ["10.0.0.0/33", "::/129", "example.com", "10.0.0.0/x", ""] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn ipv6_addresses_share_a_bucket_per_64() {
        assert_eq!(
            rate_key(ip("2001:db8::1")),
            rate_key(ip("2001:db8::ffff:1"))
        );
        assert_ne!(rate_key(ip("2001:db8::1")), rate_key(ip("2001:db8:0:1::1")));
        assert_eq!(rate_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
    }
}
