//! GitHub Actions expressions (`${{ ... }}`): finding them in strings, and parsing them into a
//! small syntax tree with byte spans.
//!
//! The grammar is GitHub's: literals (`null`, `true`/`false`, numbers with hex and exponent
//! forms, `'strings'` with `''` escapes), contexts with property access (`a.b`), indexing
//! (`a['b']`, `a[0]`) and object filters (`a.*.b`), function calls, and the operators
//! `! == != < <= > >= && ||` with parentheses. Parsing is total: malformed input is an error,
//! never a panic, and nesting is bounded.

pub mod constant;
pub mod contexts;
pub mod sites;

use std::fmt;

use crate::source::{SourceFile, Span};
use crate::yaml::{Node, Style};

/// How deep expressions may nest before the parser gives up.
pub const MAX_DEPTH: usize = 64;
/// How many tokens one expression may have. Every syntax-tree node takes at least one token, so
/// this also bounds the tree's height (`a.b.c…` and `a && b && …` chains grow it without
/// nesting), and with it the recursion of every walker and of `Drop`. The longest expression in
/// the corpus has about 125 tokens.
pub const MAX_TOKENS: usize = 1024;

/// Why an expression could not be parsed; `span` is relative to the expression's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    pub message: String,
    pub span: Span,
    /// The expression is over one of the parser's limits (not merely malformed): GitHub may
    /// accept it, but ciguard cannot read it, so it is reported rather than skipped.
    pub over_limit: bool,
}

impl ExprError {
    fn new(message: impl Into<String>, span: Span) -> Self {
        Self {
            message: message.into(),
            span,
            over_limit: false,
        }
    }

    fn limit(message: impl Into<String>, span: Span) -> Self {
        Self {
            over_limit: true,
            ..Self::new(message, span)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }
}

/// A member access: `.name`, `.*`, or `[expr]`.
#[derive(Debug, Clone, PartialEq)]
pub enum Member {
    Field(String),
    Star,
    Index(Box<Expr>),
}

impl Member {
    /// The path segment this member selects.
    fn seg(&self) -> Seg {
        match self {
            Member::Field(n) => Seg::Name(n.to_ascii_lowercase()),
            Member::Star => Seg::Any,
            Member::Index(idx) => match &idx.kind {
                ExprKind::String(s) => Seg::Name(s.to_ascii_lowercase()),
                ExprKind::Number(_) => Seg::Any,
                _ => Seg::Dynamic,
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    /// A context name at the root of an access chain (`github`, `steps`, ...).
    Ident(String),
    Access {
        base: Box<Expr>,
        member: Member,
    },
    Call {
        name: String,
        args: Vec<Expr>,
    },
    Not(Box<Expr>),
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `( expr )`, kept so spans and "needless parentheses" can be seen.
    Group(Box<Expr>),
}

/// An expression node; `span` is relative to the text that was parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// One segment of a context path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A property name, lowercased (context names are case-insensitive).
    Name(String),
    /// `*`, or a numeric index: any element.
    Any,
    /// An index computed at run time (`a[b]`).
    Dynamic,
}

/// A context path such as `github.event.pull_request.title`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextPath {
    pub segs: Vec<Seg>,
}

impl ContextPath {
    pub fn root(&self) -> Option<&str> {
        match self.segs.first() {
            Some(Seg::Name(n)) => Some(n),
            _ => None,
        }
    }

    pub fn name(&self, i: usize) -> Option<&str> {
        match self.segs.get(i) {
            Some(Seg::Name(n)) => Some(n),
            _ => None,
        }
    }

    pub fn has_dynamic(&self) -> bool {
        self.segs.contains(&Seg::Dynamic)
    }
}

impl fmt::Display for ContextPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.segs.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            match seg {
                Seg::Name(n) => f.write_str(n)?,
                Seg::Any => f.write_str("*")?,
                Seg::Dynamic => f.write_str("[?]")?,
            }
        }
        Ok(())
    }
}

