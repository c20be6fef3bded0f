//! Tests of configuration loading, overrides and error messages.

use std::io::Write;
use std::path::Path;

use super::*;

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("pushwatch.toml");
    let mut file = std::fs::File::create(&path).expect("create config file");
    file.write_all(text.as_bytes()).expect("write config file");
    path
}

fn load_text(text: &str, environment: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = write_config(dir.path(), text);
    let environment = environment
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()));
    Config::load(Some(&path), environment)
}

fn invalid(text: &str, environment: &[(&str, &str)]) -> (String, String) {
    match load_text(text, environment) {
        Err(error @ ConfigError::Invalid { .. }) => {
            let key = error.key().unwrap_or_default().to_string();
            (key, error.to_string())
        }
        Err(other) => panic!("expected an invalid key, got {other}"),
        Ok(config) => panic!("expected an error, got {config:?}"),
    }
}

#[test]
fn defaults_without_file() {
    let config = Config::load(None, Vec::new()).expect("defaults load");
    assert!(config.sources.udp.listen.is_empty());
    assert!(config.sources.tcp.listen.is_empty());
    assert!(!config.kafka.enabled());
    assert!(config.sinks.stdout_enabled(config.kafka.enabled()));
    assert_eq!(config.sources.tcp.max_frame_bytes, 65_536);
}

#[test]
fn full_file_is_read() {
    let config = load_text(
        r#"
        [sources.udp]
        listen = ["127.0.0.1:0", "[::1]:5514"]
        receive_buffer_bytes = 1048576
        [sources.tcp]
        listen = "0.0.0.0:6514"
        max_connections = 12
        idle_timeout_secs = 30
        [kafka]
        brokers = "127.0.0.1:9092"
        topic = "mfa.findings"
        options = { "security.protocol" = "plaintext" }
        [state]
        path = "state/pushwatch.json"
        "#,
        &[],
    )
    .expect("valid file");
    assert_eq!(config.sources.udp.listen.len(), 2);
    assert_eq!(config.sources.udp.listen[1].to_string(), "[::1]:5514");
    assert_eq!(config.sources.tcp.listen[0].to_string(), "0.0.0.0:6514");
    assert_eq!(config.sources.tcp.max_connections, 12);
    assert_eq!(config.kafka.topic, "mfa.findings");
    assert_eq!(
        config
            .kafka
            .options
            .get("security.protocol")
            .map(String::as_str),
        Some("plaintext")
    );
    assert!(!config.sinks.stdout_enabled(config.kafka.enabled()));
}

#[test]
fn relative_paths_follow_config_dir() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = write_config(
        dir.path(),
        "[state]\npath = \"state.json\"\n[sinks]\nfile = \"/abs/f.jsonl\"\n",
    );
    let config = Config::load(Some(&path), Vec::new()).expect("valid file");
    assert_eq!(config.state.path, Some(dir.path().join("state.json")));
    assert_eq!(config.sinks.file, Some(PathBuf::from("/abs/f.jsonl")));
}

#[test]
fn unknown_key_names_key_and_allowed() {
    let (key, message) = invalid("[sources.udp]\nlisten_on = \"1.2.3.4:5\"\n", &[]);
    assert_eq!(key, "sources.udp.listen_on");
    assert!(
        message.contains("\"1.2.3.4:5\""),
        "value missing: {message}"
    );
    assert!(
        message.contains("allowed keys are"),
        "allowed keys missing: {message}"
    );
    assert!(message.contains("`receive_buffer_bytes`"), "{message}");
}

#[test]
fn unknown_section_is_rejected() {
    let (key, message) = invalid("[sourcez]\nx = 1\n", &[]);
    assert_eq!(key, "sourcez");
    assert!(message.contains("`sources`"), "{message}");
}

#[test]
fn bad_listen_address_names_value() {
    let (key, message) = invalid("[sources.tcp]\nlisten = [\"localhost:514\"]\n", &[]);
    assert_eq!(key, "sources.tcp.listen[0]");
    assert!(message.contains("\"localhost:514\""), "{message}");
    assert!(message.contains("IP:PORT"), "{message}");
}

#[test]
fn wrong_type_names_value_and_type() {
    let (key, message) = invalid("[sources.tcp]\nmax_connections = \"many\"\n", &[]);
    assert_eq!(key, "sources.tcp.max_connections");
    assert!(message.contains("\"many\""), "{message}");
    assert!(message.contains("usize"), "{message}");
}

#[test]
fn out_of_range_names_range() {
    let (key, message) = invalid("[sources.tcp]\nmax_frame_bytes = 10\n", &[]);
    assert_eq!(key, "sources.tcp.max_frame_bytes");
    assert!(message.contains("invalid value 10"), "{message}");
    assert!(message.contains("512 to 16777216"), "{message}");
}

