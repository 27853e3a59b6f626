//! The one-time links that invite a contact to a portal or a person to the staff: when one
//! may still be accepted, resent or withdrawn.

use chrono::NaiveDateTime;

/// Why an invitation no longer works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// Accepted already: the person signs in instead.
    Used,
    /// Withdrawn, or replaced by a newer one.
    Revoked,
    Expired,
}

/// The state of an invitation, as both kinds store it.
#[derive(Debug, Clone, Copy)]
pub struct InvitationState {
    pub accepted_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub expires_at: NaiveDateTime,
}

impl InvitationState {
    /// Whether the link may be accepted at `now`.
    pub fn acceptable(&self, now: NaiveDateTime) -> Result<(), Closed> {
        self.open()?;
        if self.expires_at <= now { Err(Closed::Expired) } else { Ok(()) }
    }

    /// Whether it may still be resent or withdrawn: neither accepted nor withdrawn (an
    /// expired one may be sent again).
    pub fn open(&self) -> Result<(), Closed> {
        match (self.accepted_at, self.revoked_at) {
            (Some(_), _) => Err(Closed::Used),
            (None, Some(_)) => Err(Closed::Revoked),
            (None, None) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(seconds, 0).unwrap().naive_utc()
    }

    #[test]
    fn an_invitation_works_once_until_it_expires_or_is_withdrawn() {
        let open = InvitationState { accepted_at: None, revoked_at: None, expires_at: at(100) };
        assert_eq!(open.acceptable(at(99)), Ok(()));
        assert_eq!(open.acceptable(at(100)), Err(Closed::Expired));
        assert_eq!(open.open(), Ok(()), "an expired invitation may be sent again");
        let used = InvitationState { accepted_at: Some(at(50)), ..open };
        assert_eq!(used.acceptable(at(60)), Err(Closed::Used));
        assert_eq!(used.open(), Err(Closed::Used));
        let revoked = InvitationState { revoked_at: Some(at(50)), ..open };
        assert_eq!(revoked.acceptable(at(60)), Err(Closed::Revoked));
    }
}
