//! The published files: the list as JSON and CSV, and the Atom feed of notices.

#[allow(unused_imports)]
use super::*;

/// Who reads a file: a signed-in person, or anyone where the list is public; anyone else is
/// sent to sign in (and comes back to the file).
pub(super) fn file_reader(
    v: &Visitor,
    method: &Method,
    uri: &Uri,
) -> Result<Option<Caller>, Box<Response>> {
    match &v.claims {
        Some(claims) => Ok(Some(v.services.directory.caller(
            claims.sub,
            claims.org,
            &claims.roles,
            v.ip,
        ))),
        None if v.services.subprocessors.settings().public => Ok(None),
        None => Err(Box::new(crate::ui::signed_in::sign_in_first(method, uri))),
    }
}

pub(super) fn reader(caller: Option<&Caller>) -> Reader<'_> {
    match caller {
        Some(c) => Reader::Person(c),
        None => Reader::Anyone,
    }
}

pub(super) fn plain(status: StatusCode, lang: Lang, text: String) -> Response {
    let mut res = (status, text).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.code()),
    );
    res
}

/// The listing a file describes: now, or as of `?at=`; a wrong date is a 422 in words.
pub(super) async fn file_listing(
    v: &Visitor,
    caller: Option<&Caller>,
    at: Option<&str>,
) -> Result<Listing, Response> {
    let s = &v.services.subprocessors;
    let tr = v.tr();
    let r = match at.map(str::trim).filter(|a| !a.is_empty()) {
        None => s.current(reader(caller)).await,
        Some(a) if parse_day(a).is_none() => {
            return Err(plain(
                StatusCode::UNPROCESSABLE_ENTITY,
                v.lang,
                tr.t("sp-error-at"),
            ));
        }
        Some(a) => s.as_of(reader(caller), a).await,
    };
    r.map_err(|e| match e {
        SubprocessorsError::Invalid { .. } => plain(
            StatusCode::UNPROCESSABLE_ENTITY,
            v.lang,
            tr.t("sp-error-at-future"),
        ),
        other => PageError::from(other).into_response(),
    })
}

pub(super) async fn json_file(
    v: Visitor,
    method: Method,
    uri: Uri,
    Query(q): Query<AtQuery>,
) -> Response {
    let caller = match file_reader(&v, &method, &uri) {
        Ok(c) => c,
        Err(res) => return *res,
    };
    // Anyone's list now: the service's copy, at most a second old.
    if caller.is_none() && q.at.as_deref().is_none_or(|a| a.trim().is_empty()) {
        return match v.services.subprocessors.public_json().await {
            Ok(json) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                json,
            )
                .into_response(),
            Err(e) => PageError::from(e).into_response(),
        };
    }
    match file_listing(&v, caller.as_ref(), q.at.as_deref()).await {
        Ok(listing) => axum::Json(listing.to_json()).into_response(),
        Err(res) => res,
    }
}

pub(super) async fn csv_file(
    v: Visitor,
    method: Method,
    uri: Uri,
    Query(q): Query<AtQuery>,
) -> Response {
    let caller = match file_reader(&v, &method, &uri) {
        Ok(c) => c,
        Err(res) => return *res,
    };
    let listing = match file_listing(&v, caller.as_ref(), q.at.as_deref()).await {
        Ok(l) => l,
        Err(res) => return res,
    };
    // Every row carries the instant the list describes, so the file says its date however it
    // is renamed or cut.
    let as_of = listing.as_of.format(&Rfc3339).unwrap_or_default();
    let body = match extranet_access::mask::to_csv_with(&listing.entries, Some(("as_of", &as_of))) {
        Ok(b) => b,
        Err(e) => return PageError::internal(e).into_response(),
    };
    let date = jiff::Timestamp::from_second(listing.as_of.unix_timestamp())
        .map(|t| t.to_zoned(v.services.site.tz()).date().to_string())
        .unwrap_or_default();
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(d) = HeaderValue::from_str(&format!(
        "attachment; filename=\"subprocessors-{date}.csv\""
    )) {
        h.insert(header::CONTENT_DISPOSITION, d);
    }
    res
}

/// The latest of an RFC 3339 instant list.
pub(super) fn latest(times: &[Option<&str>]) -> Option<atom_syndication::FixedDateTime> {
    times
        .iter()
        .flatten()
        .filter_map(|t| atom_syndication::FixedDateTime::parse_from_rfc3339(t).ok())
        .max()
}

