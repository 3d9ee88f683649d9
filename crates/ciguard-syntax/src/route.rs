//! Symbolic locations inside a document: `jobs.build.steps[2].uses`.

use std::fmt;

use smol_str::SmolStr;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    Key(SmolStr),
    Index(usize),
}

/// The path of keys and indices from the document root to a node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Route(Vec<Segment>);

impl Route {
    pub fn root() -> Self {
        Self::default()
    }

    pub fn key(&self, key: &str) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Key(SmolStr::new(key)));
        next
    }

    pub fn index(&self, index: usize) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Index(index));
        next
    }

    /// Appends a key in place (for walks that extend and shorten one route).
    pub(crate) fn push_key(&mut self, key: &str) {
        self.0.push(Segment::Key(SmolStr::new(key)));
    }

    /// Appends an index in place.
    pub(crate) fn push_index(&mut self, index: usize) {
        self.0.push(Segment::Index(index));
    }

    /// Shortens the route to its first `len` segments.
    pub(crate) fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(root)");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Key(k) if i == 0 => write!(f, "{k}")?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_a_path() {
        let r = Route::root()
            .key("jobs")
            .key("build")
            .key("steps")
            .index(2)
            .key("uses");
        assert_eq!(r.to_string(), "jobs.build.steps[2].uses");
        assert_eq!(Route::root().to_string(), "(root)");
    }
}
