//! E-mail: members' optional addresses, and the outbox where mail waits until the worker in
//! `hearth serve` sends it. Mail is queued ([`outbox::enqueue`]) in the transaction of what
//! causes it, so it is sent if and only if that commits; nothing is sent inside a request.
//! [`delivery`] claims and sends it through a [`sender::Sender`] built from the `[email]`
//! settings ([`settings::EmailSettings`]).

pub mod addresses;
pub mod delivery;
pub mod outbox;
pub mod sender;
pub mod settings;

pub use outbox::{enqueue, Mail, MailKind};
pub use settings::{EmailSettings, Secret, TlsMode};
