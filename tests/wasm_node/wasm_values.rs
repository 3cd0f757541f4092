//! JS values, keys and contexts to and from bytes (wasm, in Node.js): every accepted value
//! comes back as the type it was given; the rest is refused with INVALID_ARGUMENT.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, ArrayBuffer, Float32Array, Object, Reflect, Uint8Array, JSON};
use ringlet::core::context::Context;
use ringlet::core::dvv::VersionVector;
use ringlet::wasm::values::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

fn code(e: &JsValue) -> String {
    Reflect::get(e, &"code".into())
        .unwrap()
        .as_string()
        .unwrap()
}

fn round_trip(v: &JsValue) -> JsValue {
    value_from_bytes(&value_to_bytes(v).expect("accepted"))
}

#[wasm_bindgen_test]
fn strings_come_back_as_strings() {
    for s in ["", "hello", "ünïcødé ✓", "\u{0}"] {
        assert_eq!(
            round_trip(&JsValue::from_str(s)).as_string().as_deref(),
            Some(s)
        );
    }
}

#[wasm_bindgen_test]
fn bytes_come_back_as_uint8array() {
    let a = Uint8Array::from(&[0u8, 1, 2, 255][..]);
    let back = round_trip(&a.into());
    let back = back.dyn_into::<Uint8Array>().expect("a Uint8Array");
    assert_eq!(back.to_vec(), vec![0, 1, 2, 255]);
    let buf = ArrayBuffer::new(3);
    let back = round_trip(&buf.into())
        .dyn_into::<Uint8Array>()
        .expect("a Uint8Array");
    assert_eq!(back.to_vec(), vec![0, 0, 0]);
}

#[wasm_bindgen_test]
fn json_data_comes_back_equal() {
    for text in [
        r#"{"a":1,"b":[true,null,"x"],"c":{"d":1.5}}"#,
        "[1,2,3]",
        "42",
        "true",
        "null",
        "-0.25",
    ] {
        let v = JSON::parse(text).unwrap();
        let back = round_trip(&v);
        assert_eq!(
            JSON::stringify(&back).unwrap().as_string().unwrap(),
            JSON::stringify(&v).unwrap().as_string().unwrap()
        );
    }
}

#[wasm_bindgen_test]
fn a_string_and_json_stay_distinct() {
    // "42" (a string) and 42 (a number) are different values.
    let s = round_trip(&JsValue::from_str("42"));
    let n = round_trip(&JsValue::from_f64(42.0));
    assert!(s.is_string());
    assert_eq!(n.as_f64(), Some(42.0));
}

#[wasm_bindgen_test]
fn untagged_bytes_come_back_raw() {
    let back = value_from_bytes(b"plain")
        .dyn_into::<Uint8Array>()
        .expect("raw bytes");
    assert_eq!(back.to_vec(), b"plain".to_vec());
    assert_eq!(
        value_from_bytes(&[])
            .dyn_into::<Uint8Array>()
            .unwrap()
            .length(),
        0
    );
    // A JSON tag with bytes that are not JSON: raw, never a throw.
    let bad = [TAG_JSON, b'{'];
    assert_eq!(
        value_from_bytes(&bad)
            .dyn_into::<Uint8Array>()
            .unwrap()
            .to_vec(),
        bad.to_vec()
    );
}

#[wasm_bindgen_test]
fn unstorable_values_are_invalid_arguments() {
    let cyclic = Object::new();
    Reflect::set(&cyclic, &"self".into(), &cyclic).unwrap();
    let bad = [
        JsValue::UNDEFINED,
        js_sys::Function::new_no_args("return 1").into(),
        js_sys::Symbol::for_("s").into(),
        js_sys::BigInt::from(7u32).into(),
        Float32Array::new_with_length(2).into(),
        cyclic.into(),
    ];
    for v in bad {
        let e = value_to_bytes(&v).expect_err("refused");
        assert_eq!(code(&e), "INVALID_ARGUMENT");
    }
}

#[wasm_bindgen_test]
fn keys_are_strings_or_bytes() {
    assert_eq!(key_to_bytes(&"a".into()).unwrap().as_slice(), b"a");
    assert_eq!(
        key_to_bytes(&Uint8Array::from(&[0x61u8][..]).into())
            .unwrap()
            .as_slice(),
        b"a"
    );
    for bad in [
        JsValue::from_f64(1.0),
        JsValue::NULL,
        JsValue::UNDEFINED,
        "".into(),
        Array::new().into(),
    ] {
        assert_eq!(
            code(&key_to_bytes(&bad).expect_err("refused")),
            "INVALID_ARGUMENT"
        );
    }
    let long = "x".repeat(MAX_KEY_BYTES + 1);
    assert_eq!(
        code(&key_to_bytes(&long.into()).expect_err("refused")),
        "INVALID_ARGUMENT"
    );
    assert_eq!(key_to_js(b"cart").as_string().as_deref(), Some("cart"));
    assert!(key_to_js(&[0xff, 0xfe]).is_instance_of::<Uint8Array>());
}

#[wasm_bindgen_test]
fn contexts_round_trip_as_base64_or_bytes() {
    let ctx = Context::from(VersionVector::from_pairs([("Sx", 2), ("Sy", 1), ("Sz", 1)]));
    let js = context_to_js(&ctx);
    assert!(js.is_string());
    assert_eq!(context_from_js(&js).unwrap(), Some(ctx.clone()));
    let bytes = Uint8Array::from(&ctx.to_bytes()[..]);
    assert_eq!(context_from_js(&bytes.into()).unwrap(), Some(ctx));
    assert_eq!(context_from_js(&JsValue::UNDEFINED).unwrap(), None);
    assert_eq!(context_from_js(&JsValue::NULL).unwrap(), None);
    for bad in [
        JsValue::from_str("not base64!"),
        JsValue::from_str("AAAA"),
        JsValue::from_f64(3.0),
    ] {
        assert_eq!(
            code(&context_from_js(&bad).expect_err("refused")),
            "INVALID_ARGUMENT"
        );
    }
}

#[wasm_bindgen_test]
fn base64_matches_the_standard() {
    let cases: [(&[u8], &str); 5] = [
        (b"", ""),
        (b"f", "Zg=="),
        (b"fo", "Zm8="),
        (b"foo", "Zm9v"),
        (b"foobar", "Zm9vYmFy"),
    ];
    for (raw, enc) in cases {
        assert_eq!(base64_encode(raw), enc);
        assert_eq!(base64_decode(enc).as_deref(), Some(raw));
    }
    let all: Vec<u8> = (0..=255).collect();
    assert_eq!(base64_decode(&base64_encode(&all)), Some(all));
    assert_eq!(base64_decode("Z"), None);
    assert_eq!(base64_decode("Zm9v*"), None);
}
