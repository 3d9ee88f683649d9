use super::*;
use crate::source::FileKind;
use crate::yaml::{Document, Limits};

fn ok(src: &str) -> Expr {
    parse(src).unwrap_or_else(|e| panic!("{src}: {e}"))
}

#[test]
fn literals() {
    assert_eq!(ok("null").kind, ExprKind::Null);
    assert_eq!(ok(" true ").kind, ExprKind::Bool(true));
    assert_eq!(ok("false").kind, ExprKind::Bool(false));
    assert_eq!(ok("42").kind, ExprKind::Number(42.0));
    assert_eq!(ok("-2.5").kind, ExprKind::Number(-2.5));
    assert_eq!(ok("0xff").kind, ExprKind::Number(255.0));
    assert_eq!(ok("1e3").kind, ExprKind::Number(1000.0));
    assert_eq!(ok("1.5e-2").kind, ExprKind::Number(0.015));
    assert_eq!(ok("'it''s'").kind, ExprKind::String("it's".into()));
    assert_eq!(ok("'héllo'").kind, ExprKind::String("héllo".into()));
    assert_eq!(ok("''").kind, ExprKind::String(String::new()));
}

#[test]
fn contexts_and_access() {
    let e = ok("github.event.pull_request.title");
    assert_eq!(
        e.context_path().unwrap().to_string(),
        "github.event.pull_request.title"
    );
    assert_eq!(e.span, Span::new(0, 31));
    let e = ok("github['event'].commits[0].author.*.name");
    assert_eq!(
        e.context_path().unwrap().to_string(),
        "github.event.commits.*.author.*.name"
    );
    let e = ok("steps.my-step.outputs.value");
    assert_eq!(
        e.context_path().unwrap().to_string(),
        "steps.my-step.outputs.value"
    );
    let e = ok("secrets[format('{0}_TOKEN', matrix.env)]");
    let path = e.context_path().unwrap();
    assert!(path.has_dynamic());
    let names: Vec<String> = e.contexts().iter().map(|(p, _)| p.to_string()).collect();
    assert_eq!(names, ["secrets.[?]", "matrix.env"]);
}

#[test]
fn calls_and_operators() {
    let e = ok("contains(github.event.pull_request.labels.*.name, 'ok') && !cancelled()");
    let ExprKind::Binary {
        op: BinOp::And,
        lhs,
        rhs,
    } = &e.kind
    else {
        panic!("{e:?}")
    };
    assert_eq!(lhs.call_name().as_deref(), Some("contains"));
    assert!(matches!(rhs.kind, ExprKind::Not(_)));
    let e = ok("a == 1 || b != 'x' && c < 2 || d >= 3");
    let ExprKind::Binary { op: BinOp::Or, .. } = &e.kind else {
        panic!()
    };
    let e = ok("(github.ref == 'refs/heads/main') && 'yes' || 'no'");
    assert!(matches!(e.kind, ExprKind::Binary { op: BinOp::Or, .. }));
    for f in [
        "startsWith(a, 'b')",
        "endsWith(a, 'b')",
        "format('{0}', a)",
        "join(a.*.b, ',')",
        "join(a)",
        "toJSON(github)",
        "fromJSON('[1]')[0]",
        "hashFiles('**/x', 'y')",
        "success()",
        "always()",
        "failure()",
        "case(a, 'b', 'c')",
        "fromJson(steps.x.outputs.y).z",
    ] {
        ok(f);
    }
    let e = ok("fromJSON(steps.x.outputs.y).z");
    let ctx: Vec<String> = e.contexts().iter().map(|(p, _)| p.to_string()).collect();
    assert_eq!(ctx, ["steps.x.outputs.y"]);
}

#[test]
fn spans_point_at_the_text() {
    let src = "format('{0}', github.head_ref)";
    let e = ok(src);
    let (path, span) = &e.contexts()[0];
    assert_eq!(path.to_string(), "github.head_ref");
    assert_eq!(&src[span.start..span.end], "github.head_ref");
}

