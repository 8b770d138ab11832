import ClockTrust
import Foundation
import Logging
import Synchronization
import TLS
import Testing

@testable import PinpostAgent

/// A waiter in virtual time: each wait advances the clock by its limit, unless a scripted event
/// comes first, in which case time jumps to that event.
final class VirtualClockWaiter: ClockWaiter {
    private let state = Mutex<(now: Duration, events: [(at: Duration, reason: ClockWakeReason)], waits: Int)>(
        (.zero, [], 0)
    )

    func schedule(_ reason: ClockWakeReason, at time: Duration) {
        state.withLock {
            $0.events.append((time, reason))
            $0.events.sort { $0.at < $1.at }
        }
    }

    var now: Duration { state.withLock { $0.now } }
    var waits: Int { state.withLock { $0.waits } }

    func wait(upTo limit: Duration) async -> ClockWakeReason {
        await Task.yield()
        return state.withLock { state in
            state.waits += 1
            let deadline = state.now + limit
            if let next = state.events.first, next.at <= deadline {
                state.events.removeFirst()
                state.now = max(state.now, next.at)
                return next.reason
            }
            state.now = deadline
            return .timedOut
        }
    }
}

/// A clock source that becomes synchronized at a virtual time.
struct ScriptedProbe: ClockProbe {
    let waiter: VirtualClockWaiter
    let synchronizedAt: Duration?

    func report() -> ClockReport {
        let synced = synchronizedAt.map { waiter.now >= $0 } ?? false
        return ClockReport(
            synchronized: synced,
            source: "scripted",
            estimatedErrorMilliseconds: nil,
            detail: synced ? "synced" : "not yet"
        )
    }
}

/// Collects log messages for assertions (never bootstrapped globally).
final class CapturedLog: LogHandler, @unchecked Sendable {
    private let lines = Mutex<[String]>([])
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        lines.withLock { $0.append("\(event.level): \(event.message)") }
    }
    var messages: [String] { lines.withLock { $0 } }
    var logger: Logger { Logger(label: "test") { _ in self } }
}

@Suite("Clock gate in virtual time")
struct ClockGateTests {
    static let certificateValidity = (notBefore: Int64(1_790_000_000), notAfter: Int64(1_900_000_000))

    func floor(buildTime: Int64 = 1_780_000_000) -> ClockFloor {
        let certificate = CertificateSummary(
            subject: "CN=dev",
            issuer: "CN=ca",
            commonName: "dev",
            subjectAlternativeNames: [],
            notBefore: Self.certificateValidity.notBefore,
            notAfter: Self.certificateValidity.notAfter,
            allowsClientAuth: true,
            allowsServerAuth: false
        )
        return ClockFloor(buildTime: buildTime, certificates: [("device certificate", certificate)])
    }

    func gate(
        _ waiter: VirtualClockWaiter,
        syncedAt: Duration?,
        requireSync: Bool = true,
        timeout: Duration? = nil,
        policy: ClockGate.TimeoutPolicy = .wait,
        wall: Int64 = 1_795_000_000
    ) -> ClockGate {
        ClockGate(
            probe: ScriptedProbe(waiter: waiter, synchronizedAt: syncedAt),
            requireSync: requireSync,
            syncTimeout: timeout,
            onTimeout: policy,
            floor: floor(),
            waiter: waiter,
            wallClock: { wall },
            pollInterval: .seconds(5),
            logInterval: .seconds(60)
        )
    }

