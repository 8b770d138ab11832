/// A DS18B20 1-Wire thermometer through the kernel's w1_therm driver.
///
/// Reads `<sysfs>/bus/w1/devices/28-*/w1_slave`: two lines, the first ending `crc=xx YES|NO`, the
/// second `t=<milli °C>`. A `NO` means the transfer was corrupted, so the read is refused rather than
/// published; an empty read means the conversion failed.
struct DS18B20 {
    let files: SysfsFiles
    /// The `28-...` folder name in use.
    let id: String

    static let folder = "bus/w1/devices"

    /// Finds the configured device, or the first `28-*` one; the error names what was looked for.
    init(files: SysfsFiles, device: String?) throws(SensorReadError) {
        self.files = files
        let present = (files.list(Self.folder) ?? []).filter { $0.hasPrefix("28-") }
        if let device {
            guard present.contains(device) else {
                throw SensorReadError(
                    .notFound,
                    "DS18B20 '\(device)' not found in \(files.path(Self.folder)) (present: \(present.isEmpty ? "none" : present.joined(separator: ", "))); fix: check the wiring and the 4.7 kΩ pull-up, enable 1-Wire (Raspberry Pi: dtoverlay=w1-gpio), or set device to one of the ids present"
                )
            }
            id = device
        } else {
            guard let first = present.first else {
                throw SensorReadError(
                    .notFound,
                    "no DS18B20 (28-*) in \(files.path(Self.folder)); fix: check the wiring and the 4.7 kΩ pull-up, and load w1-gpio and w1-therm (Raspberry Pi: dtoverlay=w1-gpio)"
                )
            }
            id = first
        }
    }

    /// One conversion, in °C.
    func read() throws(SensorReadError) -> Double {
        let relative = "\(Self.folder)/\(id)/w1_slave"
        return try Self.parse(try files.read(relative), source: files.path(relative))
    }

    /// Parses `w1_slave` text; `source` names the file in errors.
    static func parse(_ text: String, source: String) throws(SensorReadError) -> Double {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard !lines.isEmpty else {
            throw SensorReadError(
                .malformed,
                "\(source): empty read (the conversion failed); fix: check the sensor's power and data wiring"
            )
        }
        guard lines.count >= 2, let crcRange = lines[0].firstRange(of: "crc=") else {
            throw SensorReadError(
                .malformed,
                "\(source): unexpected content '\(text.prefix(80))'; fix: is this a w1_therm device?"
            )
        }
        let verdict = lines[0][crcRange.upperBound...].split(separator: " ").last ?? ""
        guard verdict == "YES" else {
            throw SensorReadError(
                .checksumFailed,
                "\(source): CRC check failed (crc=... \(verdict)); reading skipped; fix: if it persists, shorten the cable or lower the pull-up resistor"
            )
        }
        guard let tRange = lines[1].firstRange(of: "t="), let milli = Int(trimmed(lines[1][tRange.upperBound...]))
        else {
            throw SensorReadError(.malformed, "\(source): no temperature (t=) in '\(lines[1])'")
        }
        return Double(milli) / 1000
    }
}

/// `text` without surrounding white space.
func trimmed(_ text: Substring) -> Substring {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
    guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) })
    else { return "" }
    return text[first...last]
}
