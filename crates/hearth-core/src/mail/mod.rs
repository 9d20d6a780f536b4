//! E-mail: members' optional addresses, and the outbox where mail waits until the worker in
//! `hearth serve` sends it. Mail is queued ([`outbox::enqueue`]) in the transaction of what
//! causes it, so it is sent if and only if that commits; nothing is sent inside a request.

pub mod addresses;
pub mod outbox;

pub use outbox::{enqueue, Mail, MailKind};
