//! Server-rendered pages as people read them: the words around the numbers.

use tests::TestApp;

use super::support::get_text;

/// A page's text as a reader sees it: no tags, one space between words.
fn text_of(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn the_dashboard_counts_in_words_that_agree_with_the_number() {
    let app = TestApp::spawn().await;
    // The demo catalogue: 3 teams, 1 platform, 2 environments, 4 applications, of which one
    // has no namespace in production.
    app.seed().await;
    let pat = app.login("pat").await;
    let text = text_of(&get_text(&app, &pat, "/").await);
    for words in [
        "3 teams",
        "1 platform ",
        "2 environments",
        "4 applications",
        "1 application has no namespace in a production environment yet.",
    ] {
        assert!(text.contains(words), "{words:?} in {text}");
    }
    assert!(!text.contains("1 platforms"), "{text}");
}
