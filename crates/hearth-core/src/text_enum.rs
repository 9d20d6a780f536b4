//! Enums stored as text: each variant names its column value once, and [`text_enum!`] writes
//! the rest (`ALL`, `as_str`, `parse`, and the `TryFrom<String>` that diesel's
//! `deserialize_as = String` reads a column through), as `typed_id!` does for IDs.

/// Declares an enum whose values are stored as text.
///
/// ```ignore
/// text_enum! {
///     /// Who may read a board.
///     #[derive(Serialize)]
///     pub enum Visibility ("visibility") { Public = "public", Members = "members" }
/// }
/// ```
/// The string in parentheses names the thing in the error an unknown stored value gives.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $($(#[$variant_meta:meta])* $variant:ident = $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as stored.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The value stored as `text`, if any.
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> std::result::Result<Self, String> {
                $name::parse(&value).ok_or_else(|| format!(concat!("unknown ", $what, " {:?}"), value))
            }
        }
    };
}

pub(crate) use text_enum;

#[cfg(test)]
mod tests {
    text_enum! {
        enum Colour ("colour") { Red = "red", DarkBlue = "dark_blue" }
    }

    #[test]
    fn every_value_reads_back_from_its_text() {
        for colour in Colour::ALL {
            assert_eq!(Colour::parse(colour.as_str()), Some(*colour));
        }
        assert_eq!(Colour::DarkBlue.as_str(), "dark_blue");
    }

    #[test]
    fn an_unknown_stored_value_is_an_error_naming_it() {
        let error = Colour::try_from("green".to_owned()).unwrap_err();
        assert_eq!(error, "unknown colour \"green\"");
        assert_eq!(Colour::parse("Red"), None);
    }
}
