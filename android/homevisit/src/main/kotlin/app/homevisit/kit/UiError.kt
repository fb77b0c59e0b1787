// One error value for every screen, converted from the core's typed HomeVisitException
// (docs/API.md "Errors"): the rule ID is kept so the screen can show it.
package app.homevisit.kit

import app.homevisit.core.HomeVisitException
import app.homevisit.core.ValidationIssue

/** What kind of failure, one per thing the app can act on (docs/API.md). */
enum class ErrorKind {
    WRONG_KEY,
    CORRUPT,
    DATABASE_CLOSED,
    STORE_FILE,
    NOT_FOUND,
    INVALID_INPUT,
    VALIDATION,
    NOT_PERMITTED,
    SIGNED_RECORD,
    CONFLICT,
    DISK_FULL,
    NETWORK,
    UNAUTHORIZED,
    REVOKED,
    INTERRUPTED,
    INTERNAL,
}

/**
 * An error as a screen shows it.
 *
 * @property ruleId the DOMAIN.md rule the refusal cites (`EQ-ROLE`, `FLD-FORMAT`, `RK-SIGN-LOCK`,
 *   `CF-BLOCK`…), when there is one.
 * @property text one sentence for the user, starting with `[RULE-ID]` when there is a rule.
 * @property issues the blocking issues of a refused sign/submit (`VALIDATION`).
 * @property paths the conflicting field paths (`CONFLICT`).
 */
data class UiError(
    val kind: ErrorKind,
    val ruleId: String?,
    val text: String,
    val issues: List<ValidationIssue> = emptyList(),
    val paths: List<String> = emptyList(),
)

/** Converts any failure of a library call into a [UiError]; nothing is swallowed. */
fun Throwable.toUiError(): UiError = when (this) {
    is HomeVisitException.WrongKey -> UiError(ErrorKind.WRONG_KEY, "SAF-DEVICE-LOST", "The store key is wrong for this database.")
    is HomeVisitException.Corrupt -> UiError(ErrorKind.CORRUPT, null, "Damaged data: $detail")
    is HomeVisitException.DatabaseClosed -> UiError(ErrorKind.DATABASE_CLOSED, null, "The store is closed.")
    is HomeVisitException.StoreFile -> UiError(ErrorKind.STORE_FILE, null, "The store file cannot be used ($problem): $path")
    is HomeVisitException.NotFound -> UiError(ErrorKind.NOT_FOUND, null, "Not found: $detail")
    is HomeVisitException.InvalidInput -> UiError(ErrorKind.INVALID_INPUT, ruleId, "[$ruleId] $detail")
    is HomeVisitException.Validation -> UiError(
        ErrorKind.VALIDATION,
        issues.firstOrNull()?.ruleId,
        "${issues.size} issue(s) block this: " + issues.joinToString("; ") { it.detail },
        issues = issues,
    )
    is HomeVisitException.NotPermitted -> UiError(ErrorKind.NOT_PERMITTED, ruleId, "[$ruleId] $detail")
    is HomeVisitException.SignedRecord -> UiError(
        ErrorKind.SIGNED_RECORD,
        "RK-SIGN-LOCK",
        "[RK-SIGN-LOCK] The record is signed; add an addendum instead.",
    )
    is HomeVisitException.Conflict -> UiError(
        ErrorKind.CONFLICT,
        "CF-BLOCK",
        "[CF-BLOCK] Resolve the conflict first: ${paths.joinToString(", ")}",
        paths = paths,
    )
    is HomeVisitException.DiskFull -> UiError(ErrorKind.DISK_FULL, null, "The device storage is full; nothing was saved.")
    is HomeVisitException.Network -> UiError(ErrorKind.NETWORK, null, "Network: $detail")
    is HomeVisitException.Unauthorized -> UiError(ErrorKind.UNAUTHORIZED, null, "The server did not accept this device. Sign in again.")
    is HomeVisitException.Revoked -> UiError(ErrorKind.REVOKED, "SAF-DEVICE-LOST", "This device was revoked; its data was wiped.")
    is HomeVisitException.Interrupted -> UiError(ErrorKind.INTERRUPTED, null, "Interrupted.")
    is HomeVisitException.Internal -> UiError(ErrorKind.INTERNAL, null, "Internal error: $detail")
    else -> UiError(ErrorKind.INTERNAL, null, "Internal error: ${this::class.simpleName}: ${this.message}")
}
