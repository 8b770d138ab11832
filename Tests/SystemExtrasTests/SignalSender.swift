import Glibc
import Synchronization
import SystemExtras

/// Interrupts a thread blocked in a system call, as a real signal does: SIGUSR2 with a handler that only counts,
/// installed without SA_RESTART, so the blocked call returns EINTR (or a short count) and the code under test must
/// carry on by itself.
enum SignalSender {
    static let handled = Atomic<Int>(0)
    private static let installed = Mutex(false)

    static func installHandler() {
        installed.withLock { done in
            guard !done else { return }
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in SignalSender.handled.add(1, ordering: .relaxed) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(SIGUSR2, &action, nil)
            done = true
        }
    }

    /// Signals `thread` until `count` more signals were handled (bounded: at most 2000 sends, 1 ms apart).
    static func interrupt(_ thread: pthread_t, times count: Int) {
        let target = handled.load(ordering: .relaxed) + count
        var sends = 0
        while handled.load(ordering: .relaxed) < target && sends < 2000 {
            pthread_kill(thread, SIGUSR2)
            sends += 1
            usleep(1000)
        }
    }
}

/// A `SystemThread` that publishes its pthread id so a test can signal it, and its outcome so the test can check it.
final class SignalledThread<Outcome: Sendable>: Sendable {
    private final class State: Sendable {
        let id = Mutex<pthread_t?>(nil)
        let outcome = Mutex<Outcome?>(nil)
    }

    private let state = State()
    private let thread: SystemThread

    init(_ body: @escaping @Sendable () -> Outcome) throws {
        let state = self.state
        thread = try SystemThread {
            // Threads inherit their creator's signal mask, and the test runner's threads may block SIGUSR2.
            var mask = sigset_t()
            sigemptyset(&mask)
            sigaddset(&mask, SIGUSR2)
            pthread_sigmask(SIG_UNBLOCK, &mask, nil)
            state.id.withLock { $0 = pthread_self() }
            let outcome = body()
            state.outcome.withLock { $0 = outcome }
        }
    }

    /// The thread's id once it runs (waits for that, at most 5 s).
    func id() -> pthread_t? {
        for _ in 0..<5000 {
            if let id = state.id.withLock({ $0 }) { return id }
            usleep(1000)
        }
        return nil
    }

    func join() -> Outcome? {
        thread.join()
        return state.outcome.withLock { $0 }
    }
}
