use pushwatch_parser::{peek, Context, Parser};

use super::*;

/// Receive time of the test lines: 2026-03-04T12:00:00Z.
const RECEIVED_NS: i64 = 1_772_625_600_000_000_000;

fn sample(name: &str) -> Vec<String> {
    let path = format!(
        "{}/../../fixtures/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
    text.lines().map(str::to_owned).collect()
}

/// Classifies one line the way the engine does: fast path first, full parse when relevant.
fn classify(rules: &RuleSet, line: &str) -> Option<(String, AuthSignal)> {
    let context = Context::new(RECEIVED_NS);
    let mut parser = Parser::new();
    let record = parser.parse(line.as_bytes(), &context);
    let result = rules
        .classify(&record)
        .map(|(rule, signal)| (rule.name.to_owned(), signal));
    let relevant = rules.is_relevant(&peek(line.as_bytes(), &context), line.as_bytes());
    if result.is_some() {
        assert!(relevant, "fast path drops a line a rule matches: {line}");
    }
    result
}

#[test]
fn fortiauthenticator_samples_classify() {
    let rules = RuleSet::new(&[]);
    let lines = sample("fortiauthenticator-mfa.log");
    // (1-based line, expected signal, expected user, expected reason)
    type Case = (
        usize,
        Option<SignalKind>,
        Option<&'static str>,
        Option<&'static str>,
    );
    let expected: &[Case] = &[
        (
            1,
            Some(SignalKind::OtherFactorSuccess),
            Some("user070"),
            None,
        ),
        (2, None, None, None),
        (3, Some(SignalKind::ChallengeSent), Some("user071"), None),
        (4, Some(SignalKind::WrongCode), Some("user070"), None),
        (5, None, None, None),
        (6, None, None, None),
        (
            7,
            Some(SignalKind::FirstFactorFailed),
            Some("user072"),
            Some("invalid password"),
        ),
        (8, None, None, None),
        (9, None, None, None),
        (
            10,
            Some(SignalKind::OtherFactorSuccess),
            Some("example/user073"),
            None,
        ),
        (
            11,
            Some(SignalKind::OtherFactorSuccess),
            Some("example/user073"),
            None,
        ),
        (
            13,
            Some(SignalKind::OtherFactorSuccess),
            Some("user074"),
            None,
        ),
        (15, Some(SignalKind::CodeAccepted), Some("user075"), None),
        (16, None, None, None),
        (17, Some(SignalKind::PushApproved), Some("user075"), None),
        (
            18,
            Some(SignalKind::FirstFactorFailed),
            Some("user076"),
            Some("invalid user"),
        ),
        (
            19,
            Some(SignalKind::FirstFactorFailed),
            Some("user076"),
            Some("invalid user"),
        ),
        (20, Some(SignalKind::FtmDeprovisioned), Some("admin"), None),
        (21, None, None, None),
        (22, None, None, None),
        (23, Some(SignalKind::HaRoleChange), None, None),
        (24, Some(SignalKind::HaRoleChange), None, None),
        (
            25,
            Some(SignalKind::WrongCode),
            Some("ldaps/user078"),
            Some("invalid token"),
        ),
        (26, None, None, None),
        (27, None, None, None),
        (28, None, None, None),
        (30, None, None, None),
        (31, None, None, None),
        (33, None, None, None),
    ];
    for (number, kind, user, reason) in expected {
        let line = &lines[number - 1];
        let result = classify(&rules, line);
        assert_eq!(
            result.as_ref().map(|(_, signal)| signal.kind),
            *kind,
            "line {number}: {line}"
        );
        if let Some((_, signal)) = result {
            assert_eq!(signal.user.as_deref(), *user, "user of line {number}");
            if reason.is_some() {
                assert_eq!(signal.reason.as_deref(), *reason, "reason of line {number}");
            }
        }
    }
}

#[test]
fn other_factor_names_the_factor() {
    let rules = RuleSet::new(&[]);
    let lines = sample("fortiauthenticator-mfa.log");
    let factor =
        |number: usize| classify(&rules, &lines[number - 1]).and_then(|(_, signal)| signal.factor);
    assert_eq!(factor(10), Some(OtherFactor::None));
    assert_eq!(factor(11), Some(OtherFactor::Sms));
    assert_eq!(factor(14), Some(OtherFactor::Email));
}

#[test]
fn quoted_user_name_leaves_line_unclassified() {
    let rules = RuleSet::new(&[]);
    let context = Context::new(RECEIVED_NS);
    let clean = "2021-07-08T11:01:06-03:00 10.0.30.5 db[32167]:  category=\"Event\" \
                 subcategory=\"Authentication\" typeid=20299 level=\"information\" \
                 user=\"user071\" nas=\"10.0.30.1\" action=\"Authentication\" \
                 status=\"Pending\" Remote RADIUS user authentication partially done, \
                 remote server expecting challenge response";
    let (rule, _) = classify(&rules, clean).expect("the clean line is a challenge");
    assert_eq!(rule, "fac-challenge-sent");
    let mut parser = Parser::new();
    assert!(!rules.is_ambiguous(&parser.parse(clean.as_bytes(), &context)));

    // A typed name `x" typeid=20002 status="Success` would turn the line into an approval.
    let injected = clean.replace(
        "user=\"user071\"",
        "user=\"x\" typeid=20002 status=\"Success\"",
    );
    let record = parser.parse(injected.as_bytes(), &context);
    assert!(rules.is_ambiguous(&record));
    assert!(rules.classify(&record).is_none());

    // An injected status alone ends the pairs early, and the real one lands in the message.
    let status_only = clean.replace("user=\"user071\"", "user=\"x\" status=\"Success\"");
    let record = parser.parse(status_only.as_bytes(), &context);
    assert!(rules.is_ambiguous(&record));
    assert!(rules.classify(&record).is_none());

    // FortiOS escapes quotes, so a repeated field there is an ordinary first-wins field.
    let fortios = "date=2026-03-04 time=10:22:44 devname=\"fgt\" devid=\"FGT1\" \
                   logid=\"0102043009\" type=\"event\" subtype=\"user\" user=\"a\" user=\"b\"";
    assert!(!rules.is_ambiguous(&parser.parse(fortios.as_bytes(), &context)));
}

#[test]
fn challenge_carries_nas_and_time() {
    let rules = RuleSet::new(&[]);
    let lines = sample("fortiauthenticator-mfa.log");
    let (_, signal) = classify(&rules, &lines[2]).expect("line 3 is a challenge");
    assert_eq!(signal.nas.as_deref(), Some("10.0.30.1"));
    // 2021-07-08T11:01:06-03:00 = 14:01:06Z.
    assert_eq!(
        crate::time::format_rfc3339(signal.time),
        "2021-07-08T14:01:06.000Z"
    );
}

#[test]
fn fortigate_samples_classify() {
    let rules = RuleSet::new(&[]);
    let lines = sample("fortigate-vpn-auth.log");
    let mut kinds = Vec::new();
    for line in &lines {
        if let Some((_, signal)) = classify(&rules, line) {
            kinds.push((signal.kind, signal.user.clone(), signal.reason.clone()));
        }
    }
    assert!(
        kinds.contains(&(
            SignalKind::FortiGateAuthSuccess,
            Some("user048".into()),
            None
        )),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(SignalKind::VpnTunnelUp, Some("user045".into()), None)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(SignalKind::VpnTunnelUp, Some("user053".into()), None)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(
            SignalKind::VpnLoginFailure,
            Some("user052".into()),
            Some("sslvpn_login_permission_denied".into())
        )),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(
            SignalKind::VpnLoginFailure,
            Some("user056".into()),
            Some("sslvpn_login_password_expired".into())
        )),
        "{kinds:?}"
    );
    assert!(kinds.contains(&(
        SignalKind::VpnLoginFailure,
        Some("user050".into()),
        Some("sslvpn_login_unknown_user".into())
    )));
    assert!(
        kinds.contains(&(SignalKind::VpnTunnelUp, Some("user050".into()), None)),
        "{kinds:?}"
    );
    // Admin logins, IPsec negotiation, FSSO, endpoint and tunnel-down lines carry no MFA
    // meaning: lines 7, 10, 15, 16, 28, 29 and 30 are the only matches.
    assert_eq!(kinds.len(), 7, "{kinds:?}");
}

