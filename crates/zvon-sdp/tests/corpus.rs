//! Every session description in `tests/data/sdp/` (real browser and server output) parses,
//! survives a write and re-parse unchanged, and carries the facts checked for it below. A file
//! added to the directory becomes a case by itself.

use std::fs;
use std::path::PathBuf;

use zvon_sdp::SessionDescription;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/sdp")
}

fn corpus() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = fs::read_dir(corpus_dir())
        .expect("corpus directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sdp"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read_to_string(&p).expect("read"))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn whole_corpus_round_trips() {
    let files = corpus();
    assert!(files.len() >= 20, "corpus has only {} files", files.len());
    for (name, text) in &files {
        let parsed = SessionDescription::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let written = parsed.to_string();
        let reparsed =
            SessionDescription::parse(&written).unwrap_or_else(|e| panic!("{name} rewritten: {e}"));
        assert_eq!(
            reparsed, parsed,
            "{name}: parse(write(parse(x))) != parse(x)"
        );
        let exact = written == *text;
        let crlf = written == text.replace("\r\n", "\n").replace('\n', "\r\n");
        println!("{name}: byte-identical {exact}, identical after LF->CRLF {crlf}");
        if !crlf {
            for (a, b) in text.lines().zip(written.lines()) {
                if a.trim_end() != b {
                    println!("   {a:?}\n-> {b:?}");
                }
            }
        }
    }
}
