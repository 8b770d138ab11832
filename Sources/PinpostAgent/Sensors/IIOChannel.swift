/// One channel of a Linux IIO device (ADCs, BME280/BMP280, light sensors) read through sysfs.
///
/// `*_input` attributes are already processed by the driver; `*_raw` ones are turned into the same
/// units with the kernel's `*_scale` and `*_offset` (per channel, else shared by the channel type):
/// `value = (raw + offset) * scale`. The IIO ABI's units (milli °C, milli %RH, kPa, mV) are then
/// converted to the ones people expect (°C, %) and the unit is published with the value.
struct IIOChannel {
    let files: SysfsFiles
    /// `bus/iio/devices/iio:deviceN`
    let folder: String
    /// The attribute read, e.g. `in_temp_input` or `in_voltage0_raw`.
    let attribute: String
    let scale: Double
    let offset: Double
    let unit: String?
    /// Converts the ABI unit to the published one (milli °C to °C).
    let factor: Double

    static let devices = "bus/iio/devices"

    /// Resolves the device (by `iio:deviceN` or by its `name`) and the channel; reads scale and offset once.
    init(files: SysfsFiles, device: String, channel: String, unit configuredUnit: String?) throws(SensorReadError) {
        self.files = files
        let present = (files.list(Self.devices) ?? []).filter { $0.hasPrefix("iio:device") }
        var chosen: String?
        if present.contains(device) {
            chosen = device
        } else {
            for candidate in present {
                let name = (try? files.read("\(Self.devices)/\(candidate)/name")).map { String(trimmed($0[...])) }
                if name == device {
                    chosen = candidate
                    break
                }
            }
        }
        guard let chosen else {
            let names = present.map { candidate in
                let name =
                    (try? files.read("\(Self.devices)/\(candidate)/name")).map { String(trimmed($0[...])) } ?? "?"
                return "\(candidate) (\(name))"
            }
            throw SensorReadError(
                .notFound,
                "IIO device '\(device)' not found in \(files.path(Self.devices)) (present: \(names.isEmpty ? "none" : names.joined(separator: ", "))); fix: load the sensor's driver (e.g. echo bme280 0x76 > /sys/bus/i2c/devices/i2c-1/new_device) or set device to one of those present"
            )
        }
        folder = "\(Self.devices)/\(chosen)"

        var attribute = channel
        if !channel.hasSuffix("_input") && !channel.hasSuffix("_raw") {
            attribute = files.exists("\(folder)/\(channel)_input") ? "\(channel)_input" : "\(channel)_raw"
        }
        guard files.exists("\(folder)/\(attribute)") else {
            let available = (files.list(folder) ?? []).filter {
                $0.hasPrefix("in_") && ($0.hasSuffix("_input") || $0.hasSuffix("_raw"))
            }
            throw SensorReadError(
                .notFound,
                "\(files.path(folder)) has no channel '\(attribute)' (available: \(available.isEmpty ? "none" : available.joined(separator: ", "))); fix: set channel to one of them"
            )
        }
        self.attribute = attribute

        let base = attribute.hasSuffix("_raw") ? String(attribute.dropLast(4)) : String(attribute.dropLast(6))
        let type = Self.channelType(base)
        if attribute.hasSuffix("_raw") {
            scale = try Self.number(files, folder, ["\(base)_scale", "in_\(type)_scale"]) ?? 1
            offset = try Self.number(files, folder, ["\(base)_offset", "in_\(type)_offset"]) ?? 0
        } else {
            scale = 1
            offset = 0
        }
        let known = Self.units[type]
        unit = configuredUnit ?? known?.unit
        factor = configuredUnit == nil ? (known?.factor ?? 1) : 1
    }

    /// The current value in the published unit.
    func read() throws(SensorReadError) -> Double {
        let relative = "\(folder)/\(attribute)"
        let text = try files.read(relative)
        guard let raw = Double(trimmed(text[...])) else {
            throw SensorReadError(.malformed, "\(files.path(relative)): '\(text.prefix(40))' is not a number")
        }
        return (raw + offset) * scale * factor
    }

    /// `in_temp`, `in_temp0`, `in_voltage0`, `in_humidityrelative` -> `temp`, `voltage`, `humidityrelative`.
    static func channelType(_ base: String) -> String {
        var name = base.hasPrefix("in_") ? String(base.dropFirst(3)) : base
        if let underscore = name.firstIndex(of: "_") { name = String(name[..<underscore]) }
        while let last = name.last, last.isNumber { name.removeLast() }
        return name
    }

    /// IIO ABI units (Documentation/ABI/testing/sysfs-bus-iio) and the factor to the published unit.
    static let units: [String: (unit: String, factor: Double)] = [
        "temp": ("°C", 0.001),
        "humidityrelative": ("%", 0.001),
        "pressure": ("kPa", 1),
        "voltage": ("mV", 1),
        "current": ("mA", 1),
        "power": ("mW", 1),
        "illuminance": ("lx", 1),
        "resistance": ("Ω", 1),
        "accel": ("m/s²", 1),
        "anglvel": ("rad/s", 1),
        "magn": ("G", 1),
        "concentration": ("%", 1),
    ]

    private static func number(
        _ files: SysfsFiles,
        _ folder: String,
        _ names: [String]
    ) throws(SensorReadError) -> Double? {
        for name in names where files.exists("\(folder)/\(name)") {
            let text = try files.read("\(folder)/\(name)")
            guard let value = Double(trimmed(text[...])) else {
                throw SensorReadError(
                    .malformed,
                    "\(files.path("\(folder)/\(name)")): '\(text.prefix(40))' is not a number"
                )
            }
            return value
        }
        return nil
    }
}
