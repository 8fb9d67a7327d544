//! How domain values become columns: lists as JSON arrays in TEXT, scope
//! sets as their space-separated form, times as seconds.

use crate::error::StoreError;

/// A list of strings as a JSON array.
pub(crate) fn encode_list<T: AsRef<str>>(items: &[T]) -> String {
    let strings: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    serde_json::to_string(&strings).unwrap_or_else(|_| "[]".to_owned())
}

/// A JSON array of strings, each parsed with `parse`.
pub(crate) fn decode_list<T, E: std::fmt::Display>(
    table: &str,
    column: &str,
    json: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Vec<T>, StoreError> {
    let strings: Vec<String> =
        serde_json::from_str(json).map_err(|e| StoreError::corrupt(table, column, e))?;
    strings
        .iter()
        .map(|s| parse(s).map_err(|e| StoreError::corrupt(table, column, e)))
        .collect()
}

/// Parses one stored value, naming the column if it is corrupt.
pub(crate) fn decode<T, E: std::fmt::Display>(
    table: &str,
    column: &str,
    value: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, StoreError> {
    parse(value).map_err(|e| StoreError::corrupt(table, column, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_round_trip_and_corruption_is_named() {
        let json = encode_list(&["a", "b \"quoted\""]);
        let back: Vec<String> =
            decode_list("t", "c", &json, |s| Ok::<_, String>(s.to_owned())).unwrap();
        assert_eq!(back, vec!["a", "b \"quoted\""]);
        let err = decode_list("t", "c", "not json", |s| Ok::<_, String>(s.to_owned())).unwrap_err();
        assert!(err.to_string().contains("t.c"), "{err}");
    }
}
