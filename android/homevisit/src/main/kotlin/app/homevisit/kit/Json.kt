// A small reader for the record JSON the core returns (RecordView.contentJson, conflict
// candidates) and a writer for the JSON values the core takes (resolve, addenda). Pure Kotlin:
// the library has no JSON dependency, so the JVM tests and the app use the same code.
package app.homevisit.kit

/** Thrown for text that is not JSON (a bug in the caller or the core, never user input). */
class JsonException(message: String) : IllegalArgumentException(message)

/**
 * Parsed JSON: objects are `Map<String, Any?>` (key order kept), arrays `List<Any?>`, numbers
 * `Long` (integers, as the document layout stores every number) or `Double`, strings `String`,
 * booleans `Boolean`, null `null`.
 */
object Json {
    fun parse(text: String): Any? {
        val r = Reader(text)
        r.ws()
        val v = r.value()
        r.ws()
        if (r.i != text.length) throw JsonException("trailing text at ${r.i}")
        return v
    }

    /** Parses an object; anything else is a [JsonException]. */
    @Suppress("UNCHECKED_CAST")
    fun parseObject(text: String): Map<String, Any?> =
        parse(text) as? Map<String, Any?> ?: throw JsonException("not a JSON object")

    /** The value at a dotted path (`sections.D.entrance_steps.count`, `tasks.<id>.method`). */
    fun at(root: Any?, path: String): Any? {
        var cur = root
        for (seg in path.split('.')) {
            cur = (cur as? Map<*, *>)?.get(seg) ?: return null
        }
        return cur
    }

    /** The JSON text of a value built from the types [parse] returns. */
    fun write(v: Any?): String = buildString { writeTo(this, v) }

    /** A JSON string literal. */
    fun quote(s: String): String = write(s)

    private fun writeTo(sb: StringBuilder, v: Any?) {
        when (v) {
            null -> sb.append("null")
            is String -> {
                sb.append('"')
                for (c in v) {
                    when {
                        c == '"' -> sb.append("\\\"")
                        c == '\\' -> sb.append("\\\\")
                        c == '\n' -> sb.append("\\n")
                        c == '\r' -> sb.append("\\r")
                        c == '\t' -> sb.append("\\t")
                        c < ' ' -> sb.append("\\u%04x".format(c.code))
                        else -> sb.append(c)
                    }
                }
                sb.append('"')
            }
            is Boolean, is Int, is Long -> sb.append(v.toString())
            is Double -> if (v.isFinite()) sb.append(v.toString()) else throw JsonException("not a JSON number: $v")
            is Map<*, *> -> {
                sb.append('{')
                var first = true
                for ((k, value) in v) {
                    if (!first) sb.append(',')
                    first = false
                    writeTo(sb, k.toString())
                    sb.append(':')
                    writeTo(sb, value)
                }
                sb.append('}')
            }
            is Iterable<*> -> {
                sb.append('[')
                var first = true
                for (value in v) {
                    if (!first) sb.append(',')
                    first = false
                    writeTo(sb, value)
                }
                sb.append(']')
            }
            else -> throw JsonException("cannot write ${v::class.simpleName} as JSON")
        }
    }

    private class Reader(val s: String) {
        var i = 0

        fun ws() {
            while (i < s.length && s[i] in " \t\r\n") i++
        }

        fun fail(what: String): Nothing = throw JsonException("$what at $i")

        fun value(): Any? {
            if (i >= s.length) fail("unexpected end")
            return when (val c = s[i]) {
                '{' -> obj()
                '[' -> arr()
                '"' -> str()
                't' -> lit("true", true)
                'f' -> lit("false", false)
                'n' -> lit("null", null)
                else -> if (c == '-' || c in '0'..'9') num() else fail("unexpected '$c'")
            }
        }

        fun lit(word: String, v: Any?): Any? {
            if (!s.startsWith(word, i)) fail("expected $word")
            i += word.length
            return v
        }

        fun obj(): Map<String, Any?> {
            val m = LinkedHashMap<String, Any?>()
            i++
            ws()
            if (i < s.length && s[i] == '}') {
                i++
                return m
            }
            while (true) {
                ws()
                if (i >= s.length || s[i] != '"') fail("expected a key")
                val k = str()
                ws()
                if (i >= s.length || s[i] != ':') fail("expected ':'")
                i++
                ws()
                m[k] = value()
                ws()
                if (i >= s.length) fail("unexpected end")
                when (s[i++]) {
                    ',' -> continue
                    '}' -> return m
                    else -> fail("expected ',' or '}'")
                }
            }
        }

        fun arr(): List<Any?> {
            val l = ArrayList<Any?>()
            i++
            ws()
            if (i < s.length && s[i] == ']') {
                i++
                return l
            }
            while (true) {
                ws()
                l.add(value())
                ws()
                if (i >= s.length) fail("unexpected end")
                when (s[i++]) {
                    ',' -> continue
                    ']' -> return l
                    else -> fail("expected ',' or ']'")
                }
            }
        }

        fun str(): String {
            val sb = StringBuilder()
            i++
            while (true) {
                if (i >= s.length) fail("unterminated string")
                val c = s[i++]
                when (c) {
                    '"' -> return sb.toString()
                    '\\' -> {
                        if (i >= s.length) fail("bad escape")
                        when (val e = s[i++]) {
                            '"' -> sb.append('"')
                            '\\' -> sb.append('\\')
                            '/' -> sb.append('/')
                            'b' -> sb.append('\b')
                            'f' -> sb.append('\u000C')
                            'n' -> sb.append('\n')
                            'r' -> sb.append('\r')
                            't' -> sb.append('\t')
                            'u' -> {
                                if (i + 4 > s.length) fail("bad \\u escape")
                                val hex = s.substring(i, i + 4)
                                sb.append(hex.toIntOrNull(16)?.toChar() ?: fail("bad \\u escape"))
                                i += 4
                            }
                            else -> fail("bad escape '\\$e'")
                        }
                    }
                    else -> sb.append(c)
                }
            }
        }

        fun num(): Any {
            val start = i
            if (s[i] == '-') i++
            while (i < s.length && (s[i].isDigit() || s[i] in ".eE+-")) i++
            val t = s.substring(start, i)
            return t.toLongOrNull() ?: t.toDoubleOrNull() ?: fail("bad number '$t'")
        }
    }
}

/** Kilograms or centimetres stored as integer tenths (DOMAIN.md §1.1), shown `32.4`. */
fun tenthsText(v: Long): String {
    val sign = if (v < 0) "-" else ""
    val a = kotlin.math.abs(v)
    return "$sign${a / 10}.${a % 10}"
}

/** A JSON value as a person reads it: `324` at a kg path is `32.4 kg`, strings unquoted. */
fun displayValue(path: String, value: Any?): String = when (value) {
    null -> "—"
    is Long -> when {
        path.endsWith("_kg") || path.endsWith("weight_kg.value") -> "${tenthsText(value)} kg"
        path.endsWith("_cm") || path.endsWith("height_cm.value") -> "${tenthsText(value)} cm"
        path.endsWith("_mm") || path.endsWith("_mm.value") -> "$value mm"
        path.endsWith("_deg") -> "$value°"
        path.endsWith("_pence") -> "£%d.%02d".format(value / 100, kotlin.math.abs(value % 100))
        else -> value.toString()
    }
    is Boolean -> if (value) "yes" else "no"
    is String -> value
    is Map<*, *> -> Json.write(value)
    is List<*> -> Json.write(value)
    else -> value.toString()
}
