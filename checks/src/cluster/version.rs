//! Kubernetes server versions as clusters report them.

/// The (major, minor, patch) of a gitVersion (`v1.31.4-eks-2d98532`, `v1.29.10-gke.1227000`,
/// `1.30`) or of a /version minor field with a vendor suffix (`31+`). `None` when there is no
/// major and minor number.
pub fn parse_server_version(git_version: &str) -> Option<(u32, u32, u32)> {
    let text = git_version.trim();
    let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
    // Pre-release and vendor build suffixes start at the first '-' or '+'.
    let core = text.split(['-', '+']).next().unwrap_or_default();
    let mut parts = core.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = match parts.next() {
        Some(p) => p.parse().ok()?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    Some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_cluster_versions_parse() {
        assert_eq!(
            parse_server_version("v1.31.4-eks-2d98532"),
            Some((1, 31, 4))
        );
        assert_eq!(
            parse_server_version("v1.29.10-gke.1227000"),
            Some((1, 29, 10))
        );
        assert_eq!(parse_server_version("v1.30.6+k3s1"), Some((1, 30, 6)));
        assert_eq!(parse_server_version("v1.33.1"), Some((1, 33, 1)));
        assert_eq!(parse_server_version(" 1.28 "), Some((1, 28, 0)));
        assert_eq!(parse_server_version("v1.32.0-rc.1"), Some((1, 32, 0)));
    }

    #[test]
    fn nonsense_is_not_a_version() {
        assert_eq!(parse_server_version(""), None);
        assert_eq!(parse_server_version("v1"), None);
        assert_eq!(parse_server_version("latest"), None);
        assert_eq!(parse_server_version("v1.x.3"), None);
        assert_eq!(parse_server_version("1.2.3.4"), None);
    }
}
