internal import CPinpostGPIODShims
internal import SystemPackage

/// Real GPIO lines through the kernel's character device, via libgpiod 1.6 or 2.x.
///
/// Which libgpiod API is used is decided when the package is built (the C shim compiles one of
/// two implementations); this type and its errors are the same either way. Lines are requested
/// with consumer `pinpost`, so `gpioinfo` shows who holds them.
public final class LibgpiodBackend: GPIOBackend {
    public init() {}

    /// `1` or `2`: the libgpiod API series this binary was built against (for logs and `pinpost version`).
    public static var apiMajor: Int { Int(CPinpostGPIOD_api_major()) }

    /// The libgpiod library version string, e.g. `1.6.3`.
    public static var libraryVersion: String { String(cString: CPinpostGPIOD_version_string()) }

    public func requestInput(_ request: InputLineRequest) async throws(GPIOError) -> any GPIOInputLine {
        var result = CPinpostGPIODResult()
        let (offset, name) = Self.lookup(request.address)
        let pointer: OpaquePointer? = request.consumer.withCString { consumer in
            withOptionalCString(request.address.chip) { chip in
                withOptionalCString(name) { lineName in
                    CPinpostGPIOD_request_input(
                        chip,
                        offset,
                        lineName,
                        Self.bias(request.bias),
                        request.activeLow ? 1 : 0,
                        Self.edges(request.edges),
                        consumer,
                        &result
                    )
                }
            }
        }
        let found = FoundLine(result)
        guard let pointer else {
            throw Self.error(for: request.address, found: found)
        }
        return LibgpiodInputLine(request: request, handle: LineHandle(pointer), found: found)
    }

    public func requestOutput(_ request: OutputLineRequest) async throws(GPIOError) -> any GPIOOutputLine {
        var result = CPinpostGPIODResult()
        let (offset, name) = Self.lookup(request.address)
        let pointer: OpaquePointer? = request.consumer.withCString { consumer in
            withOptionalCString(request.address.chip) { chip in
                withOptionalCString(name) { lineName in
                    CPinpostGPIOD_request_output(
                        chip,
                        offset,
                        lineName,
                        request.activeLow ? 1 : 0,
                        request.initialValue ? 1 : 0,
                        consumer,
                        &result
                    )
                }
            }
        }
        let found = FoundLine(result)
        guard let pointer else {
            throw Self.error(for: request.address, found: found)
        }
        return LibgpiodOutputLine(request: request, handle: LineHandle(pointer), found: found)
    }

    /// The shim's way of naming a line: an offset, or -1 and a name.
    static func lookup(_ address: LineAddress) -> (offset: Int, name: String?) {
        switch address.line {
        case .offset(let value): (Int(value), nil)
        case .name(let text): (-1, text)
        }
    }

    static func bias(_ bias: LineBias) -> Int32 {
        switch bias {
        case .asIs: Int32(CPINPOST_GPIOD_BIAS_AS_IS)
        case .disabled: Int32(CPINPOST_GPIOD_BIAS_DISABLED)
        case .pullUp: Int32(CPINPOST_GPIOD_BIAS_PULL_UP)
        case .pullDown: Int32(CPINPOST_GPIOD_BIAS_PULL_DOWN)
        }
    }

    static func edges(_ edges: EdgeDetection) -> Int32 {
        switch edges {
        case .none: Int32(CPINPOST_GPIOD_EDGE_NONE)
        case .rising: Int32(CPINPOST_GPIOD_EDGE_RISING)
        case .falling: Int32(CPINPOST_GPIOD_EDGE_FALLING)
        case .both: Int32(CPINPOST_GPIOD_EDGE_BOTH)
        }
    }

    /// The startup error for a failed request: names the line, the chip and (when busy) who holds it.
    static func error(for address: LineAddress, found: FoundLine) -> GPIOError {
        let wanted = address.description
        switch found.status {
        case Int32(CPINPOST_GPIOD_NO_CHIP):
            if let chip = address.chip {
                return GPIOError(
                    .noChip,
                    "\(wanted): no GPIO chip '\(chip)' (looked for \(chip.hasPrefix("/") ? "that path" : "/dev/\(chip) and a chip with that label")); fix: run `gpiodetect` to list chips, then set chip to a name, path or label it shows"
                )
            }
            return GPIOError(
                .noChip,
                "\(wanted): this system has no GPIO chips (/dev/gpiochip* missing); fix: load the board's GPIO driver, or run pinpost on the board"
            )
        case Int32(CPINPOST_GPIOD_NO_LINE):
            switch address.line {
            case .offset(let offset):
                return GPIOError(
                    .noLine,
                    "\(wanted): line \(offset) does not exist on \(found.chipText); fix: `gpioinfo \(found.chipName)` lists its lines"
                )
            case .name(let lineName):
                if address.chip == nil {
                    return GPIOError(
                        .noLine,
                        "\(wanted): no line named '\(lineName)' on any GPIO chip; fix: `gpioinfo` lists line names (they depend on the board's device tree), or set chip and a line offset"
                    )
                }
                return GPIOError(
                    .noLine,
                    "\(wanted): no line named '\(lineName)' on \(found.chipText); fix: `gpioinfo \(found.chipName)` lists its line names"
                )
            }
        case Int32(CPINPOST_GPIOD_BUSY):
            let holder = found.consumer.isEmpty ? "another consumer" : "consumer '\(found.consumer)'"
            return GPIOError(
                .busy,
                "\(found.chipText) line \(found.offset) (\(wanted)) is busy: held by \(holder); fix: stop the program holding it (`gpioinfo \(found.chipName)` shows consumers) or wire it to another line"
            )
        default:
            let reason = Errno(rawValue: found.errorNumber)
            let fix =
                reason == .permissionDenied || reason == .notPermitted
                ? "give the agent's user access to /dev/\(found.chipName) (e.g. the gpio group or a udev rule)"
                : "check the line's bias and direction support with `gpioinfo \(found.chipName)`"
            return GPIOError(
                .requestRefused,
                "\(found.chipText) line \(found.offset) (\(wanted)) could not be requested: \(reason); fix: \(fix)"
            )
        }
    }
}

/// What the C shim reported about a request, in Swift types.
struct FoundLine: Sendable {
    var status: Int32
    var errorNumber: Int32
    var offset: UInt32
    var chipName: String
    var chipLabel: String
    var consumer: String

    init(_ result: CPinpostGPIODResult) {
        status = result.status
        errorNumber = result.error_number
        offset = result.offset
        var copy = result
        chipName = withUnsafeBytes(of: &copy.chip_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        chipLabel = withUnsafeBytes(of: &copy.chip_label) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        consumer = withUnsafeBytes(of: &copy.consumer) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// `gpiochip0 [pinctrl-bcm2711]`, as gpiodetect prints it.
    var chipText: String {
        chipLabel.isEmpty ? chipName : "\(chipName) [\(chipLabel)]"
    }
}

private func withOptionalCString<R>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let text else { return body(nil) }
    return text.withCString { body($0) }
}
