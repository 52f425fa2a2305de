//! A benchmark, not a test: sealing and opening throughput of 4 MiB chunks inside a real browser
//! (wasm has no AES-NI, so this is what bounds a member's upload). It asserts nothing about speed;
//! `scripts/bench-browser-seal.sh` runs it in headless Chromium and prints the figures.
#![cfg(target_arch = "wasm32")]

use cloister_shared::crypto::stream::{Purpose, StreamOpener, StreamSealer, DEFAULT_CHUNK_SIZE};
use cloister_shared::{Dek, VideoId};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const ROUNDS: usize = 9;
const CHUNKS_PER_ROUND: u64 = 4;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[wasm_bindgen_test]
fn seal_and_open_throughput_in_the_browser() {
    let dek = Dek::generate().expect("dek");
    let video = VideoId::random().expect("id");
    let sealer =
        StreamSealer::new(&dek, &video, &Purpose::Original, DEFAULT_CHUNK_SIZE).expect("sealer");
    let opener =
        StreamOpener::new(&dek, &video, &Purpose::Original, sealer.header()).expect("opener");
    let plaintext = vec![0x5a_u8; DEFAULT_CHUNK_SIZE as usize];
    let bytes = DEFAULT_CHUNK_SIZE as f64 * CHUNKS_PER_ROUND as f64;
    let (mut seal_rates, mut open_rates) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let start = js_sys::Date::now();
        let sealed: Vec<Vec<u8>> = (0..CHUNKS_PER_ROUND)
            .map(|i| sealer.seal_chunk(i, &plaintext, false).expect("seal"))
            .collect();
        let sealed_ms = js_sys::Date::now() - start;
        let start = js_sys::Date::now();
        for (i, chunk) in sealed.iter().enumerate() {
            opener.open_chunk(i as u64, chunk, false).expect("open");
        }
        let opened_ms = js_sys::Date::now() - start;
        seal_rates.push(bytes / (sealed_ms.max(0.1) / 1000.0) / 1e6);
        open_rates.push(bytes / (opened_ms.max(0.1) / 1000.0) / 1e6);
    }
    console_log!(
        "BENCH browser seal MB/s median {:.1} (min {:.1}, max {:.1}); open MB/s median {:.1}",
        median(seal_rates.clone()),
        seal_rates.iter().copied().fold(f64::INFINITY, f64::min),
        seal_rates.iter().copied().fold(0.0, f64::max),
        median(open_rates)
    );
}

#[wasm_bindgen_test]
async fn webcrypto_seal_throughput_in_the_browser() {
    use cloister_shared::crypto::webcrypto::WebSealer;
    let dek = Dek::generate().expect("dek");
    let video = VideoId::random().expect("id");
    let portable =
        StreamSealer::new(&dek, &video, &Purpose::Original, DEFAULT_CHUNK_SIZE).expect("sealer");
    let sealer = WebSealer::new(&dek, &video, &Purpose::Original, portable.header())
        .await
        .expect("web sealer");
    let plaintext = vec![0x5a_u8; DEFAULT_CHUNK_SIZE as usize];
    let bytes = DEFAULT_CHUNK_SIZE as f64 * CHUNKS_PER_ROUND as f64;
    let mut rates = Vec::new();
    for _ in 0..ROUNDS {
        let start = js_sys::Date::now();
        for i in 0..CHUNKS_PER_ROUND {
            sealer.seal_chunk(i, &plaintext, false).await.expect("seal");
        }
        let ms = js_sys::Date::now() - start;
        rates.push(bytes / (ms.max(0.1) / 1000.0) / 1e6);
    }
    console_log!(
        "BENCH browser WebCrypto seal MB/s median {:.1}",
        median(rates)
    );
}