#[test]
fn malformed_input_is_an_error() {
    for bad in [
        "",
        "(",
        ")",
        "a.",
        "a[",
        "a[0",
        "'x",
        "a ==",
        "== a",
        "foo(",
        "nope(1)",
        "contains(a)",
        "a b",
        "1..2",
        "$",
        "a.b}",
        "!",
        "a &",
        "a | b",
        "[1]",
        "a.(b)",
        "0x",
        "-",
        "'\u{1F600}",
        "fromJSON(",
        "format()",
        "always(1)",
    ] {
        assert!(parse(bad).is_err(), "{bad:?} parsed");
    }
}

#[test]
fn deep_nesting_is_bounded() {
    let deep = format!("{}a{}", "(".repeat(100), ")".repeat(100));
    assert!(parse(&deep).unwrap_err().message.contains("deeper"));
    let deep = format!("{}a{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(parse(&deep).unwrap_err().over_limit);
    let nots = format!("{}a", "!".repeat(10_000));
    assert!(parse(&nots).is_err());
    let idx = format!("a{}", "[a".repeat(10_000));
    assert!(parse(&idx).is_err());
    // Chains grow the tree without nesting: bounded by the token count instead.
    let within = vec!["a"; MAX_TOKENS / 2].join(" || ");
    assert!(parse(&within).is_ok());
    for long in [
        vec!["a"; 5_000].join(" || "),
        format!("github{}", ".a".repeat(35_000)),
        format!("github{}", "[0]".repeat(50_000)),
    ] {
        let err = parse(&long).unwrap_err();
        assert!(err.over_limit && err.message.contains("tokens"), "{err}");
    }
    let deep = parse(&"format(".repeat(20_000)).unwrap_err();
    assert!(deep.over_limit, "{deep}");
    // A malformed expression is not a limit.
    assert!(!parse("a ==").unwrap_err().over_limit);
}

#[test]
fn never_panics_on_junk() {
    let alphabet = [
        "(", ")", "[", "]", ".", ",", "*", "!", "=", "<", ">", "&", "|", "'", "a", "1", "-", "x(",
        "é", " ", "0x", "e",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20_000 {
        let mut s = String::new();
        for _ in 0..(seed % 12) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            s.push_str(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        let _ = parse(&s);
        let _ = expansions(&format!("x ${{{{ {s} }}}} y ${{{{ {s}"));
    }
}

#[test]
fn finds_expansions_with_offsets() {
    let text = "echo ${{ github.event.issue.title }} and ${{ '}}' }} ${{ 1 }}";
    let found = expansions(text);
    assert_eq!(found.len(), 3);
    assert_eq!(
        &text[found[0].span.start..found[0].span.end],
        "${{ github.event.issue.title }}"
    );
    assert_eq!(found[0].body, " github.event.issue.title ");
    assert_eq!(&text[found[1].span.start..found[1].span.end], "${{ '}}' }}");
    assert_eq!(found[1].expr().unwrap().kind, ExprKind::String("}}".into()));
    let inner = found[0].expr().unwrap().span;
    assert_eq!(
        &text[found[0].to_outer(inner).start..found[0].to_outer(inner).end],
        "github.event.issue.title"
    );
    let open = expansions("a ${{ b");
    assert_eq!(open.len(), 1);
    assert!(open[0].parsed.is_err());
    assert!(expansions("no expressions $ { {").is_empty());
}

fn doc(text: &str) -> (SourceFile, Document) {
    let file = SourceFile::new("t.yml", FileKind::Workflow, text.to_owned());
    let doc = Document::parse(&file, &Limits::default()).unwrap();
    (file, doc)
}

fn mapped(text: &str, key: &str, which: usize) -> String {
    let (file, doc) = doc(text);
    let node = doc.root().unwrap().get(key).unwrap();
    let value = node.as_str().unwrap();
    let exp = &expansions(value)[which];
    let span = value_span_to_file(&file, node, exp.span);
    file.slice(span).to_owned()
}

#[test]
fn maps_expansions_into_the_file() {
    let t = "a: echo ${{ x }} ${{ x }}\nb: |\n  echo ${{ x }}\n    ${{ y }}\nc: 'it''s ${{ z }}'\nd: \"q\\t${{ w }}\"\ne: >\n  one ${{ v }}\n  two\n";
    assert_eq!(mapped(t, "a", 1), "${{ x }}");
    let (file, doc) = doc(t);
    let a = doc.root().unwrap().get("a").unwrap();
    let second = expansions(a.as_str().unwrap())[1].span;
    assert_eq!(
        value_span_to_file(&file, a, second).start,
        t.find("${{ x }}\n").unwrap()
    );
    assert_eq!(mapped(t, "b", 1), "${{ y }}");
    assert_eq!(mapped(t, "c", 0), "${{ z }}");
    assert_eq!(mapped(t, "d", 0), "${{ w }}");
    assert_eq!(mapped(t, "e", 0), "${{ v }}");
}

#[test]
fn falls_back_to_the_node_when_not_exact() {
    // An escape inside the expansion: the value's text is not in the file.
    let t = "a: \"${{ '\\x41' }}\"\n";
    assert_eq!(mapped(t, "a", 0), "\"${{ '\\x41' }}\"");
    // A folded line break inside it.
    let t = "a: >\n  ${{ x\n  }}\n";
    assert_eq!(mapped(t, "a", 0), ">\n  ${{ x\n  }}");
}

/// The tallest trees the limits allow are walked, cloned and dropped (all recursive) on a
/// thread with half the default 2 MiB thread stack (debug frames are large): the token cap, not
/// the stack size, bounds the recursion.
#[test]
fn tallest_allowed_trees_fit_a_small_stack() {
    let chains = [
        format!("github{}", ".a".repeat(MAX_TOKENS / 2 - 1)),
        format!("github{}", "[0]".repeat(MAX_TOKENS / 3 - 1)),
        vec!["a.b"; MAX_TOKENS / 4].join(" && "),
        format!(
            "{}a{}",
            "(".repeat(MAX_DEPTH - 1),
            ")".repeat(MAX_DEPTH - 1)
        ),
    ];
    let walked = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(move || {
            let mut nodes = 0;
            for text in &chains {
                let e = parse(text).unwrap_or_else(|err| panic!("{err}: {text}"));
                nodes += e.contexts().len() + e.value_contexts().len();
                let copy = e.clone();
                assert!(copy == e);
                e.walk(&mut |_| nodes += 1);
            }
            nodes
        })
        .unwrap()
        .join()
        .expect("no stack overflow");
    assert!(walked > MAX_TOKENS, "{walked}");
}

#[test]
fn expressions_over_the_limits_are_a_warning_at_their_line() {
    let long = format!("github{}", ".a".repeat(MAX_TOKENS));
    let t = format!(
        "jobs:\n  a:\n    steps:\n      - run: echo ${{{{ {long} }}}} ${{{{ {long} }}}}\n      - if: {long}\n      - run: echo ${{{{ a == }}}} ${{{{ github.sha }}}}\n"
    );
    let (file, parsed) = doc(&t);
    let d = super::sites::over_limit(&file, parsed.root().unwrap()).expect("a diagnostic");
    assert_eq!(d.level, crate::diagnostic::Level::Warning);
    assert_eq!((d.line, d.column), (Some(4), Some(19)), "{d}");
    assert!(d.message.contains("more than 1024 tokens"), "{d}");
    assert!(d.message.contains("(2 more in this file)"), "{d}");
    // Malformed or ordinary expressions are not reported.
    let ok = "on: push\nx: ${{ a == }} ${{ github.event.issue.title }}\n";
    let (file, parsed) = doc(ok);
    assert!(super::sites::over_limit(&file, parsed.root().unwrap()).is_none());
}
