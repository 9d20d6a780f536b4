//! A session's device hint: a few words a member recognises ("Firefox on Android"), derived
//! from the User-Agent when they sign in. Only the hint is stored, never the header, and it
//! names no version: it is there to tell one's own devices apart, not to fingerprint them.

/// The longest hint kept (the words below are far shorter; this bounds what reaches the row).
const MAX_HINT_CHARS: usize = 40;

/// "Browser on system", either part "a browser" / left out when not recognised; an empty
/// header gives "an unknown device".
pub fn hint_from_user_agent(user_agent: &str) -> String {
    let browser = browser_of(user_agent);
    let system = system_of(user_agent);
    let hint = match (browser, system) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(browser), None) => browser.to_owned(),
        (None, Some(system)) => format!("a browser on {system}"),
        (None, None) => "an unknown device".to_owned(),
    };
    hint.chars().take(MAX_HINT_CHARS).collect()
}

/// The browser's family. Order matters: most browsers also say "Chrome" or "Safari", so the
/// more particular names are looked for first.
fn browser_of(ua: &str) -> Option<&'static str> {
    const FAMILIES: [(&str, &str); 12] = [
        ("Edg/", "Edge"),
        ("EdgA/", "Edge"),
        ("EdgiOS/", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Vivaldi/", "Vivaldi"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ];
    FAMILIES
        .iter()
        .find(|(marker, _)| ua.contains(marker))
        .map(|(_, name)| *name)
        .or_else(|| ua.contains("curl/").then_some("curl"))
}

fn system_of(ua: &str) -> Option<&'static str> {
    if ua.contains("Android") {
        Some("Android")
    } else if ua.contains("iPhone") || ua.contains("iPod") {
        Some("iPhone")
    } else if ua.contains("iPad") {
        Some("iPad")
    } else if ua.contains("CrOS") {
        Some("ChromeOS")
    } else if ua.contains("Windows") {
        Some("Windows")
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        Some("macOS")
    } else if ua.contains("Linux") || ua.contains("X11") {
        Some("Linux")
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
