//! Panics turned into errors: none may cross the FFI boundary, and a call
//! that panics still owes its caller an answer.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// What a panic said, for an error message.
pub fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

/// A future that completes with `Err(payload)` if polling it panics, so
/// that a task can answer for its own panic instead of leaving that to a
/// second task awaiting its `JoinHandle`.
pub struct CatchUnwind<F>(pub Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // A future that panicked is never polled again: this one completes.
        match catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_future_completes_with_its_message() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let ok = runtime.block_on(CatchUnwind(Box::pin(async { 7 })));
        assert_eq!(ok.ok(), Some(7));
        let failed = runtime.block_on(CatchUnwind(Box::pin(async {
            tokio::task::yield_now().await;
            panic!("boom {}", 42);
        })));
        let Err(payload) = failed else {
            panic!("the panic is not caught")
        };
        assert_eq!(panic_message(&*payload), "boom 42");
        assert_eq!(panic_message(&"static"), "static");
        assert_eq!(panic_message(&1u8), "panic");
    }
}
