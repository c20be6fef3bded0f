//! The fast path must agree with the full parse on format, class fields and event time.

use pushwatch_parser::{peek, BodyFormat, Context, Parser, TimeSource};

const RECEIVE: i64 = 1_780_272_000_000_000_000; // 2026-06-01T00:00:00Z

fn check(line: &str) -> (BodyFormat, TimeSource) {
    let context = Context::new(RECEIVE);
    let quick = peek(line.as_bytes(), &context);
    let mut parser = Parser::new();
    let record = parser.parse(line.as_bytes(), &context);
    assert_eq!(quick.format, record.format(), "format of {line}");
    assert_eq!(quick.time, record.time(), "time of {line}");
    assert_eq!(quick.pri, record.pri(), "pri of {line}");
    if quick.format != BodyFormat::Cef {
        for (name, value) in [
            ("devname", quick.devname),
            ("devid", quick.devid),
            ("type", quick.log_type),
            ("subtype", quick.subtype),
        ] {
            assert_eq!(value, record.field(name), "{name} of {line}");
        }
    }
    if quick.format == BodyFormat::FortiAuthenticator {
        assert_eq!(quick.status, record.field("status"), "status of {line}");
        assert_eq!(quick.typeid, record.field("typeid"), "typeid of {line}");
    }
    (quick.format, quick.time.source)
}

#[test]
fn peek_matches_parse_on_fortios() {
    let line = r#"<189>date=2024-05-13 time=08:42:17 devname="fgt01" devid="FG1" eventtime=1715589737123456789 tz="+0200" logid="0000000013" type="traffic" subtype="forward" status="x" srcip=10.0.0.1"#;
    assert_eq!(check(line), (BodyFormat::FortiOs, TimeSource::Eventtime));
}

#[test]
fn invalid_eventtime_does_not_stop_peek() {
    // The eventtime has 11 digits, so both paths must fall back to date and time, which come
    // after every class field.
    let line = r#"eventtime=17155897371 logid="0100032001" type="event" subtype="system" devname="a" devid="b" date=2024-05-13 time=08:42:17 tz="+0200""#;
    assert_eq!(check(line), (BodyFormat::FortiOs, TimeSource::DateTimeTz));
}

#[test]
fn peek_matches_parse_on_fortiauthenticator() {
    let syslog = r#"Jun  1 02:00:00 fac01 db[7]: category="Event" subcategory="Authentication" typeid=20299 level="information" user="u1" nas="10.0.0.1" action="Authentication" status="Pending" Remote RADIUS user authentication partially done"#;
    assert_eq!(
        check(syslog),
        (BodyFormat::FortiAuthenticator, TimeSource::Header)
    );
    let export = r#"date=2026-03-04 time=10:22:44+0000 oid=8888 logid=20002 cat="Event" subcat="Authentication" level="information" nas="10.10.10.10" action="Authentication" status="Success" msg="Remote LDAP user authentication from (null) with FortiToken successful (chosen FTM push notification)" user="test""#;
    assert_eq!(
        check(export),
        (BodyFormat::FortiAuthenticatorExport, TimeSource::DateTimeTz)
    );
    let context = Context::new(RECEIVE);
    let quick = peek(export.as_bytes(), &context);
    assert_eq!(quick.event_id().map(|id| id.raw()), Some(&b"20002"[..]));
    assert_eq!(quick.category.map(|id| id.raw()), Some(&b"Event"[..]));
}

#[test]
fn peek_reads_cef_names() {
    let line = "Dec 27 11:15:40 FGT-LAB-LOG CEF: 0|Fortinet|Fortigate|v6.0.3|32002|event:system login failed|7|deviceExternalId=FGT5HD0000000610 FTNTFGTlogid=0100032002 cat=event:system FTNTFGTeventtime=1545938140 duser=admin1";
    assert_eq!(check(line), (BodyFormat::Cef, TimeSource::Eventtime));
    let quick = peek(line.as_bytes(), &Context::new(RECEIVE));
    assert_eq!(quick.signature_id.map(|id| id.raw()), Some(&b"32002"[..]));
    assert_eq!(quick.logid.map(|id| id.raw()), Some(&b"0100032002"[..]));
    assert_eq!(
        quick.devid.map(|id| id.raw()),
        Some(&b"FGT5HD0000000610"[..])
    );
    assert_eq!(
        quick.hostname.map(|host| host.raw()),
        Some(&b"FGT-LAB-LOG"[..])
    );
}

#[test]
fn parse_reuses_storage_across_lines() {
    let mut parser = Parser::new();
    let context = Context::new(RECEIVE);
    let first = parser.parse(b"a=1 b=2 c=3", &context).field_count();
    assert_eq!(first, 3);
    let second = parser.parse(b"d=4", &context);
    assert_eq!(second.field_count(), 1);
    assert_eq!(second.field("a"), None);
    assert_eq!(second.field("d").map(|value| value.raw()), Some(&b"4"[..]));
}

