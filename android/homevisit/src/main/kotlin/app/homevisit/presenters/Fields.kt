// Form fields: what a field is (path, label, kind, codes) and how a typed string becomes the
// core's FieldValue. Units follow DOMAIN.md §1.1: kg and cm typed with one decimal and stored
// in tenths, every other length in whole mm.
package app.homevisit.presenters

import app.homevisit.core.FieldValue
import app.homevisit.core.RecordView
import app.homevisit.kit.HomeVisit
import app.homevisit.kit.Json
import app.homevisit.kit.displayValue
import app.homevisit.kit.tenthsText

/** How a field is entered. */
enum class FieldKind {
    /** A short string (names, references). */
    TEXT,

    /** Free text that merges character by character (`CF-TEXT`): notes, concerns, views. */
    LONG_TEXT,

    /** A whole number in the field's unit (mm, degrees, count). */
    INTEGER,

    /** kg or cm with at most one decimal (stored in tenths). */
    DECIMAL,

    /** `YYYY-MM-DD`. */
    DATE,

    /** `HH:MM`. */
    TIME,

    /** One code of [FieldSpec.options]. */
    CODE,

    /** Yes/no. */
    FLAG,

    /** A set of codes of [FieldSpec.options] (`CF-SET`), toggled one at a time. */
    CODE_SET,
}

/** A field of a form: its document path (docs/DOCUMENT-LAYOUT.md), label, kind and codes. */
data class FieldSpec(
    val path: String,
    val label: String,
    val kind: FieldKind,
    val options: List<String> = emptyList(),
    val unit: String? = null,
)

/**
 * A field as the screen shows it.
 *
 * @property input the value as the user would type it (`32.4` for 324 tenths of a kg; codes
 *   comma-separated for a set; `true`/`false` for a flag; empty when unset).
 * @property display the value for reading (`32.4 kg`, `—` when unset).
 * @property selected the codes of a [FieldKind.CODE_SET] field.
 * @property issues the field's validation issues with their rule IDs.
 * @property inConflict the field has concurrent values to resolve (`CF-CLINICAL`).
 */
data class FieldRow(
    val path: String,
    val label: String,
    val kind: FieldKind,
    val options: List<String>,
    val unit: String?,
    val input: String,
    val display: String,
    val selected: List<String>,
    val issues: List<IssueRow>,
    val inConflict: Boolean,
) {
    /** The worst issue's severity text for a badge: `ERROR`, `WARN` or empty. */
    val badge: String
        get() = when {
            issues.any { it.isError } -> "ERROR"
            issues.any { it.blocking } -> "WARN"
            else -> ""
        }
}

/** The row of [spec] in a record's [content]. */
fun fieldRow(spec: FieldSpec, content: Map<String, Any?>, issues: List<IssueRow>, conflictPaths: Set<String>): FieldRow {
    val raw = Json.at(content, spec.path)
    val selected = if (spec.kind == FieldKind.CODE_SET) {
        (raw as? Map<*, *>)?.filterValues { it == true }?.keys?.map { it.toString() }?.sorted() ?: emptyList()
    } else {
        emptyList()
    }
    val input = when {
        raw == null -> ""
        spec.kind == FieldKind.DECIMAL && raw is Long -> tenthsText(raw)
        spec.kind == FieldKind.CODE_SET -> selected.joinToString(",")
        raw is Map<*, *> || raw is List<*> -> ""
        else -> raw.toString()
    }
    val display = when {
        spec.kind == FieldKind.CODE_SET -> if (selected.isEmpty()) "—" else selected.joinToString(", ")
        spec.kind == FieldKind.DECIMAL && raw is Long -> "${tenthsText(raw)}${spec.unit?.let { " $it" } ?: ""}"
        spec.kind == FieldKind.INTEGER && raw is Long -> "$raw${spec.unit?.let { " $it" } ?: ""}"
        else -> displayValue(spec.path, raw)
    }
    return FieldRow(
        path = spec.path,
        label = spec.label,
        kind = spec.kind,
        options = spec.options,
        unit = spec.unit,
        input = input,
        display = display,
        selected = selected,
        issues = issues.under(spec.path),
        inConflict = conflictPaths.any { it == spec.path || it.startsWith("${spec.path}.") },
    )
}

/** Why a typed string cannot be sent (letters in a number): `FLD-FORMAT`. */
class InputFormatException(val ruleId: String, val text: String) : Exception("[$ruleId] $text")

/** The core value of a typed string for [kind]; blank clears the field. */
fun fieldValueOf(kind: FieldKind, input: String): FieldValue {
    val t = input.trim()
    if (t.isEmpty()) return FieldValue.Empty
    return when (kind) {
        FieldKind.INTEGER -> FieldValue.Integer(
            t.toLongOrNull() ?: throw InputFormatException("FLD-FORMAT", "`$t` is not a whole number"),
        )
        FieldKind.DECIMAL -> FieldValue.Decimal(t)
        FieldKind.FLAG -> FieldValue.Flag(
            when (t.lowercase()) {
                "true", "yes", "y" -> true
                "false", "no", "n" -> false
                else -> throw InputFormatException("FLD-FORMAT", "`$t` is not yes or no")
            },
        )
        FieldKind.TEXT, FieldKind.LONG_TEXT, FieldKind.DATE, FieldKind.TIME, FieldKind.CODE, FieldKind.CODE_SET -> FieldValue.Text(t)
    }
}

/** Writes a typed value to a record field: free text by splicing, others as values. */
suspend fun HomeVisit.write(recordId: String, spec: FieldSpec, input: String) {
    when (spec.kind) {
        FieldKind.LONG_TEXT -> setText(recordId, spec.path, input)
        FieldKind.CODE_SET -> throw InputFormatException("FLD-FORMAT", "toggle the codes of ${spec.label} one at a time")
        else -> setField(recordId, spec.path, fieldValueOf(spec.kind, input))
    }
}

/** A record read for a form: its view, parsed content and issues (what sign/submit needs). */
data class RecordSnapshot(
    val view: RecordView,
    val content: Map<String, Any?>,
    val issues: List<IssueRow>,
) {
    /** Paths with open conflicts (`CF-CLINICAL`). */
    val conflictPaths: Set<String> get() = view.conflicts.map { it.path }.toSet()

    /** What blocks sign/submit now. */
    val blockers: List<IssueRow> get() = issues.filter { it.blocking }
}

/** Reads a record with its final-stage issues, WARNs marked acknowledged (`FLD-ACK`). */
suspend fun HomeVisit.snapshot(recordId: String): RecordSnapshot {
    val view = view(recordId)
    val all = validate(recordId, true)
    val blocking = blockingIssues(recordId)
    return RecordSnapshot(view, Json.parseObject(view.contentJson), issueRows(all, blocking))
}

/** The live (not removed) items of an item list, in added order (docs/DOCUMENT-LAYOUT.md). */
fun liveItems(content: Map<String, Any?>, listPath: String): List<Map<String, Any?>> {
    val m = Json.at(content, listPath) as? Map<*, *> ?: return emptyList()
    return m.values.mapNotNull { v -> (v as? Map<*, *>)?.entries?.associate { (k, x) -> k.toString() to x } }
        .filter { it["removed_at"] == null }
        .sortedWith(compareBy({ it["added_at"]?.toString() ?: "" }, { it["item_id"]?.toString() ?: "" }))
}
