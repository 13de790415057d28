//! Display names of uploaded files: whatever the client sent is reduced to a harmless name that
//! is only ever metadata (objects live under random keys).

/// At most this many characters are kept (the extension survives the cut).
const MAX_CHARS: usize = 150;

/// Keeps the last path component, drops control and bidirectional-formatting characters and
/// characters that file systems or shells treat specially, collapses white space, and trims
/// leading dots (no hidden files) and trailing dots and spaces.
pub fn sanitise(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let mut out = String::with_capacity(last.len());
    let mut space = false;
    for c in last.chars() {
        if c.is_control() || is_bidi_or_invisible(c) {
            continue;
        }
        let c = if c.is_whitespace() { ' ' } else { c };
        let c = if matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') {
            '_'
        } else {
            c
        };
        if c == ' ' {
            if space || out.is_empty() {
                continue;
            }
            space = true;
        } else {
            space = false;
        }
        out.push(c);
    }
    let trimmed = out
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' ']);
    shorten(trimmed)
}

fn is_bidi_or_invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' // zero-width, LRM, RLM
        | '\u{202A}'..='\u{202E}' // embeddings and overrides
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' // isolates
        | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}')
}

fn shorten(name: &str) -> String {
    if name.chars().count() <= MAX_CHARS {
        return name.to_owned();
    }
    let ext = crate::sniff::extension(name).map(|e| format!(".{e}"));
    let keep = MAX_CHARS - ext.as_ref().map_or(0, |e| e.chars().count());
    let mut s: String = name.chars().take(keep).collect();
    if let Some(e) = ext {
        s.push_str(&e);
    }
    s
}

/// The stored name: the sanitised name, with the detected type's extension added when it has
/// none, or a neutral name when nothing is left of it.
pub fn stored_name(sanitised: &str, kind: &crate::sniff::Kind) -> String {
    let ext = kind.extensions[0];
    if sanitised.is_empty() {
        return format!("document.{ext}");
    }
    if crate::sniff::extension(sanitised).is_none() {
        return format!("{sanitised}.{ext}");
    }
    sanitised.to_owned()
}

#[cfg(test)]
mod tests {
    use super::sanitise;

    #[test]
    fn hostile_names_become_harmless() {
        assert_eq!(sanitise("../../etc/passwd"), "passwd");
        assert_eq!(sanitise("C:\\Users\\x\\report.pdf"), "report.pdf");
        assert_eq!(sanitise("in\u{202E}fdp.exe"), "infdp.exe");
        assert_eq!(sanitise("a\r\nb\u{0}c.pdf"), "abc.pdf");
        assert_eq!(
            sanitise("<img src=x onerror=alert(1)>.pdf"),
            "_img src=x onerror=alert(1)_.pdf"
        );
        assert_eq!(sanitise("<b>x</b>.pdf"), "b_.pdf");
        assert_eq!(sanitise("...hidden"), "hidden");
        assert_eq!(sanitise("  many   spaces .pdf  "), "many spaces .pdf");
        assert_eq!(sanitise("\u{202E}\u{0}"), "");
        let long = format!("{}.pdf", "x".repeat(400));
        let s = sanitise(&long);
        assert_eq!(s.chars().count(), 150);
        assert!(s.ends_with(".pdf"));
    }
}