/// Every sample line the fast path settles as count-only must get the same rule from the full
/// classification, and every line whose signal stitching reads must be parsed in full.
#[test]
fn triage_agrees_with_the_full_classification() {
    let rules = RuleSet::new(&[]);
    let context = Context::new(RECEIVED_NS);
    let mut counted = 0;
    for name in [
        "fortigate-vpn-auth.log",
        "fortigate-cef.log",
        "fortiauthenticator-mfa.log",
    ] {
        for line in sample(name) {
            let mut parser = Parser::new();
            let record = parser.parse(line.as_bytes(), &context);
            let full = rules.classify(&record);
            let triage = rules.triage(&peek(line.as_bytes(), &context), line.as_bytes());
            match (triage, &full) {
                (Triage::Counted(rule), Some((matched, signal))) => {
                    assert_eq!(rule, *matched, "{line}");
                    assert!(signal.kind.is_context_only(), "{line}");
                    counted += 1;
                }
                (Triage::Counted(rule), None) => {
                    panic!("{} settled, no rule matches: {line}", rule.name)
                }
                (Triage::Irrelevant, Some((rule, _))) => {
                    panic!("{} matches a skipped line", rule.name)
                }
                (Triage::Parse, Some((_, signal))) => {
                    assert!(
                        !signal.kind.is_context_only() || rules_conditional(signal.kind),
                        "{:?} could be settled by the fast path: {line}",
                        signal.kind
                    );
                }
                _ => {}
            }
        }
    }
    // The FortiGate sample contains one authentication success (line 10) and three tunnels up
    // (lines 7, 16 and 30); the CEF and FortiAuthenticator samples contain no count-only line.
    assert_eq!(counted, 4, "{counted} lines settled");
}

