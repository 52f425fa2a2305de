//! Seal/open throughput of one 4 MiB chunk (the upload chunk size).
//! Run via scripts/bench-crypto.sh, which compares it with `openssl speed`.

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use cloister_shared::crypto::stream::{
        Purpose, StreamOpener, StreamSealer, DEFAULT_CHUNK_SIZE,
    };
    use cloister_shared::{Dek, VideoId};
    use criterion::{black_box, Criterion, Throughput};

    pub fn stream(c: &mut Criterion) {
        let dek = Dek::from_bytes([7; 32]);
        let video = VideoId::from_bytes([1; 16]);
        let purpose = Purpose::Original;
        let cs = DEFAULT_CHUNK_SIZE;
        let plain = vec![0x5a_u8; cs as usize];
        let sealer = StreamSealer::new(&dek, &video, &purpose, cs).expect("sealer");
        let opener = StreamOpener::new(&dek, &video, &purpose, sealer.header()).expect("opener");
        let sealed = sealer.seal_chunk(3, &plain, false).expect("seal");

        let mut g = c.benchmark_group("stream");
        g.throughput(Throughput::Bytes(u64::from(cs)));
        g.bench_function("seal_4MiB", |b| {
            b.iter(|| sealer.seal_chunk(black_box(3), black_box(&plain), false))
        });
        g.bench_function("open_4MiB", |b| {
            b.iter(|| opener.open_chunk(black_box(3), black_box(&sealed), false))
        });
        g.finish();
    }
}

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_group!(benches, native::stream);
#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(benches);

// criterion is native-only; keep `--all-targets` builds for wasm compiling.
#[cfg(target_arch = "wasm32")]
fn main() {}
