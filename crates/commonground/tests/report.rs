//! The HTML report (`io::html_report`) and the notebook card (`io::html_card`) as a reader
//! receives them: every section on the bundled vTaiwan conversation, a page that fetches and runs
//! nothing, participant text escaped (a `<script>` statement is shown, never markup), right-to-left
//! and CJK text kept as written, and the summary's percentages. The page in a real browser is
//! tested in `python/tests/test_report.py`.

mod common;

use commonground::cluster::StabilityParams;
use commonground::io::{self, html_card, html_report};
use commonground::{analyze, Analysis, Conversation, Mode, Params, Request, Statement, Vote, VoteEvent};

fn vtaiwan(params: Params) -> (Analysis, io::SourceInfo) {
    let data = io::load(&common::bundled_example()).expect("the bundled example reads");
    let conv = Conversation::run(
        &Request { params, mode: Mode::OneBatch, ..Default::default() },
        data.statements,
        &data.votes,
    )
    .unwrap();
    (conv.analysis().unwrap().clone(), data.source)
}

/// The text between `<section id="{id}"` and the section's end (sections do not nest across ids).
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html.find(&format!("<section id=\"{id}\"")).unwrap_or_else(|| panic!("no section {id}"));
    let end = html[start..].find("</section>\n").map_or(html.len(), |e| start + e);
    &html[start..end]
}

#[test]
fn the_vtaiwan_report_has_every_section_with_its_statements_and_is_small() {
    let stability = StabilityParams { enabled: true, replicates: 4 };
    let (a, source) = vtaiwan(Params { group_stability: stability, ..Params::default() });
    let html = html_report(&a, "vtaiwan.uberx", Some(&source));
    assert!(html.len() < 2_000_000, "the report is {} bytes", html.len());
    for id in ["overview", "map", "groups", "agreement", "uncertain", "bridging", "stability", "data"] {
        section(&html, id);
    }
    // Overview: the counts, their digits grouped in threes as people read them.
    let overview = section(&html, "overview");
    assert_eq!((a.n_participants, a.n_statements, a.n_votes), (1921, 197, 49443));
    for n in ["1,921", "197", "49,443"] {
        assert!(overview.contains(&format!("<dd>{n}</dd>")), "overview lacks {n}");
    }
    // Every group's representative statements, in full, Chinese as written.
    let groups = section(&html, "groups");
    for reps in &a.repness {
        for r in reps {
            let s = a.statements.iter().find(|s| s.id == r.statement).unwrap();
            assert!(groups.contains(s.text.as_deref().unwrap()), "groups lack statement {}", s.id);
        }
    }
    // The map: a mark per participant, the unclustered among them, a text alternative.
    let map = section(&html, "map");
    assert_eq!(map.matches("<use ").count(), a.n_participants);
    let unclustered = a.participants.iter().filter(|p| p.group.is_none()).count();
    assert!(unclustered > 0);
    assert_eq!(map.matches("<use href=\"#mu\"").count(), unclustered);
    assert!(map.contains("role=\"img\"") && map.contains("<desc id=\"map-desc\">"));
    // Common ground and consensus, with intervals.
    let b = a.bridging.as_ref().unwrap();
    let agreement = section(&html, "agreement");
    let first = a.statements.iter().find(|s| s.id == b.common_ground[0]).unwrap();
    assert!(agreement.contains(first.text.as_deref().unwrap()));
    assert!(agreement.contains("class=\"ci\">["));
    // Uncertain: the bridging's credible rule, the one the summary and the JSON give.
    let uncertain = section(&html, "uncertain");
    assert!(!b.uncertain.is_empty());
    for id in b.uncertain.iter().take(5) {
        let s = a.statements.iter().find(|s| &s.id == id).unwrap();
        assert!(uncertain.contains(s.text.as_deref().unwrap()));
    }
    // Bridging: the ranking's first rows, in order.
    let bridging = section(&html, "bridging");
    let positions: Vec<usize> = b
        .ranking
        .iter()
        .take(5)
        .map(|id| bridging.find(&format!("<span class=\"sid\">#{id}</span>")).expect("ranked statement shown"))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    // Stability: one row per candidate k.
    let stability = section(&html, "stability");
    assert_eq!(stability.matches("<tr").count(), 1 + a.group_stability.as_ref().unwrap().by_k.len());
    // Data notes: the format read, the sign, the reader's notes, the moderation.
    let data = section(&html, "data");
    assert!(data.contains("Polis export (votes.csv + comments.csv)"));
    for note in &source.notes {
        let escaped = note.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('\'', "&#39;");
        assert!(data.contains(&escaped), "data notes lack {note:?}");
    }
    assert!(data.contains(&format!("{} statements moderated out", a.moderation.moderated_out.len())));
}

