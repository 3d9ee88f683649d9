//! A span-carrying YAML document, read the way GitHub reads workflows.
//!
//! YAML 1.2 core schema (`on` is a string, only `true`/`false` are booleans), duplicate keys are
//! errors, anchors and aliases work, merge keys (`<<`) are rejected. Aliases are kept as references
//! and never expanded, and the size they would expand to is bounded, so a billion-laughs file costs
//! nothing. Nesting depth, node count and file size are bounded before they cost time or memory.

use std::collections::HashMap;
use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::route::Route;
use crate::source::{SourceFile, Span};

/// Bounds that keep a hostile file cheap.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
    pub max_nodes: usize,
    /// How many nodes the document may have once every alias is expanded.
    pub max_expanded_nodes: u64,
    /// How many bytes of scalar text the document may hold once every alias is expanded.
    /// Audits read an alias's value each time it is used, so this, not the file's size, is
    /// what they cost. Never below `max_bytes`, so a file without aliases is never refused by
    /// it and aliases never make a file cost more than the largest file without any.
    pub max_expanded_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 8 * 1024 * 1024,
            max_depth: 256,
            max_nodes: 1_000_000,
            max_expanded_nodes: 2_000_000,
            max_expanded_bytes: 8 * 1024 * 1024,
        }
    }
}

/// Why a file could not be read as YAML: a message, where, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub message: String,
    pub span: Span,
    pub help: Option<String>,
}

impl YamlError {
    fn new(message: impl Into<String>, span: Span) -> Self {
        Self {
            message: message.into(),
            span,
            help: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    Scalar { value: String, style: Style },
    Mapping(Vec<(NodeId, NodeId)>),
    Sequence(Vec<NodeId>),
    Alias(NodeId),
}

#[derive(Debug, Clone)]
struct NodeData {
    kind: NodeKind,
    span: Span,
    flow: bool,
}

/// A parsed YAML file: an arena of nodes with byte spans into the source.
#[derive(Debug)]
pub struct Document {
    nodes: Vec<NodeData>,
    root: Option<NodeId>,
}

impl Document {
    pub fn root(&self) -> Option<Node<'_>> {
        self.root.map(|id| Node { doc: self, id }.resolve())
    }

    pub fn node(&self, id: NodeId) -> Node<'_> {
        Node { doc: self, id }
    }

    /// Parses `file`'s text within `limits`.
    pub fn parse(file: &SourceFile, limits: &Limits) -> Result<Document, YamlError> {
        if file.text.len() > limits.max_bytes {
            return Err(YamlError::new(
                format!(
                    "file is {} bytes, over the limit of {} bytes",
                    file.text.len(),
                    limits.max_bytes
                ),
                Span::new(0, 0),
            )
            .help("workflow and action files are small; check that this is the file you meant"));
        }
        let mut text = std::borrow::Cow::Borrowed(file.text.as_str());
        // A closing bracket indented less than its block (valid for libyaml and GitHub, not for
        // this parser) is moved to the end of the previous line, which keeps every other offset.
        for _ in 0..64 {
            match Builder::new(&text, limits).run() {
                Err(e) if e.message.contains("invalid indentation") => {
                    match hoist_bracket(&text, e.span.start) {
                        Some(fixed) => text = std::borrow::Cow::Owned(fixed),
                        None => return Err(e),
                    }
                }
                other => return other,
            }
        }
        Builder::new(&text, limits).run()
    }
}

/// A handle on one node of a [`Document`]; aliases are followed by every accessor.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    doc: &'a Document,
    id: NodeId,
}

impl fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Node({:?} {:?})", self.id, self.span())
    }
}

