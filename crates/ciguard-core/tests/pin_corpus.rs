//! Pins every `uses:` of every corpus file to a made-up SHA and checks that each rewrite verifies
//! (only `uses` values and their comments change). Ignored by default: the corpus sits outside
//! the repository (`../shared/corpus`); run with `--ignored`.

use std::path::Path;

use ciguard_core::pin::{PinError, Replacement, SiteKind, find_sites, rewrite};
use ciguard_core::yaml::{Document, Limits};
use ciguard_core::{FileKind, SourceFile};

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
            out.push(p);
        }
    }
}

#[test]
#[ignore = "needs ../shared/corpus"]
fn every_corpus_file_pins_cleanly() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../../shared/corpus");
    let corpus = if corpus.exists() {
        corpus
    } else {
        Path::new("/work/shared/corpus").to_path_buf()
    };
    let mut paths = Vec::new();
    files(&corpus, &mut paths);
    let (mut pinned, mut sites_total, mut unsupported) = (0, 0, 0);
    for path in paths {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let kind = if name.starts_with("action.") {
            FileKind::Action
        } else if path.to_string_lossy().contains(".github/workflows") {
            FileKind::Workflow
        } else {
            continue;
        };
        let file = SourceFile::new(path.display().to_string(), kind, text);
        let Ok(doc) = Document::parse(&file, &Limits::default()) else {
            continue;
        };
        let sites = find_sites(&file, &doc);
        let reps: Vec<Replacement> = sites
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                s.kind != SiteKind::Image
                    && !s.value.starts_with("./")
                    && s.value.contains('@')
                    && !s.value.contains("${{")
            })
            .map(|(i, s)| Replacement {
                site: i,
                value: format!(
                    "{}@0123456789abcdef0123456789abcdef01234567",
                    s.value.split('@').next().unwrap_or("")
                ),
                comment: Some("v1.2.3".into()),
            })
            .collect();
        sites_total += reps.len();
        match rewrite(&file, &sites, &reps) {
            Ok(_) => pinned += 1,
            Err(PinError::Unsupported { .. }) => unsupported += 1,
            Err(e) => panic!("{}: {e}", file.path),
        }
    }
    println!("pinned {pinned} files ({sites_total} uses), {unsupported} refused as unsupported");
    assert!(pinned > 1000);
}
