//! WhatsApp's media rules: which file types it takes, as which kind of message, up to
//! what size (`reference/meta-cloud-api.md` §3, `reference/chatapps-api.md` §8), and
//! recognising a file's type from its first bytes rather than from its name or the
//! `Content-Type` someone claimed for it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Document,
    Sticker,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
            Self::Audio => "audio",
            Self::Document => "document",
            Self::Sticker => "sticker",
        }
    }
}

/// One file type WhatsApp accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaType {
    pub mime: &'static str,
    /// The extension Parley gives a file of this type when the name it came with has none
    /// of [`MediaType::extensions`].
    pub extension: &'static str,
    /// Every extension this type is known by, the canonical one first.
    pub extensions: &'static [&'static str],
    pub kind: MediaKind,
    pub max_bytes: u64,
}

impl MediaType {
    /// The extension to name a file with: the one it came with when that fits the type.
    pub fn extension_for(&self, original_name: Option<&str>) -> &'static str {
        let given = original_name
            .and_then(|name| name.rsplit_once('.'))
            .map(|(_, ext)| ext.to_ascii_lowercase());
        given
            .and_then(|ext| self.extensions.iter().copied().find(|e| *e == ext))
            .unwrap_or(self.extension)
    }
}

const KB: u64 = 1024;
const MB: u64 = 1024 * 1024;

const fn media(
    mime: &'static str,
    extensions: &'static [&'static str],
    kind: MediaKind,
    max_bytes: u64,
) -> MediaType {
    MediaType {
        mime,
        extension: extensions[0],
        extensions,
        kind,
        max_bytes,
    }
}

pub const JPEG: MediaType = media("image/jpeg", &["jpeg", "jpg"], MediaKind::Image, 5 * MB);
pub const PNG: MediaType = media("image/png", &["png"], MediaKind::Image, 5 * MB);
pub const STICKER: MediaType = media("image/webp", &["webp"], MediaKind::Sticker, 100 * KB);
pub const ANIMATED_STICKER: MediaType =
    media("image/webp", &["webp"], MediaKind::Sticker, 500 * KB);
pub const MP4: MediaType = media("video/mp4", &["mp4"], MediaKind::Video, 16 * MB);
pub const THREE_GP: MediaType = media("video/3gpp", &["3gp"], MediaKind::Video, 16 * MB);
pub const AAC: MediaType = media("audio/aac", &["aac"], MediaKind::Audio, 16 * MB);
pub const AMR: MediaType = media("audio/amr", &["amr"], MediaKind::Audio, 16 * MB);
pub const MP3: MediaType = media("audio/mpeg", &["mp3"], MediaKind::Audio, 16 * MB);
pub const M4A: MediaType = media("audio/mp4", &["m4a"], MediaKind::Audio, 16 * MB);
pub const OGG: MediaType = media("audio/ogg", &["ogg", "opus"], MediaKind::Audio, 16 * MB);
pub const TEXT: MediaType = media("text/plain", &["txt"], MediaKind::Document, 100 * MB);
pub const PDF: MediaType = media("application/pdf", &["pdf"], MediaKind::Document, 100 * MB);
pub const DOC: MediaType = media(
    "application/msword",
    &["doc"],
    MediaKind::Document,
    100 * MB,
);
pub const XLS: MediaType = media(
    "application/vnd.ms-excel",
    &["xls"],
    MediaKind::Document,
    100 * MB,
);
pub const PPT: MediaType = media(
    "application/vnd.ms-powerpoint",
    &["ppt"],
    MediaKind::Document,
    100 * MB,
);
pub const DOCX: MediaType = media(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    &["docx"],
    MediaKind::Document,
    100 * MB,
);
pub const XLSX: MediaType = media(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    &["xlsx"],
    MediaKind::Document,
    100 * MB,
);
pub const PPTX: MediaType = media(
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    &["pptx"],
    MediaKind::Document,
    100 * MB,
);

/// Every type WhatsApp accepts. A static and an animated sticker share a MIME type; the
/// static one, with the smaller limit, is listed first.
pub const MEDIA_TYPES: &[MediaType] = &[
    JPEG,
    PNG,
    STICKER,
    ANIMATED_STICKER,
    MP4,
    THREE_GP,
    AAC,
    AMR,
    MP3,
    M4A,
    OGG,
    TEXT,
    PDF,
    DOC,
    XLS,
    PPT,
    DOCX,
    XLSX,
    PPTX,
];

/// The largest file WhatsApp takes of any type (a document).
pub const MAX_MEDIA_BYTES: u64 = 100 * MB;

/// How many leading bytes [`sniff`] wants to see; fewer work for a shorter file.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// The accepted type with this MIME type (parameters such as `; charset=` ignored).
pub fn by_mime(mime: &str) -> Option<&'static MediaType> {
    let essence = mime.split(';').next().unwrap_or("").trim();
    MEDIA_TYPES
        .iter()
        .find(|t| t.mime.eq_ignore_ascii_case(essence))
}

