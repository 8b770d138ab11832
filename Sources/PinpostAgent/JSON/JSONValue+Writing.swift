/// JSON text for the certificate API's small objects of strings and the CA's audit log, with the readings' escaping.
extension JSONValue {
    /// `text` as a JSON string literal, quotes included.
    public static func quote(_ text: String) -> String {
        var json = ""
        ReadingPayload.appendString(text, to: &json)
        return json
    }

    /// An object of string members, in the order given, as compact JSON; members whose value is nil are left out.
    public static func object(_ members: [(String, String?)]) -> String {
        var writer = JSONObjectWriter()
        for case (let key, let value?) in members { writer.string(key, value) }
        return writer.json
    }
}
