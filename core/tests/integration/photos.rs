//! Photos, measured annotations and the family's signatures on records (DOMAIN.md §4.1,
//! docs/PHOTOS.md): what is stored is checked with an independent reader (exiftool, Debian's
//! `libimage-exiftool-perl`), hostile inputs give typed errors and store nothing, a SIGKILL
//! mid-add leaves the whole photo or nothing, and reports print what the store holds (checked
//! with poppler's `pdfimages` and `pdftotext`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Stdio},
    sync::{Arc, Mutex},
};

use chrono::{DateTime, NaiveDate, Utc};
use homevisit_core::{
    attachments::{self, signature::StrokePoint, MAX_INPUT_BYTES},
    model::{
        child::CarerRelationship,
        common::Service,
        user::{Actor, Role},
    },
    records::{
        AnnotationData, Clock, FamilySignatureInput, FieldValue, PhotoInput, Records,
        SignedDocument, SignedTexts, SignerRelationship,
    },
    report::{People, ReportPurpose},
    rules::config::RulesConfig,
    store::{BlobCounts, Store, StoreKey},
    Error, RecordId,
};
use image::{DynamicImage, Rgb, RgbImage};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

#[derive(Debug)]
struct FixedClock(Mutex<DateTime<Utc>>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

const KEY: [u8; 32] = [0x33; 32];

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn actor() -> Actor {
    Actor {
        user_id: Uuid::new_v4(),
        role: Role::Ot,
        device_id: Uuid::new_v4(),
        team_id: Uuid::new_v4(),
        hcpc_number: Some("OT99881".into()),
        hcpc_verified_until: Some(d("2030-01-01")),
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    r: Records,
    child: RecordId,
    visit: RecordId,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Arc::new(Store::create_new(&path, StoreKey::Raw(KEY)).unwrap());
    let clock = Arc::new(FixedClock(Mutex::new(
        "2026-03-15T10:30:00Z".parse().unwrap(),
    )));
    let r = Records::new(store, actor(), RulesConfig::default(), clock);
    let child = r.create_child("Zoë", "Ó Dálaigh", d("2016-05-14")).unwrap();
    r.set_field(child, "nhs_number", FieldValue::Str("9434765919".into()))
        .unwrap();
    let visit = r.create_assessment(child, Service::Health).unwrap();
    Fixture {
        _dir: dir,
        path,
        r,
        child,
        visit,
    }
}

fn input(caption: &str) -> PhotoInput {
    PhotoInput {
        section: Some("D".into()),
        caption: caption.into(),
        taken_at: Some("2026-03-15T10:12:00Z".parse().unwrap()),
    }
}

/// A `w` × `h` JPEG, grey with a red block in the top-left corner.
fn jpeg_with_red_corner(w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, y| {
        if x < w / 4 && y < h / 4 {
            Rgb([230, 20, 20])
        } else {
            Rgb([120, 120, 120])
        }
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&DynamicImage::ImageRgb8(img))
        .unwrap();
    out
}

/// Writes EXIF tags with exiftool, as a camera would have: GPS position, camera serial,
/// maker, orientation.
fn with_camera_tags(jpeg: &[u8], dir: &Path, orientation: u8) -> Vec<u8> {
    let file = dir.join("camera.jpg");
    std::fs::write(&file, jpeg).unwrap();
    let out = Command::new("exiftool")
        .args([
            "-q",
            "-overwrite_original",
            "-n",
            "-Make=HomeVisitCam",
            "-Model=Tablet 9",
            "-SerialNumber=SN-4417-0091",
            "-BodySerialNumber=SN-4417-0091",
            "-GPSLatitude=51.501364",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=0.141890",
            "-GPSLongitudeRef=W",
            "-XMP-dc:Creator=Family home",
            "-IPTC:City=London",
            &format!("-Orientation={orientation}"),
        ])
        .arg(&file)
        .output()
        .expect("exiftool is installed (libimage-exiftool-perl)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&file).unwrap()
}

/// Every tag exiftool finds in `bytes`, as `group:name` → value.
fn exif_tags(bytes: &[u8], dir: &Path) -> Map<String, Json> {
    let file = dir.join("stored.jpg");
    std::fs::write(&file, bytes).unwrap();
    let out = Command::new("exiftool")
        .args(["-j", "-a", "-G1", "-n"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Json = serde_json::from_slice(&out.stdout).unwrap();
    v[0].as_object().unwrap().clone()
}

#[test]
fn rk_photo_meta_stored_bytes_carry_no_gps_serial_maker_notes_or_orientation() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let camera = with_camera_tags(&jpeg_with_red_corner(400, 300), dir.path(), 1);
    // The input really carries what must go.
    let before = exif_tags(&camera, dir.path());
    assert!(
        before.keys().any(|k| k.contains("GPSLatitude")),
        "{before:?}"
    );
    assert!(
        before.keys().any(|k| k.contains("SerialNumber")),
        "{before:?}"
    );

    let p = f.r.add_photo(f.visit, &input("Stairs"), &camera).unwrap();
    let stored = f.r.photo_bytes(f.visit, p.item_id).unwrap();
    assert_eq!(attachments::content_hash(&stored), p.data.hash);
    assert_eq!(p.data.byte_size, stored.len() as u64);
    for bytes in [stored, f.r.photo_thumbnail(f.visit, p.item_id).unwrap()] {
        let tags = exif_tags(&bytes, dir.path());
        let found: Vec<&String> = tags
            .keys()
            // exiftool's own and the file system's entries are not in the file.
            .filter(|k| {
                !["SourceFile", "ExifTool:", "System:", "File:"]
                    .iter()
                    .any(|g| k.starts_with(g))
            })
            .filter(|k| {
                let k = k.to_ascii_lowercase();
                [
                    "gps",
                    "serial",
                    "makernote",
                    "make",
                    "model",
                    "orientation",
                    "xmp",
                    "iptc",
                    "icc",
                    "exif",
                ]
                .iter()
                .any(|w| k.contains(w))
            })
            .collect();
        assert!(
            found.is_empty(),
            "metadata left in the stored bytes: {found:?}"
        );
        let s = String::from_utf8_lossy(&bytes);
        assert!(!s.contains("SN-4417"), "the serial is nowhere in the bytes");
    }
}

#[test]
fn rk_photo_meta_exif_orientation_6_is_stored_upright() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    // 400 × 200 as the sensor wrote it, "rotate 90° clockwise to show".
    let camera = with_camera_tags(&jpeg_with_red_corner(400, 200), dir.path(), 6);
    let p = f.r.add_photo(f.visit, &input("Doorway"), &camera).unwrap();
    assert_eq!((p.data.width_px, p.data.height_px), (200, 400));
    let img = image::load_from_memory(&f.r.photo_bytes(f.visit, p.item_id).unwrap())
        .unwrap()
        .to_rgb8();
    assert_eq!(img.dimensions(), (200, 400));
    // The sensor's top-left corner is the upright picture's top-right.
    let red = |p: &Rgb<u8>| p[0] > 180 && p[1] < 80 && p[2] < 80;
    assert!(red(img.get_pixel(195, 5)), "{:?}", img.get_pixel(195, 5));
    assert!(!red(img.get_pixel(5, 5)), "{:?}", img.get_pixel(5, 5));
    assert!(!red(img.get_pixel(195, 395)));
}

/// A PNG that claims 100,000 × 100,000 pixels in a few dozen bytes.
fn bomb_png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    b.extend(100_000u32.to_be_bytes());
    b.extend(100_000u32.to_be_bytes());
    b.extend([8, 2, 0, 0, 0]);
    b.extend([0xde, 0xad, 0xbe, 0xef]);
    b.extend(b"\0\0\0\x10IDATxxxxxxxxxxxxxxxx\0\0\0\0\0\0\0\0IEND\xaeB`\x82");
    b
}

fn refused_rule(e: &Error) -> &str {
    match e {
        Error::InvalidInput { rule_id, .. } => rule_id,
        other => panic!("not a typed refusal: {other:?}"),
    }
}

#[test]
fn rk_photo_format_bytes_pixels_corrupt_hostile_inputs_are_refused_and_nothing_is_stored() {
    let f = fixture();
    let good = jpeg_with_red_corner(320, 240);
    let mut pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    pdf.extend(vec![b' '; 1000]);
    let mut huge = vec![0xFF, 0xD8, 0xFF, 0xE0];
    huge.resize(200 * 1024 * 1024, 0);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated JPEG",
            good[..good.len() * 2 / 3].to_vec(),
            "RK-PHOTO-CORRUPT",
        ),
        ("zero bytes", Vec::new(), "RK-PHOTO-FORMAT"),
        ("PDF renamed .jpg", pdf, "RK-PHOTO-FORMAT"),
        ("decompression bomb", bomb_png(), "RK-PHOTO-PIXELS"),
        ("200 MB input", huge, "RK-PHOTO-BYTES"),
        ("header only", good[..40].to_vec(), "RK-PHOTO-CORRUPT"),
    ];
    const { assert!(200 * 1024 * 1024 > MAX_INPUT_BYTES) };
    for (what, bytes, rule) in cases {
        let e = f.r.add_photo(f.visit, &input(what), &bytes).unwrap_err();
        assert_eq!(refused_rule(&e), rule, "{what}: {e}");
    }
    assert_eq!(f.r.store().blob_counts().unwrap(), BlobCounts::default());
    assert!(f.r.list_all_photos(f.visit).unwrap().is_empty());
    // The store still opens and works.
    let Fixture {
        r,
        path,
        visit,
        _dir,
        ..
    } = f;
    r.store().close().unwrap();
    drop(r);
    let store = Store::open(&path, StoreKey::Raw(KEY)).unwrap();
    store.check_integrity(true).unwrap();
    assert!(store.contains(visit).unwrap());
}

