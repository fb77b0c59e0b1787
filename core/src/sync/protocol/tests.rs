use proptest::prelude::*;

use super::*;

/// The document id of the record whose 16 bytes are 1..=16, as automerge-repo writes it.
const DOC: &str = "pEbmSWqJdBuPadRGm8tDZXgWR6";

fn doc() -> RecordId {
    RecordId::from_bytes(core::array::from_fn(|i| (i + 1) as u8))
}

/// Frames produced by automerge-repo's own encoder (`cbor-x` with `tagUint8Array: false,
/// useRecords: false`, as in `packages/automerge-repo/src/helpers/cbor.ts`), captured once from
/// Node. cbor-x writes every object as a map16 (`b9 00 NN`), unset properties as `undefined`
/// (`f7`) and integers above 2^32 as float64: the decoder must take all three.
mod js {
    pub const JOIN: &str = "b900046474797065646a6f696e6873656e64657249646e62726f777365722d706565722d316c706565724d65746164617461b900026973746f7261676549646b73746f726167652d6162636b6973457068656d6572616cf47819737570706f7274656450726f746f636f6c56657273696f6e73816131";
    pub const JOIN_UNDEFINED_STORAGE: &str = "b900046474797065646a6f696e6873656e6465724964637461626c706565724d65746164617461b900026973746f726167654964f76b6973457068656d6572616cf57819737570706f7274656450726f746f636f6c56657273696f6e73816131";
    pub const PEER: &str = "b90005647479706564706565726873656e64657249646b7365727665722d706565726c706565724d65746164617461b900016b6973457068656d6572616cf47773656c656374656450726f746f636f6c56657273696f6e61316874617267657449646e62726f777365722d706565722d31";
    pub const REQUEST: &str = "b90005647479706567726571756573746874617267657449646b7365727665722d706565726a646f63756d656e744964781a7045626d5357714a64427550616452476d3874445a586757523664646174614542000001006873656e64657249646e62726f777365722d706565722d31";
    pub const SYNC: &str = "b9000564747970656473796e636874617267657449646b7365727665722d706565726a646f63756d656e744964781a7045626d5357714a64427550616452476d3874445a5867575236646461746144420102036873656e64657249646e62726f777365722d706565722d31";
    pub const DOC_UNAVAILABLE: &str = "b9000464747970656f646f632d756e617661696c61626c656a646f63756d656e744964781a7045626d5357714a64427550616452476d3874445a58675752366874617267657449646e62726f777365722d706565722d316873656e64657249646b7365727665722d70656572";
    pub const EPHEMERAL: &str = "b90007647479706569657068656d6572616c6874617267657449646b7365727665722d706565726a646f63756d656e744964781a7045626d5357714a64427550616452476d3874445a5867575236646461746144a16178016873656e64657249646e62726f777365722d706565722d3165636f756e74076973657373696f6e496466736573732d31";
    pub const REMOTE_HEADS_CHANGED: &str = "b9000564747970657472656d6f74652d68656164732d6368616e6765646873656e64657249646b7365727665722d706565726874617267657449646e62726f777365722d706565722d316a646f63756d656e744964781a7045626d5357714a64427550616452476d3874445a5867575236686e65774865616473b900016b73746f726167652d616263b900026568656164738171324e45706f37545a5252724c5a536932556974696d657374616d70fb42799c82cc000000";
    pub const REMOTE_SUBSCRIPTION_CHANGE: &str = "b900056474797065781a72656d6f74652d737562736372697074696f6e2d6368616e67656873656e64657249646e62726f777365722d706565722d316874617267657449646b7365727665722d7065657263616464816b73746f726167652d6162636672656d6f7665f7";
    pub const LEAVE: &str =
        "b900026474797065656c656176656873656e64657249646e62726f777365722d706565722d31";
    pub const ERROR: &str = "b900046474797065656572726f726873656e64657249646b7365727665722d70656572676d657373616765781c756e737570706f727465642070726f746f636f6c2076657273696f6e6874617267657449646e62726f777365722d706565722d31";
}

