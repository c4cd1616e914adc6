//! Which address a request came from, when a reverse proxy may stand in front: only a peer
//! named in HOLOMUSH_ADMIN_TRUSTED_PROXIES is believed about the client it forwards for.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

/// The peer itself, unless it is a trusted proxy: then the nearest address of
/// X-Forwarded-For (read from the right, as each proxy appends) that is not one too.
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl IntoIterator<Item = &'a str>,
    trusted: &[IpNet],
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer.to_canonical();
    if !is_trusted(&client) {
        return client;
    }
    let hops: Vec<&str> = forwarded_for
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.into_iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            // A hop nobody trusted vouches for: the last trusted one is as far as we know.
            return client;
        };
        client = ip;
        if !is_trusted(&client) {
            return client;
        }
    }
    client
}

fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(s: &[&str]) -> Vec<IpNet> {
        s.iter().map(|n| n.parse().expect("a network")).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let trusted = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
        assert_eq!(
            client_address(ip("127.0.0.1"), ["203.0.113.7"], &trusted),
            ip("203.0.113.7")
        );
        assert_eq!(
            client_address(ip("198.51.100.2"), ["203.0.113.7"], &trusted),
            ip("198.51.100.2"),
            "an untrusted peer's header is ignored"
        );
        assert_eq!(
            client_address(
                ip("127.0.0.1"),
                ["6.6.6.6, 203.0.113.7, 10.1.1.1"],
                &trusted
            ),
            ip("203.0.113.7"),
            "what the client wrote itself (6.6.6.6) is not believed"
        );
        assert_eq!(
            client_address(ip("127.0.0.1"), std::iter::empty(), &trusted),
            ip("127.0.0.1")
        );
        assert_eq!(
            client_address(ip("127.0.0.1"), ["garbage"], &trusted),
            ip("127.0.0.1")
        );
        assert_eq!(
            client_address(ip("::ffff:127.0.0.1"), ["[2001:db8::5]:443"], &trusted),
            ip("2001:db8::5")
        );
        assert_eq!(
            client_address(ip("127.0.0.1"), ["203.0.113.7"], &[]),
            ip("127.0.0.1"),
            "no proxy is trusted by default"
        );
    }
}