#[test]
fn rk_photo_meta_blobs_are_deduplicated_and_removal_keeps_the_item_for_the_audit_trail() {
    let f = fixture();
    let bytes = jpeg_with_red_corner(640, 480);
    let a = f.r.add_photo(f.visit, &input("Bath"), &bytes).unwrap();
    let b =
        f.r.add_photo(f.child, &input("Bath again"), &bytes)
            .unwrap();
    assert_eq!(
        a.data.hash, b.data.hash,
        "the same picture, the same address"
    );
    let counts = f.r.store().blob_counts().unwrap();
    assert_eq!((counts.blobs, counts.refs), (2, 4), "{counts:?}");
    assert_eq!(a.data.caption, "Bath");
    assert_eq!(a.data.section.as_deref(), Some("D"));
    assert_eq!(a.data.media_type, "image/jpeg");
    assert_eq!(a.data.device_id, f.r.actor().device_id);
    assert_eq!(a.added_by, f.r.actor().user_id);

    f.r.remove_photo(f.visit, a.item_id).unwrap();
    assert!(f.r.list_photos(f.visit).unwrap().is_empty());
    let all = f.r.list_all_photos(f.visit).unwrap();
    assert_eq!(all.len(), 1);
    assert!(all[0].removed);
    // A direct edit of the photos list is refused.
    let e = f.r.add_item(f.visit, "photos", Map::new()).unwrap_err();
    assert!(
        matches!(&e, Error::NotPermitted { rule_id, .. } if rule_id == "RK-PHOTO-META"),
        "{e:?}"
    );
    let e =
        f.r.remove_item(f.child, &format!("photos.{}", b.item_id))
            .unwrap_err();
    assert!(matches!(&e, Error::NotPermitted { .. }), "{e:?}");
}

