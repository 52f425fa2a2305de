use cloister_shared::{IdError, VideoId};

#[test]
fn random_ids_round_trip_through_display_and_parse() {
    let a = VideoId::random().unwrap();
    let b = VideoId::random().unwrap();
    assert_ne!(a, b);
    let s = a.to_string();
    assert_eq!(s.len(), 32);
    assert!(s
        .bytes()
        .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
    assert_eq!(VideoId::parse(&s), Ok(a));
    assert_eq!(s.parse::<VideoId>(), Ok(a));
}

#[test]
fn display_is_lowercase_hex_of_bytes() {
    let id = VideoId::from_bytes([0xab; 16]);
    assert_eq!(id.to_string(), "ab".repeat(16));
}

#[test]
fn parse_rejects_everything_but_32_lowercase_hex() {
    let good = "0123456789abcdef0123456789abcdef";
    assert!(VideoId::parse(good).is_ok());
    let bad_len = [
        "",
        "0",
        &good[..31],
        &format!("{good}0"),
        &format!(" {good}"),
    ];
    for s in bad_len {
        assert_eq!(VideoId::parse(s), Err(IdError::Length), "{s:?}");
    }
    let bad_char = [
        "0123456789ABCDEF0123456789abcdef",
        "../../../../../../etc/passwd0000",
        "0123456789abcdef0123456789abcde/",
        "0123456789abcdef0123456789abcdeg",
        "0123456789abcdef0123456789abcde ",
        "+123456789abcdef0123456789abcdef",
        "0123456789abcdef0123456789abcd\0f",
    ];
    for s in bad_char {
        assert_eq!(s.len(), 32);
        assert_eq!(VideoId::parse(s), Err(IdError::Character), "{s:?}");
    }
    // Multi-byte UTF-8 of the right byte length is refused too.
    assert!(VideoId::parse("é123456789abcdef0123456789abcde").is_err());
}

#[test]
fn serde_uses_the_strict_string_form() {
    let id = VideoId::parse("00112233445566778899aabbccddeeff").unwrap();
    let json = serde_json::to_string(&id).unwrap();
    assert_eq!(json, "\"00112233445566778899aabbccddeeff\"");
    assert_eq!(serde_json::from_str::<VideoId>(&json).unwrap(), id);
    assert!(serde_json::from_str::<VideoId>("\"00112233445566778899AABBCCDDEEFF\"").is_err());
    assert!(serde_json::from_str::<VideoId>("\"../x\"").is_err());
    assert!(serde_json::from_str::<VideoId>("[0,1]").is_err());
}
