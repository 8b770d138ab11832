internal import GPIO
internal import TOMLKit

/// Reads one TOML table, remembering which keys were used so unknown ones can be refused.
///
/// A typo such as `keepalive_s` must be an error naming the key, not a silent default.
package struct TableReader {
    let table: TOMLTable
    package let path: String
    package let file: String
    private(set) var used: Set<String> = []

    /// The top table of TOML text, for config files other than `pinpost.toml` (the CA responder's).
    package static func root(text: String, file: String) throws(ConfigError) -> TableReader {
        TableReader(table: try table(text, file: file), path: "", file: file)
    }

    /// Parses TOML text; a syntax error names the file, the line and the column. The one place TOML text is parsed.
    static func table(_ text: String, file: String) throws(ConfigError) -> TOMLTable {
        do {
            return try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(
                file: file,
                key: "",
                problem:
                    "not valid TOML at line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)",
                fix: "correct the syntax (see README, Configuration)"
            )
        } catch {
            throw ConfigError(file: file, key: "", problem: "not valid TOML: \(error)", fix: "correct the syntax")
        }
    }

    /// A list of strings (`["a", "b"]`).
    package mutating func strings(_ name: String, fix: String) throws(ConfigError) -> [String]? {
        guard let value = value(name) else { return nil }
        guard let array = value.array else {
            throw error(name, "expected a list of strings, found \(Self.typeName(value))", fix: fix)
        }
        var result: [String] = []
        for element in array {
            guard let text = element.string else {
                throw error(name, "expected a list of strings, found \(Self.typeName(element)) in it", fix: fix)
            }
            result.append(text)
        }
        return result
    }

    init(table: TOMLTable, path: String, file: String) {
        self.table = table
        self.path = path
        self.file = file
    }

    package func key(_ name: String) -> String {
        path.isEmpty ? name : "\(path).\(name)"
    }

    package func error(_ name: String, _ problem: String, fix: String) -> ConfigError {
        ConfigError(file: file, key: key(name), problem: problem, fix: fix)
    }

    private mutating func value(_ name: String) -> (any TOMLValueConvertible)? {
        used.insert(name)
        return table[name]
    }

    package mutating func string(_ name: String, fix: String) throws(ConfigError) -> String? {
        guard let value = value(name) else { return nil }
        guard let text = value.string else {
            throw error(name, "expected a string, found \(Self.typeName(value))", fix: fix)
        }
        return text
    }

    package mutating func requiredString(_ name: String, fix: String) throws(ConfigError) -> String {
        guard let text = try string(name, fix: fix) else {
            throw error(name, "missing", fix: fix)
        }
        guard !text.isEmpty else { throw error(name, "must not be empty", fix: fix) }
        return text
    }

    package mutating func int(_ name: String, range: ClosedRange<Int>, fix: String) throws(ConfigError) -> Int? {
        guard let value = value(name) else { return nil }
        guard let number = value.int else {
            throw error(name, "expected an integer, found \(Self.typeName(value))", fix: fix)
        }
        guard range.contains(number) else {
            throw error(name, "\(number) is out of range \(range.lowerBound)...\(range.upperBound)", fix: fix)
        }
        return number
    }

    /// A duration written as text (`"250ms"`, `"5m"`), bounded by `range`.
    package mutating func duration(
        _ name: String,
        range: ClosedRange<Duration>,
        fix: String
    ) throws(ConfigError) -> Duration? {
        guard let text = try string(name, fix: fix) else { return nil }
        guard let duration = DurationText.parse(text) else {
            throw error(name, "'\(text)' is not a duration", fix: fix)
        }
        guard range.contains(duration) else {
            throw error(
                name,
                "\(text) is out of range \(DurationText.format(range.lowerBound))...\(DurationText.format(range.upperBound))",
                fix: fix
            )
        }
        return duration
    }

    package mutating func bool(_ name: String, fix: String) throws(ConfigError) -> Bool? {
        guard let value = value(name) else { return nil }
        guard let flag = value.bool else {
            throw error(name, "expected true or false, found \(Self.typeName(value))", fix: fix)
        }
        return flag
    }

    mutating func raw(_ name: String) -> (any TOMLValueConvertible)? {
        value(name)
    }

    /// A section that must be present.
    package mutating func section(_ name: String, fix: String) throws(ConfigError) -> TableReader {
        guard let reader = try subtable(name, required: true, fix: fix) else {
            throw ConfigError(file: file, key: key(name), problem: "section [\(key(name))] is missing", fix: fix)
        }
        return reader
    }

    package mutating func subtable(_ name: String, required: Bool, fix: String) throws(ConfigError) -> TableReader? {
        guard let value = value(name) else {
            if required {
                throw ConfigError(file: file, key: key(name), problem: "section [\(key(name))] is missing", fix: fix)
            }
            return nil
        }
        guard let table = value.table else {
            throw error(name, "expected a table ([\(key(name))]), found \(Self.typeName(value))", fix: fix)
        }
        return TableReader(table: table, path: key(name), file: file)
    }

    /// Refuses keys that were never asked for.
    package func rejectUnknownKeys(known: String) throws(ConfigError) {
        for name in table.keys.sorted() where !used.contains(name) {
            throw ConfigError(
                file: file,
                key: key(name),
                problem: "unknown key",
                fix: "remove it or correct its spelling; known keys here: \(known)"
            )
        }
    }

    static func typeName(_ value: any TOMLValueConvertible) -> String {
        switch value.type {
        case .string: "a string"
        case .int: "an integer"
        case .double: "a number"
        case .bool: "a boolean"
        case .table: "a table"
        case .array: "an array"
        default: "a date or time"
        }
    }
}
