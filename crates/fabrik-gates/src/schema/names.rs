//! Name comparison: case/separator normalisation and synonym groups.

use std::collections::HashMap;
use std::path::Path;

use crate::schema::SchemaError;

/// The synonym groups used unless configured otherwise.
pub const DEFAULT_SYNONYMS: &[&[&str]] = &[
    &["email", "mail", "e_mail", "email_address"],
    &["user_id", "userid", "uid", "user"],
    &[
        "created_at",
        "created",
        "creation_date",
        "createdat",
        "date_created",
    ],
    &["updated_at", "modified_at", "updated", "last_modified"],
    &["phone", "phone_number", "telephone", "tel", "mobile"],
    &["name", "full_name", "fullname"],
    &["address", "addr", "street_address"],
    &["zip", "zipcode", "postal_code", "postcode"],
];

/// `userId`, `user_id`, `UserID`, `user-id` -> `userid`: lowercase, letters and digits only.
#[must_use]
pub fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Groups of names that mean the same thing.
#[derive(Clone, Debug)]
pub struct Synonyms {
    groups: Vec<Vec<String>>,
    /// Normalised name -> indexes of the groups it belongs to.
    index: HashMap<String, Vec<usize>>,
}

impl Default for Synonyms {
    fn default() -> Self {
        let mut s = Self::empty();
        for g in DEFAULT_SYNONYMS {
            s.add_group(g.iter().copied());
        }
        s
    }
}

impl Synonyms {
    /// No groups at all: only normalised-equal names match.
    #[must_use]
    pub fn empty() -> Self {
        Self {
            groups: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// Adds one group (names of fewer than two distinct normalised forms are ignored).
    pub fn add_group<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        let mut group: Vec<String> = Vec::new();
        for n in names {
            let n = n.trim();
            if !n.is_empty() && !group.iter().any(|g| normalise(g) == normalise(n)) {
                group.push(n.to_owned());
            }
        }
        if group.len() < 2 {
            return;
        }
        let id = self.groups.len();
        for n in &group {
            self.index.entry(normalise(n)).or_default().push(id);
        }
        self.groups.push(group);
    }

    /// Adds the groups of a text file: one group per line, names separated by commas,
    /// slashes or spaces; `#` starts a comment. Returns false when the file does not exist.
    ///
    /// # Errors
    /// [`SchemaError::Io`] when the file exists but cannot be read.
    pub fn extend_from_file(&mut self, path: &Path) -> Result<bool, SchemaError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(source) => {
                return Err(SchemaError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        self.extend_from_str(&text);
        Ok(true)
    }

    /// Adds the groups of a text in the format of [`Self::extend_from_file`].
    pub fn extend_from_str(&mut self, text: &str) {
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default();
            self.add_group(
                line.split([',', '/', ' ', '\t'])
                    .filter(|n| !n.trim().is_empty()),
            );
        }
    }

    /// The group both names belong to, if any.
    #[must_use]
    pub fn shared_group(&self, a: &str, b: &str) -> Option<&[String]> {
        let (ga, gb) = (
            self.index.get(&normalise(a))?,
            self.index.get(&normalise(b))?,
        );
        ga.iter()
            .find(|i| gb.contains(i))
            .map(|&i| self.groups[i].as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_and_case_are_ignored() {
        for n in ["userId", "user_id", "UserID", "user-id", "USER ID"] {
            assert_eq!(normalise(n), "userid", "{n}");
        }
    }

    #[test]
    fn default_groups_and_file_groups() {
        let mut s = Synonyms::default();
        assert!(s.shared_group("email_address", "Mail").is_some());
        assert!(s.shared_group("userId", "uid").is_some());
        assert!(s.shared_group("postcode", "ZipCode").is_some());
        assert!(s.shared_group("email", "phone").is_none());
        assert!(s.shared_group("sku", "article_number").is_none());
        s.extend_from_str("# products\nsku, article_number / item_no\nlonely\n");
        assert!(s.shared_group("item-no", "SKU").is_some());
        assert!(s.shared_group("lonely", "lonely").is_none());
    }
}