fn js(hex_frame: &str) -> Message {
    Message::decode(&hex::decode(hex_frame).unwrap()).unwrap()
}

#[test]
fn fixture_document_id_is_automerge_repo_base58check() {
    assert_eq!(doc().to_document_id(), DOC);
}

#[test]
fn decodes_automerge_repo_join() {
    assert_eq!(
        js(js::JOIN),
        Message::Join {
            sender_id: "browser-peer-1".into(),
            supported_protocol_versions: vec!["1".into()],
            peer_metadata: Some(PeerMetadata {
                storage_id: Some("storage-abc".into()),
                is_ephemeral: Some(false),
                homevisit: None,
            }),
        }
    );
}

#[test]
fn decodes_js_undefined_as_absent() {
    let Message::Join {
        peer_metadata: Some(md),
        ..
    } = js(js::JOIN_UNDEFINED_STORAGE)
    else {
        panic!("not a join with metadata");
    };
    assert_eq!(md.storage_id, None);
    assert_eq!(md.is_ephemeral, Some(true));
    assert_eq!(
        js(js::REMOTE_SUBSCRIPTION_CHANGE),
        Message::RemoteSubscriptionChange {
            sender_id: "browser-peer-1".into(),
            target_id: "server-peer".into(),
            add: vec!["storage-abc".into()],
            remove: vec![],
        }
    );
}

#[test]
fn decodes_automerge_repo_peer_request_sync_and_unavailable() {
    assert_eq!(
        js(js::PEER),
        Message::Peer {
            sender_id: "server-peer".into(),
            target_id: "browser-peer-1".into(),
            selected_protocol_version: "1".into(),
            peer_metadata: Some(PeerMetadata {
                is_ephemeral: Some(false),
                ..Default::default()
            }),
        }
    );
    assert_eq!(
        js(js::REQUEST),
        Message::Request {
            sender_id: "browser-peer-1".into(),
            target_id: "server-peer".into(),
            document_id: doc(),
            data: vec![0x42, 0, 0, 1, 0],
        }
    );
    assert_eq!(
        js(js::SYNC),
        Message::Sync {
            sender_id: "browser-peer-1".into(),
            target_id: "server-peer".into(),
            document_id: doc(),
            data: vec![0x42, 1, 2, 3],
        }
    );
    assert_eq!(
        js(js::DOC_UNAVAILABLE),
        Message::DocUnavailable {
            sender_id: "server-peer".into(),
            target_id: "browser-peer-1".into(),
            document_id: doc(),
        }
    );
}

#[test]
fn decodes_automerge_repo_ephemeral_heads_leave_and_error() {
    assert_eq!(
        js(js::EPHEMERAL),
        Message::Ephemeral {
            sender_id: "browser-peer-1".into(),
            target_id: "server-peer".into(),
            count: 7,
            session_id: "sess-1".into(),
            document_id: doc(),
            data: vec![0xa1, 0x61, 0x78, 0x01],
        }
    );
    let mut new_heads = BTreeMap::new();
    new_heads.insert(
        "storage-abc".to_string(),
        RemoteHeads {
            heads: vec!["2NEpo7TZRRrLZSi2U".into()],
            timestamp: 1_760_000_000_000,
        },
    );
    assert_eq!(
        js(js::REMOTE_HEADS_CHANGED),
        Message::RemoteHeadsChanged {
            sender_id: "server-peer".into(),
            target_id: "browser-peer-1".into(),
            document_id: doc(),
            new_heads,
        }
    );
    assert_eq!(
        js(js::LEAVE),
        Message::Leave {
            sender_id: "browser-peer-1".into()
        }
    );
    assert_eq!(
        js(js::ERROR),
        Message::Error {
            sender_id: Some("server-peer".into()),
            target_id: Some("browser-peer-1".into()),
            message: "unsupported protocol version".into(),
        }
    );
}