pub(super) async fn atom_feed(v: Visitor, method: Method, uri: Uri) -> Response {
    use atom_syndication::{Feed, Link, Text};
    let caller = match file_reader(&v, &method, &uri) {
        Ok(c) => c,
        Err(res) => return *res,
    };
    let s = &v.services.subprocessors;
    let tr = v.tr();
    let notices = match s
        .notices(
            reader(caller.as_ref()),
            &["published", "withdrawn", "applied"],
        )
        .await
    {
        Ok(n) => n,
        Err(e) => return PageError::from(e).into_response(),
    };
    let base = s.settings().base_url.trim_end_matches('/').to_owned();
    let mut entries = Vec::with_capacity(notices.len());
    for m in &notices {
        let n = m.inner();
        let Some(updated) = latest(&[
            n.published_at.as_deref(),
            n.withdrawn_at.as_deref(),
            n.applied_at.as_deref(),
        ]) else {
            continue;
        };
        let mut e = atom_syndication::Entry::default();
        e.set_id(format!("urn:uuid:{}", n.id));
        e.set_title(Text::plain(format!(
            "{} — {} ({})",
            title_of(&tr, m),
            state_word(&tr, &n.state),
            instant(&n.effective_at)
                .map(|t| words::day_of(v.lang, &v.services.site.tz(), t))
                .unwrap_or_default()
        )));
        e.set_updated(updated);
        if let Some(p) = n
            .published_at
            .as_deref()
            .and_then(|t| atom_syndication::FixedDateTime::parse_from_rfc3339(t).ok())
        {
            e.set_published(Some(p));
        }
        if let Some(summary) = shown(m, "summary", |v| v.summary.clone()) {
            e.set_summary(Some(Text::plain(summary)));
        }
        let mut link = Link::default();
        link.set_href(format!("{base}/subprocessors/notices/{}", n.id));
        link.set_rel("alternate");
        e.set_links(vec![link]);
        entries.push(e);
    }
    entries.sort_by(|a, b| b.updated().cmp(a.updated()));
    let mut feed = Feed::default();
    feed.set_title(Text::plain(format!(
        "{} — {}",
        s.settings().site_name,
        tr.t("sp-title")
    )));
    feed.set_id(format!("{base}/subprocessors/feed.atom"));
    feed.set_lang(Some(v.lang.code().to_owned()));
    if let Some(first) = entries.first() {
        feed.set_updated(*first.updated());
    } else if let Ok(t) = atom_syndication::FixedDateTime::parse_from_rfc3339(
        &s.clock().now().format(&Rfc3339).unwrap_or_default(),
    ) {
        feed.set_updated(t);
    }
    let mut me_link = Link::default();
    me_link.set_href(format!("{base}/subprocessors/feed.atom"));
    me_link.set_rel("self");
    let mut html_link = Link::default();
    html_link.set_href(format!("{base}/subprocessors"));
    html_link.set_rel("alternate");
    feed.set_links(vec![me_link, html_link]);
    feed.set_entries(entries);
    let mut res = feed.to_string().into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/atom+xml; charset=utf-8"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_gives_paragraphs_lists_emphasis_and_links() {
        let html = markdown("We *object*:\n\n- one\n- [two](https://example.org)");
        assert!(html.contains("<p>We <em>object</em>:</p>"), "{html}");
        assert!(html.contains("<li>one</li>"), "{html}");
        assert!(
            html.contains("<a href=\"https://example.org\">two</a>"),
            "{html}"
        );
    }

    #[test]
    fn the_notice_form_reads_repeated_fields_and_country_rows() {
        let pairs = [
            ("kind", "add"),
            ("subprocessor_id", ""),
            ("legal_name", "Relay BV"),
            ("data_categories", "contact"),
            ("data_categories", "identification"),
            ("subject_categories", "client_contacts"),
            ("country_0", "NL"),
            ("mechanism_0", ""),
            ("country_2", "US"),
            ("mechanism_2", "standard_contractual_clauses"),
            ("country_99", "FR"),
            ("effective_date", "2027-01-31"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec();
        let form = NoticeForm::from_pairs(pairs);
        assert_eq!(form.data_categories, ["contact", "identification"]);
        assert_eq!(form.locations.len(), LOCATION_ROWS);
        let Ok(d) = form.draft() else {
            panic!("a draft")
        };
        assert_eq!(d.subprocessor_id, None);
        let Some(entry) = d.entry else {
            panic!("an entry")
        };
        // Empty rows are left out; a row past the form's is ignored.
        assert_eq!(
            entry.locations,
            vec![
                Location {
                    country: "NL".into(),
                    mechanism: None
                },
                Location {
                    country: "US".into(),
                    mechanism: Some("standard_contractual_clauses".into())
                },
            ]
        );
        let removal = NoticeForm {
            kind: "remove".into(),
            subprocessor_id: "not-an-id".into(),
            ..NoticeForm::default()
        };
        assert_eq!(removal.draft().err(), Some("subprocessor_id"));
    }
}
