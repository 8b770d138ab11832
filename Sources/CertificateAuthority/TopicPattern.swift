/// A topic template such as `pinpost/certificates/{id}/create-from-csr/json`: the filter to subscribe to (each
/// placeholder a `+`) and the values a topic gives its placeholders.
public struct TopicPattern: Sendable, Equatable {
    public let template: String
    private let levels: [Substring]

    public init(_ template: String) {
        self.template = template
        levels = template.split(separator: "/", omittingEmptySubsequences: false)
    }

    public var filter: String {
        levels.map { $0.hasPrefix("{") && $0.hasSuffix("}") ? "+" : String($0) }.joined(separator: "/")
    }

    /// The placeholders' values (`["id": "dev-0001"]`) when `topic` has this shape; nil otherwise.
    public func match(_ topic: String) -> [String: String]? {
        let parts = topic.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == levels.count else { return nil }
        var values: [String: String] = [:]
        for (level, part) in zip(levels, parts) {
            if level.hasPrefix("{") && level.hasSuffix("}") {
                guard !part.isEmpty else { return nil }
                values[String(level.dropFirst().dropLast())] = String(part)
            } else if level != part {
                return nil
            }
        }
        return values
    }

    /// The topic for these values.
    public func topic(_ values: [String: String]) -> String {
        levels.map { level in
            guard level.hasPrefix("{") && level.hasSuffix("}") else { return String(level) }
            return values[String(level.dropFirst().dropLast())] ?? ""
        }.joined(separator: "/")
    }
}
