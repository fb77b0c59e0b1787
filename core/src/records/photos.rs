//! Photos, their measured annotations and the family's signatures on a record (DOMAIN.md
//! §4.1, docs/PHOTOS.md, docs/DOCUMENT-LAYOUT.md §photos).
//!
//! A photo's bytes are sanitised first ([`attachments::sanitise`]) and stored as blobs in the
//! encrypted store in the same transaction as the document change that adds its metadata
//! item to `photos`, so a crash leaves the whole photo or nothing. The `photos` and
//! `family_signatures` lists are written only here (`RK-PHOTO-META`, `RK-SIGN-FAMILY`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use super::{check_shape, Records};
use crate::{
    attachments::{
        self,
        draw::{self, Shape},
        signature::{self, StrokePoint},
        StoredImage,
    },
    doc,
    error::{Error, Result},
    ids::RecordId,
    model::{
        child::{CarerRelationship, Child},
        common::{item_list, live, Item, Schema},
    },
    rules::issue::Issue,
    store::{BlobKind, NewBlob},
};

/// The list photos' metadata items live in.
pub const PHOTOS: &str = "photos";
/// The list the family's signatures live in.
pub const FAMILY_SIGNATURES: &str = "family_signatures";

/// A photo's metadata item as the document holds it (`photos.<item_id>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoData {
    /// SHA-256 of the stored full picture: its content address.
    pub hash: String,
    /// SHA-256 of the stored thumbnail.
    pub thumbnail_hash: String,
    /// MIME type of the stored bytes (`image/jpeg`).
    pub media_type: String,
    /// Stored size in bytes.
    pub byte_size: u64,
    /// Width in pixels (upright).
    pub width_px: u32,
    /// Height in pixels (upright).
    pub height_px: u32,
    /// What the photo shows.
    #[serde(default)]
    pub caption: String,
    /// Section of the record it belongs to (`D`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// When it was taken (from the shell's camera, not from the stripped EXIF).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_at: Option<DateTime<Utc>>,
    /// The device that added it.
    pub device_id: Uuid,
    /// Measured annotations.
    #[serde(default, with = "item_list")]
    pub annotations: Vec<Item<AnnotationData>>,
}

/// A measured annotation: the shape the core draws, stored as it is.
pub type AnnotationData = Shape;

/// What a new photo is, besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PhotoInput {
    /// Section of the record (`D`), if any.
    pub section: Option<String>,
    /// What it shows.
    pub caption: String,
    /// When it was taken, as the shell's camera says.
    pub taken_at: Option<DateTime<Utc>>,
}

/// A photo of a record, as the app lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoInfo {
    /// The record it belongs to.
    pub record_id: RecordId,
    /// Stable item id (`photos.<item_id>`).
    pub item_id: Uuid,
    /// Who added it and when.
    pub added_by: Uuid,
    /// When it was added.
    pub added_at: DateTime<Utc>,
    /// Whether it was removed (kept for the audit trail, not shown or printed).
    pub removed: bool,
    /// The metadata item.
    pub data: PhotoData,
    /// The photo-consent warning the user must acknowledge (`HV-PHOTO-CONSENT`), if any.
    pub consent_warning: Option<Issue>,
}

/// What a family member signs (`RK-SIGN-FAMILY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignedDocument {
    /// Consent to share information.
    InformationSharing,
    /// Consent to photographs (photo consent for `HV-PHOTO-CONSENT`).
    Photographs,
    /// The equipment loan agreement.
    EquipmentLoanAgreement,
    /// Receipt of the handling plan.
    HandlingPlanReceived,
}

impl SignedDocument {
    /// How a report names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::InformationSharing => "consent to share information",
            Self::Photographs => "consent to photographs",
            Self::EquipmentLoanAgreement => "equipment loan agreement",
            Self::HandlingPlanReceived => "handling plan received",
        }
    }
}

/// Who signs, relative to the child: one of the child's carers' relationships, or the young
/// person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignerRelationship {
    /// A carer recorded on the child with this relationship.
    Carer(CarerRelationship),
    /// The young person themself.
    YoungPerson,
}

impl SignerRelationship {
    /// The code stored in the document.
    pub fn code(self) -> String {
        match self {
            Self::YoungPerson => "young_person".into(),
            Self::Carer(c) => serde_json::to_value(c)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        }
    }

