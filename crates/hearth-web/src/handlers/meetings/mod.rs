//! A group's meetings, one file a page: the group's list, one meeting with its dates and
//! answers, the facilitators' forms, and the iCalendar feeds (a public group's, and each
//! member's private one).

use hearth_core::ids::MeetingId;

pub mod calendar;
pub mod listing;
pub mod meeting;
pub mod schedule;

fn meeting_url(id: MeetingId) -> String {
    format!("/m/{id}")
}
