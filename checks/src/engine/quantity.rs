//! Kubernetes resource quantities ("100m", "1.5", "128Mi", "1G", "1e3"), parsed into numbers the
//! drain-capacity and QoS checks can add and compare.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// The value of a quantity in base units (cores, bytes, counts), or `None` when it is not a
/// valid Kubernetes quantity.
pub fn parse(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || ((c == '+' || c == '-') && i == 0)))
        .map_or(s.len(), |(i, _)| i);
    let (number, suffix) = s.split_at(split);
    if number.is_empty() || number == "+" || number == "-" || number == "." {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let multiplier = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        exp if exp.starts_with(['e', 'E']) => {
            let e: i32 = exp[1..].parse().ok()?;
            10f64.powi(e)
        }
        _ => return None,
    };
    let v = value * multiplier;
    v.is_finite().then_some(v)
}

/// CPU in millicores ("100m" => 100, "0.5" => 500), rounded up as Kubernetes does.
pub fn cpu_millis(q: &Quantity) -> Option<i64> {
    parse(&q.0).map(|v| (v * 1000.0 - 1e-9).ceil() as i64)
}

/// Memory (or any count) in whole units, rounded up.
pub fn whole(q: &Quantity) -> Option<i64> {
    parse(&q.0).map(|v| (v - 1e-9).ceil() as i64)
}

/// Resources in the units the scheduler compares: millicores, bytes, Pods.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resources {
    pub cpu_millis: i64,
    pub memory_bytes: i64,
    pub pods: i64,
}

impl Resources {
    /// cpu/memory/pods of a resource map (requests, allocatable); missing entries are 0.
    pub fn from_map(map: Option<&BTreeMap<String, Quantity>>) -> Resources {
        let get = |k: &str| map.and_then(|m| m.get(k));
        Resources {
            cpu_millis: get("cpu").and_then(cpu_millis).unwrap_or(0),
            memory_bytes: get("memory").and_then(whole).unwrap_or(0),
            pods: get("pods").and_then(whole).unwrap_or(0),
        }
    }

    pub fn add(&mut self, other: Resources) {
        self.cpu_millis += other.cpu_millis;
        self.memory_bytes += other.memory_bytes;
        self.pods += other.pods;
    }

    pub fn sub(&mut self, other: Resources) {
        self.cpu_millis -= other.cpu_millis;
        self.memory_bytes -= other.memory_bytes;
        self.pods -= other.pods;
    }

    /// The larger of each dimension.
    pub fn max(self, other: Resources) -> Resources {
        Resources {
            cpu_millis: self.cpu_millis.max(other.cpu_millis),
            memory_bytes: self.memory_bytes.max(other.memory_bytes),
            pods: self.pods.max(other.pods),
        }
    }

    /// Whether `need` fits into `self` (free capacity).
    pub fn fits(&self, need: &Resources) -> bool {
        need.cpu_millis <= self.cpu_millis
            && need.memory_bytes <= self.memory_bytes
            && need.pods <= self.pods
    }
}

/// Bytes as a short human string ("1.5Gi", "512Mi").
pub fn format_bytes(b: i64) -> String {
    const UNITS: [(&str, f64); 4] = [
        ("Ti", 1099511627776.0),
        ("Gi", 1073741824.0),
        ("Mi", 1048576.0),
        ("Ki", 1024.0),
    ];
    for (unit, size) in UNITS {
        if (b.unsigned_abs() as f64) >= size {
            let v = b as f64 / size;
            return if (v - v.round()).abs() < 0.05 {
                format!("{}{unit}", v.round())
            } else {
                format!("{v:.1}{unit}")
            };
        }
    }
    b.to_string()
}

/// What a Pod asks the scheduler for: the sum of its containers' requests or the largest init
/// container's, whichever is larger, plus overhead, and one Pod slot. A limit without a request
/// counts as the request, as Kubernetes defaults it.
pub fn pod_requests(p: &Pod) -> Resources {
    let Some(spec) = &p.spec else {
        return Resources {
            pods: 1,
            ..Resources::default()
        };
    };
    let of = |c: &k8s_openapi::api::core::v1::Container| {
        let r = c.resources.as_ref();
        let req = Resources::from_map(r.and_then(|r| r.requests.as_ref()));
        let lim = Resources::from_map(r.and_then(|r| r.limits.as_ref()));
        Resources {
            cpu_millis: if req.cpu_millis > 0 {
                req.cpu_millis
            } else {
                lim.cpu_millis
            },
            memory_bytes: if req.memory_bytes > 0 {
                req.memory_bytes
            } else {
                lim.memory_bytes
            },
            pods: 0,
        }
    };
    let mut sum = Resources::default();
    for c in &spec.containers {
        sum.add(of(c));
    }
    let mut init = Resources::default();
    for c in spec.init_containers.iter().flatten() {
        if c.restart_policy.as_deref() == Some("Always") {
            // A native sidecar runs beside the app containers.
            sum.add(of(c));
        } else {
            init = init.max(of(c));
        }
    }
    let mut total = sum.max(init);
    total.add(Resources::from_map(spec.overhead.as_ref()));
    total.pods = 1;
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity(s.to_string())
    }

    #[test]
    fn cpu_quantities_become_millicores() {
        assert_eq!(cpu_millis(&q("100m")), Some(100));
        assert_eq!(cpu_millis(&q("1")), Some(1000));
        assert_eq!(cpu_millis(&q("0.5")), Some(500));
        assert_eq!(cpu_millis(&q("2.25")), Some(2250));
        assert_eq!(cpu_millis(&q("1500u")), Some(2));
        assert_eq!(cpu_millis(&q("nonsense")), None);
    }

    #[test]
    fn memory_quantities_become_bytes() {
        assert_eq!(whole(&q("128Mi")), Some(128 * 1024 * 1024));
        assert_eq!(whole(&q("1Gi")), Some(1 << 30));
        assert_eq!(whole(&q("1G")), Some(1_000_000_000));
        assert_eq!(whole(&q("1e3")), Some(1000));
        assert_eq!(whole(&q("1E3")), Some(1000));
        assert_eq!(whole(&q("500k")), Some(500_000));
        assert_eq!(whole(&q("1.5Gi")), Some(1_610_612_736));
        assert_eq!(whole(&q("1E")), Some(1_000_000_000_000_000_000));
        assert_eq!(whole(&q("12")), Some(12));
    }

    #[test]
    fn malformed_quantities_are_rejected() {
        for bad in ["", "Mi", "1Xi", "1.2.3", "--1", "1e", "abc"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn byte_counts_print_with_binary_units() {
        assert_eq!(format_bytes(1 << 30), "1Gi");
        assert_eq!(format_bytes(1536 * 1024 * 1024), "1.5Gi");
        assert_eq!(format_bytes(100), "100");
    }
}
