//! The directory forgives on both backends: plural and singular, case and accents, country
//! names and codes, stop words dropped and not every word required; names and tags first.

use super::*;
use crate::forum::boards::{self, NewBoardForm};
use crate::groups::GroupProfile;
use crate::model::SiteRole;
use crate::test_support::{any_pool, member};

fn names(conn: &mut DbConn, words: &str, place: &str) -> Vec<String> {
    let query = DirectoryQuery {
        words: words.to_owned(),
        place: place.to_owned(),
        page: 1,
        ..Default::default()
    };
    directory(conn, &Actor::Visitor, &query)
        .unwrap()
        .groups
        .into_iter()
        .map(|g| g.name)
        .collect()
}

#[test]
fn the_directory_forgives_plurals_accents_countries_and_extra_words() {
    let (_db, pool) = any_pool();
    let conn = &mut *pool.get().unwrap();
    let ada = member(conn, "ada", SiteRole::Admin);
    let groups = [
        (
            "pet-loss",
            "Pet loss",
            "For anyone grieving an animal companion",
            "cats dogs pet-loss",
            "Leeds",
            "United Kingdom",
        ),
        (
            "cafe",
            "Grief Café",
            "Talking over coffee after a death",
            "bereavement",
            "Lyon",
            "France",
        ),
        (
            "new-city",
            "New in town",
            "Moving somewhere new, and lonely; we talk about our pets too",
            "moving",
            "Austin",
            "USA",
        ),
        (
            "tinnitus",
            "Tinnitus",
            "Ringing ears",
            "hearing",
            "Glasgow",
            "UK",
        ),
    ];
    for (slug, name, description, tags, city, country) in groups {
        let form = NewBoardForm {
            slug: slug.to_owned(),
            name: name.to_owned(),
            description: description.to_owned(),
            visibility: "public".to_owned(),
            profile: GroupProfile {
                tags: tags.to_owned(),
                city: city.to_owned(),
                country: country.to_owned(),
                meeting_format: "in_person".to_owned(),
                time_zone: "UTC".to_owned(),
                ..GroupProfile::default()
            },
            ..Default::default()
        };
        boards::create(conn, &ada, &form).unwrap();
    }
    // Stop words dropped, "died" not required, "cat" finds the tag "cats".
    assert_eq!(names(conn, "my cat died", ""), ["Pet loss"]);
    // Singular and plural, both ways; a tag or name match ranks above a description match.
    assert_eq!(names(conn, "pets", ""), ["Pet loss", "New in town"]);
    assert_eq!(names(conn, "dog", ""), ["Pet loss"]);
    // Case and accents.
    assert_eq!(names(conn, "cafe", ""), ["Grief Café"]);
    assert_eq!(names(conn, "CAFÉ", ""), ["Grief Café"]);
    // Countries by name and by code, in either field: "UK" ⇔ "United Kingdom", "USA" ⇔ "United States".
    assert_eq!(names(conn, "", "UK"), ["Pet loss", "Tinnitus"]);
    assert_eq!(names(conn, "", "United Kingdom"), ["Pet loss", "Tinnitus"]);
    assert_eq!(names(conn, "", "Great Britain"), ["Pet loss", "Tinnitus"]);
    assert_eq!(names(conn, "", "United States"), ["New in town"]);
    assert_eq!(names(conn, "", "usa"), ["New in town"]);
    assert_eq!(names(conn, "", "US"), ["New in town"]);
    assert_eq!(names(conn, "groups in the US", ""), ["New in town"]);
    assert_eq!(names(conn, "", "France"), ["Grief Café"]);
    // More words that match rank first.
    assert_eq!(
        names(conn, "pet loss leeds", ""),
        ["Pet loss", "New in town"]
    );
    assert_eq!(names(conn, "lonely pets", ""), ["New in town", "Pet loss"]);
}