fn strokes() -> Vec<Vec<StrokePoint>> {
    let p = |x, y, t_ms| StrokePoint { x, y, t_ms };
    vec![
        vec![
            p(10, 80, 0),
            p(60, 20, 120),
            p(110, 90, 260),
            p(180, 30, 400),
        ],
        vec![p(200, 60, 700), p(300, 60, 820)],
    ]
}

fn add_mother(r: &Records, child: RecordId) {
    let mut carer = Map::new();
    carer.insert("name".into(), Json::String("Aoife Ó Dálaigh".into()));
    carer.insert("relationship".into(), Json::String("mother".into()));
    r.add_item(child, "carers", carer).unwrap();
}

fn photo_signature(text: &str) -> FamilySignatureInput {
    FamilySignatureInput {
        signer_name: "Aoife Ó Dálaigh".into(),
        relationship: SignerRelationship::Carer(CarerRelationship::Mother),
        parental_responsibility: true,
        signs: SignedDocument::Photographs,
        text: text.into(),
        strokes: strokes(),
    }
}

#[test]
fn hv_photo_consent_a_photo_without_consent_warns_until_acknowledged_or_signed_for() {
    let f = fixture();
    let p =
        f.r.add_photo(
            f.child,
            &input("Current seating"),
            &jpeg_with_red_corner(320, 240),
        )
        .unwrap();
    let w = p.consent_warning.clone().expect("a consent warning");
    assert_eq!(w.rule_id, "HV-PHOTO-CONSENT");
    assert_eq!(w.path, format!("photos.{}", p.item_id));
    let report = f.r.validate(f.child, true).unwrap();
    assert!(report
        .blocking
        .iter()
        .any(|i| i.rule_id == "HV-PHOTO-CONSENT"));
    // The existing acknowledgement mechanism clears it.
    f.r.acknowledge(
        f.child,
        "HV-PHOTO-CONSENT",
        &w.path,
        "Mother consented verbally; recorded in the visit notes",
    )
    .unwrap();
    let report = f.r.validate(f.child, true).unwrap();
    assert!(!report
        .blocking
        .iter()
        .any(|i| i.rule_id == "HV-PHOTO-CONSENT"));

    // A signature for photographs on any of the child's records is photo consent.
    let q =
        f.r.add_photo(f.visit, &input("Stairs"), &jpeg_with_red_corner(300, 200))
            .unwrap();
    assert!(q.consent_warning.is_some());
    add_mother(&f.r, f.child);
    let text = SignedTexts::default().0[&SignedDocument::Photographs].clone();
    f.r.add_family_signature(f.child, &photo_signature(&text))
        .unwrap();
    assert!(f
        .r
        .photo(f.visit, q.item_id)
        .unwrap()
        .consent_warning
        .is_none());
    // Once the wording of the consent changes, the signature no longer covers it.
    let mut changed = SignedTexts::default();
    changed.0.insert(
        SignedDocument::Photographs,
        format!("{text} Photos are kept for 8 years."),
    );
    let r2 = f.r.clone().with_signed_texts(changed);
    assert!(r2
        .photo(f.visit, q.item_id)
        .unwrap()
        .consent_warning
        .is_some());
}