impl Expr {
    /// The context path this expression reads, when it is a plain access chain from a context
    /// (`github.event['issue'].title`, `steps.*.outputs`).
    pub fn context_path(&self) -> Option<ContextPath> {
        let mut segs = Vec::new();
        let mut cur = self;
        loop {
            match &cur.kind {
                ExprKind::Ident(name) => {
                    segs.push(Seg::Name(name.to_ascii_lowercase()));
                    break;
                }
                ExprKind::Access { base, member } => {
                    segs.push(member.seg());
                    cur = base;
                }
                _ => return None,
            }
        }
        segs.reverse();
        Some(ContextPath { segs })
    }

    /// Every maximal context access in this expression (the `a.b.c` of `contains(a.b.c, 'x')`),
    /// with its span. Accesses on a function result (`fromJSON(x).y`) give the call's arguments.
    pub fn contexts(&self) -> Vec<(ContextPath, Span)> {
        let mut out = Vec::new();
        self.collect_contexts(&mut out);
        out
    }

    fn collect_contexts(&self, out: &mut Vec<(ContextPath, Span)>) {
        if let Some(path) = self.context_path() {
            out.push((path, self.span));
            // Dynamic indexes read contexts too.
            self.visit_indexes(out);
            return;
        }
        match &self.kind {
            ExprKind::Access { base, member } => {
                base.collect_contexts(out);
                if let Member::Index(i) = member {
                    i.collect_contexts(out);
                }
            }
            ExprKind::Call { args, .. } => args.iter().for_each(|a| a.collect_contexts(out)),
            ExprKind::Not(e) | ExprKind::Group(e) => e.collect_contexts(out),
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.collect_contexts(out);
                rhs.collect_contexts(out);
            }
            _ => {}
        }
    }

    fn visit_indexes(&self, out: &mut Vec<(ContextPath, Span)>) {
        if let ExprKind::Access { base, member } = &self.kind {
            if let Member::Index(i) = member
                && !matches!(i.kind, ExprKind::String(_) | ExprKind::Number(_))
            {
                i.collect_contexts(out);
            }
            base.visit_indexes(out);
        }
    }

    /// The context accesses whose value can reach this expression's result: not those only
    /// compared or tested (`a == 'x'`, `contains(a, 'x')`), whose result is a boolean, nor the
    /// left side of `a && b` (it is the result only when falsy: `''`, `0`, `false` or `null`).
    /// A member of alternatives (`(a || b).number`) is that member of each alternative.
    pub fn value_contexts(&self) -> Vec<(ContextPath, Span)> {
        let mut out = Vec::new();
        self.collect_values(&mut out);
        out
    }

    fn collect_values(&self, out: &mut Vec<(ContextPath, Span)>) {
        if let Some(path) = self.context_path() {
            out.push((path, self.span));
            return;
        }
        match &self.kind {
            ExprKind::Access { base, member }
                if matches!(
                    base.ungroup().kind,
                    ExprKind::Binary {
                        op: BinOp::And | BinOp::Or,
                        ..
                    }
                ) =>
            {
                let mut alternatives = Vec::new();
                base.collect_values(&mut alternatives);
                out.extend(alternatives.into_iter().map(|(mut path, span)| {
                    path.segs.push(member.seg());
                    (path, span)
                }));
            }
            ExprKind::Access { base, .. } => base.collect_values(out),
            ExprKind::Group(e) => e.collect_values(out),
            ExprKind::Binary {
                op: BinOp::And,
                rhs,
                ..
            } => rhs.collect_values(out),
            ExprKind::Binary {
                op: BinOp::Or,
                lhs,
                rhs,
            } => {
                lhs.collect_values(out);
                rhs.collect_values(out);
            }
            ExprKind::Call { name, args } => match name.to_ascii_lowercase().as_str() {
                "format" | "tojson" | "fromjson" => args.iter().for_each(|a| a.collect_values(out)),
                "join" => {
                    if let Some(a) = args.first() {
                        a.collect_values(out);
                    }
                }
                "case" => {
                    for (i, a) in args.iter().enumerate() {
                        if i % 2 == 1 || i + 1 == args.len() {
                            a.collect_values(out);
                        }
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }

    /// Calls every node, parents before children.
    pub fn walk<'e>(&'e self, f: &mut dyn FnMut(&'e Expr)) {
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            f(e);
            match &e.kind {
                ExprKind::Access { base, member } => {
                    if let Member::Index(i) = member {
                        stack.push(i);
                    }
                    stack.push(base);
                }
                ExprKind::Call { args, .. } => stack.extend(args.iter().rev()),
                ExprKind::Not(x) | ExprKind::Group(x) => stack.push(x),
                ExprKind::Binary { lhs, rhs, .. } => {
                    stack.push(rhs);
                    stack.push(lhs);
                }
                _ => {}
            }
        }
    }

    /// The expression without enclosing parentheses.
    pub fn ungroup(&self) -> &Expr {
        let mut e = self;
        while let ExprKind::Group(inner) = &e.kind {
            e = inner;
        }
        e
    }

    pub fn is_literal(&self) -> bool {
        matches!(
            self.ungroup().kind,
            ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) | ExprKind::String(_)
        )
    }

    /// The function name, lowercased, when this is a call.
    pub fn call_name(&self) -> Option<String> {
        match &self.kind {
            ExprKind::Call { name, .. } => Some(name.to_ascii_lowercase()),
            _ => None,
        }
    }
}

/// Known functions and their accepted argument counts (`max = usize::MAX` for variadic).
const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("contains", 2, 2),
    ("startswith", 2, 2),
    ("endswith", 2, 2),
    ("format", 1, usize::MAX),
    ("join", 1, 2),
    ("tojson", 1, 1),
    ("fromjson", 1, 1),
    ("hashfiles", 1, usize::MAX),
    ("success", 0, 0),
    ("always", 0, 0),
    ("cancelled", 0, 0),
    ("failure", 0, usize::MAX),
    ("case", 3, usize::MAX),
];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
    Comma,
    Star,
    Not,
    Op(BinOp),
    Ident(String),
    Number(f64),
    Str(String),
}

