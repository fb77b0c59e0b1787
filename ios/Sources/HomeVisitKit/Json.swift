// A small reader for the record JSON the core returns (RecordView.contentJson, conflict
// candidates) and a writer for the JSON values the core takes (resolve, addenda).
// Mirrors android/homevisit/src/main/kotlin/app/homevisit/kit/Json.kt.
import Foundation

/// Thrown for text that is not JSON (a bug in the caller or the core, never user input).
public struct JsonError: Error, Equatable, CustomStringConvertible {
    public let description: String
}

/// Parsed JSON. Numbers are `int` (the document layout stores every number as an integer) or
/// `double`; booleans stay booleans (never 0/1).
public enum JsonValue: Equatable, Sendable {
    case object([String: JsonValue])
    case array([JsonValue])
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case null

    /// The members of an object, else `nil`.
    public var objectValue: [String: JsonValue]? {
        if case .object(let m) = self { return m }
        return nil
    }

    /// The elements of an array, else `nil`.
    public var arrayValue: [JsonValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The string, else `nil`.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer, else `nil`.
    public var intValue: Int64? {
        if case .int(let i) = self { return i }
        return nil
    }

    /// The boolean, else `nil`.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// `true` for JSON `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension JsonValue: Decodable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JsonValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JsonValue].self))
        }
    }
}

/// Parsing, path lookup and writing.
public enum Json {
    /// Parses any JSON value.
    public static func parse(_ text: String) throws -> JsonValue {
        do {
            return try JSONDecoder().decode(JsonValue.self, from: Data(text.utf8))
        } catch {
            throw JsonError(description: "not JSON: \(error)")
        }
    }

    /// Parses an object; anything else is a `JsonError`.
    public static func parseObject(_ text: String) throws -> [String: JsonValue] {
        guard let m = try parse(text).objectValue else { throw JsonError(description: "not a JSON object") }
        return m
    }

    /// The value at a dotted path (`sections.D.entrance_steps.count`, `tasks.<id>.method`).
    public static func at(_ root: [String: JsonValue], _ path: String) -> JsonValue? {
        var cur: JsonValue? = .object(root)
        for seg in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard case .object(let m)? = cur, let next = m[String(seg)] else { return nil }
            cur = next
        }
        if case .null? = cur { return nil }
        return cur
    }

    /// The JSON text of a value.
    public static func write(_ v: JsonValue) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? String(d) : "null"
        case .string(let s): return quote(s)
        case .array(let a): return "[" + a.map(write).joined(separator: ",") + "]"
        case .object(let m):
            return "{" + m.keys.sorted().map { quote($0) + ":" + write(m[$0] ?? .null) }.joined(separator: ",") + "}"
        }
    }

    /// A JSON string literal.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    out += String(format: "\\u%04x", u.value)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}

/// Kilograms or centimetres stored as integer tenths (DOMAIN.md §1.1), shown `32.4`.
public func tenthsText(_ v: Int64) -> String {
    let sign = v < 0 ? "-" : ""
    let a = v.magnitude
    return "\(sign)\(a / 10).\(a % 10)"
}

/// A JSON value as a person reads it: `324` at a kg path is `32.4 kg`, strings unquoted.
public func displayValue(_ path: String, _ value: JsonValue?) -> String {
    guard let value else { return "—" }
    switch value {
    case .null:
        return "—"
    case .int(let v):
        if path.hasSuffix("_kg") || path.hasSuffix("weight_kg.value") { return "\(tenthsText(v)) kg" }
        if path.hasSuffix("_cm") || path.hasSuffix("height_cm.value") { return "\(tenthsText(v)) cm" }
        if path.hasSuffix("_mm") || path.hasSuffix("_mm.value") { return "\(v) mm" }
        if path.hasSuffix("_deg") { return "\(v)°" }
        if path.hasSuffix("_pence") { return String(format: "£%lld.%02lld", v / 100, (v % 100).magnitude) }
        return String(v)
    case .bool(let b):
        return b ? "yes" : "no"
    case .string(let s):
        return s
    case .double(let d):
        return String(d)
    case .object, .array:
        return Json.write(value)
    }
}
