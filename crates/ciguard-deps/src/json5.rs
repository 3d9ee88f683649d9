//! A small span-carrying reader for JSON and the JSON5 that Renovate accepts: comments, trailing
//! commas, single-quoted strings, unquoted keys, hexadecimal and signed numbers. Every value
//! carries the byte range it came from, so findings point into `package-lock.json` or
//! `renovate.json5` exactly. Depth is bounded; errors carry the byte offset.

use ciguard_core::Span;

const MAX_DEPTH: usize = 256;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Node>),
    Object(Vec<(Key, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The last entry named `key` (JSON's usual "last one wins").
    pub fn entry(&self, key: &str) -> Option<(&Key, &Node)> {
        match &self.value {
            Value::Object(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| k.name == key)
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(Key, Node)] {
        match &self.value {
            Value::Object(entries) => entries,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Array(items) => items,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self.value {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Node::as_str)
    }

    pub fn is_object(&self) -> bool {
        matches!(self.value, Value::Object(_))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub offset: usize,
    pub message: String,
}

/// Parses one JSON5 document (plain JSON is JSON5).
pub fn parse(text: &str) -> Result<Node, Error> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
    };
    p.skip_ws()?;
    let node = p.value(0)?;
    p.skip_ws()?;
    if p.pos < p.s.len() {
        return Err(p.err("unexpected text after the end of the document"));
    }
    Ok(node)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, message: impl Into<String>) -> Error {
        Error {
            offset: self.pos.min(self.s.len()),
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) -> Result<(), Error> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) => self.pos += 1,
                Some(b'/') if self.s.get(self.pos + 1) == Some(&b'/') => {
                    while let Some(c) = self.peek() {
                        if c == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                Some(b'/') if self.s.get(self.pos + 1) == Some(&b'*') => {
                    let start = self.pos;
                    self.pos += 2;
                    loop {
                        match self.peek() {
                            None => {
                                self.pos = start;
                                return Err(self.err("unterminated `/*` comment"));
                            }
                            Some(b'*') if self.s.get(self.pos + 1) == Some(&b'/') => {
                                self.pos += 2;
                                break;
                            }
                            Some(_) => self.pos += 1,
                        }
                    }
                }
                Some(0xEF) if self.s[self.pos..].starts_with(&[0xEF, 0xBB, 0xBF]) => self.pos += 3,
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, Error> {
        if depth > MAX_DEPTH {
            return Err(self.err(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        let start = self.pos;
        let value = match self.peek() {
            None => return Err(self.err("unexpected end of the document, expected a value")),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(q @ (b'"' | b'\'')) => Value::String(self.string(q)?),
            Some(b'-' | b'+' | b'.' | b'0'..=b'9') => self.number()?,
            Some(c) if c.is_ascii_alphabetic() => {
                let word = self.ident();
                match word.as_str() {
                    "null" => Value::Null,
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "Infinity" => Value::Number(f64::INFINITY),
                    "NaN" => Value::Number(f64::NAN),
                    _ => {
                        self.pos = start;
                        return Err(self.err(format!("unexpected `{word}`, expected a value")));
                    }
                }
            }
            Some(_) => {
                let c = self.text[self.pos..].chars().next().unwrap_or('?');
                return Err(self.err(format!("unexpected `{c}`, expected a value")));
            }
        };
        Ok(Node {
            value,
            span: Span::new(start, self.pos),
        })
    }

    fn ident(&mut self) -> String {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 {
                self.pos += 1;
            } else {
                break;
            }
        }
        String::from_utf8_lossy(&self.s[start..self.pos]).into_owned()
    }

    fn object(&mut self, depth: usize) -> Result<Value, Error> {
        self.pos += 1;
        let mut entries = Vec::new();
        loop {
            self.skip_ws()?;
            match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(entries));
                }
                None => return Err(self.err("unterminated object: missing `}`")),
                _ => {}
            }
            let kstart = self.pos;
            let name = match self.peek() {
                Some(q @ (b'"' | b'\'')) => self.string(q)?,
                Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b'$' => self.ident(),
                _ => return Err(self.err("expected a key or `}`")),
            };
            let key = Key {
                name,
                span: Span::new(kstart, self.pos),
            };
            self.skip_ws()?;
            if self.peek() != Some(b':') {
                return Err(self.err(format!("expected `:` after key `{}`", key.name)));
            }
            self.pos += 1;
            self.skip_ws()?;
            let value = self.value(depth + 1)?;
            entries.push((key, value));
            self.skip_ws()?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {}
                None => return Err(self.err("unterminated object: missing `}`")),
                _ => return Err(self.err("expected `,` or `}` after a value")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, Error> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_ws()?;
            match self.peek() {
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                None => return Err(self.err("unterminated array: missing `]`")),
                _ => {}
            }
            items.push(self.value(depth + 1)?);
            self.skip_ws()?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {}
                None => return Err(self.err("unterminated array: missing `]`")),
                _ => return Err(self.err("expected `,` or `]` after a value")),
            }
        }
    }

    fn string(&mut self, quote: u8) -> Result<String, Error> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                self.pos = start;
                return Err(self.err("unterminated string"));
            };
            if c == quote {
                self.pos += 1;
                return Ok(out);
            }
            if c == b'\n' {
                return Err(self.err("line break inside a string"));
            }
            if c == b'\\' {
                self.pos += 1;
                let Some(e) = self.peek() else {
                    return Err(self.err("unterminated string"));
                };
                self.pos += 1;
                match e {
                    b'n' => out.push('\n'),
                    b't' => out.push('\t'),
                    b'r' => out.push('\r'),
                    b'b' => out.push('\u{8}'),
                    b'f' => out.push('\u{c}'),
                    b'v' => out.push('\u{b}'),
                    b'0' => out.push('\0'),
                    b'\n' => {}
                    b'u' => {
                        let hi = self.hex4()?;
                        let ch = if (0xD800..0xDC00).contains(&hi)
                            && self.s[self.pos..].starts_with(b"\\u")
                        {
                            self.pos += 2;
                            let lo = self.hex4()?;
                            char::from_u32(
                                0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF),
                            )
                        } else {
                            char::from_u32(hi)
                        };
                        out.push(ch.unwrap_or('\u{FFFD}'));
                    }
                    _ => {
                        // `\"`, `\\`, `\/`, `\'` and JSON5's identity escapes.
                        self.pos -= 1;
                        let ch = self.text[self.pos..].chars().next().unwrap_or('\u{FFFD}');
                        self.pos += ch.len_utf8();
                        out.push(ch);
                    }
                }
                continue;
            }
            let ch = self.text[self.pos..].chars().next().unwrap_or('\u{FFFD}');
            self.pos += ch.len_utf8().max(1);
            out.push(ch);
        }
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let part = self
            .text
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.err("short `\\u` escape"))?;
        let v = u32::from_str_radix(part, 16).map_err(|_| self.err("invalid `\\u` escape"))?;
        self.pos += 4;
        Ok(v)
    }

    fn number(&mut self) -> Result<Value, Error> {
        let start = self.pos;
        let mut sign = 1.0;
        if let Some(c @ (b'-' | b'+')) = self.peek() {
            sign = if c == b'-' { -1.0 } else { 1.0 };
            self.pos += 1;
        }
        if self.s[self.pos..].starts_with(b"Infinity") {
            self.pos += 8;
            return Ok(Value::Number(sign * f64::INFINITY));
        }
        if self.s[self.pos..].starts_with(b"0x") || self.s[self.pos..].starts_with(b"0X") {
            self.pos += 2;
            let hstart = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                self.pos += 1;
            }
            let v = u64::from_str_radix(&self.text[hstart..self.pos], 16)
                .map_err(|_| self.err("invalid hexadecimal number"))?;
            #[allow(clippy::cast_precision_loss)]
            return Ok(Value::Number(sign * v as f64));
        }
        let nstart = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            self.pos += 1;
        }
        let text = &self.text[nstart..self.pos];
        match text.parse::<f64>() {
            Ok(v) => Ok(Value::Number(sign * v)),
            Err(_) => {
                self.pos = start;
                let shown = &self.text[start..nstart.max(start) + text.len()];
                Err(self.err(format!("invalid number `{shown}`")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_with_spans() {
        let text = r#"{"a": [1, "x"], "b": {"c": true}}"#;
        let node = parse(text).expect("valid");
        let b = node.get("b").expect("b");
        assert_eq!(&text[b.span.start..b.span.end], r#"{"c": true}"#);
        assert_eq!(b.get("c").and_then(Node::as_bool), Some(true));
        assert_eq!(node.get("a").map(|a| a.items().len()), Some(2));
    }

    #[test]
    fn json5_features() {
        let text = "// comment\n{\n  extends: ['config:recommended',],\n  /* block */ minimumReleaseAge: '3 days', n: +0x10, \"q\\\"\": .5,\n}\n";
        let node = parse(text).expect("valid json5");
        assert_eq!(node.get_str("minimumReleaseAge"), Some("3 days"));
        assert_eq!(node.get("n").and_then(Node::as_f64), Some(16.0));
        assert_eq!(node.get("q\"").and_then(Node::as_f64), Some(0.5));
        assert_eq!(node.get("extends").map(|e| e.items().len()), Some(1));
    }

    #[test]
    fn errors_have_offsets() {
        let err = parse("{\n  \"a\": 1\n  \"b\": 2\n}").expect_err("missing comma");
        assert_eq!(err.offset, 13);
        assert!(parse("[").is_err());
        assert!(parse("\"abc").is_err());
        assert!(parse("{} x").is_err());
        assert!(parse(&"[".repeat(10_000)).is_err());
        assert!(parse("/* never closed").is_err());
        assert_eq!(
            parse("\"\\ud83d\\ude00\"").expect("pair").as_str(),
            Some("😀")
        );
    }
}
