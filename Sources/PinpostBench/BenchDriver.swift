internal import DurableSpool
internal import GPIO
internal import PinpostAgent
internal import ReadingProof
internal import ServiceLifecycle
internal import Synchronization
internal import SystemExtras
internal import Timestamps

/// The bench's reading source, run as a service beside the real `PublisherService`: one warm-up
/// reading (so the TLS handshake and CONNECT are outside the measurement), then N readings appended
/// to the spool and one wake-up, so the publisher drains a backlog of N as it does after a
/// reconnect (deterministic, and the case that stresses the session window); then it waits for
/// every acknowledgement and returns, which shuts the group down gracefully (the publisher then
/// says offline and sends DISCONNECT, as on SIGTERM).
final class BenchDriver: Service {
    struct Outcome: Sendable {
        var firstAckSeconds: Double?
        var firstAckUnixNanoseconds: Int64?
        var start: UInt64 = 0
        var end: UInt64 = 0
        var usageAtStart = ResourceUsage(cpuSeconds: 0, peakRSSKiB: 0)
        var usageAtEnd = ResourceUsage(cpuSeconds: 0, peakRSSKiB: 0)
        var dropped = 0
        /// Warm-up readings sent (seqs 1...warmUps); more than one when the session refused one.
        var warmUps = 0
    }

    /// A warm-up reading is refused when the broker resumes a session this fresh spool knows
    /// nothing about (the session reconnects clean, [MQTT-3.2.2-4]); then another is sent.
    static let maximumWarmUps = 3

    private let request: BenchRequest
    private let spool: Spool
    private let topic: String
    private let timeline: AckTimeline
    private let wakeUp: AsyncStream<Void>.Continuation
    private let startedAt: UInt64
    /// With `[signing]`: each reading is signed (and encrypted) as the agent's recorder does it.
    private let sealer: ReadingSealer?
    private let result = Mutex(Outcome())

    init(
        request: BenchRequest,
        spool: Spool,
        topic: String,
        timeline: AckTimeline,
        wakeUp: AsyncStream<Void>.Continuation,
        startedAt: UInt64,
        sealer: ReadingSealer? = nil
    ) {
        self.sealer = sealer
        self.request = request
        self.spool = spool
        self.topic = topic
        self.timeline = timeline
        self.wakeUp = wakeUp
        self.startedAt = startedAt
    }

    var outcome: Outcome { result.withLock { $0 } }

    func run() async throws {
        defer { wakeUp.finish() }
        let deadline = ContinuousClock.now + request.timeout
        var warmUps = 0
        var warmUpDropped = 0
        repeat {
            warmUps += 1
            warmUpDropped += append(1)
            guard await waitUntilDone(warmUps - warmUpDropped, deadline: deadline) else { return }
        } while timeline.wasRefused(UInt64(warmUps)) && warmUps < Self.maximumWarmUps
        guard !timeline.wasRefused(UInt64(warmUps)) else { return }
        let firstAck = MonotonicInstant.now().nanoseconds
        let wall = SystemClock.realtime.read().components
        timeline.startMeasuring(after: UInt64(warmUps))
        let usageAtStart = ResourceUsage.current()
        let start = MonotonicInstant.now().nanoseconds
        let dropped = append(request.count)
        _ = await waitUntilDone(warmUps - warmUpDropped + request.count - dropped, deadline: deadline)
        let end = MonotonicInstant.now().nanoseconds
        let usageAtEnd = ResourceUsage.current()
        result.withLock {
            $0 = Outcome(
                firstAckSeconds: Double(firstAck - startedAt) / 1e9,
                firstAckUnixNanoseconds: wall.seconds * 1_000_000_000 + wall.attoseconds / 1_000_000_000,
                start: start,
                end: end,
                usageAtStart: usageAtStart,
                usageAtEnd: usageAtEnd,
                dropped: dropped,
                warmUps: warmUps
            )
        }
    }

    /// Appends `count` readings the way `ReadingRecorder` does (spool first, then wake the publisher,
    /// here once for all of them); returns how many the spool dropped.
    private func append(_ count: Int) -> Int {
        var dropped = 0
        let qos = UInt8(request.qos)
        let size = request.size
        for _ in 0..<count {
            let takenAt = UTCTime.now().epochMilliseconds
            let outcome = BenchPayload.append(
                to: spool,
                qos: qos,
                takenAt: takenAt,
                topic: topic,
                size: size,
                sealer: sealer
            )
            if case .dropped = outcome { dropped += 1 }
        }
        wakeUp.yield()
        return dropped
    }

    /// Waits until `count` readings are done; false on time-out or graceful shutdown (SIGINT/SIGTERM).
    private func waitUntilDone(_ count: Int, deadline: ContinuousClock.Instant) async -> Bool {
        let timeline = self.timeline
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await timeline.waitUntilDone(count)
                return !Task.isCancelled
            }
            group.addTask {
                try? await Task.sleep(until: deadline)
                return false
            }
            group.addTask {
                try? await gracefulShutdown()
                return false
            }
            let done = await group.next() ?? false
            group.cancelAll()
            return done
        }
    }
}