#[test]
fn our_encoding_is_what_automerge_repo_decodes() {
    // cbor-x decodes any map with text keys; what matters is that our frames carry the same
    // keys and CBOR types as the JS ones. Re-encoding a JS frame's message and decoding it
    // again must give the same message, and the generic CBOR value must have the same keys.
    for frame in [
        js::JOIN,
        js::PEER,
        js::REQUEST,
        js::SYNC,
        js::DOC_UNAVAILABLE,
        js::EPHEMERAL,
        js::LEAVE,
        js::ERROR,
    ] {
        let bytes = hex::decode(frame).unwrap();
        let msg = Message::decode(&bytes).unwrap();
        let ours = msg.encode().unwrap();
        assert_eq!(Message::decode(&ours).unwrap(), msg);
        let keys = |b: &[u8]| -> BTreeSet<String> {
            let Value::Map(entries) = ciborium::de::from_reader::<Value, _>(b).unwrap() else {
                panic!("not a map")
            };
            entries
                .into_iter()
                .map(|(k, _)| k.into_text().unwrap())
                .collect()
        };
        assert_eq!(keys(&ours), keys(&bytes), "{}", msg.type_name());
    }
}

#[test]
fn request_data_is_a_cbor_byte_string_and_type_comes_first() {
    let msg = Message::Request {
        sender_id: "a".into(),
        target_id: "b".into(),
        document_id: doc(),
        data: vec![1, 2, 3],
    };
    let bytes = msg.encode().unwrap();
    // map(5), "type", "request" — automerge-repo reads `type` first in its logs; peers do not
    // depend on order, but a stable order keeps frames reproducible.
    let mut prefix = vec![0xa5, 0x64];
    prefix.extend_from_slice(b"type");
    prefix.push(0x67);
    prefix.extend_from_slice(b"request");
    assert_eq!(&bytes[..prefix.len()], &prefix[..]);
    let Value::Map(entries) = ciborium::de::from_reader::<Value, _>(&bytes[..]).unwrap() else {
        panic!()
    };
    let data = entries
        .iter()
        .find(|(k, _)| k.as_text() == Some("data"))
        .unwrap();
    assert_eq!(data.1, Value::Bytes(vec![1, 2, 3]));
}

#[test]
fn homevisit_extensions_round_trip_in_peer_metadata_and_unknown_ones_are_dropped() {
    let md = PeerMetadata {
        storage_id: None,
        is_ephemeral: Some(false),
        homevisit: Some(HomeVisitMetadata::all()),
    };
    let join = Message::Join {
        sender_id: "device".into(),
        supported_protocol_versions: vec![PROTOCOL_VERSION.into()],
        peer_metadata: Some(md),
    };
    assert_eq!(Message::decode(&join.encode().unwrap()).unwrap(), join);

    let value = Value::Map(vec![
        (Value::Text("type".into()), Value::Text("join".into())),
        (Value::Text("senderId".into()), Value::Text("d".into())),
        (
            Value::Text("supportedProtocolVersions".into()),
            Value::Array(vec![Value::Text("1".into())]),
        ),
        (
            Value::Text("peerMetadata".into()),
            Value::Map(vec![(
                Value::Text("homevisit".into()),
                Value::Map(vec![
                    (Value::Text("version".into()), Value::Integer(2.into())),
                    (
                        Value::Text("extensions".into()),
                        Value::Array(vec![
                            Value::Text("catchup".into()),
                            Value::Text("teleport".into()),
                        ]),
                    ),
                ]),
            )]),
        ),
    ]);
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(&value, &mut bytes).unwrap();
    let Message::Join {
        peer_metadata: Some(md),
        ..
    } = Message::decode(&bytes).unwrap()
    else {
        panic!()
    };
    let hv = md.homevisit.unwrap();
    assert_eq!(hv.version, 2);
    assert_eq!(hv.extensions, [Extension::Catchup].into_iter().collect());
}