/// Returns whether some built-in rule for a count-only kind has a condition, so that its lines still
/// need the full parse.
fn rules_conditional(kind: SignalKind) -> bool {
    builtin_rules().iter().any(|rule| {
        rule.signal == kind && (rule.status.is_some() || !rule.message_contains.is_empty())
    })
}

#[test]
fn traffic_lines_skip_the_full_parse() {
    let rules = RuleSet::new(&[]);
    let line = "<189>date=2024-05-13 time=08:42:17 devname=\"fgt-hq01\" devid=\"FG100F\" eventtime=1715582537123456789 \
                tz=\"+0200\" logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" level=\"notice\" srcip=10.1.1.1 \
                msg=\"pushd error in a URL\"";
    let context = Context::new(RECEIVED_NS);
    assert!(!rules.is_relevant(&peek(line.as_bytes(), &context), line.as_bytes()));
}

#[test]
fn push_service_texts_match_anywhere_on_fortiauthenticator() {
    let rules = RuleSet::new(&[]);
    let pushd = "date=2026-03-04 time=10:22:44+0000 oid=9 logid=20105 cat=\"Event\" subcat=\"Authentication\" level=\"warning\" \
                 nas=\"10.10.10.10\" action=\"Authentication\" status=\"Failed\" msg=\"Failed to send notification to user due to \
                 pushd error -3: FTM server returned error\" user=\"user075\"";
    let (name, signal) = classify(&rules, pushd).expect("pushd error line");
    assert_eq!(name, "fac-pushd-error");
    assert_eq!(signal.kind, SignalKind::PushdError);
    assert_eq!(
        signal.reason.as_deref(),
        Some("pushd error -3: FTM server returned error")
    );
    let certificate = "fac01 db[1]: category=\"Event\" subcategory=\"Authentication\" typeid=20999 level=\"warning\" user=\"u1\" \
                       nas=\"10.0.0.1\" action=\"Authentication\" status=\"Failed\" invalid server certificate: FortiToken Mobile \
                       cannot validate the server certificate";
    let (_, signal) = classify(&rules, certificate).expect("certificate line");
    assert_eq!(signal.kind, SignalKind::CertificateError);
}