fn lex(src: &str) -> Result<Vec<(Tok, Span)>, ExprError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let two = bytes.get(i + 1).copied();
        let tok = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b'[' => Tok::LBracket,
            b']' => Tok::RBracket,
            b'.' => Tok::Dot,
            b',' => Tok::Comma,
            b'*' => Tok::Star,
            b'!' if two == Some(b'=') => {
                i += 1;
                Tok::Op(BinOp::Ne)
            }
            b'!' => Tok::Not,
            b'=' if two == Some(b'=') => {
                i += 1;
                Tok::Op(BinOp::Eq)
            }
            b'<' | b'>' => {
                let eq = two == Some(b'=');
                if eq {
                    i += 1;
                }
                Tok::Op(match (c, eq) {
                    (b'<', false) => BinOp::Lt,
                    (b'<', true) => BinOp::Le,
                    (_, false) => BinOp::Gt,
                    (_, true) => BinOp::Ge,
                })
            }
            b'&' if two == Some(b'&') => {
                i += 1;
                Tok::Op(BinOp::And)
            }
            b'|' if two == Some(b'|') => {
                i += 1;
                Tok::Op(BinOp::Or)
            }
            b'\'' => {
                let mut value = String::new();
                let mut j = i + 1;
                loop {
                    match bytes.get(j) {
                        None => {
                            return Err(ExprError::new(
                                "unterminated string",
                                Span::new(start, bytes.len()),
                            ));
                        }
                        Some(b'\'') if bytes.get(j + 1) == Some(&b'\'') => {
                            value.push('\'');
                            j += 2;
                        }
                        Some(b'\'') => break,
                        Some(_) => {
                            let ch_len = src[j..].chars().next().map_or(1, char::len_utf8);
                            value.push_str(&src[j..j + ch_len]);
                            j += ch_len;
                        }
                    }
                }
                i = j;
                Tok::Str(value)
            }
            b'0'..=b'9' | b'-' | b'+' => {
                let mut j = i + 1;
                while j < bytes.len()
                    && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'.' || bytes[j] == b'_')
                {
                    // An exponent sign: `1e-5`.
                    j += 1;
                    if matches!(bytes[j - 1], b'e' | b'E')
                        && !src[i..].starts_with("0x")
                        && matches!(bytes.get(j), Some(b'+' | b'-'))
                    {
                        j += 1;
                    }
                }
                // `a.0.b` style segments are lexed by the parser from the raw text.
                let text = &src[i..j];
                let Some(n) = parse_number(text) else {
                    return Err(ExprError::new(
                        format!("invalid number `{text}`"),
                        Span::new(start, j),
                    ));
                };
                i = j - 1;
                Tok::Number(n)
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = i + 1;
                while j < bytes.len()
                    && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_' || bytes[j] == b'-')
                {
                    j += 1;
                }
                let word = &src[i..j];
                i = j - 1;
                Tok::Ident(word.to_owned())
            }
            _ => {
                let ch_len = src[i..].chars().next().map_or(1, char::len_utf8);
                let ch = &src[i..i + ch_len];
                return Err(ExprError::new(
                    format!("unexpected character `{ch}`"),
                    Span::new(start, i + ch_len),
                ));
            }
        };
        i += 1;
        if out.len() == MAX_TOKENS {
            return Err(ExprError::limit(
                format!("expression has more than {MAX_TOKENS} tokens"),
                Span::new(start, i),
            ));
        }
        out.push((tok, Span::new(start, i)));
    }
    Ok(out)
}