#[test]
fn extension_messages_need_their_extension() {
    let ack = Message::Ack {
        sender_id: "s".into(),
        target_id: "t".into(),
        document_id: doc(),
        heads: vec![],
    };
    assert_eq!(ack.required_extension(), Some(Extension::Ack));
    let sync = Message::Sync {
        sender_id: "s".into(),
        target_id: "t".into(),
        document_id: doc(),
        data: vec![1],
    };
    assert_eq!(sync.required_extension(), None);
    let revoked = Message::Revoked {
        sender_id: "s".into(),
        reason: "r".into(),
    };
    assert_eq!(revoked.required_extension(), None);
}

#[test]
fn blob_messages_round_trip_and_need_the_blobs_extension() {
    let hash = [7u8; 32];
    let msgs = [
        Message::BlobOffer {
            sender_id: "s".into(),
            target_id: "t".into(),
            hash,
            size: 300_000,
            media_type: "image/jpeg".into(),
        },
        Message::BlobStatus {
            sender_id: "s".into(),
            target_id: "t".into(),
            hash,
            have: 262_144,
        },
        Message::BlobChunk {
            sender_id: "s".into(),
            target_id: "t".into(),
            hash,
            offset: 262_144,
            data: vec![1; MAX_BLOB_CHUNK],
        },
        Message::BlobAck {
            sender_id: "s".into(),
            target_id: "t".into(),
            hash,
            have: 300_000,
        },
        Message::BlobGet {
            sender_id: "s".into(),
            target_id: "t".into(),
            hash,
            offset: 0,
        },
        Message::BlobMissing {
            sender_id: "s".into(),
            target_id: "t".into(),
            hash,
        },
        Message::BlobReject {
            sender_id: "s".into(),
            target_id: "t".into(),
            hash,
            reason: "hash-mismatch".into(),
        },
    ];
    for m in msgs {
        assert_eq!(m.required_extension(), Some(Extension::Blobs));
        assert_eq!(Message::decode(&m.encode().unwrap()).unwrap(), m);
    }
}

#[test]
fn malformed_blob_messages_are_typed_errors() {
    let base = |hash: Value, extra: (&str, Value)| {
        cbor(map(&[
            ("type", Value::Text("hv-blob-chunk".into())),
            ("senderId", Value::Text("s".into())),
            ("targetId", Value::Text("t".into())),
            ("hash", hash),
            ("offset", Value::Integer(0.into())),
            extra,
        ]))
    };
    let short = base(
        Value::Bytes(vec![0; 31]),
        ("data", Value::Bytes(vec![1; 4])),
    );
    assert!(matches!(
        Message::decode(&short),
        Err(ProtocolError::InvalidField { field: "hash", .. })
    ));
    let big = base(
        Value::Bytes(vec![0; 32]),
        ("data", Value::Bytes(vec![1; MAX_BLOB_CHUNK + 1])),
    );
    assert!(matches!(
        Message::decode(&big),
        Err(ProtocolError::InvalidField { field: "data", .. })
    ));
    let empty_offer = cbor(map(&[
        ("type", Value::Text("hv-blob-offer".into())),
        ("senderId", Value::Text("s".into())),
        ("targetId", Value::Text("t".into())),
        ("hash", Value::Bytes(vec![0; 32])),
        ("size", Value::Integer(0.into())),
        ("mediaType", Value::Text("image/png".into())),
    ]));
    assert!(matches!(
        Message::decode(&empty_offer),
        Err(ProtocolError::InvalidField { field: "size", .. })
    ));
}

fn cbor(value: Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(&value, &mut out).unwrap();
    out
}

fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(
        entries
            .iter()
            .map(|(k, v)| (Value::Text((*k).into()), v.clone()))
            .collect(),
    )
}

#[test]
fn unknown_type_is_a_typed_error() {
    let bytes = cbor(map(&[
        ("type", Value::Text("teleport".into())),
        ("senderId", Value::Text("x".into())),
    ]));
    assert_eq!(
        Message::decode(&bytes),
        Err(ProtocolError::UnknownType("teleport".into()))
    );
}

