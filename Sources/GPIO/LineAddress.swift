/// Which line a sensor is wired to: a chip (name, path or label) and an offset, or a line name alone.
public struct LineAddress: Sendable, Hashable, CustomStringConvertible {
    public enum Line: Sendable, Hashable {
        case offset(UInt32)
        /// A line name as the board's device tree names it (e.g. `GPIO17`), searched across chips when no chip is given.
        case name(String)
    }

    public var chip: String?
    public var line: Line

    public init(chip: String?, line: Line) {
        self.chip = chip
        self.line = line
    }

    public var description: String {
        let lineText: String
        switch line {
        case .offset(let offset): lineText = "line \(offset)"
        case .name(let name): lineText = "line '\(name)'"
        }
        return chip.map { "\($0) \(lineText)" } ?? lineText
    }
}
