//! Files as MCP resources.

use serde_json::json;

use crate::Fixture;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_resources() {
    let f = Fixture::new(false, false).await;
    f.put("README.md", "# hi\n");
    f.put("docs/a b.txt", "spaced");
    f.put("img.png", b"\x89PNG\r\n\x1a\nrest");
    f.put(".gitignore", "*.tmp\n");
    f.put("junk.tmp", "ignored");
    let raw = f.raw();
    let r = raw.request("resources/list", json!({}), json!({}), &[]).await;
    let list = r.result()["resources"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = list.iter().map(|x| x["name"].as_str().unwrap()).collect();
    assert_eq!(names, [".gitignore", "README.md", "docs/a b.txt", "img.png"], "{}", r.text);
    let spaced = list.iter().find(|x| x["name"] == "docs/a b.txt").unwrap();
    let uri = spaced["uri"].as_str().unwrap();
    assert!(uri.starts_with("file:///") && uri.ends_with("docs/a%20b.txt"), "{uri}");

    let r = raw.request("resources/read", json!({"uri": uri}), json!({}), &[]).await;
    assert_eq!(r.result()["contents"][0]["text"], "spaced", "{}", r.text);
    let img = list.iter().find(|x| x["name"] == "img.png").unwrap()["uri"].as_str().unwrap().to_owned();
    let r = raw.request("resources/read", json!({"uri": img}), json!({}), &[]).await;
    assert_eq!(r.result()["contents"][0]["mimeType"], "image/png");
    assert!(r.result()["contents"][0]["blob"].is_string());

    let r = raw.request("resources/templates/list", json!({}), json!({}), &[]).await;
    assert_eq!(r.result()["resourceTemplates"][0]["uriTemplate"], "file:///{+path}");

    let missing = format!("file://{}/nope.txt", f.root().display());
    let r = raw.request("resources/read", json!({"uri": missing}), json!({}), &[]).await;
    assert!(r.error()["code"].is_i64(), "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_listing_is_paged() {
    let f = Fixture::new(false, false).await;
    for i in 0..450 {
        f.put(&format!("f{i:03}.txt"), "x");
    }
    let raw = f.raw();
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let params = match &cursor {
            Some(c) => json!({"cursor": c}),
            None => json!({}),
        };
        let r = raw.request("resources/list", params, json!({}), &[]).await;
        let page = r.result()["resources"].as_array().unwrap().clone();
        assert!(page.len() <= 200);
        all.extend(page.into_iter().map(|x| x["name"].as_str().unwrap().to_owned()));
        cursor = r.result()["nextCursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(all.len(), 450);
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 450, "pages overlap");
}
