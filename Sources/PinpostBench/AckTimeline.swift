internal import GPIO
internal import PinpostAgent
internal import Synchronization

/// Records when each bench reading was handed to the MQTT session and when it was acknowledged, and
/// wakes the bench driver once a given number of readings is done.
///
/// Latency here is the session's round trip: from hand-out (PUBLISH queued in the session, sent as
/// the in-flight window allows) to PUBACK/PUBCOMP, or for QoS 0 to the PUBLISH being written to TLS.
/// Time spent waiting in the spool is not included: the bench appends everything at once, so that
/// would measure the queue, not the pipeline. Slots are preallocated so recording does not allocate.
final class AckTimeline: Sendable {
    private struct State {
        /// Monotonic nanoseconds of the hand-out, indexed by `seq - 1` (the bench spool starts at seq 1).
        var handedAt: [UInt64]
        var latencies: [UInt64]
        /// Every seq acknowledged or refused so far (what `waitUntilDone` counts).
        var done = 0
        /// Seqs up to this are warm-up readings: not in the counts or latencies below.
        var measureAfter = UInt64.max
        var acknowledged = 0
        var rejected = 0
        var lastRefused: UInt64 = 0
        var target = Int.max
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state: Mutex<State>

    /// - Parameter capacity: the highest seq that will be recorded.
    init(capacity: Int) {
        var latencies: [UInt64] = []
        latencies.reserveCapacity(capacity)
        state = Mutex(State(handedAt: Array(repeating: 0, count: capacity), latencies: latencies))
    }

    func handedOut(_ seqs: [UInt64]) {
        let now = MonotonicInstant.now().nanoseconds
        state.withLock { state in
            for seq in seqs where seq >= 1 && Int(seq) <= state.handedAt.count {
                state.handedAt[Int(seq) - 1] = now
            }
        }
    }

    func acknowledged(_ seq: UInt64, rejected: Bool) {
        let now = MonotonicInstant.now().nanoseconds
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            state.done += 1
            if rejected { state.lastRefused = seq }
            if seq > state.measureAfter {
                if rejected {
                    state.rejected += 1
                } else {
                    state.acknowledged += 1
                }
                if Int(seq) <= state.handedAt.count {
                    let start = state.handedAt[Int(seq) - 1]
                    if start != 0 && now >= start { state.latencies.append(now - start) }
                }
            }
            guard state.done >= state.target, let waiter = state.waiter else { return nil }
            state.waiter = nil
            state.target = Int.max
            return waiter
        }
        waiter?.resume()
    }

    /// Measured readings acknowledged (not counting refusals) and refused so far.
    var counts: (acknowledged: Int, rejected: Int) {
        state.withLock { ($0.acknowledged, $0.rejected) }
    }

    /// From now on seqs above `seq` are measured; those up to it were warm-up.
    func startMeasuring(after seq: UInt64) {
        state.withLock { $0.measureAfter = seq }
    }

    /// Whether `seq` was refused (a warm-up reading the session failed, e.g. across a clean restart).
    func wasRefused(_ seq: UInt64) -> Bool {
        state.withLock { $0.lastRefused == seq }
    }

    /// Returns once `count` readings (warm-up included) are acknowledged or refused, or when the task is cancelled.
    func waitUntilDone(_ count: Int) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.done >= count || Task.isCancelled { return true }
                    state.target = count
                    state.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }

    /// Latencies of the measured readings, in nanoseconds, sorted.
    func sortedLatencies() -> [UInt64] {
        state.withLock { $0.latencies.sorted() }
    }
}
