/// The agent's version, reported by `pinpost version` and in logs.
public enum PinpostVersion {
    public static let current = "0.1.0"
}