#[test]
fn unknown_fortitoken_failure_keeps_reason() {
    let rules = RuleSet::new(&[]);
    let line = "date=2026-03-04 time=10:22:44+0000 oid=9 logid=20104 cat=\"Event\" subcat=\"Authentication\" level=\"information\" \
                nas=\"10.10.10.10\" action=\"Authentication\" status=\"Failed\" msg=\"Remote LDAP user authentication from (null) \
                with FortiToken failed: push notification rejected by user.\" user=\"CORP\\User9\"";
    let (name, signal) = classify(&rules, line).expect("token failure");
    assert_eq!(name, "fac-token-failure");
    assert_eq!(signal.kind, SignalKind::TokenFailure);
    assert_eq!(
        signal.reason.as_deref(),
        Some("push notification rejected by user")
    );
    assert_eq!(signal.user.as_deref(), Some("CORP\\User9"));
}

#[test]
fn configured_rule_overrides_builtin() {
    let own = RuleConfig {
        name: "fac-code-accepted".into(),
        formats: vec!["fortiauthenticator-export".into()],
        event_ids: vec!["20002".into()],
        status: Some("Success".into()),
        message_contains: Vec::new(),
        message_not_contains: Vec::new(),
        signal: SignalKind::OtherFactorSuccess,
        user_fields: Vec::new(),
        nas_fields: Vec::new(),
        client_ip_fields: Vec::new(),
        reason_field: None,
        reason_after: None,
        factor: Some(OtherFactor::None),
    };
    let rules = RuleSet::new(&[own]);
    assert_eq!(rules.len(), builtin_rules().len());
    let lines = sample("fortiauthenticator-mfa.log");
    // The configured rule comes first, so it also takes the push line.
    let (name, signal) = classify(&rules, &lines[16]).expect("line 17");
    assert_eq!(name, "fac-code-accepted");
    assert_eq!(signal.kind, SignalKind::OtherFactorSuccess);
}

#[test]
fn toml_rule_adds_a_denial_text() {
    let text = r#"
[[rules]]
name = "fac-push-denied"
formats = ["fortiauthenticator", "fortiauthenticator-export"]
event_ids = ["20104"]
status = "Failed"
message_contains = ["denied"]
signal = "push_denied"
reason_after = "failed: "
"#;
    let config = crate::Config::from_toml_str(text, "<test>").expect("valid rule");
    let rules = RuleSet::new(&config.rules);
    let line = "date=2026-03-04 time=10:22:44+0000 oid=9 logid=20104 cat=\"Event\" subcat=\"Authentication\" level=\"information\" \
                nas=\"10.10.10.10\" action=\"Authentication\" status=\"Failed\" msg=\"Remote LDAP user authentication with \
                FortiToken failed: push denied\" user=\"user9\"";
    let (_, signal) = classify(&rules, line).expect("configured rule");
    assert_eq!(signal.kind, SignalKind::PushDenied);
    assert_eq!(signal.reason.as_deref(), Some("push denied"));
}

#[test]
fn rule_without_ids_or_text_is_rejected() {
    let text = "[[rules]]\nname = \"empty\"\nsignal = \"push_denied\"\n";
    let error = crate::Config::from_toml_str(text, "<test>").expect_err("rule matches everything");
    assert!(error.to_string().contains("rules[0].event_ids"), "{error}");
}

/// Returns a FortiOS authentication success (0102043008) with a `typeid` before its `logid`.
fn fortios_line_with_typeid(typeid: &str) -> String {
    format!(
        "<189>date=2024-05-13 time=08:42:17 typeid={typeid} devname=\"fgt-hq01\" devid=\"FG100F\" \
         eventtime=1715582537123456789 tz=\"+0200\" logid=\"0102043008\" type=\"event\" subtype=\"user\" \
         level=\"notice\" user=\"user048\" srcip=10.1.1.1 action=\"authentication\" status=\"success\" \
         msg=\"User user048 succeeded in authentication\""
    )
}