    /// The relationship of a stored code.
    pub fn from_code(s: &str) -> Option<Self> {
        if s == "young_person" {
            return Some(Self::YoungPerson);
        }
        serde_json::from_value(Json::String(s.into()))
            .ok()
            .map(Self::Carer)
    }

    fn label(self) -> String {
        match self {
            Self::YoungPerson => "young person".into(),
            Self::Carer(_) => self.code().replace('_', " "),
        }
    }
}

/// A family signature as the document holds it (`family_signatures.<item_id>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignatureData {
    /// The signer's name as they gave it.
    pub signer_name: String,
    /// Relationship code (`mother`, …, `young_person`).
    pub relationship: String,
    /// Whether the signer holds parental responsibility.
    pub parental_responsibility: bool,
    /// What is signed.
    pub signs: SignedDocument,
    /// SHA-256 (hex) of the exact text the family member saw and signed.
    pub text_sha256: String,
    /// When it was signed.
    pub signed_at: DateTime<Utc>,
    /// The device it was drawn on.
    pub device_id: Uuid,
    /// Strokes: each a list of `[x, y, t_ms]`.
    pub strokes: Vec<Vec<[u32; 3]>>,
}

impl SignatureData {
    fn points(&self) -> Vec<Vec<StrokePoint>> {
        self.strokes
            .iter()
            .map(|s| {
                s.iter()
                    .map(|p| StrokePoint {
                        x: p[0],
                        y: p[1],
                        t_ms: p[2],
                    })
                    .collect()
            })
            .collect()
    }
}

/// A new family signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilySignatureInput {
    /// The signer's name.
    pub signer_name: String,
    /// Who they are to the child.
    pub relationship: SignerRelationship,
    /// Whether they hold parental responsibility.
    pub parental_responsibility: bool,
    /// What they sign.
    pub signs: SignedDocument,
    /// The exact text (or record content) they were shown and signed.
    pub text: String,
    /// The strokes drawn on the pad.
    pub strokes: Vec<Vec<StrokePoint>>,
}

/// A family signature with whether it still covers the current text.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilySignature {
    /// Stable item id.
    pub item_id: Uuid,
    /// Who recorded it (the clinician's user id).
    pub added_by: Uuid,
    /// Whether it was removed.
    pub removed: bool,
    /// The stored signature.
    pub data: SignatureData,
    /// Whether the text signed is unchanged: `false` once the current text differs.
    pub covered: bool,
}

/// The texts a family is shown to sign, as the team currently words them. A signature covers
/// only while the text of what it signs hashes to what was signed (`RK-SIGN-FAMILY`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTexts(pub BTreeMap<SignedDocument, String>);

impl Default for SignedTexts {
    fn default() -> Self {
        Self(BTreeMap::from([
            (
                SignedDocument::InformationSharing,
                "I agree that the occupational therapy service may share information about my \
                 child with the GP, the school and the housing authority for my child's care."
                    .to_owned(),
            ),
            (
                SignedDocument::Photographs,
                "I agree that the occupational therapist may take photographs in our home for \
                 my child's assessment, kept in the clinical record and printed in its reports."
                    .to_owned(),
            ),
            (
                SignedDocument::EquipmentLoanAgreement,
                "I have received the equipment on loan and will return it when it is no longer \
                 needed."
                    .to_owned(),
            ),
            (
                SignedDocument::HandlingPlanReceived,
                "I have received the moving and handling plan.".to_owned(),
            ),
        ]))
    }
}

impl SignedTexts {
    /// Whether `text_sha256` is the hash of the current text of `signs`.
    pub fn covers(&self, signs: SignedDocument, text_sha256: &str) -> bool {
        self.0
            .get(&signs)
            .is_some_and(|t| attachments::content_hash(t.as_bytes()) == text_sha256)
    }
}

/// The two lists as a record's JSON holds them.
#[derive(Debug, Default, Deserialize)]
struct Lists {
    #[serde(default, with = "item_list")]
    photos: Vec<Item<PhotoData>>,
    #[serde(default, with = "item_list")]
    family_signatures: Vec<Item<SignatureData>>,
}