#[test]
fn negative_number_is_rejected() {
    let (key, message) = invalid("[state]\nsave_interval_secs = -5\n", &[]);
    assert_eq!(key, "state.save_interval_secs");
    assert!(message.contains("-5"), "{message}");
}

#[test]
fn kafka_source_needs_brokers() {
    let (key, message) = invalid("[sources.kafka]\ntopic = \"raw\"\n", &[]);
    assert_eq!(key, "sources.kafka.topic");
    assert!(message.contains("kafka.brokers"), "{message}");
}

#[test]
fn syntax_error_has_line() {
    let error = load_text("[sources\n", &[]).expect_err("broken TOML");
    let message = error.to_string();
    assert!(matches!(error, ConfigError::Syntax { .. }), "{message}");
    assert!(message.contains("line 1"), "{message}");
}

#[test]
fn env_overrides_file() {
    let config = load_text(
        "[sources.tcp]\nmax_connections = 12\n",
        &[
            ("PUSHWATCH_SOURCES__TCP__MAX_CONNECTIONS", "64"),
            ("PUSHWATCH_KAFKA__BROKERS", "127.0.0.1:9092"),
            ("PUSHWATCH_SOURCES__UDP__LISTEN", "127.0.0.1:0"),
            ("PUSHWATCH_TEST_KAFKA", "not an override"),
        ],
    )
    .expect("valid overrides");
    assert_eq!(config.sources.tcp.max_connections, 64);
    assert_eq!(config.kafka.brokers, "127.0.0.1:9092");
    assert_eq!(config.sources.udp.listen[0].to_string(), "127.0.0.1:0");
}

#[test]
fn env_bad_value_names_variable() {
    let (key, message) = invalid("", &[("PUSHWATCH_SOURCES__TCP__IDLE_TIMEOUT_SECS", "soon")]);
    assert_eq!(key, "sources.tcp.idle_timeout_secs");
    assert!(
        message.contains("PUSHWATCH_SOURCES__TCP__IDLE_TIMEOUT_SECS"),
        "{message}"
    );
    assert!(message.contains("\"soon\""), "{message}");
}

#[test]
fn env_unknown_key_names_variable() {
    let (key, message) = invalid("", &[("PUSHWATCH_METRICS__PORT", "9000")]);
    assert_eq!(key, "metrics.port");
    assert!(message.contains("PUSHWATCH_METRICS__PORT"), "{message}");
    assert!(message.contains("`listen`"), "{message}");
}

#[test]
fn empty_metrics_address_turns_off() {
    let config = load_text("[metrics]\nlisten = \"\"\n", &[]).expect("valid file");
    assert_eq!(config.metrics.listen, None);
    let again: Config = toml::from_str(&config.to_toml()).expect("rendered config parses");
    assert_eq!(
        again.metrics.listen, None,
        "off stays off after a round trip"
    );
}

#[test]
fn effective_config_round_trips() {
    let config = load_text("[kafka]\nbrokers = \"127.0.0.1:1\"\n", &[]).expect("valid file");
    let text = config.to_toml();
    let again: Config = toml::from_str(&text).expect("rendered config parses");
    assert_eq!(again.kafka.brokers, "127.0.0.1:1");
}

#[test]
fn secret_kafka_options_are_redacted() {
    let text = "[kafka.options]\n\"sasl.password\" = \"hunter2-secret-value\"\n\"security.protocol\" = \"sasl_ssl\"\n";
    let config = load_text(text, &[]).expect("valid file");
    assert_eq!(
        config
            .kafka
            .options
            .get("sasl.password")
            .map(String::as_str),
        Some("hunter2-secret-value"),
        "the loaded value stays usable"
    );
    let printed = config.to_toml();
    assert!(!printed.contains("hunter2"), "{printed}");
    assert!(printed.contains("sasl_ssl"), "{printed}");
    let debugged = format!("{:?}", config.kafka);
    assert!(!debugged.contains("hunter2"), "{debugged}");
    assert!(debugged.contains("<redacted>"), "{debugged}");
}

#[test]
fn empty_state_path_rejected() {
    let (key, message) = invalid("", &[("PUSHWATCH_STATE__PATH", "")]);
    assert_eq!(key, "state.path");
    assert!(message.contains("PUSHWATCH_STATE__PATH"), "{message}");
    assert!(message.contains("expected a file path"), "{message}");
}

#[test]
fn empty_sink_file_rejected() {
    let (key, message) = invalid("[sinks]\nfile = \"\"\n", &[]);
    assert_eq!(key, "sinks.file");
    assert!(message.contains("pushwatch.toml"), "{message}");
}
