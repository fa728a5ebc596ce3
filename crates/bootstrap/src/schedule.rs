//! When each step of a plan may start, as a value: the wave a resource belongs to, the point in
//! its follow-ups where it holds its fixed private address, and what a wave waits for from the
//! waves before it.
//!
//! Waves order what must come first (what others refer to; fixed addresses before the free ones
//! the cloud hands out; static load-balancer backends after their machines), but a wave need
//! not wait for the whole of the one before: a worker that takes a free address only needs the
//! servers' fixed addresses held, not the servers powered on and read back. So each resource
//! runs its create and follow-ups as one chain, and the next wave starts as soon as every
//! chain of the earlier waves has passed its claim point (`claim_point`), unless it needs more
//! (`wait`). The edge carries the chains out (`app/cloud/execute.rs`).

use crate::model::{FollowUp, Kind};

/// How many waves a plan runs in.
pub const WAVES: u8 = 4;

/// The wave of a load balancer whose backends are a static address list (`wave_of`).
pub const STATIC_BACKENDS_WAVE: u8 = 3;

/// What a step waits for from an earlier wave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Every chain of the wave has passed its claim point.
    Claimed,
    /// Every chain of the wave has ended: created, followed up and read back.
    Complete,
}

/// Which wave creates a resource: 0 what others refer to (keys, network, firewall, placement
/// groups); 1 what takes a fixed private address (servers, the API load balancer), and servers
/// whose address the cloud assigns (workers' user-data names it), before 2 what takes any free
/// one (workers), which could otherwise take a fixed address first; 3 the ingress load
/// balancer where its backends are a static address list (Scaleway: `static_backends`), after
/// the machines it serves; elsewhere it selects them by label or tag and is made beside them.
pub fn wave_of(kind: Kind, then: &[FollowUp], server: bool, static_backends: bool) -> u8 {
    match kind {
        Kind::SshKey | Kind::Network | Kind::Firewall | Kind::PlacementGroup => 0,
        Kind::Machine if server => 1,
        _ if then
            .iter()
            .any(|f| matches!(f, FollowUp::AttachToNetwork { ip: Some(_), .. })) =>
        {
            1
        }
        Kind::LoadBalancer if static_backends => STATIC_BACKENDS_WAVE,
        _ => 2,
    }
}

/// How many of `then` a chain carries out before it holds its fixed private address: through
/// its last attach at a fixed address, or none (a chain without one holds what it takes once
/// it is created).
pub fn claim_point(then: &[FollowUp]) -> usize {
    then.iter()
        .rposition(|f| matches!(f, FollowUp::AttachToNetwork { ip: Some(_), .. }))
        .map_or(0, |last| last + 1)
}

/// What a step of `wave` waits for from the `earlier` wave: wave 0 complete (the keys and
/// network every create names, and the firewall, which is to hold before any machine boots);
/// every earlier wave complete for a step that reads their facts (`needs_facts`: addresses the
/// cloud assigned, named in a machine's user-data) and for the static-backend load balancer;
/// otherwise only the earlier waves' fixed addresses held.
pub fn wait(earlier: u8, wave: u8, needs_facts: bool) -> Wait {
    if earlier == 0 || needs_facts || wave == STATIC_BACKENDS_WAVE {
        Wait::Complete
    } else {
        Wait::Claimed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attach(ip: Option<&str>) -> FollowUp {
        FollowUp::AttachToNetwork {
            network: "s-network".to_owned(),
            ip: ip.map(str::to_owned),
        }
    }

    #[test]
    fn a_chain_holds_its_address_after_its_last_fixed_attach() {
        let server = [attach(Some("10.0.0.10")), FollowUp::PowerOn];
        assert_eq!(claim_point(&server), 1);
        let api = [
            attach(Some("10.0.0.2")),
            FollowUp::AddTarget {
                selector: "role=server".to_owned(),
            },
        ];
        assert_eq!(claim_point(&api), 1);
        let ingress = [
            attach(None),
            FollowUp::AddTarget {
                selector: "role=worker".to_owned(),
            },
        ];
        assert_eq!(claim_point(&ingress), 0);
        assert_eq!(claim_point(&[]), 0);
    }

    #[test]
    fn workers_wait_for_held_addresses_and_nothing_skips_wave_zero() {
        let worker = wave_of(Kind::Machine, &[], false, false);
        assert_eq!(worker, 2);
        assert_eq!(wait(1, worker, false), Wait::Claimed);
        assert_eq!(wait(0, worker, false), Wait::Complete);
        assert_eq!(
            wait(1, worker, true),
            Wait::Complete,
            "reads assigned addresses"
        );
        let server = wave_of(Kind::Machine, &[attach(Some("10.0.0.10"))], true, false);
        assert_eq!((server, wait(0, server, false)), (1, Wait::Complete));
        let ingress = [attach(None)];
        assert_eq!(wave_of(Kind::LoadBalancer, &ingress, false, false), 2);
        let last = wave_of(Kind::LoadBalancer, &ingress, false, true);
        assert_eq!(last, STATIC_BACKENDS_WAVE);
        assert!((0..last).all(|earlier| wait(earlier, last, false) == Wait::Complete));
    }
}