#[test]
fn malformed_cbor_is_a_typed_error() {
    for bad in [
        &[0xff_u8][..],
        &[0xb9, 0x00],
        &[0x5a, 0xff, 0xff, 0xff, 0xff, 0x00],
        &[],
    ] {
        assert!(
            matches!(Message::decode(bad), Err(ProtocolError::MalformedCbor(_))),
            "{bad:02x?}"
        );
    }
}

#[test]
fn non_map_missing_type_and_missing_fields_are_typed_errors() {
    assert_eq!(
        Message::decode(&cbor(Value::Array(vec![]))),
        Err(ProtocolError::NotAMap)
    );
    assert_eq!(
        Message::decode(&cbor(Value::Map(vec![(
            Value::Integer(1.into()),
            Value::Null
        )]))),
        Err(ProtocolError::NotAMap)
    );
    assert_eq!(
        Message::decode(&cbor(map(&[("senderId", Value::Text("x".into()))]))),
        Err(ProtocolError::MissingType)
    );
    assert_eq!(
        Message::decode(&cbor(map(&[
            ("type", Value::Text("sync".into())),
            ("senderId", Value::Text("x".into()))
        ]))),
        Err(ProtocolError::MissingField {
            message_type: "sync".into(),
            field: "targetId"
        })
    );
}

#[test]
fn wrong_field_types_and_bad_document_ids_are_typed_errors() {
    let base = |doc: Value, data: Value| {
        cbor(map(&[
            ("type", Value::Text("sync".into())),
            ("senderId", Value::Text("a".into())),
            ("targetId", Value::Text("b".into())),
            ("documentId", doc),
            ("data", data),
        ]))
    };
    assert!(matches!(
        Message::decode(&base(
            Value::Text(DOC.into()),
            Value::Text("not bytes".into())
        )),
        Err(ProtocolError::InvalidField { field: "data", .. })
    ));
    let mut corrupted = DOC.to_string();
    corrupted.replace_range(0..1, "q");
    assert!(matches!(
        Message::decode(&base(Value::Text(corrupted), Value::Bytes(vec![1]))),
        Err(ProtocolError::InvalidField {
            field: "documentId",
            ..
        })
    ));
    assert!(matches!(
        Message::decode(&base(Value::Integer(3.into()), Value::Bytes(vec![1]))),
        Err(ProtocolError::InvalidField {
            field: "documentId",
            ..
        })
    ));
}

#[test]
fn duplicate_keys_and_trailing_bytes_are_rejected() {
    let dup = Value::Map(vec![
        (Value::Text("type".into()), Value::Text("leave".into())),
        (Value::Text("senderId".into()), Value::Text("a".into())),
        (Value::Text("senderId".into()), Value::Text("b".into())),
    ]);
    assert_eq!(
        Message::decode(&cbor(dup)),
        Err(ProtocolError::DuplicateKey("senderId".into()))
    );
    let mut bytes = Message::Leave {
        sender_id: "a".into(),
    }
    .encode()
    .unwrap();
    bytes.push(0);
    assert_eq!(
        Message::decode(&bytes),
        Err(ProtocolError::TrailingBytes(1))
    );
}

#[test]
fn oversized_frames_are_refused_before_parsing() {
    let msg = Message::Sync {
        sender_id: "a".into(),
        target_id: "b".into(),
        document_id: doc(),
        data: vec![7; 2000],
    };
    let bytes = msg.encode().unwrap();
    assert!(matches!(
        Message::decode_with_limit(&bytes, 1000),
        Err(ProtocolError::TooLarge { limit: 1000, .. })
    ));
    assert!(matches!(
        msg.encode_with_limit(1000),
        Err(ProtocolError::TooLarge { limit: 1000, .. })
    ));
    assert_eq!(
        Message::decode_with_limit(&bytes, bytes.len()).unwrap(),
        msg
    );
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let mut bytes = vec![0x81; 100_000];
    bytes.push(0x00);
    assert!(matches!(
        Message::decode(&bytes),
        Err(ProtocolError::MalformedCbor(_))
    ));
}

