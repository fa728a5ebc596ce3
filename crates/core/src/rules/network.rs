//! The firewall: the admin networks are CIDR blocks.

use super::Rules;
use super::pointers::{ADMIN_CIDR, ADMIN_CIDRS, at};
use crate::values::Cidr;

impl Rules<'_> {
    pub(super) fn firewall(&mut self) {
        for i in 0..self.len(ADMIN_CIDRS) {
            let pointer = at(ADMIN_CIDR, i);
            if let Some(cidr) = self.str(&pointer) {
                if let Err(why) = Cidr::parse(cidr) {
                    self.error(
                        &pointer,
                        format!("`{cidr}` is not a CIDR block: {why}"),
                        "an IPv4 or IPv6 network such as `203.0.113.0/24` or `2001:db8::/32`",
                        "a single address is `/32` (IPv4) or `/128` (IPv6)",
                    );
                }
            }
        }
    }
}
