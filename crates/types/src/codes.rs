//! The two 8x8 code namespaces. Sync codes travel in HTTP error bodies; delivery-receipt
//! codes travel in `status.errorCode` and reuse some of the same numbers with other
//! meanings (sync 1002 is "invalid MSISDN", DR 1002 is a Meta rate limit), so they are
//! different types here.

/// Codes of the synchronous error envelope (`reference/chatapps-api.md` §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncCode {
    InvalidParameter,
    IllegalSubAccount,
    InvalidMsisdn,
    InvalidParameters,
    InvalidCountryCode,
    InvalidExpiry,
    InvalidScheduleTime,
    MissedMessages,
    TooManyMessages,
    ClientBatchIdTooLong,
    Unauthorized,
    /// A console user whose role does not allow the call (Parley's console, docs/console.md).
    Forbidden,
    NotFound,
    Internal,
    NotImplemented,
    MissedUser,
    MissedMsisdn,
    InvalidChatAppsCountry,
    MissedContent,
    MissedText,
    TextTooLong,
    MissedMediaUrl,
    InvalidMediaUrl,
    ClientMessageIdTooLong,
    InvalidContentType,
    InvalidDrCallbackUrl,
    InvalidLocation,
    MissedUmid,
    PayloadTooLarge,
    ParameterOutOfRange,
    BulkLimitReached,
    RateLimited,
    EmptyTemplate,
    InvalidTemplateNameLength,
    InvalidTemplateName,
    TooManyTemplateParameters,
    InvalidTemplateComponentCombination,
    EmptyTemplateLanguage,
    InvalidTemplateLanguage,
    TemplateNotFound,
    InvalidTemplateComponentType,
    EmptyTemplateParameters,
    InvalidTemplateParameter,
    InvalidTemplateParameterType,
    TemplateTextParameterTooLong,
    TemplateLocationParameterEmpty,
    TemplateParameterNotAllowed,
    TemplateParameterUrlInvalid,
    InvalidButtonParameter,
    InvalidTemplateComponentSubType,
    InvalidIndex,
    TemplateBeingDeleted,
    /// A file (`/files/…`), export job or download link that does not exist for this
    /// caller: the same answer whether it never existed, expired or the token is wrong.
    NoSuchObject,
    /// An upload WhatsApp would not take (the type sniffed from its content).
    UnsupportedMediaType,
}

impl SyncCode {
    pub fn code(self) -> u32 {
        match self {
            Self::InvalidParameter => 1000,
            Self::IllegalSubAccount => 1001,
            Self::InvalidMsisdn => 1002,
            Self::InvalidParameters => 1005,
            Self::InvalidCountryCode => 1009,
            Self::InvalidExpiry => 1006,
            Self::InvalidScheduleTime => 1011,
            Self::MissedMessages => 3012,
            Self::TooManyMessages => 3013,
            Self::ClientBatchIdTooLong => 3014,
            Self::Unauthorized => 1200,
            Self::Forbidden => 1003,
            Self::NotFound => 1300,
            Self::Internal => 2000,
            Self::NotImplemented => 2001,
            Self::MissedMsisdn => 3002,
            Self::InvalidChatAppsCountry => 3018,
            Self::MissedUser => 3001,
            Self::MissedContent => 3004,
            Self::MissedText => 3005,
            Self::TextTooLong => 3006,
            Self::MissedMediaUrl => 3007,
            Self::InvalidMediaUrl => 3008,
            Self::ClientMessageIdTooLong => 3009,
            Self::InvalidContentType => 3010,
            Self::InvalidDrCallbackUrl => 3020,
            Self::InvalidLocation => 3021,
            Self::MissedUmid => 3029,
            Self::PayloadTooLarge => 7001,
            Self::ParameterOutOfRange => 1010,
            Self::BulkLimitReached => 1100,
            Self::RateLimited => 429,
            Self::EmptyTemplate => 3030,
            Self::InvalidTemplateNameLength => 3031,
            Self::InvalidTemplateName => 3032,
            Self::TooManyTemplateParameters => 3033,
            Self::InvalidTemplateComponentCombination => 3034,
            Self::EmptyTemplateLanguage => 3036,
            Self::InvalidTemplateLanguage => 3037,
            Self::TemplateNotFound => 3038,
            Self::InvalidTemplateComponentType => 3039,
            Self::EmptyTemplateParameters => 3040,
            Self::InvalidTemplateParameter => 3041,
            Self::InvalidTemplateParameterType => 3042,
            Self::TemplateTextParameterTooLong => 3043,
            Self::TemplateLocationParameterEmpty => 3044,
            Self::TemplateParameterNotAllowed => 3045,
            Self::TemplateParameterUrlInvalid => 3046,
            Self::InvalidButtonParameter => 3049,
            Self::InvalidTemplateComponentSubType => 3052,
            Self::InvalidIndex => 3053,
            Self::TemplateBeingDeleted => 3060,
            Self::NoSuchObject => 4018,
            Self::UnsupportedMediaType => 1000,
        }
    }

    /// HTTP status documented (or, where 8x8 is silent, inferred) for the code.
    pub fn http_status(self) -> u16 {
        match self {
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Internal => 500,
            Self::PayloadTooLarge => 413,
            Self::RateLimited => 429,
            Self::TemplateBeingDeleted => 409,
            Self::NoSuchObject => 404,
            Self::UnsupportedMediaType => 415,
            _ => 400,
        }
    }
}