fn parse_number(text: &str) -> Option<f64> {
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let value = if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i64::from_str_radix(hex, 16).ok()? as f64
    } else if let Some(oct) = body.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()? as f64
    } else {
        if body.is_empty() || !body.as_bytes()[0].is_ascii_digit() && body.as_bytes()[0] != b'.' {
            return None;
        }
        if body.contains('_') || body.contains("inf") || body.contains("nan") {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    Some(if neg { -value } else { value })
}

struct Parser<'s> {
    src: &'s str,
    toks: Vec<(Tok, Span)>,
    pos: usize,
    depth: usize,
}

impl<'s> Parser<'s> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    fn span_here(&self) -> Span {
        self.toks
            .get(self.pos)
            .map_or(Span::new(self.src.len(), self.src.len()), |(_, s)| *s)
    }

    fn prev_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|p| self.toks.get(p))
            .map_or(0, |(_, s)| s.end)
    }

    fn bump(&mut self) -> Option<(Tok, Span)> {
        // Tokens are taken once, front to back (of earlier ones only the spans are read again),
        // so the token moves out rather than being copied with its string.
        let (tok, span) = self.toks.get_mut(self.pos)?;
        let taken = (std::mem::replace(tok, Tok::Comma), *span);
        self.pos += 1;
        Some(taken)
    }

    fn expect(&mut self, want: &Tok, what: &str) -> Result<Span, ExprError> {
        match self.bump() {
            Some((t, s)) if &t == want => Ok(s),
            Some((_, s)) => Err(ExprError::new(format!("expected {what}"), s)),
            None => Err(ExprError::new(
                format!("expected {what}, found the end"),
                self.span_here(),
            )),
        }
    }

    fn enter(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::limit(
                format!("expression nests deeper than {MAX_DEPTH} levels"),
                self.span_here(),
            ));
        }
        Ok(())
    }

    fn binary(&mut self, level: usize) -> Result<Expr, ExprError> {
        const LEVELS: &[&[BinOp]] = &[
            &[BinOp::Or],
            &[BinOp::And],
            &[BinOp::Eq, BinOp::Ne],
            &[BinOp::Lt, BinOp::Le, BinOp::Gt, BinOp::Ge],
        ];
        let Some(ops) = LEVELS.get(level) else {
            return self.unary();
        };
        let mut lhs = self.binary(level + 1)?;
        while let Some(Tok::Op(op)) = self.peek() {
            let op = *op;
            if !ops.contains(&op) {
                break;
            }
            self.pos += 1;
            let rhs = self.binary(level + 1)?;
            let span = lhs.span.cover(rhs.span);
            lhs = Expr {
                kind: ExprKind::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            };
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        if self.peek() == Some(&Tok::Not) {
            let (_, s) = self.bump().unwrap_or((Tok::Not, self.span_here()));
            self.enter()?;
            let inner = self.unary()?;
            let span = s.cover(inner.span);
            self.depth -= 1;
            return Ok(Expr {
                kind: ExprKind::Not(Box::new(inner)),
                span,
            });
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Expr, ExprError> {
        let mut e = self.primary()?;
        loop {
            match self.peek() {
                Some(Tok::Dot) => {
                    self.pos += 1;
                    let member = match self.bump() {
                        Some((Tok::Ident(n), _)) => Member::Field(n),
                        Some((Tok::Star, _)) => Member::Star,
                        // `a.0` and `a.1e` style names: take the raw text.
                        Some((Tok::Number(_), s)) => {
                            Member::Field(self.src[s.start..s.end].to_owned())
                        }
                        Some((_, s)) => {
                            return Err(ExprError::new("expected a property name after `.`", s));
                        }
                        None => {
                            return Err(ExprError::new(
                                "expected a property name after `.`",
                                self.span_here(),
                            ));
                        }
                    };
                    let span = Span::new(e.span.start, self.prev_end());
                    e = Expr {
                        kind: ExprKind::Access {
                            base: Box::new(e),
                            member,
                        },
                        span,
                    };
                }
                Some(Tok::LBracket) => {
                    self.pos += 1;
                    self.enter()?;
                    let member = if self.peek() == Some(&Tok::Star) {
                        self.pos += 1;
                        Member::Star
                    } else {
                        Member::Index(Box::new(self.binary(0)?))
                    };
                    self.expect(&Tok::RBracket, "`]`")?;
                    self.depth -= 1;
                    let span = Span::new(e.span.start, self.prev_end());
                    e = Expr {
                        kind: ExprKind::Access {
                            base: Box::new(e),
                            member,
                        },
                        span,
                    };
                }
                _ => return Ok(e),
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        let Some((tok, span)) = self.bump() else {
            return Err(ExprError::new(
                "expected an expression, found the end",
                self.span_here(),
            ));
        };
        let kind = match tok {
            Tok::Number(n) => ExprKind::Number(n),
            Tok::Str(s) => ExprKind::String(s),
            Tok::LParen => {
                self.enter()?;
                let inner = self.binary(0)?;
                self.expect(&Tok::RParen, "`)`")?;
                self.depth -= 1;
                return Ok(Expr {
                    kind: ExprKind::Group(Box::new(inner)),
                    span: Span::new(span.start, self.prev_end()),
                });
            }
            Tok::Ident(word) => {
                if self.peek() == Some(&Tok::LParen) {
                    return self.call(word, span);
                }
                match word.as_str() {
                    "null" => ExprKind::Null,
                    "true" => ExprKind::Bool(true),
                    "false" => ExprKind::Bool(false),
                    "NaN" => ExprKind::Number(f64::NAN),
                    "Infinity" => ExprKind::Number(f64::INFINITY),
                    _ => ExprKind::Ident(word),
                }
            }
            _ => {
                return Err(ExprError::new(
                    "expected a value, a context or a function call",
                    span,
                ));
            }
        };
        Ok(Expr { kind, span })
    }

    fn call(&mut self, name: String, name_span: Span) -> Result<Expr, ExprError> {
        let lower = name.to_ascii_lowercase();
        let Some(&(_, min, max)) = FUNCTIONS.iter().find(|(n, _, _)| *n == lower) else {
            return Err(ExprError::new(
                format!("unknown function `{name}`"),
                name_span,
            ));
        };
        self.pos += 1; // `(`
        self.enter()?;
        let mut args = Vec::new();
        if self.peek() != Some(&Tok::RParen) {
            loop {
                args.push(self.binary(0)?);
                if self.peek() == Some(&Tok::Comma) {
                    self.pos += 1;
                    continue;
                }
                break;
            }
        }
        self.expect(&Tok::RParen, "`,` or `)`")?;
        self.depth -= 1;
        let span = Span::new(name_span.start, self.prev_end());
        if args.len() < min || args.len() > max {
            return Err(ExprError::new(
                format!(
                    "`{name}` takes {} arguments, not {}",
                    if min == max {
                        min.to_string()
                    } else {
                        format!("at least {min}")
                    },
                    args.len()
                ),
                span,
            ));
        }
        Ok(Expr {
            kind: ExprKind::Call { name, args },
            span,
        })
    }
}

/// Parses the text between `${{` and `}}` (or a bare `if:` condition).
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    let toks = lex(src)?;
    if toks.is_empty() {
        return Err(ExprError::new("empty expression", Span::new(0, src.len())));
    }
    let mut p = Parser {
        src,
        toks,
        pos: 0,
        depth: 0,
    };
    let e = p.binary(0)?;
    if let Some((_, s)) = p.toks.get(p.pos) {
        return Err(ExprError::new("unexpected text after the expression", *s));
    }
    Ok(e)
}

/// One `${{ ... }}` in a string.
#[derive(Debug, Clone)]
pub struct Expansion<'s> {
    /// The whole `${{ ... }}`, as byte offsets into the string.
    pub span: Span,
    /// The text between the braces, and where it starts in the string.
    pub body: &'s str,
    pub body_start: usize,
    /// The parsed body; spans inside are relative to `body`.
    pub parsed: Result<Expr, ExprError>,
}

impl Expansion<'_> {
    /// A span of the parsed expression, made relative to the string.
    pub fn to_outer(&self, inner: Span) -> Span {
        Span::new(self.body_start + inner.start, self.body_start + inner.end)
    }

    pub fn expr(&self) -> Option<&Expr> {
        self.parsed.as_ref().ok()
    }
}

/// Every `${{ ... }}` in `text`, in order. An unterminated one ends the scan.
pub fn expansions(text: &str) -> Vec<Expansion<'_>> {
    expansion_bounds(text)
        .into_iter()
        .map(|(span, body_start, body_end)| {
            let body = &text[body_start..body_end];
            let parsed = if span.end == body_end {
                Err(ExprError::new(
                    "`${{` is never closed with `}}`",
                    Span::new(0, body.len()),
                ))
            } else {
                parse(body)
            };
            Expansion {
                span,
                body,
                body_start,
                parsed,
            }
        })
        .collect()
}