#[test]
fn rk_sign_family_signature_round_trips_and_covered_flips_when_the_text_changes() {
    let f = fixture();
    let text = "I have received the moving and handling plan, version of 15 March.";
    let mut input = photo_signature(text);
    input.signs = SignedDocument::HandlingPlanReceived;
    // Relationship must be one of the child's carers (or the young person).
    let e = f.r.add_family_signature(f.visit, &input).unwrap_err();
    assert_eq!(refused_rule(&e), "RK-SIGN-FAMILY");
    add_mother(&f.r, f.child);
    let mut texts = SignedTexts::default();
    texts
        .0
        .insert(SignedDocument::HandlingPlanReceived, text.into());
    let r = f.r.clone().with_signed_texts(texts.clone());
    let s = r.add_family_signature(f.visit, &input).unwrap();
    assert!(s.covered);
    assert_eq!(s.data.signer_name, "Aoife Ó Dálaigh");
    assert_eq!(s.data.relationship, "mother");
    assert!(s.data.parental_responsibility);
    assert_eq!(s.data.signs, SignedDocument::HandlingPlanReceived);
    assert_eq!(
        s.data.text_sha256,
        attachments::content_hash(text.as_bytes())
    );
    let back = r.family_signatures(f.visit).unwrap();
    assert_eq!(back.len(), 1);
    let pts: Vec<Vec<[u32; 3]>> = strokes()
        .iter()
        .map(|s| s.iter().map(|p| [p.x, p.y, p.t_ms]).collect())
        .collect();
    assert_eq!(back[0].data.strokes, pts);
    let png = r
        .family_signature_png(f.visit, s.item_id, 600, 200)
        .unwrap();
    let img = image::load_from_memory(&png).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (600, 200));
    assert!(img.pixels().any(|p| p[0] < 100));
    // The text changes: the signature stays, no longer covering.
    texts.0.insert(
        SignedDocument::HandlingPlanReceived,
        format!("{text} Two carers for every transfer."),
    );
    let r = f.r.clone().with_signed_texts(texts);
    assert!(!r.family_signatures(f.visit).unwrap()[0].covered);
    // The young person may sign for themself; empty strokes are refused.
    let mut yp = input.clone();
    yp.relationship = SignerRelationship::YoungPerson;
    yp.strokes = vec![];
    assert_eq!(
        refused_rule(&r.add_family_signature(f.visit, &yp).unwrap_err()),
        "RK-SIGN-FAMILY"
    );
    yp.strokes = strokes();
    r.add_family_signature(f.visit, &yp).unwrap();
    let e = r
        .add_item(f.visit, "family_signatures", Map::new())
        .unwrap_err();
    assert!(matches!(&e, Error::NotPermitted { rule_id, .. } if rule_id == "RK-SIGN-FAMILY"));
}