#[test]
fn over_long_lists_and_strings_are_refused() {
    let ids = Value::Array(vec![Value::Text(DOC.into()); MAX_LIST_LEN + 1]);
    let bytes = cbor(map(&[
        ("type", Value::Text("hv-catchup-request".into())),
        ("senderId", Value::Text("a".into())),
        ("targetId", Value::Text("b".into())),
        ("cursor", Value::Integer(0.into())),
        ("changedDocumentIds", ids),
    ]));
    assert!(matches!(
        Message::decode(&bytes),
        Err(ProtocolError::InvalidField {
            field: "changedDocumentIds",
            ..
        })
    ));
    let long = cbor(map(&[
        ("type", Value::Text("leave".into())),
        ("senderId", Value::Text("x".repeat(MAX_ID_LEN + 1))),
    ]));
    assert!(matches!(
        Message::decode(&long),
        Err(ProtocolError::InvalidField {
            field: "senderId",
            ..
        })
    ));
}

#[test]
fn heads_must_be_32_byte_strings() {
    let bytes = cbor(map(&[
        ("type", Value::Text("hv-ack".into())),
        ("senderId", Value::Text("a".into())),
        ("targetId", Value::Text("b".into())),
        ("documentId", Value::Text(DOC.into())),
        ("heads", Value::Array(vec![Value::Bytes(vec![1; 31])])),
    ]));
    assert!(matches!(
        Message::decode(&bytes),
        Err(ProtocolError::InvalidField { field: "heads", .. })
    ));
}

#[test]
fn batch_inside_batch_is_refused() {
    let inner = Message::Leave {
        sender_id: "a".into(),
    };
    let batch = Message::Batch {
        sender_id: "a".into(),
        target_id: "b".into(),
        messages: vec![inner.clone()],
    };
    assert_eq!(Message::decode(&batch.encode().unwrap()).unwrap(), batch);
    let nested = Message::Batch {
        sender_id: "a".into(),
        target_id: "b".into(),
        messages: vec![batch.clone()],
    };
    assert!(matches!(nested.encode(), Err(ProtocolError::Encode(_))));
    // Hand-built nesting is refused on decode.
    let inner_bytes = batch.encode().unwrap();
    let bytes = cbor(map(&[
        ("type", Value::Text("hv-batch".into())),
        ("senderId", Value::Text("a".into())),
        ("targetId", Value::Text("b".into())),
        ("messages", Value::Array(vec![Value::Bytes(inner_bytes)])),
    ]));
    assert!(Message::decode(&bytes).is_err());
}

// ---- property tests ------------------------------------------------------------------------

fn peer_id() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_-]{1,40}"
}

fn record_id() -> impl Strategy<Value = RecordId> {
    any::<[u8; 16]>().prop_map(RecordId::from_bytes)
}

fn heads() -> impl Strategy<Value = Vec<ChangeHash>> {
    prop::collection::vec(any::<[u8; 32]>().prop_map(ChangeHash), 0..4)
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..64)
}

fn metadata() -> impl Strategy<Value = Option<PeerMetadata>> {
    prop::option::of(
        (
            prop::option::of(peer_id()),
            prop::option::of(any::<bool>()),
            prop::option::of((
                any::<u64>(),
                prop::collection::btree_set(prop::sample::select(Extension::ALL.to_vec()), 0..4),
            )),
        )
            .prop_map(|(storage_id, is_ephemeral, hv)| PeerMetadata {
                storage_id,
                is_ephemeral,
                homevisit: hv.map(|(version, extensions)| HomeVisitMetadata {
                    version,
                    extensions,
                }),
            }),
    )
}

