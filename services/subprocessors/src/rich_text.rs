//! An objection's reasons: rich text (paragraphs, lists, emphasis, links) cleaned by ammonia to
//! an allow-list, so what is stored, shown and exported can hold no script, event handler,
//! `javascript:` link, SVG, MathML or style.

use std::collections::HashSet;

use crate::error::{Result, SubprocessorsError};

/// The largest text accepted, in bytes, before cleaning.
pub const MAX_BYTES: usize = 20_000;

fn cleaner() -> ammonia::Builder<'static> {
    let mut b = ammonia::Builder::empty();
    b.tags(HashSet::from([
        "p",
        "br",
        "ul",
        "ol",
        "li",
        "em",
        "strong",
        "b",
        "i",
        "a",
        "blockquote",
    ]))
    .tag_attributes(std::collections::HashMap::from([(
        "a",
        HashSet::from(["href"]),
    )]))
    .url_schemes(HashSet::from(["https", "http", "mailto"]))
    .link_rel(Some("noopener noreferrer nofollow"))
    .strip_comments(true);
    b
}

/// The reasons as stored: cleaned HTML. Refused when over [`MAX_BYTES`] or when nothing readable
/// is left after cleaning.
pub fn clean(field: &'static str, html: &str) -> Result<String> {
    if html.len() > MAX_BYTES {
        return Err(SubprocessorsError::invalid(
            field,
            format!("at most {MAX_BYTES} bytes of text"),
        ));
    }
    let cleaned = cleaner().clean(html).to_string();
    if plain(&cleaned).trim().is_empty() {
        return Err(SubprocessorsError::invalid(field, "write your reasons"));
    }
    Ok(cleaned)
}

/// Stored reasons cleaned once more on their way out: what the pages render unescaped goes
/// through the allow-list at the moment it is shown, whatever is in the database.
pub fn shown(stored: &str) -> String {
    cleaner().clean(stored).to_string()
}

/// The text of cleaned HTML without its tags (for mails, which are plain text).
pub fn plain(html: &str) -> String {
    let text = ammonia::Builder::empty().clean(html).to_string();
    // ammonia escapes the text it keeps; a mail is plain text.
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_handlers_links_svg_and_style_do_not_survive() -> Result<()> {
        for payload in [
            "<script>alert(1)</script>ok",
            "<img src=x onerror=alert(1)>ok",
            "<a href=\"javascript:alert(1)\">ok</a>",
            "<svg><script>alert(1)</script></svg>ok",
            "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>ok",
            "<p style=\"background:url(javascript:alert(1))\">ok</p>",
            "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">ok",
        ] {
            // A payload with nothing readable left is refused; otherwise it comes back inert.
            let Ok(out) = clean("reasons", payload) else {
                continue;
            };
            let lower = out.to_ascii_lowercase();
            for bad in [
                "<script",
                "onerror",
                "javascript:",
                "<svg",
                "<math",
                "style=",
                "<img",
                "<style",
            ] {
                assert!(!lower.contains(bad), "{payload} → {out}");
            }
        }
        assert!(clean("reasons", "<img src=x onerror=alert(1)>ok")?.contains("ok"));
        let kept = clean(
            "reasons",
            "<p>We <em>object</em>:</p><ul><li><a href=\"https://x.example\">why</a></li></ul>",
        )?;
        assert!(
            kept.contains("<em>object</em>") && kept.contains("<li>"),
            "{kept}"
        );
        assert!(
            kept.contains("rel=\"noopener noreferrer nofollow\""),
            "{kept}"
        );
        assert!(clean("reasons", "<p> </p><script>x</script>").is_err());
        assert!(clean("reasons", &"a".repeat(MAX_BYTES + 1)).is_err());
        Ok(())
    }
}
