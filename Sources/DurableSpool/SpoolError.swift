/// A failure of the agent's on-disk state, naming the file and the fix.
public struct SpoolError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