fn simple_message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (
            peer_id(),
            prop::collection::vec("[0-9]{1,3}", 0..3),
            metadata()
        )
            .prop_map(|(s, v, m)| Message::Join {
                sender_id: s,
                supported_protocol_versions: v,
                peer_metadata: m
            }),
        (peer_id(), peer_id(), "[0-9]{1,3}", metadata()).prop_map(|(s, t, v, m)| Message::Peer {
            sender_id: s,
            target_id: t,
            selected_protocol_version: v,
            peer_metadata: m
        }),
        peer_id().prop_map(|s| Message::Leave { sender_id: s }),
        (peer_id(), peer_id(), record_id(), bytes()).prop_map(|(s, t, d, b)| Message::Request {
            sender_id: s,
            target_id: t,
            document_id: d,
            data: b
        }),
        (peer_id(), peer_id(), record_id(), bytes()).prop_map(|(s, t, d, b)| Message::Sync {
            sender_id: s,
            target_id: t,
            document_id: d,
            data: b
        }),
        (peer_id(), peer_id(), record_id()).prop_map(|(s, t, d)| Message::DocUnavailable {
            sender_id: s,
            target_id: t,
            document_id: d
        }),
        (
            peer_id(),
            peer_id(),
            any::<u64>(),
            peer_id(),
            record_id(),
            bytes()
        )
            .prop_map(|(s, t, c, sess, d, b)| Message::Ephemeral {
                sender_id: s,
                target_id: t,
                count: c,
                session_id: sess,
                document_id: d,
                data: b
            }),
        (
            peer_id(),
            peer_id(),
            prop::collection::vec(peer_id(), 0..3),
            prop::collection::vec(peer_id(), 0..3)
        )
            .prop_map(|(s, t, a, r)| {
                Message::RemoteSubscriptionChange {
                    sender_id: s,
                    target_id: t,
                    add: a,
                    remove: r,
                }
            }),
        (
            peer_id(),
            peer_id(),
            record_id(),
            prop::collection::btree_map(
                peer_id(),
                (prop::collection::vec(peer_id(), 0..3), any::<u64>()),
                0..3
            )
        )
            .prop_map(|(s, t, d, m)| Message::RemoteHeadsChanged {
                sender_id: s,
                target_id: t,
                document_id: d,
                new_heads: m
                    .into_iter()
                    .map(|(k, (heads, timestamp))| (k, RemoteHeads { heads, timestamp }))
                    .collect()
            }),
        (
            prop::option::of(peer_id()),
            prop::option::of(peer_id()),
            ".{0,40}"
        )
            .prop_map(|(s, t, m)| Message::Error {
                sender_id: s,
                target_id: t,
                message: m
            }),
        (
            peer_id(),
            peer_id(),
            any::<u64>(),
            prop::collection::vec(record_id(), 0..5)
        )
            .prop_map(|(s, t, c, ids)| Message::CatchupRequest {
                sender_id: s,
                target_id: t,
                cursor: c,
                changed_document_ids: ids
            }),
        (
            peer_id(),
            peer_id(),
            prop::collection::vec((record_id(), heads()), 0..5),
            prop::collection::vec(record_id(), 0..3),
            any::<u64>(),
            any::<bool>()
        )
            .prop_map(
                |(s, t, changed, missing, c, more)| Message::CatchupResponse {
                    sender_id: s,
                    target_id: t,
                    changed: changed
                        .into_iter()
                        .map(|(document_id, heads)| ChangedDocument { document_id, heads })
                        .collect(),
                    missing,
                    cursor: c,
                    more
                }
            ),
        (peer_id(), peer_id(), record_id(), bytes(), heads()).prop_map(|(s, t, d, b, h)| {
            Message::Doc {
                sender_id: s,
                target_id: t,
                document_id: d,
                data: b,
                heads: h,
            }
        }),
        (peer_id(), peer_id(), record_id(), heads()).prop_map(|(s, t, d, h)| Message::Ack {
            sender_id: s,
            target_id: t,
            document_id: d,
            heads: h
        }),
        (peer_id(), peer_id(), record_id(), ".{0,40}").prop_map(|(s, t, d, r)| Message::Reject {
            sender_id: s,
            target_id: t,
            document_id: d,
            reason: r
        }),
        (peer_id(), ".{0,40}").prop_map(|(s, r)| Message::Revoked {
            sender_id: s,
            reason: r
        }),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        4 => simple_message(),
        1 => (peer_id(), peer_id(), prop::collection::vec(simple_message(), 0..4)).prop_map(|(s, t, m)| Message::Batch { sender_id: s, target_id: t, messages: m }),
    ]
}