/// An 8x8 delivery-receipt error: the 8x8 code and its documented reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryError {
    pub code: u32,
    pub message: &'static str,
}

/// Meta error code → 8x8 WhatsApp delivery-receipt code (`reference/chatapps-api.md` §7).
const META_TO_8X8: &[(u32, u32, &str)] = &[
    (0, 1000, "Authentication failed"),
    (3, 1001, "Method not allowed"),
    (4, 1002, "Application rate limit reached"),
    (10, 1003, "Permission denied"),
    (33, 1004, "Invalid parameter value"),
    (100, 1005, "Invalid parameter"),
    (190, 1006, "Access token expired"),
    (368, 1007, "Temporarily blocked for policy violations"),
    (80007, 1008, "WhatsApp Business Account rate limit reached"),
    (130429, 1009, "Throughput limit reached"),
    (130472, 1010, "User's number is part of an experiment"),
    (
        130497,
        1011,
        "Business account is restricted from messaging users in this country",
    ),
    (131000, 1012, "Something went wrong"),
    (131005, 1013, "Access denied"),
    (131008, 1014, "Required parameter is missing"),
    (131009, 1015, "Parameter value is not valid"),
    (131016, 1016, "Service unavailable"),
    (131021, 1017, "Recipient cannot be sender"),
    (131026, 1018, "Message undeliverable"),
    (131031, 1019, "Business account has been locked"),
    (131037, 1020, "Display name not approved"),
    (131045, 1021, "Incorrect certificate"),
    (
        131047,
        1022,
        "Re-engagement message: more than 24 hours since the user last replied",
    ),
    (131048, 1023, "Spam rate limit hit"),
    (131049, 1024, "Meta chose not to deliver this message"),
    (131050, 1051, "User has stopped marketing messages"),
    (131051, 1025, "Unsupported message type"),
    (131052, 1026, "Media download error"),
    (131053, 1027, "Media upload error"),
    (131056, 1028, "Pair rate limit hit"),
    (131057, 1029, "Business account is in maintenance mode"),
    (
        131062,
        1054,
        "Business-scoped user id recipient not supported",
    ),
    (132000, 1030, "Template parameter count mismatch"),
    (132001, 1031, "Template does not exist"),
    (132005, 1032, "Translated text too long"),
    (132007, 1033, "Template format character policy violated"),
    (132012, 1034, "Template parameter format mismatch"),
    (132015, 1035, "Template is paused"),
    (132016, 1036, "Template is disabled"),
    (132068, 1037, "Flow is blocked"),
    (132069, 1038, "Flow is throttled"),
    (133000, 1039, "Incomplete deregistration"),
    (133004, 1040, "Server temporarily unavailable"),
    (133005, 1041, "Two-step verification PIN mismatch"),
    (133006, 1042, "Phone number re-verification needed"),
    (133008, 1043, "Too many two-step verification PIN guesses"),
    (133009, 1044, "Two-step verification PIN guessed too fast"),
    (133010, 1045, "Phone number not registered"),
    (133015, 1046, "Please wait a few minutes before registering"),
    (
        133016,
        1047,
        "Account register or deregister rate limit exceeded",
    ),
    (135000, 1048, "Generic user error"),
    (138009, 1053, "Call permission request limit reached"),
    (138017, 1052, "Permanent call permission already exists"),
    (2593107, 1049, "Synchronization call limit reached"),
    (2593108, 1050, "Synchronization window expired"),
];

/// General delivery codes Parley itself reports.
pub const DR_INTERNAL_ERROR: DeliveryError = DeliveryError {
    code: 14,
    message: "InternalError",
};
pub const DR_UNKNOWN_ERROR: DeliveryError = DeliveryError {
    code: 57,
    message: "UnknownError",
};
/// Not handed to WhatsApp before the sender's `expiry`.
pub const DR_EXPIRED: DeliveryError = DeliveryError {
    code: 36,
    message: "Expired",
};
/// Cancelled by the sender while it waited for its scheduled time.
pub const DR_CANCELLED: DeliveryError = DeliveryError {
    code: 25,
    message: "Operation aborted",
};
/// The user is on the account's do-not-contact list (said STOP): marketing is not sent.
/// Meta's own code for a user who stopped marketing messages maps to the same 8x8 code.
pub const DR_OPTED_OUT: DeliveryError = DeliveryError {
    code: 1051,
    message: "User has stopped marketing messages",
};

impl DeliveryError {
    /// The 8x8 code for a Meta error; codes 8x8 does not list map to "UnknownError" (57).
    pub fn from_meta(meta_code: u32) -> Self {
        META_TO_8X8
            .iter()
            .find(|(meta, _, _)| *meta == meta_code)
            .map(|&(_, code, message)| Self { code, message })
            .unwrap_or(DR_UNKNOWN_ERROR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_and_reach_errors_map_to_their_8x8_codes() {
        assert_eq!(DeliveryError::from_meta(131047).code, 1022);
        assert_eq!(DeliveryError::from_meta(131026).code, 1018);
        assert_eq!(DeliveryError::from_meta(131050).code, 1051);
        assert_eq!(DeliveryError::from_meta(999_999), DR_UNKNOWN_ERROR);
    }

    #[test]
    fn every_meta_code_is_listed_once() {
        let mut metas: Vec<u32> = META_TO_8X8.iter().map(|m| m.0).collect();
        metas.sort_unstable();
        metas.dedup();
        assert_eq!(metas.len(), META_TO_8X8.len());
    }
}
