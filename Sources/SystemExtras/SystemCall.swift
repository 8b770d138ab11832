internal import Glibc
internal import SystemPackage

#if ENABLE_MOCKING
internal import Synchronization
#endif

/// The one place in SystemExtras that turns a libc result into a value or an `Errno`, and the only EINTR loop
/// outside swift-system (which retries its own calls with `retryOnInterrupt`).
///
/// Layered as swift-system is: each wrapper calls libc inside `retrying`, gets a `Result<_, Errno>`, and the
/// public API throws it with the file and operation attached (`SystemError`).
enum SystemCall {
    /// Calls `body` again while it fails with EINTR; returns its value, or the errno of any other failure
    /// (`-1` means failure, as for most calls).
    @inline(never)
    static func retrying<Value: FixedWidthInteger>(_ body: () -> Value) -> Result<Value, Errno> {
        while true {
            let value = interruptInjected() ? -1 : body()
            if value != -1 { return .success(value) }
            let code = Errno(rawValue: errno)
            if code != .interrupted { return .failure(code) }
        }
    }

    /// `retrying` for calls that return a pointer, NULL meaning failure (`opendir`).
    @inline(never)
    static func retryingPointer<Pointer>(_ body: () -> Pointer?) -> Result<Pointer, Errno> {
        while true {
            if let pointer = interruptInjected() ? nil : body() { return .success(pointer) }
            let code = Errno(rawValue: errno)
            if code != .interrupted { return .failure(code) }
        }
    }

    /// `retrying` for calls that succeed with 0 and return nothing else.
    static func retryingVoid(_ body: () -> Int32) -> Result<Void, Errno> {
        retrying(body).map { _ in () }
    }

    /// For calls that return an error number instead of setting errno (`posix_spawn`, `pthread_create`).
    static func result(ofErrorNumber number: Int32) -> Result<Void, Errno> {
        number == 0 ? .success(()) : .failure(Errno(rawValue: number))
    }

    /// Debug builds let a test interrupt the next calls (`InterruptInjection`): then the call is not made and
    /// errno is EINTR, as if a signal had arrived during it. Always false in release builds.
    @inline(__always)
    private static func interruptInjected() -> Bool {
        #if ENABLE_MOCKING
        if let injection = InterruptInjection.current, injection.takeOne() {
            errno = EINTR
            return true
        }
        #endif
        return false
    }
}

#if ENABLE_MOCKING
/// Debug builds only: makes the next `count` calls that go through `SystemCall.retrying` on this task fail with
/// EINTR before reaching libc, as a signal arriving during each would. Tests use it to show every call is retried,
/// the way swift-system's own tests use `MockingDriver.forceErrno = .counted(errno: EINTR, count:)`.
final class InterruptInjection: Sendable {
    @TaskLocal static var current: InterruptInjection?

    private let remaining: Mutex<Int>

    init(count: Int) {
        remaining = Mutex(count)
    }

    /// Interrupts still to be delivered.
    var pending: Int { remaining.withLock { $0 } }

    func takeOne() -> Bool {
        remaining.withLock { count in
            guard count > 0 else { return false }
            count -= 1
            return true
        }
    }

    /// Runs `body` with `count` interrupts injected; returns its result and how many were delivered.
    static func with<Result>(
        _ count: Int,
        _ body: () throws -> Result
    ) rethrows -> (result: Result, delivered: Int) {
        let injection = InterruptInjection(count: count)
        let result = try $current.withValue(injection) { try body() }
        return (result, count - injection.pending)
    }
}
#endif