impl<'a> Node<'a> {
    fn data(self) -> &'a NodeData {
        &self.doc.nodes[self.id.0 as usize]
    }

    pub fn id(self) -> NodeId {
        self.id
    }

    pub fn doc(self) -> &'a Document {
        self.doc
    }

    /// The node an alias points at (aliases of aliases cannot occur: anchors name real nodes).
    pub fn resolve(self) -> Node<'a> {
        match self.data().kind {
            NodeKind::Alias(target) => Node {
                doc: self.doc,
                id: target,
            },
            _ => self,
        }
    }

    pub fn kind(self) -> &'a NodeKind {
        &self.resolve().data().kind
    }

    /// Where this node is written; for an alias, where the alias is.
    pub fn span(self) -> Span {
        self.data().span
    }

    pub fn is_flow(self) -> bool {
        self.resolve().data().flow
    }

    pub fn is_alias(self) -> bool {
        matches!(self.data().kind, NodeKind::Alias(_))
    }

    /// Whether an alias (`*name`) is written anywhere in this node, itself included. Aliases
    /// are not followed, so the cost is the size of the written text.
    pub fn contains_alias(self) -> bool {
        let mut stack = vec![self.id];
        while let Some(id) = stack.pop() {
            match &self.doc.nodes[id.0 as usize].kind {
                NodeKind::Alias(_) => return true,
                NodeKind::Mapping(entries) => {
                    stack.extend(entries.iter().flat_map(|(k, v)| [*k, *v]));
                }
                NodeKind::Sequence(items) => stack.extend(items.iter().copied()),
                NodeKind::Scalar { .. } => {}
            }
        }
        false
    }

    pub fn style(self) -> Option<Style> {
        match self.kind() {
            NodeKind::Scalar { style, .. } => Some(*style),
            _ => None,
        }
    }

    /// The text of any scalar, whatever its type.
    pub fn as_str(self) -> Option<&'a str> {
        match self.kind() {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    pub fn is_scalar(self) -> bool {
        matches!(self.kind(), NodeKind::Scalar { .. })
    }

    pub fn is_mapping(self) -> bool {
        matches!(self.kind(), NodeKind::Mapping(_))
    }

    pub fn is_sequence(self) -> bool {
        matches!(self.kind(), NodeKind::Sequence(_))
    }

    /// YAML 1.2 core null: an empty plain scalar, `~` or `null`.
    pub fn is_null(self) -> bool {
        matches!(self.kind(), NodeKind::Scalar { value, style: Style::Plain }
            if matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// YAML 1.2 core booleans only: `yes`, `on` and friends are strings.
    pub fn as_bool(self) -> Option<bool> {
        match self.kind() {
            NodeKind::Scalar {
                value,
                style: Style::Plain,
            } => match value.as_str() {
                "true" | "True" | "TRUE" => Some(true),
                "false" | "False" | "FALSE" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// Entries of a mapping as (key, value) handles.
    pub fn entries(self) -> impl Iterator<Item = (Node<'a>, Node<'a>)> + 'a {
        let doc = self.doc;
        let slice: &'a [(NodeId, NodeId)] = match self.kind() {
            NodeKind::Mapping(entries) => entries,
            _ => &[],
        };
        slice
            .iter()
            .map(move |(k, v)| (Node { doc, id: *k }, Node { doc, id: *v }.resolve()))
    }

    /// Items of a sequence.
    pub fn items(self) -> impl Iterator<Item = Node<'a>> + 'a {
        let doc = self.doc;
        let slice: &'a [NodeId] = match self.kind() {
            NodeKind::Sequence(items) => items,
            _ => &[],
        };
        slice.iter().map(move |id| Node { doc, id: *id }.resolve())
    }

    pub fn len(self) -> usize {
        match self.kind() {
            NodeKind::Mapping(entries) => entries.len(),
            NodeKind::Sequence(items) => items.len(),
            _ => 0,
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The value under `key` in a mapping.
    pub fn get(self, key: &str) -> Option<Node<'a>> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key and value under `key` in a mapping.
    pub fn entry(self, key: &str) -> Option<(Node<'a>, Node<'a>)> {
        self.entries().find(|(k, _)| k.as_str() == Some(key))
    }

    /// The scalar text under `key`.
    pub fn get_str(self, key: &str) -> Option<&'a str> {
        self.get(key).and_then(Node::as_str)
    }

    /// The span of a whole `key: value` entry, from the key to the end of the value.
    pub fn entry_span(self, key: &str) -> Option<Span> {
        self.entry(key).map(|(k, v)| k.span().cover(v.span()))
    }

    /// Walks every node below this one (aliases followed once, not into), with its route.
    pub fn walk(self, route: &Route, f: &mut dyn FnMut(Node<'a>, &Route)) {
        /// How a node is reached from its parent.
        enum Edge<'a> {
            Start,
            Key(&'a str),
            Index(usize),
        }
        // One route, extended and cut back as the walk goes, instead of a copy per node.
        let mut route = route.clone();
        let mut stack = vec![(self, route.len(), Edge::Start)];
        while let Some((node, depth, edge)) = stack.pop() {
            route.truncate(depth);
            match edge {
                Edge::Start => {}
                Edge::Key(k) => route.push_key(k),
                Edge::Index(i) => route.push_index(i),
            }
            f(node, &route);
            if node.is_alias() {
                continue;
            }
            let depth = route.len();
            match &node.data().kind {
                NodeKind::Mapping(entries) => {
                    for (k, v) in entries.iter().rev() {
                        let key = self.doc.node(*k).as_str().unwrap_or("?");
                        stack.push((self.doc.node(*v), depth, Edge::Key(key)));
                    }
                }
                NodeKind::Sequence(items) => {
                    for (i, item) in items.iter().enumerate().rev() {
                        stack.push((self.doc.node(*item), depth, Edge::Index(i)));
                    }
                }
                _ => {}
            }
        }
    }
}

/// Mappings with fewer entries than this find duplicate keys by comparing with each earlier key.
const SMALL_MAPPING: usize = 16;

enum Frame {
    Seq {
        id: NodeId,
        items: Vec<NodeId>,
    },
    Map {
        id: NodeId,
        entries: Vec<(NodeId, NodeId)>,
        key: Option<NodeId>,
        seen: HashMap<String, Span>,
    },
}

struct Builder<'s> {
    text: &'s str,
    limits: Limits,
    /// Byte offset of each character, only when the text is not ASCII (the parser counts chars).
    char_offsets: Option<Vec<u32>>,
    nodes: Vec<NodeData>,
    expanded: Vec<u64>,
    /// Per node, the bytes of scalar text it holds once expanded.
    expanded_bytes: Vec<u64>,
    /// The bytes of scalar text of the whole document so far, aliases expanded.
    total_bytes: u64,
    anchors: HashMap<usize, NodeId>,
    stack: Vec<Frame>,
    root: Option<NodeId>,
    documents: usize,
    last_end: usize,
}

impl<'s> Builder<'s> {
    fn new(text: &'s str, limits: &Limits) -> Self {
        let char_offsets = (!text.is_ascii()).then(|| {
            let mut v: Vec<u32> = text.char_indices().map(|(i, _)| i as u32).collect();
            v.push(text.len() as u32);
            v
        });
        Self {
            text,
            limits: *limits,
            char_offsets,
            nodes: Vec::new(),
            expanded: Vec::new(),
            expanded_bytes: Vec::new(),
            total_bytes: 0,
            anchors: HashMap::new(),
            stack: Vec::new(),
            root: None,
            documents: 0,
            last_end: 0,
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.char_offsets {
            None => char_index.min(self.text.len()),
            Some(v) => v.get(char_index).map_or(self.text.len(), |b| *b as usize),
        }
    }

    fn run(mut self) -> Result<Document, YamlError> {
        let mut parser = Parser::new_from_str(self.text);
        while let Some(next) = parser.next_event() {
            let (event, span) = next.map_err(|e| {
                let at = self.byte(e.marker().index());
                if e.info().contains("recursion limit") {
                    YamlError::new("nesting deeper than the parser allows", Span::new(at, at))
                        .help("no workflow needs this depth; flatten the structure")
                } else {
                    YamlError::new(format!("invalid YAML: {}", e.info()), Span::new(at, at))
                        .help("fix the YAML syntax at this position")
                }
            })?;
            let span = Span::new(self.byte(span.start.index()), self.byte(span.end.index()));
            match event {
                Event::StreamEnd => break,
                Event::DocumentStart(_) => {
                    self.documents += 1;
                    if self.documents > 1 {
                        return Err(YamlError::new("a second YAML document starts here", span)
                            .help("GitHub reads one document per file; remove the `---` and what follows, or move it to its own file"));
                    }
                }
                Event::Scalar(value, style, anchor, tag) => {
                    let style = match style {
                        ScalarStyle::Plain => Style::Plain,
                        ScalarStyle::SingleQuoted => Style::SingleQuoted,
                        ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                        ScalarStyle::Literal => Style::Literal,
                        ScalarStyle::Folded => Style::Folded,
                    };
                    let span = self.scalar_span(span, style);
                    if let Some(tag) = tag
                        && tag.handle == "!!"
                        && tag.suffix == "merge"
                    {
                        return Err(merge_key_error(span));
                    }
                    let bytes = value.len() as u64;
                    let id = self.push(
                        NodeKind::Scalar {
                            value: value.into_owned(),
                            style,
                        },
                        span,
                        false,
                        1,
                    )?;
                    self.expanded_bytes[id.0 as usize] = bytes;
                    self.count_bytes(bytes, span)?;
                    self.anchor(anchor, id);
                    self.add(id)?;
                }
                Event::Alias(anchor) => {
                    let Some(&target) = self.anchors.get(&anchor) else {
                        return Err(YamlError::new("alias to an unknown anchor", span)
                            .help("define the anchor (`&name`) before using it (`*name`)"));
                    };
                    let size = self.expanded[target.0 as usize];
                    if size == 0 {
                        return Err(YamlError::new(
                            "alias refers to a node that contains it",
                            span,
                        )
                        .help("a recursive alias has no finite value; remove it"));
                    }
                    let span = Span::new(span.start, span.end.max(span.start + 1));
                    let bytes = self.expanded_bytes[target.0 as usize];
                    let id = self.push(NodeKind::Alias(target), span, false, size)?;
                    self.expanded_bytes[id.0 as usize] = bytes;
                    self.count_bytes(bytes, span)?;
                    self.add(id)?;
                }
                Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                    let is_map = matches!(event, Event::MappingStart(..));
                    if self.stack.len() >= self.limits.max_depth {
                        return Err(YamlError::new(
                            format!("nesting deeper than {} levels", self.limits.max_depth),
                            span,
                        )
                        .help("no workflow needs this depth; flatten the structure"));
                    }
                    let flow = matches!(self.text.as_bytes().get(span.start), Some(b'{' | b'['));
                    let kind = if is_map {
                        NodeKind::Mapping(Vec::new())
                    } else {
                        NodeKind::Sequence(Vec::new())
                    };
                    let start = if flow { span.start } else { span.end };
                    // Size 0 marks "still open" so a self-referencing alias is caught.
                    let id = self.push(kind, Span::new(start, start), flow, 0)?;
                    self.anchor(anchor, id);
                    self.last_end = start;
                    self.stack.push(if is_map {
                        Frame::Map {
                            id,
                            entries: Vec::new(),
                            key: None,
                            seen: HashMap::new(),
                        }
                    } else {
                        Frame::Seq {
                            id,
                            items: Vec::new(),
                        }
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(frame) = self.stack.pop() else {
                        continue;
                    };
                    let (id, kind) = match frame {
                        Frame::Seq { id, items } => (id, NodeKind::Sequence(items)),
                        Frame::Map { id, entries, .. } => (id, NodeKind::Mapping(entries)),
                    };
                    // The children in order, without copying them out of the node.
                    let (first_child, last_child, size, bytes) = {
                        let (expanded, expanded_bytes) = (&self.expanded, &self.expanded_bytes);
                        let sum = |ids: &mut dyn Iterator<Item = NodeId>| {
                            ids.fold((1u64, 0u64), |(n, b), c| {
                                let c = c.0 as usize;
                                (
                                    n.saturating_add(expanded[c]),
                                    b.saturating_add(expanded_bytes[c]),
                                )
                            })
                        };
                        match &kind {
                            NodeKind::Sequence(items) => {
                                let (size, bytes) = sum(&mut items.iter().copied());
                                (items.first().copied(), items.last().copied(), size, bytes)
                            }
                            NodeKind::Mapping(entries) => {
                                let (size, bytes) =
                                    sum(&mut entries.iter().flat_map(|(k, v)| [*k, *v]));
                                (
                                    entries.first().map(|(k, _)| *k),
                                    entries.last().map(|(_, v)| *v),
                                    size,
                                    bytes,
                                )
                            }
                            _ => (None, None, 1, 0),
                        }
                    };
                    if size > self.limits.max_expanded_nodes {
                        let start = self.nodes[id.0 as usize].span.start;
                        return Err(YamlError::new(
                            format!(
                                "aliases here expand to more than {} nodes",
                                self.limits.max_expanded_nodes
                            ),
                            Span::new(start, start),
                        )
                        .help("this looks like an alias bomb (billion laughs); remove the nested aliases"));
                    }
                    let (flow, own) = {
                        let node = &self.nodes[id.0 as usize];
                        (node.flow, node.span)
                    };
                    let child_span = |c: Option<NodeId>| c.map(|c| self.nodes[c.0 as usize].span);
                    let (start, end) = if flow {
                        (own.start, span.end)
                    } else {
                        (
                            child_span(first_child).map_or(own.start, |s| s.start),
                            child_span(last_child).map_or(own.end, |s| s.end),
                        )
                    };
                    let node = &mut self.nodes[id.0 as usize];
                    node.kind = kind;
                    node.span = Span::new(start, end.max(start));
                    self.expanded[id.0 as usize] = size;
                    self.expanded_bytes[id.0 as usize] = bytes;
                    self.last_end = end;
                    self.add(id)?;
                }
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            }
        }
        Ok(Document {
            nodes: self.nodes,
            root: self.root,
        })
    }

    fn push(
        &mut self,
        kind: NodeKind,
        span: Span,
        flow: bool,
        size: u64,
    ) -> Result<NodeId, YamlError> {
        if self.nodes.len() >= self.limits.max_nodes {
            return Err(YamlError::new(
                format!("more than {} YAML nodes", self.limits.max_nodes),
                span,
            )
            .help("split the file; no workflow needs this many values"));
        }
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(NodeData { kind, span, flow });
        self.expanded.push(size);
        self.expanded_bytes.push(0);
        Ok(id)
    }

    /// Adds `bytes` of scalar text (a scalar, or everything an alias stands for) to the
    /// document's expanded size; an error at `span` once that is over the budget.
    fn count_bytes(&mut self, bytes: u64, span: Span) -> Result<(), YamlError> {
        let budget = self
            .limits
            .max_expanded_bytes
            .max(self.limits.max_bytes as u64);
        self.total_bytes = self.total_bytes.saturating_add(bytes);
        if self.total_bytes <= budget {
            return Ok(());
        }
        Err(YamlError::new(
            format!("aliases here expand to more than {budget} bytes of text"),
            span,
        )
        .help("each use of an alias repeats its whole value; use shorter anchored values or fewer aliases"))
    }

    fn anchor(&mut self, anchor: usize, id: NodeId) {
        if anchor != 0 {
            self.anchors.insert(anchor, id);
        }
    }

    /// Attaches a finished node to the open collection, or makes it the root.
    fn add(&mut self, id: NodeId) -> Result<(), YamlError> {
        let nodes = &self.nodes;
        match self.stack.last_mut() {
            None => self.root = Some(id),
            Some(Frame::Seq { items, .. }) => items.push(id),
            Some(Frame::Map {
                entries, key, seen, ..
            }) => match key.take() {
                Some(k) => entries.push((k, id)),
                None => {
                    let data = &nodes[id.0 as usize];
                    let NodeKind::Scalar { value, style } = &data.kind else {
                        return Err(
                            YamlError::new("mapping key is not a plain value", data.span)
                                .help("GitHub only accepts scalar keys; use a string here"),
                        );
                    };
                    if value == "<<" && *style == Style::Plain {
                        return Err(merge_key_error(data.span));
                    }
                    // Small mappings (nearly all) compare with their earlier keys; larger ones
                    // switch to a table of the keys seen.
                    let first = if entries.len() < SMALL_MAPPING {
                        entries.iter().find_map(|(k, _)| {
                            let k = &nodes[k.0 as usize];
                            matches!(&k.kind, NodeKind::Scalar { value: v, .. } if v == value)
                                .then_some(k.span)
                        })
                    } else {
                        if seen.is_empty() {
                            for (k, _) in entries.iter() {
                                let k = &nodes[k.0 as usize];
                                if let NodeKind::Scalar { value: v, .. } = &k.kind {
                                    seen.insert(v.clone(), k.span);
                                }
                            }
                        }
                        seen.get(value.as_str()).copied()
                    };
                    if let Some(first) = first {
                        let before = self.text.get(..first.start).unwrap_or_default();
                        let line = before.matches('\n').count() + 1;
                        let column = before
                            .rsplit('\n')
                            .next()
                            .unwrap_or_default()
                            .chars()
                            .count()
                            + 1;
                        return Err(YamlError::new(
                            format!("duplicate key `{value}` (first defined at line {line}, column {column})"),
                            data.span,
                        )
                        .help("GitHub rejects duplicate keys; remove or rename one of them"));
                    }
                    if entries.len() >= SMALL_MAPPING {
                        seen.insert(value.clone(), data.span);
                    }
                    *key = Some(id);
                }
            },
        }
        Ok(())
    }

    /// The parser's spans run past quoted scalars and miss block scalar headers; fix both.
    fn scalar_span(&mut self, span: Span, style: Style) -> Span {
        let bytes = self.text.as_bytes();
        let fixed = match style {
            Style::Plain => span,
            Style::DoubleQuoted => {
                let mut i = span.start + 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                Span::new(span.start, (i + 1).min(bytes.len()))
            }
            Style::SingleQuoted => {
                let mut i = span.start + 1;
                while i < bytes.len() {
                    if bytes[i] == b'\'' {
                        if bytes.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                Span::new(span.start, (i + 1).min(bytes.len()))
            }
            Style::Literal | Style::Folded => {
                let from = self.last_end.min(span.start);
                let header = self.text[from..span.start]
                    .find(['|', '>'])
                    .map_or(span.start, |i| from + i);
                let mut end = span.end.min(bytes.len());
                while end > span.start && bytes[end - 1].is_ascii_whitespace() {
                    end -= 1;
                }
                Span::new(header, end.max(header))
            }
        };
        self.last_end = fixed.end;
        fixed
    }
}

/// Moves a `]`/`}` that starts a line to the end of the previous line, swapping it with the
/// line break and indentation between them so that the text keeps its length.
fn hoist_bracket(text: &str, at: usize) -> Option<String> {
    let bytes = text.as_bytes();
    if !matches!(bytes.get(at), Some(b']' | b'}')) {
        return None;
    }
    let line_start = text[..at].rfind('\n')?;
    if !text[line_start + 1..at].bytes().all(|b| b == b' ') {
        return None;
    }
    let prev_start = text[..line_start].rfind('\n').map_or(0, |i| i + 1);
    if text[prev_start..line_start].contains('#') {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..line_start]);
    out.push(bytes[at] as char);
    out.push_str(&text[line_start..at]);
    out.push_str(&text[at + 1..]);
    Some(out)
}

fn merge_key_error(span: Span) -> YamlError {
    YamlError::new(
        "merge keys (`<<`) are not supported by GitHub Actions",
        span,
    )
    .help("write the keys out in full instead of merging an anchor")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileKind;

    fn parse(text: &str) -> (SourceFile, Result<Document, YamlError>) {
        let file = SourceFile::new("t.yml", FileKind::Workflow, text.to_owned());
        let doc = Document::parse(&file, &Limits::default());
        (file, doc)
    }

    #[test]
    fn spans_are_exact_for_every_scalar_style() {
        let text = "a: \"x\\\"y\"  # c\nb: 'it''s' #c\nc: |  # keep\n  line\n\nd: plain\n";
        let (file, doc) = parse(text);
        let doc = doc.unwrap();
        let root = doc.root().unwrap();
        assert_eq!(file.slice(root.get("a").unwrap().span()), "\"x\\\"y\"");
        assert_eq!(root.get_str("a"), Some("x\"y"));
        assert_eq!(file.slice(root.get("b").unwrap().span()), "'it''s'");
        assert_eq!(
            file.slice(root.get("c").unwrap().span()),
            "|  # keep\n  line"
        );
        assert_eq!(file.slice(root.get("d").unwrap().span()), "plain");
    }

    #[test]
    fn on_is_a_string_and_yes_is_not_a_boolean() {
        let (_, doc) = parse("on: yes\nx: true\n");
        let doc = doc.unwrap();
        let root = doc.root().unwrap();
        let (k, v) = root.entries().next().unwrap();
        assert_eq!(k.as_str(), Some("on"));
        assert_eq!(v.as_bool(), None);
        assert_eq!(root.get("x").unwrap().as_bool(), Some(true));
    }

    #[test]
    fn duplicate_and_merge_keys_are_rejected() {
        let err = parse("a: 1\nb: 2\na: 3\n").1.unwrap_err();
        assert!(err.message.contains("duplicate key `a`"), "{err}");
        assert!(
            err.message.contains("first defined at line 1, column 1"),
            "{err}"
        );
        assert_eq!(err.span.start, 10);
        let err = parse("x: &a {k: 1}\ny:\n  <<: *a\n").1.unwrap_err();
        assert!(err.message.contains("merge keys"), "{err}");
        // Duplicates found the same way in mappings too large to compare key by key.
        for n in [
            SMALL_MAPPING - 1,
            SMALL_MAPPING,
            SMALL_MAPPING + 1,
            3 * SMALL_MAPPING,
        ] {
            let keys: String = (0..n).map(|i| format!("k{i}: {i}\n")).collect();
            assert!(parse(&keys).1.is_ok(), "{n} distinct keys");
            for dup in [0, n / 2, n - 1] {
                let text = format!("{keys}k{dup}: again\n");
                let err = parse(&text).1.unwrap_err();
                assert!(
                    err.message.contains(&format!("duplicate key `k{dup}`")),
                    "{err}"
                );
                // `k{dup}` is the key of line dup + 1.
                let at = format!("at line {}, column 1)", dup + 1);
                assert!(err.message.contains(&at), "{err}");
                assert_eq!(err.span.start, keys.len());
            }
        }
    }

    #[test]
    fn aliases_resolve_without_expansion() {
        let (_, doc) = parse("a: &x {k: v}\nb: *x\n");
        let doc = doc.unwrap();
        assert_eq!(
            doc.root().unwrap().get("b").unwrap().get_str("k"),
            Some("v")
        );
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse(&text).1.unwrap_err();
        assert!(err.message.contains("expand to more than"), "{err}");
    }

    #[test]
    fn aliased_text_is_budgeted_in_bytes() {
        // One long anchored string, used until the text is over the budget: the error points
        // at the alias that crosses it, not at the file's start.
        let value = "x".repeat(1 << 20);
        let mut text = format!("a: &a {value}\nb:\n");
        for _ in 0..8 {
            text.push_str("  - *a\n");
        }
        let err = parse(&text).1.unwrap_err();
        assert!(err.message.contains("bytes of text"), "{err}");
        assert_eq!(&text[err.span.start..err.span.start + 2], "*a");
        assert_eq!(text[..err.span.start].lines().count(), 9);
        // Nested aliases double the text at each level while the file stays small.
        let mut text = format!("x0: &x0 {}\n", "y".repeat(4096));
        for i in 1..20 {
            text.push_str(&format!("x{i}: &x{i} [*x{p}, *x{p}]\n", p = i - 1));
        }
        let err = parse(&text).1.unwrap_err();
        assert!(err.message.contains("bytes of text"), "{err}");
    }

    #[test]
    fn ok_aliases_within_the_byte_budget() {
        let value = "x".repeat(1 << 20);
        let mut text = format!("a: &a {value}\nb:\n");
        for _ in 0..6 {
            text.push_str("  - *a\n");
        }
        let doc = parse(&text).1.unwrap();
        let items = doc.root().unwrap().get("b").unwrap();
        assert_eq!(items.items().count(), 6);
        assert!(items.items().all(|n| n.as_str() == Some(value.as_str())));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let err = parse(&"[".repeat(100_000)).1.unwrap_err();
        assert!(
            err.message.contains("invalid YAML") || err.message.contains("nesting"),
            "{err}"
        );
        let err = parse(&"- ".repeat(50_000)).1.unwrap_err();
        assert!(
            err.message.contains("nesting") || err.message.contains("invalid YAML"),
            "{err}"
        );
    }

    #[test]
    fn closing_brackets_at_the_block_indent_are_accepted() {
        let text = "m:\n  p:\n    - [\n      \"a\",\n      \"b\"\n    ]\n    - [c]\n";
        let (file, doc) = parse(text);
        let doc = doc.unwrap();
        let p = doc.root().unwrap().get("m").unwrap().get("p").unwrap();
        assert_eq!(p.len(), 2);
        let c = p.items().nth(1).unwrap().items().next().unwrap();
        assert_eq!(file.slice(c.span()), "c");
    }

    #[test]
    fn non_ascii_offsets_are_bytes() {
        let (file, doc) = parse("name: \"héllo\"\nx: ü\n");
        let doc = doc.unwrap();
        let x = doc.root().unwrap().get("x").unwrap();
        assert_eq!(file.slice(x.span()), "ü");
        assert_eq!(file.line_col(x.span().start).column, 4);
    }

    #[test]
    fn empty_and_comment_only_files_have_no_root() {
        assert!(parse("").1.unwrap().root().is_none());
        assert!(parse("# only\n# comments\n").1.unwrap().root().is_none());
    }

    #[test]
    fn block_collection_spans_cover_their_children() {
        let text = "jobs:\n  a:\n    runs-on: x\n  b: {runs-on: y}\n";
        let (file, doc) = parse(text);
        let doc = doc.unwrap();
        let jobs = doc.root().unwrap().get("jobs").unwrap();
        assert_eq!(
            file.slice(jobs.span()),
            "a:\n    runs-on: x\n  b: {runs-on: y}"
        );
        assert!(jobs.get("b").unwrap().is_flow());
    }
}
