//! What keeps a post safe to publish: the posting gate, posting limits and slow mode, watched
//! words, the phrase screening they share, and crisis phrases with the helplines they lead to.

pub mod crisis;
pub mod gate;
pub mod limits;
pub mod screening;
pub mod watched;