    @Test func synchronizedClockPassesAtOnce() async throws {
        let waiter = VirtualClockWaiter()
        let outcome = try await gate(waiter, syncedAt: .zero).waitUntilTrusted(logger: CapturedLog().logger)
        #expect(
            outcome
                == .synchronized(
                    ClockReport(
                        synchronized: true,
                        source: "scripted",
                        estimatedErrorMilliseconds: nil,
                        detail: "synced"
                    )
                )
        )
        #expect(waiter.waits == 0)
    }

    @Test func waitsUntilSynchronizedAndLogsEverySoOftenNotEveryPoll() async throws {
        let waiter = VirtualClockWaiter()
        let log = CapturedLog()
        _ = try await gate(waiter, syncedAt: .seconds(300)).waitUntilTrusted(logger: log.logger)
        #expect(waiter.now == .seconds(300))
        #expect(waiter.waits == 60)  // polled every 5 s
        let waitingLines = log.messages.filter { $0.contains("waiting for a synchronized clock") }
        #expect(waitingLines.count == 5, "once a minute over 5 minutes, not 60 times: \(waitingLines.count)")
        #expect(log.messages.last?.contains("clock synchronized") == true)
    }

    @Test func aClockStepEndsTheWaitAtOnceNotAtTheNextPoll() async throws {
        let waiter = VirtualClockWaiter()
        waiter.schedule(.stepped, at: .milliseconds(12_300))
        _ = try await gate(waiter, syncedAt: .milliseconds(12_300)).waitUntilTrusted(logger: CapturedLog().logger)
        #expect(waiter.now == .milliseconds(12_300), "proceeds on the step itself, not at 15 s")
    }

    @Test func aStepFollowedBySynchronizationIsNoticedWithinAQuarterSecond() async throws {
        // NTP clients step the clock first and mark it synchronized right after.
        let waiter = VirtualClockWaiter()
        waiter.schedule(.stepped, at: .milliseconds(12_300))
        _ = try await gate(waiter, syncedAt: .milliseconds(12_400)).waitUntilTrusted(logger: CapturedLog().logger)
        #expect(waiter.now <= .milliseconds(12_550), "checked again 250 ms after the step, not at 15 s: \(waiter.now)")
    }

    @Test func theFlagFileAppearingEndsTheWaitAtOnce() async throws {
        let waiter = VirtualClockWaiter()
        waiter.schedule(.flagFileAppeared, at: .milliseconds(7_100))
        _ = try await gate(waiter, syncedAt: .milliseconds(7_100)).waitUntilTrusted(logger: CapturedLog().logger)
        #expect(waiter.now == .milliseconds(7_100))
    }

    @Test func timeoutWithWaitPolicyKeepsWaitingAndSaysSoOnce() async throws {
        let waiter = VirtualClockWaiter()
        let log = CapturedLog()
        let gate = gate(waiter, syncedAt: .seconds(3600), timeout: .seconds(600), policy: .wait)
        _ = try await gate.waitUntilTrusted(logger: log.logger)
        #expect(waiter.now == .seconds(3600), "never proceeded before the clock was synchronized")
        #expect(log.messages.filter { $0.contains("after time.sync_timeout") }.count == 1)
    }

    @Test func timeoutWithProceedIfPlausibleProceedsWhenPlausible() async throws {
        let waiter = VirtualClockWaiter()
        let outcome = try await gate(waiter, syncedAt: nil, timeout: .seconds(60), policy: .proceedIfPlausible)
            .waitUntilTrusted(logger: CapturedLog().logger)
        guard case .proceededUnsynchronized = outcome else {
            Issue.record("expected to proceed, got \(outcome)")
            return
        }
        #expect(waiter.now == .seconds(60))
    }

    @Test func proceedIfPlausibleStillWaitsWhenACertificateHasExpiredByThisClock() async throws {
        let waiter = VirtualClockWaiter()
        let expiredWall = Self.certificateValidity.notAfter + 10
        let gate = gate(
            waiter,
            syncedAt: .seconds(1800),
            timeout: .seconds(60),
            policy: .proceedIfPlausible,
            wall: expiredWall
        )
        let outcome = try await gate.waitUntilTrusted(logger: CapturedLog().logger)
        #expect(waiter.now == .seconds(1800))
        #expect(
            outcome
                == .synchronized(
                    ClockReport(
                        synchronized: true,
                        source: "scripted",
                        estimatedErrorMilliseconds: nil,
                        detail: "synced"
                    )
                )
        )
    }

    @Test func belowTheFloorNothingProceedsEvenWithoutRequireSync() async throws {
        let waiter = VirtualClockWaiter()
        let log = CapturedLog()
        let gate = gate(waiter, syncedAt: .zero, requireSync: false, wall: 946_684_800)  // 2000-01-01
        let task = Task { try await gate.waitUntilTrusted(logger: log.logger) }
        while waiter.waits < 100 { await Task.yield() }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        let refusal = try #require(log.messages.first { $0.contains("not connecting") })
        #expect(refusal.contains("2000-01-01T00:00:00Z"))
        #expect(refusal.contains("valid only from"), "the newest certificate sets this floor: \(refusal)")
    }

    @Test func withoutRequireSyncAnUnsynchronizedClockAboveTheFloorPasses() async throws {
        let waiter = VirtualClockWaiter()
        let outcome = try await gate(waiter, syncedAt: nil, requireSync: false).waitUntilTrusted(
            logger: CapturedLog().logger
        )
        #expect(outcome == .notRequired)
    }
}