#[test]
fn the_report_fetches_nothing_and_runs_nothing() {
    let (a, source) = vtaiwan(Params::default());
    let html = html_report(&a, "vtaiwan.uberx", Some(&source));
    assert!(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'"));
    for fetch in ["<script", "<link", "src=", "@import", "url(", "href=\"http", "<iframe", "<object"] {
        assert!(!html.contains(fetch), "the report contains {fetch:?}");
    }
}

/// Two camps of 10 split on statements 1-3; both agree on statement 0. `texts` gives statements'
/// texts by id.
fn two_camps(texts: &[(i64, &str)]) -> Analysis {
    camps_of(10, texts)
}

/// [`two_camps`] with `per_camp` participants in each camp.
fn camps_of(per_camp: i64, texts: &[(i64, &str)]) -> Analysis {
    let votes: Vec<VoteEvent> = (0..2 * per_camp)
        .flat_map(|p| {
            (0..4).map(move |s| {
                let camp = if p < per_camp { Vote::Agree } else { Vote::Disagree };
                // Participant 0 passes on statement 0, so that shares are not all 100%.
                let vote = match (p, s) {
                    (0, 0) => Vote::Pass,
                    (_, 0) => Vote::Agree,
                    _ => camp,
                };
                VoteEvent::new(p, s, vote)
            })
        })
        .collect();
    // Statements without a given text have none; with none given at all, none are listed.
    let statements: Vec<Statement> = if texts.is_empty() {
        Vec::new()
    } else {
        (0..4)
            .map(|id| {
                let mut s = Statement::new(id);
                s.text = texts.iter().find(|(t, _)| *t == id).map(|(_, text)| text.to_string());
                s
            })
            .collect()
    };
    analyze(&votes, &statements, &Params::default()).unwrap()
}

#[test]
fn participant_text_is_shown_escaped_never_as_markup() {
    let attack = "<script>document.body.dataset.pwned = 1</script><img src=x onerror=\"alert(1)\"> & 'quotes'";
    let a = two_camps(&[(0, attack), (1, "</span></p><h1>fake heading</h1>")]);
    let html = html_report(&a, "<b>title</b>", None);
    assert!(html.contains(
        "&lt;script&gt;document.body.dataset.pwned = 1&lt;/script&gt;&lt;img src=x onerror=&quot;alert(1)&quot;&gt; \
         &amp; &#39;quotes&#39;"
    ));
    assert!(html.contains("&lt;/span&gt;&lt;/p&gt;&lt;h1&gt;fake heading&lt;/h1&gt;"));
    assert!(html.contains("&lt;b&gt;title&lt;/b&gt;"));
    for markup in ["<script", "<img", "<h1>fake", "<b>title"] {
        assert!(!html.contains(markup), "{markup:?} is in the page as markup");
    }
    let card = html_card(&a, "<b>title</b>");
    assert!(!card.contains("<script") && !card.contains("<b>title") && card.contains("&lt;b&gt;title"));
}

#[test]
fn right_to_left_and_cjk_text_is_kept_as_written_and_marked_for_its_direction() {
    let arabic = "يجب أن تكون وسائل النقل العام مجانية";
    let hebrew = "התחבורה הציבורית צריכה להיות חינמית";
    let japanese = "公共交通機関は無料にすべきだ";
    let a = two_camps(&[(0, arabic), (1, hebrew), (2, japanese)]);
    let html = html_report(&a, "交通", None);
    for text in [arabic, hebrew, japanese] {
        assert!(html.contains(&format!("<span class=\"text\" dir=\"auto\">{text}</span>")), "{text}");
    }
    assert!(html.contains("<h1 dir=\"auto\">交通</h1>"));
}

#[test]
fn shares_are_the_summary_s_whole_percentages_of_raw_counts() {
    // Statement 0: 19 of 20 agree and participant 0 passes: 95% agree, 0% disagree, 5% pass;
    // each camp: 9 of 10 or 10 of 10.
    let a = two_camps(&[]);
    let html = html_report(&a, "two camps", None);
    let agreement = section(&html, "agreement");
    assert!(agreement.contains("95% agree</b> · <b class=\"d\">0% disagree</b> · 5% pass <span class=\"n\">of 20"));
    let summary = io::summary(&a, "two camps", None);
    assert!(summary.contains(" 95% of   20 voters agree         #0"), "{summary}");
    assert!(summary.contains("g0 90%  g1 100%"), "{summary}");
    // A group's bars: one camp has 9 agrees and 1 pass of 10 on statement 0, the other 10 of 10.
    assert!(agreement.contains("90% agree</b> · <b class=\"d\">0% disagree</b> · 10% pass <span class=\"n\">of 10"));
    assert!(agreement.contains("100% agree</b> · <b class=\"d\">0% disagree</b> · 0% pass <span class=\"n\">of 10"));
}

#[test]
fn the_card_names_the_counts_groups_and_common_ground() {
    // Camps of 50: with 20 participants a 5% minority is one person, too few to rule out, and
    // statement 0 would be unresolved rather than common ground.
    let a = camps_of(50, &[(0, "Buses should be free")]);
    let card = html_card(&a, "transport");
    assert!(card.contains("100 participants") && card.contains("4 statements") && card.contains("400 votes"));
    assert!(card.contains("Group 0") && card.contains("Group 1"));
    assert!(card.contains("1 common-ground statement: #0 <span class=\"text\" dir=\"auto\">Buses should be free"));
}

/// The summary, the HTML report and the JSON say the same thing, with one definition each: the
/// common ground (the side-takers' flag, with its bound shown and listed by it), the uncertain
/// statements (one credible rule, worded once) and what the groups merged.
#[test]
fn summary_report_and_json_agree_on_common_ground_uncertain_and_merged() {
    let (a, source) = vtaiwan(Params::default());
    let b = a.bridging.as_ref().unwrap();
    let html = html_report(&a, "vtaiwan.uberx", Some(&source));
    let text = io::summary(&a, "vtaiwan.uberx", None);
    let json: serde_json::Value = serde_json::from_str(&a.to_json()).unwrap();
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(|x| x.to_string().trim_matches('"').to_string()).collect()
    };
    let own = |list: &[commonground::Id]| -> Vec<String> { list.iter().map(|id| id.to_string()).collect() };
    // Common ground: the same count everywhere.
    let n = b.common_ground.len();
    assert_eq!(ids(&json["bridging"]["common_ground"]), own(&b.common_ground));
    assert!(text.contains(&format!("Common ground: {n} of {} statements", b.ranking.len())), "{text}");
    assert!(section(&html, "bridging").contains(&format!("{n} of {} statements are common ground", b.ranking.len())));
    // The summary lists them by the bound it shows (the flag's), highest first.
    let bounds: Vec<f64> = text
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("every group >= "))
        .map(|l| l.split('%').next().unwrap().trim().parse().unwrap())
        .collect();
    assert!(!bounds.is_empty() && bounds.windows(2).all(|w| w[0] >= w[1]), "{bounds:?}");
    // The report's cards show what the flag reads: the side-takers' least agreeing group.
    let first = a.statements.iter().find(|s| s.id == b.common_ground[0]).unwrap();
    let agreement = section(&html, "agreement");
    let card = &agreement[agreement.find(first.text.as_deref().unwrap()).unwrap()..];
    assert!(card[..card.find("</article>").unwrap()].contains("Least agreeing group, among those who took a side"));
    // Uncertain: one rule, worded the same in both, over the same statements as the JSON.
    let rule = "with 90% credibility, at least 30% of the grouped participants who saw it passed";
    assert!(text.contains(&format!("Uncertain, many passed ({rule}): {} statements", b.uncertain.len())), "{text}");
    assert!(section(&html, "uncertain").contains(rule));
    assert_eq!(ids(&json["bridging"]["uncertain"]), own(&b.uncertain));
    // What was merged: every subgroup the JSON names, in the summary and the groups section.
    assert_eq!(json["bridging"]["merged"].as_array().unwrap().len(), b.merged.len());
    for m in &b.merged {
        let line = format!("subgroup {}: {} participants", m.subgroup, m.n_members);
        assert!(text.contains(&line) && section(&html, "groups").contains(&line), "{line}");
    }
}

/// The JSON a caller streams (`write_json`, as the CLI writes it) is `to_json`'s string byte for
/// byte, for commonground's JSON and Polis's math blob; a writer that fails fails the call.
#[test]
fn streamed_json_is_the_json_string_byte_for_byte_and_a_failing_writer_is_an_error() {
    let (a, _) = vtaiwan(Params::default());
    let mut streamed = Vec::new();
    a.write_json(&mut streamed).unwrap();
    assert_eq!(String::from_utf8(streamed).unwrap(), a.to_json());
    let polis = io::PolisMath::from_analysis(&a);
    let mut streamed = Vec::new();
    polis.write_json(&mut streamed).unwrap();
    assert_eq!(String::from_utf8(streamed).unwrap(), polis.to_json());

    struct Full;
    impl std::io::Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let e = a.write_json(Full).unwrap_err();
    assert!(e.to_string().contains("disk full"), "{e}");
}
