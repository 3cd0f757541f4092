//! The messages handed to a data channel whose bytes may still sit in its send buffer. When
//! the channel closes or stalls they are re-sent through the relay: a message may then
//! arrive twice, which the core tolerates, but none is lost because the path changed.

#[derive(Debug)]
pub struct InFlight<T> {
    handed: u64,
    window: Vec<(u64, T)>,
}

impl<T> Default for InFlight<T> {
    fn default() -> Self {
        InFlight {
            handed: 0,
            window: Vec::new(),
        }
    }
}

impl<T> InFlight<T> {
    /// `item` was just handed to the channel as `len` bytes.
    pub fn push(&mut self, len: usize, item: T) {
        self.handed += len as u64;
        self.window.push((self.handed, item));
    }

    /// Bytes handed to the channel so far.
    pub fn handed(&self) -> u64 {
        self.handed
    }

    /// The channel reports `buffered` bytes not sent yet: forget the items sent in full.
    pub fn trim(&mut self, buffered: u64) {
        let sent = self.handed.saturating_sub(buffered);
        // A Vec rather than a VecDeque (a smaller wasm): the window is short.
        let done = self.window.partition_point(|(end, _)| *end <= sent);
        self.window.drain(..done);
    }

    pub fn len(&self) -> usize {
        self.window.len()
    }

    pub fn is_empty(&self) -> bool {
        self.window.is_empty()
    }

    /// Every item possibly not sent, oldest first.
    pub fn take(&mut self) -> Vec<T> {
        self.window.drain(..).map(|(_, t)| t).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_items_still_buffered_are_kept() {
        let mut f = InFlight::default();
        f.push(10, "a");
        f.push(20, "b");
        f.push(5, "c");
        assert_eq!(f.handed(), 35);
        f.trim(25); // 10 bytes sent: "a" is out
        assert_eq!(f.len(), 2);
        f.trim(26); // a buffer never grows back by itself; nothing more goes
        assert_eq!(f.len(), 2);
        f.trim(5); // "b" is out, "c" still waiting
        assert_eq!(f.take(), vec!["c"]);
        assert!(f.is_empty());
        f.push(1, "d");
        f.trim(0);
        assert!(f.is_empty());
    }
}
