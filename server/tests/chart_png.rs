//! `GET /api/v1/series/{id}/chart.png`: the series chart drawn by plotters' bitmap
//! backend with the embedded font, over HTTP against the real server.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::collections::HashSet;

use perfwatch_server::testing::{spawn_app, Db, TestApp};
use serde_json::{json, Value};

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

async fn post(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{}{path}", app.base))
        .bearer_auth(&app.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Status, content type, cache-control and body bytes.
async fn get(app: &TestApp, path: &str) -> (u16, String, String, Vec<u8>) {
    let res = reqwest::Client::new()
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (status, ctype, cache) = (
        res.status().as_u16(),
        header("content-type"),
        header("cache-control"),
    );
    (status, ctype, cache, res.bytes().await.unwrap().to_vec())
}

/// One series (`Parse/json`, time in ns) over four commits of `main`; returns its id.
async fn seed(app: &TestApp) -> i64 {
    let (s, _) = post(app, "/api/v1/projects", json!({"slug": "img"})).await;
    assert_eq!(s, 201);
    for (i, level) in [100.0, 104.0, 98.0, 130.0].into_iter().enumerate() {
        let body = json!({
            "project": "img", "branch": "main", "testbed": "ci",
            "commit": {"sha": format!("{:040x}", 0xc0ffee + i)},
            "results": [{"benchmark": "Parse/json", "measure": "time", "unit": "ns",
                         "samples": [level, level * 1.01, level * 0.99]}]
        });
        let (s, r) = post(app, "/api/v1/runs", body).await;
        assert_eq!(s, 201, "{r}");
    }
    let (_, _, _, body) = get(app, "/api/v1/projects/img/series").await;
    let series: Value = serde_json::from_slice(&body).unwrap();
    series[0]["id"].as_i64().unwrap()
}

/// Decodes an RGB(A) 8-bit PNG into (width, height, pixels as RGB triples).
fn decode(bytes: &[u8]) -> (u32, u32, Vec<[u8; 3]>) {
    let mut reader = png::Decoder::new(bytes).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let step = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected colour type {other:?}"),
    };
    let px = buf[..info.buffer_size()]
        .chunks(step)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width, info.height, px)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn series_chart_is_served_as_png() {
    let app = spawn_app(Db::Sqlite).await;
    let id = seed(&app).await;
    let (s, ctype, cache, png) =
        get(&app, &format!("/api/v1/series/{id}/chart.png?x=commit")).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&png));
    assert_eq!(ctype, "image/png");
    assert_eq!(cache, "max-age=60");
    assert_eq!(png[..8], PNG_SIGNATURE);
    // The first chunk is IHDR: length (13), type, then width and height big-endian.
    assert_eq!(&png[12..16], b"IHDR");
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    assert_eq!((be(16), be(20)), (800, 360));

    let (w, h, px) = decode(&png);
    assert_eq!((w, h), (800, 360));
    assert_eq!(px.len(), 800 * 360);
    let colours: HashSet<[u8; 3]> = px.iter().copied().collect();
    assert!(
        colours.len() > 20,
        "a blank image: {} colours",
        colours.len()
    );
    // The median line is drawn in the first series colour.
    assert!(px.contains(&[37, 99, 235]), "no median line");
    // The caption (top band: nothing but the title there) has anti-aliased glyphs,
    // which only the embedded font can have produced.
    let caption: HashSet<[u8; 3]> = px[..800 * 28].iter().copied().collect();
    let dark = px[..800 * 28]
        .iter()
        .filter(|p| p.iter().all(|&c| c < 100))
        .count();
    assert!(dark > 100, "no title text: {dark} dark pixels");
    assert!(caption.len() > 5, "glyphs are anti-aliased: {caption:?}");

    // The time axis and the same query keys as the page are accepted too.
    let (s, ctype, _, _) = get(
        &app,
        &format!("/api/v1/series/{id}/chart.png?x=time&scale=log"),
    )
    .await;
    assert_eq!((s, ctype.as_str()), (200, "image/png"));
    // The SVG of the same chart still works with the embedded font registered.
    let (s, ctype, cache, svg) =
        get(&app, &format!("/api/v1/series/{id}/chart.svg?x=commit")).await;
    assert_eq!(
        (s, ctype.as_str(), cache.as_str()),
        (200, "image/svg+xml", "max-age=60")
    );
    assert!(String::from_utf8(svg).unwrap().contains("Parse/json"));

    let (s, _, _, _) = get(&app, "/api/v1/series/999999/chart.png").await;
    assert_eq!(s, 404);
}
