//! Environment overrides: `PUSHWATCH_<SECTION>__<KEY>=value` sets `section.key`.
//!
//! Double underscores separate the levels (`PUSHWATCH_SOURCES__TCP__MAX_CONNECTIONS=64` sets
//! `sources.tcp.max_connections`) and names are lower-cased. The value is read as a TOML value
//! when it is one (`64`, `true`, `["0.0.0.0:5514"]`, `"quoted text"`) and as a plain string
//! otherwise (`127.0.0.1:9092`). Variables without a double underscore, such as
//! `PUSHWATCH_LOG`, are not overrides and are ignored here.

use super::ConfigError;

/// Prefix of the override variables.
pub const ENV_PREFIX: &str = "PUSHWATCH_";

/// Keys set by the environment, kept so that errors can name the variable.
#[derive(Debug, Default)]
pub(super) struct Overrides {
    /// (dotted key, variable name) in the order applied.
    applied: Vec<(String, String)>,
}

impl Overrides {
    /// Returns the variable that set `key` or a table that contains it.
    pub(super) fn origin_of(&self, key: &str) -> Option<String> {
        self.applied.iter().rev().find_map(|(set, name)| {
            let inside = key == set
                || key.starts_with(&format!("{set}."))
                || set.starts_with(&format!("{key}."));
            inside.then(|| format!("environment variable {name}"))
        })
    }
}

/// Applies the override variables of `environment` to `table`, in name order so that the
/// result does not depend on the order of the process environment.
pub(super) fn apply_overrides<I>(
    table: &mut toml::Table,
    environment: I,
) -> Result<Overrides, ConfigError>
where
    I: IntoIterator<Item = (String, String)>,
{
    let mut variables: Vec<(String, String)> = environment
        .into_iter()
        .filter(|(name, _)| name.starts_with(ENV_PREFIX) && name.contains("__"))
        .collect();
    variables.sort();
    let mut overrides = Overrides::default();
    for (name, raw) in variables {
        let path: Vec<String> = name[ENV_PREFIX.len()..]
            .split("__")
            .map(str::to_ascii_lowercase)
            .collect();
        let key = path.join(".");
        if path.iter().any(String::is_empty) {
            return Err(ConfigError::Invalid {
                key,
                origin: Some(format!("environment variable {name}")),
                message: "the variable name has an empty level; write \
                          PUSHWATCH_<SECTION>__<KEY> with single words between double \
                          underscores"
                    .to_string(),
            });
        }
        insert(table, &path, parse_value(&raw)).map_err(|message| ConfigError::Invalid {
            key: key.clone(),
            origin: Some(format!("environment variable {name}")),
            message,
        })?;
        overrides.applied.push((key, name));
    }
    Ok(overrides)
}

/// Reads `raw` as a TOML value, or as a string when it is not one. Dates and times stay strings
/// because no key takes a TOML date.
fn parse_value(raw: &str) -> toml::Value {
    match format!("value = {raw}").parse::<toml::Table>() {
        Ok(mut table) => match table.remove("value") {
            Some(toml::Value::Datetime(_)) | None => toml::Value::String(raw.to_string()),
            Some(value) => value,
        },
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

fn insert(table: &mut toml::Table, path: &[String], value: toml::Value) -> Result<(), String> {
    let Some((last, parents)) = path.split_last() else {
        return Err("the variable names no key".to_string());
    };
    let mut current = table;
    for (depth, part) in parents.iter().enumerate() {
        let entry = current
            .entry(part.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = match entry {
            toml::Value::Table(inner) => inner,
            other => {
                return Err(format!(
                    "`{}` is the value {other}, not a table, so it has no key `{}`",
                    path[..=depth].join("."),
                    path[depth + 1..].join("."),
                ))
            }
        };
    }
    current.insert(last.clone(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_parsing_keeps_addresses_as_strings() {
        assert_eq!(
            parse_value("127.0.0.1:9092"),
            toml::Value::String("127.0.0.1:9092".into())
        );
        assert_eq!(parse_value("64"), toml::Value::Integer(64));
        assert_eq!(parse_value("true"), toml::Value::Boolean(true));
        assert_eq!(
            parse_value("\"007\""),
            toml::Value::String("007".into()),
            "a quoted value is a string"
        );
        assert_eq!(
            parse_value("2026-03-02"),
            toml::Value::String("2026-03-02".into())
        );
    }

    #[test]
    fn insert_into_scalar_is_rejected() {
        let mut table: toml::Table = "kafka = 3".parse().expect("valid TOML");
        let error = insert(
            &mut table,
            &["kafka".to_string(), "brokers".to_string()],
            toml::Value::Integer(1),
        )
        .expect_err("kafka is not a table");
        assert!(error.contains("`kafka` is the value 3"), "{error}");
    }
}
