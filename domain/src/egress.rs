//! Where Demarc may send the requests that its users point it at (team webhooks).
//!
//! A webhook's address is chosen by any member of a team, and Demarc records whether the
//! receiver answered. Left open, that would let a team member make Demarc probe the networks it
//! runs in: the cloud's metadata service, the cluster's internal services, Demarc's own
//! database. So by default a webhook may only reach public addresses; the networks an operator
//! trusts (an internal chat server, a proxy) are allowed by name in
//! `DEMARC_WEBHOOK_ALLOWED_NETWORKS`.
//!
//! The rule is applied twice: when a webhook is saved (to its literal address, so a mistake is
//! named at once) and when it is delivered, to every address its host name resolves to, by the
//! HTTP client's own resolver, so a name that resolves to a public address when saved and to a
//! private one later is still refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// A network in CIDR notation (`10.20.0.0/16`, `fd00::/8`, `127.0.0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    /// Parses `address[/prefix]`.
    pub fn parse(text: &str) -> Result<Network, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("`{text}` is not an IP address or network"))?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{text}`: the prefix length must be 0 to {max}"))?,
        };
        Ok(Network { address, prefix })
    }

    /// True when `ip` lies in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        fn within(a: u128, b: u128, prefix: u8, bits: u8) -> bool {
            if prefix == 0 {
                return true;
            }
            let shift = bits - prefix;
            (a >> shift) == (b >> shift)
        }
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                within(u32::from(net).into(), u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                within(u128::from(net), u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// The rule for outgoing requests to user-chosen addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Egress {
    /// Networks allowed besides the public internet.
    allowed: Vec<Network>,
}

impl Egress {
    /// Public addresses only.
    pub fn public_only() -> Egress {
        Egress::default()
    }

    /// Public addresses and these networks.
    pub fn allowing(allowed: Vec<Network>) -> Egress {
        Egress { allowed }
    }

    /// Parses a comma-separated list of networks (`10.20.0.0/16, 127.0.0.1`).
    pub fn parse(spec: &str) -> Result<Egress, String> {
        let allowed = spec
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(Network::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Egress { allowed })
    }

    /// True when a request may go to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.allowed.iter().any(|n| n.contains(ip))
    }

    /// Why a URL's host may not be reached, judged without resolving names: a literal address
    /// outside the rule, or a name that always means this machine or the local network.
    pub fn refusal(&self, url: &url::Url) -> Option<String> {
        let refused = || {
            Some(format!(
                "Demarc does not send webhooks to private, loopback or link-local addresses \
                 unless the operator allows that network (DEMARC_WEBHOOK_ALLOWED_NETWORKS); \
                 {} is not allowed.",
                url.host_str().unwrap_or_default()
            ))
        };
        match url.host()? {
            url::Host::Ipv4(ip) if !self.permits(IpAddr::V4(ip)) => refused(),
            url::Host::Ipv6(ip) if !self.permits(IpAddr::V6(ip)) => refused(),
            url::Host::Domain(name) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                let local = name == "localhost"
                    || name.ends_with(".localhost")
                    || name.ends_with(".local")
                    || name.ends_with(".internal")
                    || name.ends_with(".cluster.local");
                // Such names can only be reached through an allowed network; whether they
                // resolve into one is decided at delivery.
                if local && self.allowed.is_empty() {
                    refused()
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// An HTTP client that resolves host names under this rule: a name none of whose
    /// addresses is permitted fails to connect, with the reason in its error chain.
    pub fn client(&self, timeout: std::time::Duration) -> reqwest::Result<reqwest::Client> {
        reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(Resolver(self.clone())))
            .build()
    }
}

/// The error a refused name resolves to.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "its name resolves only to addresses Demarc may not reach (private, loopback or \
             link-local; allow the network with DEMARC_WEBHOOK_ALLOWED_NETWORKS)",
        )
    }
}

impl std::error::Error for Refused {}

struct Resolver(Egress);

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let egress = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let permitted: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| egress.permits(a.ip()))
                .collect();
            if permitted.is_empty() {
                return Err(Box::new(Refused(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(permitted.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The refusal in an error's source chain, if the request failed because of the rule.
pub fn refused_in<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused);
        }
        current = e.source();
    }
    None
}

/// True for an address on the public internet: not this machine, not a private, shared,
/// link-local, documentation, benchmarking or reserved range, not multicast.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let segments = ip.segments();
            // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address.
            if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [a, b] = segments[6].to_be_bytes();
                let [c, d] = segments[7].to_be_bytes();
                return is_public_v4(Ipv4Addr::new(a, b, c, d));
            }
            if segments[0] == 0x2002 {
                let [a, b] = segments[1].to_be_bytes();
                let [c, d] = segments[2].to_be_bytes();
                return is_public_v4(Ipv4Addr::new(a, b, c, d));
            }
            !(ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_multicast()
                || (segments[0] & 0xfe00) == 0xfc00 // unique local
                || (segments[0] & 0xffc0) == 0xfe80 // link-local
                || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
                || ip == Ipv6Addr::from([0u16, 0, 0, 0, 0, 0xffff, 0, 0]))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier NAT)
        || (a == 192 && b == 0 && c == 0) // protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_public_addresses_are_public() {
        for public in [
            "1.1.1.1",
            "93.184.216.34",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip(public)), "{public}");
        }
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:0a00:0001::1",
        ] {
            assert!(!is_public(ip(private)), "{private}");
        }
    }

    #[test]
    fn allowed_networks_open_exactly_their_range() {
        let egress = Egress::parse("10.20.0.0/16, 127.0.0.1 ,fd00::/8").unwrap();
        assert!(egress.permits(ip("10.20.5.5")));
        assert!(!egress.permits(ip("10.21.0.1")));
        assert!(egress.permits(ip("127.0.0.1")));
        assert!(!egress.permits(ip("127.0.0.2")));
        assert!(egress.permits(ip("fd12::1")));
        assert!(!egress.permits(ip("fe80::1")));
        assert!(egress.permits(ip("1.1.1.1")), "public stays allowed");
        assert!(Egress::parse("0.0.0.0/0").unwrap().permits(ip("10.0.0.1")));
    }

    #[test]
    fn bad_networks_are_named() {
        assert!(
            Egress::parse("10.0.0.0/33")
                .unwrap_err()
                .contains("10.0.0.0/33")
        );
        assert!(Egress::parse("intranet").unwrap_err().contains("intranet"));
        assert_eq!(Egress::parse(" , ").unwrap(), Egress::public_only());
    }

    #[test]
    fn literal_and_local_hosts_are_refused_when_saved() {
        let url = |s: &str| url::Url::parse(s).unwrap();
        let public = Egress::public_only();
        assert!(public.refusal(&url("https://hooks.slack.com/x")).is_none());
        assert!(public.refusal(&url("http://127.0.0.1:9000/x")).is_some());
        assert!(public.refusal(&url("http://[::1]/x")).is_some());
        assert!(
            public
                .refusal(&url("http://169.254.169.254/latest"))
                .is_some()
        );
        assert!(public.refusal(&url("http://localhost:8080/")).is_some());
        assert!(
            public
                .refusal(&url("http://vault.svc.cluster.local/"))
                .is_some()
        );
        let loopback = Egress::parse("127.0.0.0/8").unwrap();
        assert!(loopback.refusal(&url("http://127.0.0.1:9000/x")).is_none());
        assert!(loopback.refusal(&url("http://10.0.0.1/x")).is_some());
    }

    #[tokio::test]
    async fn delivery_resolves_names_under_the_rule() {
        let client = Egress::public_only()
            .client(std::time::Duration::from_secs(5))
            .unwrap();
        let error = client
            .post("http://localhost:9/hook")
            .send()
            .await
            .expect_err("localhost resolves to loopback only");
        let refused = refused_in(&error).expect("the refusal is in the error chain");
        assert_eq!(refused.0, "localhost");
    }
}
