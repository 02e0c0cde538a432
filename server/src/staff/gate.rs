//! What every staff sign-in and every staff request share, one per server: the clock
//! staff sessions' idle deadline is read from.

use std::time::Duration;

use time::OffsetDateTime;

pub use crate::returns::service::Clock;

pub struct StaffGate {
    clock: Clock,
    #[allow(dead_code)]
    hashes: usize,
    #[allow(dead_code)]
    wait: Duration,
}

impl StaffGate {
    pub fn new(clock: Clock, hashes: usize, wait: Duration) -> Self {
        StaffGate { clock, hashes, wait }
    }

    pub fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }
}
