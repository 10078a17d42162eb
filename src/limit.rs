//! How many commands of one module run at once.
//!
//! Mesos asks `usage` of every container at once for each
//! `/monitor/statistics` or `/containers` request (and `status` for each
//! container of `/containers`), nested containers included, and a
//! monitoring system asks every few seconds. Without a bound, one request
//! to an agent running a thousand containers starts a thousand commands,
//! each with its files and cgroup, which then compete for the same CPUs and
//! all finish late.
//!
//! Each module has `max_concurrent_commands` slots. A call takes one before
//! its command starts and gives it back when the command has ended; a call
//! that finds none free waits, first come first served, and the wait counts
//! toward its own timeout. The methods that only observe a container
//! (usage, status, watch: [`Method::observes`]) may hold all slots but a
//! quarter of them (at least one), which stay free for the methods that
//! launch, update or clean up containers and for hooks: a flood of
//! observations never starves a launch.
//!
//! [`Method::observes`]: crate::method::Method::observes

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Semaphore, SemaphorePermit};

/// The command slots of one module.
#[derive(Debug)]
pub struct Slots {
    /// Every slot.
    all: Semaphore,
    /// The slots observing calls may hold.
    observing: Semaphore,
    limit: usize,
    reserved: usize,
    queued: AtomicUsize,
    running: AtomicUsize,
    peak: AtomicUsize,
}

/// A slot held while a command runs; dropping it frees the slot.
#[derive(Debug)]
pub struct Slot<'a> {
    _all: Option<SemaphorePermit<'a>>,
    _observing: Option<SemaphorePermit<'a>>,
    slots: &'a Slots,
}

impl Slots {
    /// `limit` slots, of which a quarter (at least one, when there are two
    /// or more) is kept from observing calls.
    pub fn new(limit: usize) -> Slots {
        let limit = limit.max(1);
        let reserved = if limit >= 2 { (limit / 4).max(1) } else { 0 };
        Slots {
            all: Semaphore::new(limit),
            observing: Semaphore::new(limit - reserved),
            limit,
            reserved,
            queued: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// Waits for a slot. Cancel-safe: a call dropped while it waits leaves
    /// the queue.
    pub async fn acquire(&self, observes: bool) -> Slot<'_> {
        let waiting = Waiting::new(&self.queued);
        // The semaphores are never closed: a permit always comes.
        let observing = if observes {
            self.observing.acquire().await.ok()
        } else {
            None
        };
        let all = self.all.acquire().await.ok();
        drop(waiting);
        let running = self.running.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(running, Ordering::Relaxed);
        Slot {
            _all: all,
            _observing: observing,
            slots: self,
        }
    }

    /// `max_concurrent_commands`.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// What a call that found no slot waited for, for its error: "all 4
    /// … slots", or "the 3 of the 4 … slots usage, status and watch may
    /// hold" for an observing call that others are kept from.
    pub fn which(&self, observes: bool, slots: &str) -> String {
        if observes && self.reserved > 0 {
            format!(
                "the {} of the {} {slots} that usage, status and watch may hold",
                self.limit - self.reserved,
                self.limit
            )
        } else {
            format!("all {} {slots}", self.limit)
        }
    }

    /// The slots observing calls cannot take.
    pub fn reserved(&self) -> usize {
        self.reserved
    }

    /// Calls waiting for a slot now.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Commands running now.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::Relaxed)
    }

    /// The most commands that ran at once since the module was created.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.slots.running.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Counts a call in the queue while it waits.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(queued: &'a AtomicUsize) -> Waiting<'a> {
        queued.fetch_add(1, Ordering::Relaxed);
        Waiting(queued)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn observing_calls_leave_the_reserved_slots_free() {
        let rt = runtime();
        rt.block_on(async {
            let slots = Slots::new(4);
            assert_eq!((slots.limit(), slots.reserved()), (4, 1));
            let mut held = Vec::new();
            for _ in 0..3 {
                held.push(slots.acquire(true).await);
            }
            // A fourth observation waits...
            let fourth = tokio::time::timeout(Duration::from_millis(20), slots.acquire(true));
            assert!(fourth.await.is_err());
            assert_eq!(slots.queued(), 0, "a cancelled wait leaves the queue");
            // ...while a launch gets the reserved slot at once.
            let launch = tokio::time::timeout(Duration::from_millis(20), slots.acquire(false));
            let launch = launch.await.expect("the reserved slot is free");
            assert_eq!((slots.running(), slots.peak()), (4, 4));
            drop(launch);
            drop(held);
            assert_eq!(slots.running(), 0);
        });
    }

    #[test]
    fn a_call_that_found_no_slot_is_told_which_it_waited_for() {
        let slots = Slots::new(4);
        assert_eq!(
            slots.which(true, "request slots"),
            "the 3 of the 4 request slots that usage, status and watch may hold"
        );
        assert_eq!(slots.which(false, "request slots"), "all 4 request slots");
        // One slot: nothing is kept from observing calls.
        assert_eq!(Slots::new(1).which(true, "slots"), "all 1 slots");
    }

    #[test]
    fn a_waiting_call_is_counted_until_it_gets_a_slot() {
        let rt = runtime();
        rt.block_on(async {
            let slots = Slots::new(1);
            assert_eq!(slots.reserved(), 0);
            let first = slots.acquire(true).await;
            let second = slots.acquire(false);
            tokio::pin!(second);
            assert!(futures_poll(&mut second).is_none());
            assert_eq!(slots.queued(), 1);
            drop(first);
            let second = second.await;
            assert_eq!((slots.queued(), slots.running()), (0, 1));
            drop(second);
        });
    }

    /// Polls a future once.
    fn futures_poll<F: std::future::Future + Unpin>(future: &mut F) -> Option<F::Output> {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        match std::pin::Pin::new(future).poll(&mut cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        }
    }
}