#[test]
fn late_eventtime_still_wins_in_peek() {
    // FortiAnalyzer forwarding puts `tz`, `date` and `time` before `eventtime`.
    let line = r#"<185>logver=506061630 tz="UTC+2:00" devname="fgt" devid="FG1" vd="root" date=2022-04-22 time=11:31:10 logid="0100032001" type="event" subtype="system" eventtime=1650619870"#;
    assert_eq!(check(line), (BodyFormat::FortiOs, TimeSource::Eventtime));
}

#[test]
fn late_tz_counts_on_export_lines() {
    let line =
        r#"date=2024-01-01 time=10:00:00 logid=20000 cat="Event" status="Success" tz="+0200""#;
    assert_eq!(
        check(line),
        (BodyFormat::FortiAuthenticatorExport, TimeSource::DateTimeTz)
    );
}

#[test]
fn field_order_does_not_change_peek() {
    // The fast path looks for keys where FortiOS usually writes them. Lines in other orders,
    // or that leave that order halfway, must give the same result.
    let lines = [
        r#"<189>date=2024-05-13 time=08:42:17 devname="fgt01" devid="FG1" eventtime=1715589737123456789 tz="+0200" logid="0100032001" type="event" subtype="system" level="notice""#,
        r#"<189>date=2020-04-23 time=12:32:48 devname="fgt01" devid="FG1" logid="0102043014" type="event" subtype="user" level="notice" vd="root" eventtime=1587231168439640874 tz="-0500""#,
        r#"<189>devname="fgt01" devid="FG1" vd="root" date=2020-04-23 time=12:32:48 logid="0102043014" type="event" subtype="user" eventtime=1587231168"#,
        r#"<189>date=2020-04-23 time=12:32:48 devname="fgt01" devid="FG1" eventtime=15872311684 tz="-0500" logid="0102043014" type="event" subtype="user""#,
        r#"<189>date=2020-04-23 time=12:32:48 devname="fgt01" devid="FG1" logid=20001 cat="Event" status="Success""#,
    ];
    let expected = [
        TimeSource::Eventtime,
        TimeSource::Eventtime,
        TimeSource::Eventtime,
        TimeSource::DateTimeTz,
        TimeSource::DateTimeDefaultZone,
    ];
    for (line, source) in lines.into_iter().zip(expected) {
        let (format, time_source) = check(line);
        assert_eq!(format, BodyFormat::FortiOs, "format of {line}");
        assert_eq!(time_source, source, "time source of {line}");
        let quick = peek(line.as_bytes(), &Context::new(RECEIVE));
        assert!(quick.logid.is_some(), "logid of {line}");
        assert!(quick.devid.is_some(), "devid of {line}");
    }
}

#[test]
fn unusual_fortios_start_matches_parse() {
    // Lines that start like a usual FortiOS body but differ at one pair: the fast path must
    // read them as the full parse does, errors included.
    let tail = r#"logid="0100032001" type="event" subtype="system" level="notice""#;
    let lines = [
        format!(
            r#"date="2024-05-13" time=08:42:17 devname="fgt01" devid="FG1" eventtime=1715589737 tz="+0200" {tail}"#
        ),
        format!(
            r#"date=2024-05-13   time=08:42:17  devname="fgt01" devid="FG1" eventtime=1715589737 tz="+0200" {tail}"#
        ),
        format!(
            r#"date=2024-05-13 time=08:42:17 devname="fgt01" devid="FG1" eventtime=1715589737 {tail}"#
        ),
        format!(
            r#"date=2024-05-13 time=08:42:17 devname="fgt\"01" devid="FG1" eventtime=1715589737 tz="+0200" {tail}"#
        ),
        format!(
            r#"date=2024-05-13 time=08:42:17 devname="fgt01"x devid="FG1" eventtime=1715589737 tz="+0200" {tail}"#
        ),
        format!(
            r#"date=2024-05-13 time=08:42:17 devname="fgt01"devid="FG1" eventtime=1715589737 tz="+0200" {tail}"#
        ),
        format!(
            r#"date=2024-05-13 time=08:42:17 devname="" devid= eventtime=1715589737 tz="+0200" {tail}"#
        ),
        r#"date=2024-05-13 time=08:42:17 devname="fgt01 devid="FG1" eventtime=1715589737"#
            .to_owned(),
        r#"date=2024-05-13 time=08:42:17 devname="fgt01""#.to_owned(),
    ];
    let context = Context::new(RECEIVE);
    for line in &lines {
        let (format, _) = check(line);
        assert_eq!(format, BodyFormat::FortiOs, "format of {line}");
        let quick = peek(line.as_bytes(), &context);
        let mut parser = Parser::new();
        let record = parser.parse(line.as_bytes(), &context);
        assert_eq!(quick.errors.as_slice(), record.errors(), "errors of {line}");
        assert_eq!(quick.logid, record.field("logid"), "logid of {line}");
    }
    let export = r#"date=2026-03-04 time=10:22:44+0000 devname="fac" devid="FAC1" logid=20002 cat="Event" status="Success""#;
    assert_eq!(
        check(export),
        (BodyFormat::FortiAuthenticatorExport, TimeSource::DateTimeTz)
    );
}