proptest! {
    #[test]
    fn every_message_round_trips_through_cbor(msg in message()) {
        let bytes = msg.encode().unwrap();
        prop_assert_eq!(Message::decode(&bytes).unwrap(), msg);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Message::decode(&bytes);
    }

    #[test]
    fn mutated_valid_frames_never_panic_the_decoder(msg in message(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = msg.encode().unwrap();
        for (i, b) in flips {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        let _ = Message::decode(&bytes);
    }

    #[test]
    fn truncated_frames_are_errors_not_panics(msg in message(), cut in any::<prop::sample::Index>()) {
        let bytes = msg.encode().unwrap();
        let at = cut.index(bytes.len());
        prop_assert!(Message::decode(&bytes[..at]).is_err());
    }
}

fn audit_record(action: &str) -> AuditRecord {
    AuditRecord {
        id: uuid::Uuid::from_u128(1),
        user_id: uuid::Uuid::from_u128(2),
        device_id: uuid::Uuid::from_u128(3),
        record_id: doc(),
        action: action.into(),
        at: "2026-03-15T10:42:07.000000Z".into(),
        purpose: (action == "export").then(|| "referral to wheelchair service".into()),
    }
}

#[test]
fn rk_audit_upload_and_ack_round_trip_and_need_the_audit_extension() {
    let upload = Message::AuditUpload {
        sender_id: "device".into(),
        target_id: "server".into(),
        entries: vec![audit_record("view"), audit_record("export")],
        core_version: Some("0.1.0".into()),
        unsynced_records: Some(3),
    };
    assert_eq!(Message::decode(&upload.encode().unwrap()).unwrap(), upload);
    assert_eq!(upload.type_name(), "hv-audit-upload");
    assert_eq!(upload.required_extension(), Some(Extension::Audit));
    let ack = Message::AuditAck {
        sender_id: "server".into(),
        target_id: "device".into(),
        ids: vec![uuid::Uuid::from_u128(1)],
    };
    assert_eq!(Message::decode(&ack.encode().unwrap()).unwrap(), ack);
    assert_eq!(ack.required_extension(), Some(Extension::Audit));
    assert_eq!(Extension::parse("audit"), Some(Extension::Audit));
    assert!(HomeVisitMetadata::all()
        .extensions
        .contains(&Extension::Audit));
    // Without the device report fields the upload still decodes (an older or minimal peer).
    let bare = Message::AuditUpload {
        sender_id: "device".into(),
        target_id: "server".into(),
        entries: vec![],
        core_version: None,
        unsynced_records: None,
    };
    assert_eq!(Message::decode(&bare.encode().unwrap()).unwrap(), bare);
}

#[test]
fn rk_audit_upload_with_an_unknown_action_or_a_bad_instant_is_a_typed_error() {
    for (record, field) in [
        (audit_record("delete"), "action"),
        (
            AuditRecord {
                at: "yesterday".into(),
                ..audit_record("view")
            },
            "at",
        ),
    ] {
        let upload = Message::AuditUpload {
            sender_id: "device".into(),
            target_id: "server".into(),
            entries: vec![record],
            core_version: None,
            unsynced_records: None,
        };
        match Message::decode(&upload.encode().unwrap()) {
            Err(ProtocolError::InvalidField { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{other:?}"),
        }
    }
    let too_many = Message::AuditUpload {
        sender_id: "device".into(),
        target_id: "server".into(),
        entries: vec![audit_record("view"); MAX_AUDIT_ENTRIES + 1],
        core_version: None,
        unsynced_records: None,
    };
    assert!(matches!(
        Message::decode(&too_many.encode().unwrap()),
        Err(ProtocolError::InvalidField {
            field: "entries",
            ..
        })
    ));
}