#[test]
fn triage_with_both_ids_checks_typeid() {
    let rules = RuleSet::new(&[]);
    let context = Context::new(RECEIVED_NS);
    // A known typeid makes the line relevant, and the logid settles the rule.
    let known = fortios_line_with_typeid("20002");
    let peeked = peek(known.as_bytes(), &context);
    assert_eq!(peeked.format, BodyFormat::FortiOs);
    let Triage::Counted(rule) = rules.triage(&peeked, known.as_bytes()) else {
        panic!("a known typeid and a count-only logid settle the line");
    };
    assert_eq!(rule.name, "fgt-auth-success");
    assert_eq!(rules.rule_name(rule.position), Some("fgt-auth-success"));
    assert!(rules.is_relevant(&peeked, known.as_bytes()));
    let mut parser = Parser::new();
    let record = parser.parse(known.as_bytes(), &context);
    let name = rules
        .classify(&record)
        .map(|(rule, _)| rule.name.to_owned());
    assert_eq!(name.as_deref(), Some("fgt-auth-success"));
    // An unknown typeid makes the line irrelevant, although its logid is listed.
    let unknown = fortios_line_with_typeid("99999");
    let peeked = peek(unknown.as_bytes(), &context);
    assert_eq!(
        rules.triage(&peeked, unknown.as_bytes()),
        Triage::Irrelevant
    );
    assert!(!rules.is_relevant(&peeked, unknown.as_bytes()));
}

#[test]
fn reason_after_ignores_case() {
    let marker = "failed: ";
    let finder = Finder::new(marker.as_bytes()).into_owned();
    let reason = |message: &str| reason_after(message, marker, &finder);
    assert_eq!(
        reason("with FortiToken FAILED: Invalid Token.").as_deref(),
        Some("Invalid Token")
    );
    assert_eq!(
        reason("Ünïcode user failed: grün.").as_deref(),
        Some("grün")
    );
    assert_eq!(reason("with FortiToken failed: .").as_deref(), None);
    assert_eq!(reason("successful").as_deref(), None);
}

#[test]
fn lossy_text_replaces_invalid_bytes() {
    assert_eq!(lossy_text(b"plain"), "plain");
    assert!(matches!(lossy_text(b"plain"), Cow::Borrowed(_)));
    assert_eq!(lossy_text(b"bad \xff byte"), "bad \u{fffd} byte");
}

/// Counts the rule names of the lines the full classification matches.
fn hits_by_name(rules: &RuleSet, lines: &[String]) -> std::collections::BTreeMap<String, u64> {
    let mut hits = std::collections::BTreeMap::new();
    for line in lines {
        if let Some((name, _)) = classify(rules, line) {
            *hits.entry(name).or_insert(0) += 1;
        }
    }
    hits
}

#[test]
fn rule_hits_survive_a_state_file() {
    let lines = sample("fortigate-vpn-auth.log");
    let config = crate::Config::from_toml_str("", "<test>").expect("default configuration");
    let expected = hits_by_name(&RuleSet::new(&config.rules), &lines);

    // The sample has lines of the fast path (count-only) and of the full parse.
    assert!(
        expected.contains_key("fgt-sslvpn-tunnel-up"),
        "{expected:?}"
    );
    assert!(
        expected.contains_key("fgt-sslvpn-login-fail"),
        "{expected:?}"
    );
    let feed = |engine: &mut crate::engine::Engine| {
        let mut out = Vec::new();
        for line in &lines {
            engine.process_line(line.as_bytes(), RECEIVED_NS, &mut out);
        }
    };

    let mut first = crate::engine::Engine::new(config.clone(), None, None).expect("engine");
    feed(&mut first);
    assert_eq!(first.counters().rule_hits, expected);

    let directory = tempfile::tempdir().expect("temporary directory");
    let path = directory.path().join("state.json");
    first.save_state(&path).expect("state saved");
    assert_eq!(first.counters().rule_hits, expected);

    let saved = crate::state::SavedState::load(&path).expect("state loaded");
    let mut second = crate::engine::Engine::new(config, None, Some(saved)).expect("engine");
    assert_eq!(second.counters().rule_hits, expected);
    feed(&mut second);
    let doubled: std::collections::BTreeMap<String, u64> = expected
        .iter()
        .map(|(name, count)| (name.clone(), count * 2))
        .collect();
    assert_eq!(second.counters().rule_hits, doubled);
}

#[test]
fn trim_matches_str_trim() {
    let cases = [
        "user1",
        " user1 ",
        "\tuser1\r\n",
        "\u{b}user1\u{c}",
        "\u{a0}user1\u{3000}",
        "ü",
        " ",
        "",
        "a b",
        "\u{1}x\u{1}",
    ];
    for text in cases {
        assert_eq!(trim(text), text.trim(), "{text:?}");
    }
}