fn lists(json: &Json) -> Result<Lists> {
    let mut m = Map::new();
    for k in [PHOTOS, FAMILY_SIGNATURES] {
        if let Some(v) = json.get(k) {
            m.insert(k.into(), v.clone());
        }
    }
    serde_json::from_value(Json::Object(m)).map_err(|e| Error::Corrupt {
        record: None,
        detail: format!("photo or signature items do not fit the layout: {e}"),
    })
}

fn new_blob(i: &StoredImage, kind: BlobKind) -> NewBlob {
    NewBlob {
        hash: i.hash.clone(),
        media_type: i.media_type.mime().into(),
        kind,
        width_px: i.width_px,
        height_px: i.height_px,
        bytes: i.bytes.clone(),
    }
}

fn to_fields(v: impl Serialize) -> Result<Map<String, Json>> {
    match serde_json::to_value(v) {
        Ok(Json::Object(m)) => Ok(m),
        Ok(_) => Err(Error::Internal("an item is not a map".into())),
        Err(e) => Err(Error::Internal(format!("item serialisation: {e}"))),
    }
}

impl Records {
    fn check_item_text(path: &str, text: &str) -> Result<()> {
        super::input::check_text(path, text)
    }

    /// Adds a photo to record `id`: sanitised first (`RK-PHOTO-*`), then its bytes and its
    /// metadata item stored in one transaction. The result carries the `HV-PHOTO-CONSENT`
    /// warning when the child has no photo consent on record; the user acknowledges it with
    /// [`Records::acknowledge`] at `photos.<item_id>`.
    pub fn add_photo(&self, id: RecordId, input: &PhotoInput, bytes: &[u8]) -> Result<PhotoInfo> {
        Self::check_item_text("photos.x.caption", &input.caption)?;
        if let Some(s) = &input.section {
            if s.is_empty() || s.len() > 8 || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(Error::InvalidInput {
                    rule_id: "RK-PHOTO-META".into(),
                    detail: format!("`{s}` is not a section of a record"),
                });
            }
        }
        let s = attachments::sanitise(bytes)?;
        let data = PhotoData {
            hash: s.full.hash.clone(),
            thumbnail_hash: s.thumbnail.hash.clone(),
            media_type: s.full.media_type.mime().into(),
            byte_size: s.full.bytes.len() as u64,
            width_px: s.full.width_px,
            height_px: s.full.height_px,
            caption: input.caption.trim().to_owned(),
            section: input.section.clone(),
            taken_at: input.taken_at,
            device_id: self.actor.device_id,
            annotations: Vec::new(),
        };
        let mut fields = to_fields(&data)?;
        fields.remove("annotations");
        let blobs = [
            new_blob(&s.full, BlobKind::Full),
            new_blob(&s.thumbnail, BlobKind::Thumbnail),
        ];
        let at = self.now();
        let actor = &self.actor;
        let item_id = self.store.edit_with_blobs(id, &blobs, |d| {
            let schema = doc::record_schema(d)?;
            let item = doc::add_item(d, PHOTOS, fields, actor, at)?;
            check_shape(d, schema)?;
            Ok((item, item.hyphenated().to_string()))
        })?;
        self.photo(id, item_id)
    }

    /// One photo of record `id`, with its consent warning.
    pub fn photo(&self, id: RecordId, item_id: Uuid) -> Result<PhotoInfo> {
        self.list_all_photos(id)?
            .into_iter()
            .find(|p| p.item_id == item_id)
            .ok_or_else(|| Error::InvalidInput {
                rule_id: "CF-LIST".into(),
                detail: format!("record has no photo {item_id}"),
            })
    }

    /// The live photos of record `id`, in the order they were added.
    pub fn list_photos(&self, id: RecordId) -> Result<Vec<PhotoInfo>> {
        Ok(self
            .list_all_photos(id)?
            .into_iter()
            .filter(|p| !p.removed)
            .collect())
    }

    /// Every photo item of record `id`, removed ones included (the audit view).
    pub fn list_all_photos(&self, id: RecordId) -> Result<Vec<PhotoInfo>> {
        let json = self.json(id)?;
        let warnings = photo_consent_issues(self, id, &json)?;
        Ok(lists(&json)?
            .photos
            .into_iter()
            .map(|i| {
                let path = format!("{PHOTOS}.{}", i.item_id.hyphenated());
                PhotoInfo {
                    record_id: id,
                    item_id: i.item_id,
                    added_by: i.added_by,
                    added_at: i.added_at,
                    removed: i.is_removed(),
                    consent_warning: warnings.iter().find(|w| w.path == path).cloned(),
                    data: i.data,
                }
            })
            .collect())
    }

    /// Marks a photo removed: the item stays with who removed it and when (kept for the
    /// audit trail); it is no longer listed or printed.
    pub fn remove_photo(&self, id: RecordId, item_id: Uuid) -> Result<()> {
        self.photo(id, item_id)?;
        let path = format!("{PHOTOS}.{}", item_id.hyphenated());
        self.edit(id, |d, actor, at| doc::remove_item(d, &path, actor, at))
    }

    fn blob_bytes(&self, hash: &str) -> Result<Vec<u8>> {
        self.store
            .blob(hash)?
            .map(|b| b.bytes)
            .ok_or_else(|| Error::Corrupt {
                record: None,
                detail: format!("the bytes of image {hash} are not on this device"),
            })
    }

    /// The stored thumbnail (JPEG) of a photo.
    pub fn photo_thumbnail(&self, id: RecordId, item_id: Uuid) -> Result<Vec<u8>> {
        let p = self.photo(id, item_id)?;
        self.blob_bytes(&p.data.thumbnail_hash)
    }

    /// The stored full picture (JPEG, upright, no metadata) of a photo.
    pub fn photo_bytes(&self, id: RecordId, item_id: Uuid) -> Result<Vec<u8>> {
        let p = self.photo(id, item_id)?;
        self.blob_bytes(&p.data.hash)
    }

    /// Adds a measured annotation to a photo (attributed like any edit); coordinates are
    /// pixels of the stored picture and must lie on it.
    pub fn annotate_photo(
        &self,
        id: RecordId,
        item_id: Uuid,
        annotation: &AnnotationData,
    ) -> Result<Uuid> {
        let p = self.photo(id, item_id)?;
        let (w, h) = (p.data.width_px, p.data.height_px);
        let inside = |x: u32, y: u32| x < w && y < h;
        let ok = match *annotation {
            AnnotationData::Point { x, y } => inside(x, y),
            AnnotationData::Line {
                x1,
                y1,
                x2,
                y2,
                length_mm,
            } => inside(x1, y1) && inside(x2, y2) && length_mm.is_none_or(|mm| mm <= 100_000),
        };
        if !ok {
            return Err(Error::InvalidInput {
                rule_id: "RK-PHOTO-META".into(),
                detail: format!("the annotation lies outside the {w} × {h} photo"),
            });
        }
        let fields = to_fields(annotation)?;
        let list = format!("{PHOTOS}.{}.annotations", item_id.hyphenated());
        self.edit(id, |d, actor, at| {
            doc::add_item(d, &list, fields, actor, at)
        })
    }

    /// The photo with its live annotations drawn in, as JPEG (the stored bytes unchanged when
    /// it has none).
    pub fn render_photo(&self, id: RecordId, item_id: Uuid) -> Result<StoredImage> {
        let p = self.photo(id, item_id)?;
        render_info(self, &p)
    }

    /// Records a family member's signature on record `id` (`RK-SIGN-FAMILY`): the strokes,
    /// who signed and what, bound to the SHA-256 of the text they signed.
    pub fn add_family_signature(
        &self,
        id: RecordId,
        input: &FamilySignatureInput,
    ) -> Result<FamilySignature> {
        let refuse = |d: String| Error::InvalidInput {
            rule_id: "RK-SIGN-FAMILY".into(),
            detail: d,
        };
        let name = input.signer_name.trim();
        if name.is_empty() {
            return Err(refuse("the signer's name is missing".into()));
        }
        Self::check_item_text("family_signatures.x.signer_name", name)?;
        if input.text.trim().is_empty() {
            return Err(refuse("the text signed is missing".into()));
        }
        signature::check_strokes(&input.strokes)?;
        if let SignerRelationship::Carer(rel) = input.relationship {
            let child: Child = self.typed(self.child_of(id)?)?;
            if !live(&child.carers).any(|c| c.data.relationship == Some(rel)) {
                return Err(refuse(format!(
                    "the child has no carer recorded as {}",
                    input.relationship.label()
                )));
            }
        }
        let data = SignatureData {
            signer_name: name.to_owned(),
            relationship: input.relationship.code(),
            parental_responsibility: input.parental_responsibility,
            signs: input.signs,
            text_sha256: attachments::content_hash(input.text.as_bytes()),
            signed_at: self.now(),
            device_id: self.actor.device_id,
            strokes: input
                .strokes
                .iter()
                .map(|s| s.iter().map(|p| [p.x, p.y, p.t_ms]).collect())
                .collect(),
        };
        let fields = to_fields(&data)?;
        let item = self.edit(id, |d, actor, at| {
            doc::add_item(d, FAMILY_SIGNATURES, fields, actor, at)
        })?;
        self.family_signatures(id)?
            .into_iter()
            .find(|s| s.item_id == item)
            .ok_or_else(|| Error::Internal("the signature just added is missing".into()))
    }

    /// The family signatures of record `id` (removed ones included, flagged), each with
    /// whether it still covers the current text of what it signs.
    pub fn family_signatures(&self, id: RecordId) -> Result<Vec<FamilySignature>> {
        let json = self.json(id)?;
        signatures_in(&json, &self.signed_texts)
    }

    /// A family signature's strokes rendered as a PNG of `width` × `height`.
    pub fn family_signature_png(
        &self,
        id: RecordId,
        item_id: Uuid,
        width: u32,
        height: u32,
    ) -> Result<Vec<u8>> {
        let s = self
            .family_signatures(id)?
            .into_iter()
            .find(|s| s.item_id == item_id)
            .ok_or_else(|| Error::InvalidInput {
                rule_id: "CF-LIST".into(),
                detail: format!("record has no family signature {item_id}"),
            })?;
        signature::render_png(
            &s.data.points(),
            width.clamp(1, 2000),
            height.clamp(1, 2000),
        )
    }

    fn child_of(&self, id: RecordId) -> Result<RecordId> {
        let json = self.json(id)?;
        if json.get("schema").and_then(Json::as_str)
            == Some(doc::record::schema_code(Schema::Child))
        {
            return Ok(id);
        }
        super::child_id_of(&json).ok_or_else(|| Error::Corrupt {
            record: Some(id),
            detail: "record has no child_id".into(),
        })
    }
}