/// Where each `${{ ... }}` of `text` is, without parsing it: the whole span, and where its
/// body starts and ends. An unterminated one runs to the end of the text (its span then ends
/// where its body does) and ends the scan.
pub(crate) fn expansion_bounds(text: &str) -> Vec<(Span, usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(rel) = text.get(from..).and_then(|t| t.find("${{")) {
        let start = from + rel;
        let body_start = start + 3;
        let mut i = body_start;
        let mut in_str = false;
        let mut end = None;
        while i < bytes.len() {
            match bytes[i] {
                b'\'' if in_str && bytes.get(i + 1) == Some(&b'\'') => i += 1,
                b'\'' => in_str = !in_str,
                b'}' if !in_str && bytes.get(i + 1) == Some(&b'}') => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        let Some(body_end) = end else {
            out.push((Span::new(start, text.len()), body_start, text.len()));
            break;
        };
        out.push((Span::new(start, body_end + 2), body_start, body_end));
        from = body_end + 2;
    }
    out
}

/// Maps a byte range of a scalar node's value to the file, when that can be done exactly; else
/// gives the node's span. The range is located by its text: the n-th occurrence in the value is
/// the n-th in the node's source, provided both hold the same number of occurrences (escapes,
/// folding and quoting then cannot have moved it).
pub fn value_span_to_file(file: &SourceFile, node: Node<'_>, value_span: Span) -> Span {
    let fallback = node.span();
    let Some(value) = node.as_str() else {
        return fallback;
    };
    let Some(needle) = value.get(value_span.start..value_span.end) else {
        return fallback;
    };
    if needle.is_empty() {
        return fallback;
    }
    let raw = file.slice(node.span());
    // For block scalars, skip the header line (`|` and a possible comment).
    let skip = match node.style() {
        Some(Style::Literal | Style::Folded) => raw.find('\n').map_or(raw.len(), |i| i + 1),
        _ => 0,
    };
    let body = &raw[skip..];
    let nth = value[..value_span.start].matches(needle).count();
    let count_value = value.matches(needle).count();
    let count_raw = body.matches(needle).count();
    if count_value != count_raw {
        return fallback;
    }
    match body.match_indices(needle).nth(nth) {
        Some((i, _)) => {
            let start = node.span().start + skip + i;
            Span::new(start, start + needle.len())
        }
        None => fallback,
    }
}

/// The file span of one expansion (or a part of it) of a scalar node.
pub fn expansion_file_span(file: &SourceFile, node: Node<'_>, span_in_value: Span) -> Span {
    value_span_to_file(file, node, span_in_value)
}

#[cfg(test)]
mod tests;