#[test]
fn rk_photo_meta_measured_annotations_round_trip_and_are_drawn_onto_the_photo() {
    let f = fixture();
    let p =
        f.r.add_photo(
            f.visit,
            &input("Bathroom door"),
            &attachments::encode(&DynamicImage::ImageRgb8(RgbImage::from_pixel(
                800,
                600,
                Rgb([40, 40, 40]),
            )))
            .unwrap()
            .bytes,
        )
        .unwrap();
    let line = AnnotationData::Line {
        x1: 100,
        y1: 300,
        x2: 700,
        y2: 300,
        length_mm: Some(820),
    };
    f.r.annotate_photo(f.visit, p.item_id, &line).unwrap();
    f.r.annotate_photo(f.visit, p.item_id, &AnnotationData::Point { x: 50, y: 50 })
        .unwrap();
    let e =
        f.r.annotate_photo(f.visit, p.item_id, &AnnotationData::Point { x: 800, y: 10 })
            .unwrap_err();
    assert_eq!(refused_rule(&e), "RK-PHOTO-META");
    let back = f.r.photo(f.visit, p.item_id).unwrap();
    assert_eq!(back.data.annotations.len(), 2);
    // Same instant (a fixed clock): the list orders them by item id.
    let stored_line = back
        .data
        .annotations
        .iter()
        .find(|a| matches!(a.data, AnnotationData::Line { .. }))
        .unwrap();
    assert_eq!(stored_line.data, line);
    assert_eq!(stored_line.added_by, f.r.actor().user_id);
    // History attributes the annotation like any edit.
    assert!(!f.r.history(f.visit).unwrap().is_empty());
    let drawn = f.r.render_photo(f.visit, p.item_id).unwrap();
    let img = image::load_from_memory(&drawn.bytes).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (800, 600));
    let px = img.get_pixel(200, 300);
    assert!(px[0] > 200 && px[1] > 170, "the line is drawn: {px:?}");
    // The label's white box sits at the midpoint.
    let mid = img.get_pixel(400, 300 - 10);
    assert!(
        mid.0.iter().all(|c| *c > 200) || mid.0.iter().all(|c| *c < 60),
        "{mid:?}"
    );
    // The stored bytes are unchanged.
    let stored = f.r.photo_bytes(f.visit, p.item_id).unwrap();
    assert_eq!(attachments::content_hash(&stored), p.data.hash);
}

/// The rows of `pdfimages -list`: (type, width, height, encoding).
fn pdf_images(pdf: &Path) -> Vec<(String, u32, u32, String)> {
    let out = Command::new("pdfimages")
        .arg("-list")
        .arg(pdf)
        .output()
        .expect("pdfimages is installed (poppler-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(2)
        .filter_map(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            Some((
                c.get(2)?.to_string(),
                c.get(3)?.parse().ok()?,
                c.get(4)?.parse().ok()?,
                c.get(8)?.to_string(),
            ))
        })
        .filter(|r| r.0 == "image")
        .collect()
}

