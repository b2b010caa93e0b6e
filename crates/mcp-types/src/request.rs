//! The agent's side of the contract: where a request is, and the decisions
//! it records in the decision log (the text forms other programs — the
//! observer's audit, Grafana, the gateway — filter on).

use crate::text_enum;

text_enum! {
    /// Where a request is.
    pub enum RequestState {
        /// Seen, nothing decided yet.
        New = "new",
        /// Questions were sent; waiting for the answer.
        Asking = "asking",
        /// Complete and handed to the planner.
        Planned = "planned",
        /// Refused (an injection, a secret, a request the fleet must not act on).
        Refused = "refused",
        /// Too many rounds of questions without an answer.
        GaveUp = "gave_up",
        /// The planner could not take it.
        Failed = "failed",
        /// The requester called it off ("never mind", "anuluj").
        Cancelled = "cancelled",
    }
}

impl RequestState {
    /// Closed: a new message in the thread does not reopen it by itself.
    pub const fn is_closed(self) -> bool {
        matches!(self, Self::Planned | Self::Refused | Self::GaveUp | Self::Failed | Self::Cancelled)
    }
}

text_enum! {
    /// What the agent decided about a message (the decision log's `decision`).
    pub enum Decision {
        /// Asked the requester precise questions.
        Asked = "asked",
        /// Handed a complete spec to the planner.
        Proceeded = "proceeded",
        /// Refused to act.
        Refused = "refused",
        /// Stopped asking.
        GaveUp = "gave_up",
        /// Could not go on (the planner refused the spec, a fault).
        Failed = "failed",
        /// Not for the fleet (an untrusted or automatic sender).
        Ignored = "ignored",
        /// A message for a request that is already settled: kept, not answered.
        Noted = "noted",
        /// The requester called the request off; confirmed in one short mail.
        Cancelled = "cancelled",
        /// A failed project started again, as a new run of the same project.
        Retried = "retried",
        /// An approver's emailed answer approved a waiting plan step.
        Approved = "approved",
        /// An approver's emailed answer denied a waiting plan step.
        Denied = "denied",
    }
}

text_enum! {
    /// The language a requester wrote in, and every mail to them is written in.
    #[derive(Default)]
    pub enum Lang {
        /// English (the default).
        #[default]
        En = "en",
        /// Polish: the system was first specified in Polish.
        Pl = "pl",
    }
}