@Suite("Clock floor and probes")
struct ClockFloorAndProbeTests {
    @Test func theFloorIsTheLaterOfBuildTimeAndNewestNotBefore() {
        let certificate = CertificateSummary(
            subject: "CN=x",
            issuer: "CN=y",
            commonName: "x",
            subjectAlternativeNames: [],
            notBefore: 2_000,
            notAfter: 9_000,
            allowsClientAuth: true,
            allowsServerAuth: false
        )
        #expect(ClockFloor(buildTime: 1_000, certificates: [("c", certificate)]).floor == 2_000)
        #expect(ClockFloor(buildTime: 3_000, certificates: [("c", certificate)]).floor == 3_000)
        let floor = ClockFloor(buildTime: 1_000, certificates: [("c", certificate)])
        #expect(floor.violation(now: 1_999) != nil)
        #expect(floor.violation(now: 2_000) == nil)
        #expect(floor.isPlausible(now: 5_000))
        #expect(!floor.isPlausible(now: 9_001))
    }

    @Test func thisBinaryWasBuiltInThePastButNotLongAgo() {
        let built = ClockFloor.binaryBuildTime
        let now = Int64(Date().timeIntervalSince1970)
        #expect(built <= now + 86_400 && built > 1_700_000_000)
    }

    @Test func timesyncFlagProbeFollowsTheFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("synchronized-\(UUID().uuidString)")
            .path
        #expect(!TimesyncFlagProbe(path: path).report().synchronized)
        _ = FileManager.default.createFile(atPath: path, contents: Data())
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(TimesyncFlagProbe(path: path).report().synchronized)
    }

    @Test func combinedProbeNamesTheSourceThatSaysYesOrEveryNo() {
        struct Fixed: ClockProbe {
            var synced: Bool
            var name: String
            func report() -> ClockReport {
                ClockReport(synchronized: synced, source: name, estimatedErrorMilliseconds: nil, detail: "d-\(name)")
            }
        }
        #expect(
            CombinedClockProbe(probes: [Fixed(synced: false, name: "a"), Fixed(synced: true, name: "b")]).report()
                .source == "b"
        )
        let none = CombinedClockProbe(probes: [Fixed(synced: false, name: "a"), Fixed(synced: false, name: "b")])
            .report()
        #expect(!none.synchronized)
        #expect(none.detail == "d-a; b: d-b")
    }

    @Test(arguments: [1, 5000, 60_000_000])
    func theQuickVerdictAgreesWithTheReport(maxErrorMilliseconds: Int) throws {
        // Readings ask the quick verdict; the gate and `check` read the report. They must agree.
        let adjtimex = AdjtimexProbe(maxErrorMilliseconds: maxErrorMilliseconds)
        #expect(adjtimex.isSynchronized == adjtimex.report().synchronized)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("flag-\(UUID().uuidString)").path
        let combined = CombinedClockProbe(probes: [adjtimex, TimesyncFlagProbe(path: path)])
        #expect(combined.isSynchronized == combined.report().synchronized)
        _ = FileManager.default.createFile(atPath: path, contents: Data())
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(combined.isSynchronized && combined.report().synchronized, "the flag file alone makes it synchronized")
    }

    @Test func realAdjtimexProbeAnswers() {
        let report = AdjtimexProbe(maxErrorMilliseconds: 5000).report()
        #expect(report.source == "adjtimex")
        #expect(!report.detail.contains("adjtimex failed"), "\(report)")
    }

    @Test func realWaiterWakesWhenTheFlagFileAppears() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("timesync-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let flag = folder.appendingPathComponent("synchronized").path
        let waiter = LinuxClockWaiter(flagFile: flag)
        // A plain thread, so a busy test pool cannot delay the file.
        Thread {
            Thread.sleep(forTimeInterval: 0.15)
            _ = FileManager.default.createFile(atPath: flag, contents: Data())
        }.start()
        // Only inotify can make this .flagFileAppeared; the limit would give .timedOut.
        let reason = await waiter.wait(upTo: .seconds(60))
        #expect(reason == .flagFileAppeared)
    }

    @Test func realWaiterTimesOutAndHonoursCancellation() async throws {
        let waiter = LinuxClockWaiter(flagFile: "/nonexistent/flag")
        #expect(await waiter.wait(upTo: .milliseconds(100)) == .timedOut)
        let start = waiter.now
        let task = Task { await waiter.wait(upTo: .seconds(120)) }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        _ = await task.value
        #expect(waiter.now - start < .seconds(60), "cancellation ended a 120 s wait early")
    }
}