#[test]
fn rk_report_a_visit_report_prints_the_stored_photo_annotated_and_the_family_signature() {
    let f = fixture();
    f.r.add_code(f.visit, "sections.A.consent.scope", "photos")
        .unwrap();
    add_mother(&f.r, f.child);
    let bytes = attachments::encode(&DynamicImage::ImageRgb8(RgbImage::from_pixel(
        1200,
        900,
        Rgb([90, 110, 130]),
    )))
    .unwrap()
    .bytes;
    let p =
        f.r.add_photo(f.visit, &input("Bathroom door from the landing"), &bytes)
            .unwrap();
    f.r.annotate_photo(
        f.visit,
        p.item_id,
        &AnnotationData::Line {
            x1: 200,
            y1: 450,
            x2: 1000,
            y2: 450,
            length_mm: Some(820),
        },
    )
    .unwrap();
    // A removed photo is left out of the report.
    let gone =
        f.r.add_photo(
            f.visit,
            &input("Wrong room"),
            &jpeg_with_red_corner(640, 480),
        )
        .unwrap();
    f.r.remove_photo(f.visit, gone.item_id).unwrap();
    let text = SignedTexts::default().0[&SignedDocument::Photographs].clone();
    f.r.add_family_signature(f.visit, &photo_signature(&text))
        .unwrap();

    let people = People::new([(f.r.actor().user_id, "Priya Raman".to_owned())]);
    let report = f.r.report(f.visit, ReportPurpose::Family, &people).unwrap();
    // Kept under the target directory, as the sample reports are, to be looked at.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("reports");
    std::fs::create_dir_all(&dir).unwrap();
    let pdf = dir.join("visit-with-stored-photo.pdf");
    std::fs::write(&pdf, &report.pdf).unwrap();
    let images = pdf_images(&pdf);
    let photos: Vec<_> = images.iter().filter(|i| i.3 == "jpeg").collect();
    assert_eq!(photos.len(), 1, "{images:?}");
    assert_eq!((photos[0].1, photos[0].2), (1200, 900));
    assert!(
        images
            .iter()
            .any(|i| i.3 != "jpeg" && (i.1, i.2) == (600, 200)),
        "the signature is an image: {images:?}"
    );
    let out = Command::new("pdftotext")
        .args(["-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(t.contains("Bathroom door from the landing"), "{t}");
    assert!(t.contains("820 mm"), "{t}");
    assert!(!t.contains("Wrong room"), "{t}");
    // pdftotext may decompose accented letters; the caption may wrap.
    assert!(t.contains("(mother, parental responsibility)"), "{t}");
    assert!(t.contains("consent to photographs"), "{t}");
    assert!(t.contains("signed: yes"), "{t}");
    // The annotated picture is what is printed, not the stored bytes.
    assert!(!report
        .pdf
        .windows(64)
        .any(|w| w == &bytes[bytes.len() - 64..]));
    let qpdf = Command::new("qpdf")
        .arg("--check")
        .arg(&pdf)
        .output()
        .unwrap();
    assert!(
        qpdf.status.success(),
        "{}",
        String::from_utf8_lossy(&qpdf.stdout)
    );
}

const TORTURE_KEY: [u8; 32] = [0x6b; 32]; // photo_torture's
const KILLS: usize = 10;

#[test]
fn rk_photo_meta_sigkill_mid_add_leaves_the_whole_photo_or_nothing() {
    use rand::Rng;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photos.db");
    let mut rng = rand::thread_rng();
    let mut reported: Vec<String> = Vec::new();
    for round in 0..KILLS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_photo_torture"))
            .arg(&path)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Kill after a random number of confirmed adds: the kill lands wherever the child is
        // (decoding, encoding, inside the transaction), without timing assumptions.
        for _ in 0..rng.gen_range(1..=3) {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("round {round}: child ended early: {:?}", child.wait()))
                .unwrap();
            reported.push(line.strip_prefix("added ").unwrap().to_owned());
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        for line in lines.map_while(Result::ok) {
            if let Some(id) = line.strip_prefix("added ") {
                reported.push(id.to_owned());
            }
        }

        let store = Arc::new(Store::open(&path, StoreKey::Raw(TORTURE_KEY)).unwrap());
        store.check_integrity(true).unwrap();
        let visit: RecordId = store
            .meta("torture.record")
            .unwrap()
            .unwrap()
            .parse()
            .unwrap();
        let r = Records::new(
            store.clone(),
            actor(),
            RulesConfig::default(),
            Arc::new(homevisit_core::records::SystemClock),
        );
        let photos = r.list_all_photos(visit).unwrap();
        for id in &reported {
            assert!(
                photos.iter().any(|p| p.item_id.to_string() == *id),
                "round {round}: reported photo {id} lost"
            );
        }
        // Every item has both its blobs, and no blob is without an item.
        for p in &photos {
            let full = store.blob(&p.data.hash).unwrap().expect("full bytes");
            assert_eq!(attachments::content_hash(&full.bytes), p.data.hash);
            assert!(store.blob(&p.data.thumbnail_hash).unwrap().is_some());
        }
        let counts = store.blob_counts().unwrap();
        assert_eq!(
            counts.refs,
            2 * photos.len() as u64,
            "round {round}: {counts:?}"
        );
        assert_eq!(
            counts.blobs,
            2 * photos.len() as u64,
            "round {round}: {counts:?}"
        );
        store.close().unwrap();
    }
}
