//! What a session's device is, read from its user agent with a simple rule: the browser
//! and the operating system named in the string, nothing more. Shown in the sessions list;
//! a new sign-in is from a *new device* when no earlier session of the account has the same
//! user agent and the same address (see `docs/security.md`).

/// `Firefox on Linux`, `Chrome on Android`, `Unknown device` for an empty or unknown agent.
pub fn describe(user_agent: Option<&str>) -> String {
    let agent = user_agent.unwrap_or_default();
    // Order matters: Edge and Opera say Chrome, Chrome says Safari, Android says Linux.
    let browser =
        [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
            .iter()
            .find(|(marker, _)| agent.contains(marker))
            .map(|(_, name)| *name);
    let system = [
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(marker, _)| agent.contains(marker))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(one), None) | (None, Some(one)) => one.to_owned(),
        (None, None) if agent.trim().is_empty() => "Unknown device".to_owned(),
        // Scripts and SDKs: their own name, as they sent it, shortened.
        (None, None) => agent.split_whitespace().next().unwrap_or_default().chars().take(60).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_and_systems_are_named() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
        assert_eq!(describe(Some(firefox)), "Firefox on Linux");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0";
        assert_eq!(describe(Some(edge)), "Edge on Windows");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";
        assert_eq!(describe(Some(iphone)), "Safari on iOS");
        let android =
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36";
        assert_eq!(describe(Some(android)), "Chrome on Android");
    }

    #[test]
    fn scripts_and_nothing_are_named_too() {
        assert_eq!(describe(Some("curl/8.5.0")), "curl/8.5.0");
        assert_eq!(describe(None), "Unknown device");
    }
}