fn signatures_in(json: &Json, texts: &SignedTexts) -> Result<Vec<FamilySignature>> {
    Ok(lists(json)?
        .family_signatures
        .into_iter()
        .map(|i| FamilySignature {
            item_id: i.item_id,
            added_by: i.added_by,
            removed: i.is_removed(),
            covered: texts.covers(i.data.signs, &i.data.text_sha256),
            data: i.data,
        })
        .collect())
}

/// Draws the live annotations of a photo onto its stored bytes.
fn render_info(r: &Records, p: &PhotoInfo) -> Result<StoredImage> {
    let bytes = r.blob_bytes(&p.data.hash)?;
    let shapes: Vec<Shape> = live(&p.data.annotations).map(|a| a.data.clone()).collect();
    if shapes.is_empty() {
        return Ok(StoredImage {
            hash: p.data.hash.clone(),
            media_type: attachments::MediaType::Jpeg,
            width_px: p.data.width_px,
            height_px: p.data.height_px,
            bytes,
        });
    }
    let mut img = attachments::decode_stored(&bytes)?.to_rgb8();
    draw::draw(&mut img, &shapes);
    attachments::encode(&image::DynamicImage::ImageRgb8(img))
}

/// Whether the child of record `id` has photo consent on record: a live home-visit
/// assessment whose consent scope holds `photos`, or a live family signature for photographs
/// that still covers its text, on any of the child's records.
fn has_photo_consent(r: &Records, id: RecordId, json: &Json) -> Result<bool> {
    let child_id = if json.get("schema").and_then(Json::as_str)
        == Some(doc::record::schema_code(Schema::Child))
    {
        id
    } else {
        match super::child_id_of(json) {
            Some(c) => c,
            None => return Ok(false),
        }
    };
    let mut ids = vec![id, child_id];
    for s in r.store.records_of_child(child_id)? {
        if !ids.contains(&s.id) {
            ids.push(s.id);
        }
    }
    for rid in ids {
        let j = if rid == id {
            json.clone()
        } else {
            match r.json(rid) {
                Ok(j) => j,
                Err(Error::NotFound(_)) => continue,
                Err(e) => return Err(e),
            }
        };
        if j.get("record_status").and_then(Json::as_str) == Some("entered_in_error") {
            continue;
        }
        let scope_has_photos = j
            .pointer("/sections/A/consent/scope")
            .and_then(Json::as_array)
            .is_some_and(|a| a.iter().any(|v| v.as_str() == Some("photos")));
        let scope_has_photos = scope_has_photos
            || j.pointer("/sections/A/consent/scope")
                .and_then(Json::as_object)
                .is_some_and(|m| m.contains_key("photos"));
        if scope_has_photos {
            return Ok(true);
        }
        if signatures_in(&j, &r.signed_texts)?
            .iter()
            .any(|s| !s.removed && s.covered && s.data.signs == SignedDocument::Photographs)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `HV-PHOTO-CONSENT` (WARN) at `photos.<item_id>` for every live photo of a record whose
/// child has no photo consent on record; the value is the photo's hash, so an
/// acknowledgement covers that photo only.
pub(super) fn photo_consent_issues(r: &Records, id: RecordId, json: &Json) -> Result<Vec<Issue>> {
    let photos = lists(json)?.photos;
    if live(&photos).next().is_none() || has_photo_consent(r, id, json)? {
        return Ok(Vec::new());
    }
    Ok(live(&photos)
        .map(|p| {
            Issue::warn(
                "HV-PHOTO-CONSENT",
                format!("{PHOTOS}.{}", p.item_id.hyphenated()),
                "A photo was added but the child has no photo consent on record; acknowledge \
                 with the reason (for example, consent given verbally and recorded in the notes).",
            )
            .with_value(p.data.hash.clone())
        })
        .collect())
}

/// The record's live photos (annotations drawn in) and live family signatures, as a report
/// prints them.
pub(crate) fn report_media(r: &Records, id: RecordId) -> Result<crate::report::ReportMedia> {
    use crate::report::{ImageFormat, ReportImage, ReportMedia};
    let mut media = ReportMedia::default();
    for p in r.list_photos(id)? {
        let img = render_info(r, &p)?;
        let mut caption = p.data.caption.clone();
        if let Some(s) = &p.data.section {
            caption.push_str(&format!(" (section {s})"));
        }
        let lengths: Vec<String> = live(&p.data.annotations)
            .filter_map(|a| match a.data {
                AnnotationData::Line {
                    length_mm: Some(mm),
                    ..
                } => Some(format!("{mm} mm")),
                _ => None,
            })
            .collect();
        if !lengths.is_empty() {
            caption.push_str(&format!("; measured: {}", lengths.join(", ")));
        }
        if let Some(t) = p.data.taken_at {
            caption.push_str(&format!(
                ". Taken {}",
                crate::rules::dates::local_date(t).format("%-d %b %Y")
            ));
        }
        caption.push('.');
        media.photos.push(ReportImage {
            format: ImageFormat::Jpeg,
            width_px: img.width_px,
            height_px: img.height_px,
            bytes: img.bytes,
            caption,
        });
    }
    for s in r.family_signatures(id)?.into_iter().filter(|s| !s.removed) {
        let (w, h) = (600, 200);
        let png = signature::render_png(&s.data.points(), w, h)?;
        let rel = SignerRelationship::from_code(&s.data.relationship)
            .map_or_else(|| s.data.relationship.clone(), SignerRelationship::label);
        let pr = if s.data.parental_responsibility {
            ", parental responsibility"
        } else {
            ""
        };
        media.signatures.push(ReportImage {
            format: ImageFormat::Png,
            bytes: png,
            width_px: w,
            height_px: h,
            caption: format!(
                "{} ({rel}{pr}), {}: {}. Covers the text signed: {}.",
                s.data.signer_name,
                crate::rules::dates::local_date(s.data.signed_at).format("%-d %b %Y"),
                s.data.signs.label(),
                if s.covered { "yes" } else { "no" }
            ),
        });
    }
    Ok(media)
}
