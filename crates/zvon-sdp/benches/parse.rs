//! Parse and write speed on a real Chromium offer (audio, video with every codec, data).
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use zvon_sdp::SessionDescription;

const OFFER: &str = include_str!("../../../tests/data/sdp/chromium156-offer-audio-video-data.sdp");

fn bench(c: &mut Criterion) {
    c.bench_function("parse chromium156 AV+data offer", |b| {
        b.iter(|| SessionDescription::parse(black_box(OFFER)).unwrap())
    });
    let parsed = SessionDescription::parse(OFFER).unwrap();
    c.bench_function("write chromium156 AV+data offer", |b| {
        b.iter(|| black_box(&parsed).to_string())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