/// The accepted type of a file, judged from its first bytes (up to [`SNIFF_BYTES`]).
/// `name` only settles what the content cannot: which Office format an OLE or ZIP
/// container holds when its directory lies beyond the bytes seen. `None`: a type WhatsApp
/// does not take (an executable named `.jpg` included).
pub fn sniff(head: &[u8], name: Option<&str>) -> Option<&'static MediaType> {
    if is_three_gp(head) {
        return Some(&THREE_GP);
    }
    if let Some(found) = infer::get(head) {
        return match found.mime_type() {
            "image/jpeg" => Some(&JPEG),
            "image/png" => Some(&PNG),
            "image/webp" if is_animated_webp(head) => Some(&ANIMATED_STICKER),
            "image/webp" => Some(&STICKER),
            "video/mp4" => Some(&MP4),
            "audio/aac" => Some(&AAC),
            "audio/amr" => Some(&AMR),
            "audio/mpeg" => Some(&MP3),
            "audio/m4a" => Some(&M4A),
            "audio/ogg" | "audio/opus" => Some(&OGG),
            "application/pdf" => Some(&PDF),
            "application/msword" => Some(&DOC),
            "application/vnd.ms-excel" => Some(&XLS),
            "application/vnd.ms-powerpoint" => Some(&PPT),
            mime if mime == DOCX.mime => Some(&DOCX),
            mime if mime == XLSX.mime => Some(&XLSX),
            mime if mime == PPTX.mime => Some(&PPTX),
            "application/x-ole-storage" => office_by_name(name, &[&DOC, &XLS, &PPT]),
            "application/zip" => office_by_name(name, &[&DOCX, &XLSX, &PPTX]),
            _ => None,
        };
    }
    is_plain_text(head).then_some(&TEXT)
}

/// A container whose kind of Office file the first bytes do not show: the name decides
/// among the formats that container can hold.
fn office_by_name(
    name: Option<&str>,
    candidates: &[&'static MediaType],
) -> Option<&'static MediaType> {
    let ext = name?.rsplit_once('.')?.1.to_ascii_lowercase();
    candidates
        .iter()
        .copied()
        .find(|t| t.extensions.contains(&ext.as_str()))
}

/// An ISO media file whose major brand is 3GPP (`ftyp3gp4`, `ftyp3g2a`, …).
fn is_three_gp(head: &[u8]) -> bool {
    head.len() >= 11 && &head[4..8] == b"ftyp" && &head[8..10] == b"3g"
}

/// A WebP file with the extended header's animation flag set.
fn is_animated_webp(head: &[u8]) -> bool {
    head.len() > 20 && &head[12..16] == b"VP8X" && head[20] & 0x02 != 0
}

/// Text: UTF-8 without control bytes other than whitespace. The cut at the end of `head`
/// may split a character, which is allowed.
fn is_plain_text(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    let valid = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or("")
        }
        Err(_) => return false,
    };
    !valid.is_empty()
        && valid
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG_HEAD: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0];
    const ELF_HEAD: &[u8] = &[0x7F, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    fn iso(brand: &[u8; 4]) -> Vec<u8> {
        let mut head = vec![0, 0, 0, 0x18];
        head.extend_from_slice(b"ftyp");
        head.extend_from_slice(brand);
        head.extend_from_slice(&[0; 12]);
        head
    }

    #[test]
    fn the_content_decides_the_type_not_the_name() {
        assert_eq!(sniff(JPEG_HEAD, Some("photo.png")), Some(&JPEG));
        assert_eq!(sniff(ELF_HEAD, Some("cat.jpg")), None);
        assert_eq!(sniff(b"MZ\x90\x00\x03\x00\x00\x00", Some("cat.jpg")), None);
        assert_eq!(sniff(b"%PDF-1.7\n", None), Some(&PDF));
        assert_eq!(sniff(b"<html><body>hi</body></html>", Some("a.txt")), None);
    }

    #[test]
    fn iso_media_is_told_apart_by_its_brand() {
        assert_eq!(sniff(&iso(b"isom"), None), Some(&MP4));
        assert_eq!(sniff(&iso(b"3gp4"), None), Some(&THREE_GP));
        assert_eq!(sniff(&iso(b"M4A "), None), Some(&M4A));
    }

    #[test]
    fn text_is_utf8_without_control_bytes_even_when_cut_mid_character() {
        assert_eq!(sniff("Grüße\n".as_bytes(), None), Some(&TEXT));
        let cut = &"é".as_bytes()[..1];
        assert_eq!(sniff(&[b"abc", cut].concat(), None), Some(&TEXT));
        assert_eq!(sniff(b"abc\x00def", None), None);
        assert_eq!(sniff(b"", None), None);
    }

    #[test]
    fn stickers_are_webp_with_a_larger_limit_when_animated() {
        let mut still = b"RIFF\0\0\0\0WEBPVP8 ".to_vec();
        still.extend_from_slice(&[0; 16]);
        assert_eq!(sniff(&still, None), Some(&STICKER));
        let mut animated = b"RIFF\0\0\0\0WEBPVP8X".to_vec();
        animated.extend_from_slice(&[0, 0, 0, 0, 0x02, 0, 0, 0]);
        assert_eq!(sniff(&animated, None), Some(&ANIMATED_STICKER));
    }

    #[test]
    fn office_containers_fall_back_to_the_name_only_for_the_formats_they_can_hold() {
        let zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00";
        assert_eq!(sniff(zip, Some("report.XLSX")), Some(&XLSX));
        assert_eq!(sniff(zip, Some("report.doc")), None);
        assert_eq!(sniff(zip, None), None);
    }

    #[test]
    fn a_kept_extension_must_fit_the_type() {
        assert_eq!(JPEG.extension_for(Some("cat.JPG")), "jpg");
        assert_eq!(JPEG.extension_for(Some("cat.png")), "jpeg");
        assert_eq!(OGG.extension_for(None), "ogg");
        assert_eq!(by_mime("audio/ogg; codecs=opus"), Some(&OGG));
        assert_eq!(by_mime("text/html"), None);
    }
}
