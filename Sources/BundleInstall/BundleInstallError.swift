/// Why `pinpost install-bundle` stopped. The code decides the exit status (README, Exit codes):
/// a bundle that fails a check is *rejected* (65, nothing was changed), a wrong invocation is a
/// *usage* error (2), and anything else (a full disk, a missing user) a *failure* (1).
public struct BundleInstallError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        // The bundle is rejected.
        case notABundle
        case manifestInvalid
        case fileMissing
        case fileChanged
        case fileUnlisted
        case chainRejected
        case signatureInvalid
        case certificateMismatch
        case configRejected
        case keyUnreadable
        case keyMismatch
        case replacesAnotherDevice
        // The invocation is wrong.
        case usage
        // Installing failed.
        case accountMissing
        case writeFailed
        case keyMaterial
    }

    public enum Disposition: Sendable, Equatable {
        case rejected
        case usage
        case failure
    }

    public var code: Code
    /// What is wrong and what to do, naming the file.
    public var reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var disposition: Disposition {
        switch code {
        case .usage: .usage
        case .accountMissing, .writeFailed, .keyMaterial: .failure
        default: .rejected
        }
    }

    /// 65 (EX_DATAERR) rejected, 2 usage, 1 failure.
    public var exitCode: Int32 {
        switch disposition {
        case .rejected: 65
        case .usage: 2
        case .failure: 1
        }
    }

    public var description: String { reason }
}
