//! The rules that keep toasts few: events of one kind that arrive while their toast is up join it
//! ("3 videos are ready"), and a toast closes itself unless it holds something to act on.
//! Pure, so they are tested natively (docs/architecture.md, "Messages members see").

use super::Tone;

/// How long a toast stays when it closes by itself; errors get longer to be read.
pub const fn closes_after_ms(tone: Tone, holds_action: bool) -> Option<u32> {
    if holds_action {
        return None;
    }
    Some(match tone {
        Tone::Error => 10_000,
        _ => 6_000,
    })
}

/// What a toast counts: the events (jobs) it stands for, each once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Members(Vec<String>);

impl Members {
    /// Counts `item`; false if it was counted already (an event heard twice).
    pub fn add(&mut self, item: &str) -> bool {
        if self.0.iter().any(|known| known == item) {
            return false;
        }
        self.0.push(item.to_owned());
        true
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_heard_twice_counts_once() {
        let mut members = Members::default();
        assert!(members.add("job:1"));
        assert!(members.add("job:2"));
        assert!(!members.add("job:1"));
        assert!(members.add("job:3"));
        assert_eq!(members.len(), 3);
        assert_eq!(
            super::super::words::videos_ready(members.len()),
            "3 videos are ready."
        );
    }

    #[test]
    fn only_a_toast_without_an_action_closes_itself() {
        assert_eq!(closes_after_ms(Tone::Success, false), Some(6_000));
        assert_eq!(closes_after_ms(Tone::Error, false), Some(10_000));
        assert_eq!(closes_after_ms(Tone::Error, true), None);
        assert_eq!(closes_after_ms(Tone::Info, true), None);
    }
}
