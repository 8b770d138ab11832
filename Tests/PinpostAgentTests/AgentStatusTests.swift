import Testing
import Timestamps

@testable import DurableSpool
@testable import PinpostAgent

/// The retained status message: what a dashboard or a consumer reads to know how delivery is doing and
/// what the last start recovered.
@Suite("Status message JSON")
struct AgentStatusTests {
    func status(recovery: SpoolRecoveryReport) -> String {
        let status = AgentStatus(
            state: "online",
            spool: SpoolStatistics(depth: 2, bytes: 512, dropped: 1, rejected: 0, oldestPendingTakenAt: nil),
            reconnects: 3,
            lastDisconnect: "connection lost: \"reset\"",
            stream: "00c0ffee00c0ffee",
            recovery: recovery,
            now: UTCTime(epochMilliseconds: 1_795_392_123_456)
        )
        return String(decoding: status.encoded(), as: UTF8.self)
    }

    @Test func aCleanStartReportsNoRecovery() {
        var recovery = SpoolRecoveryReport()
        recovery.previousRun = .clean
        #expect(
            status(recovery: recovery)
                == #"{"state":"online","spool_depth":2,"spool_bytes":512,"oldest_pending_age_s":null,"dropped":1,"rejected":0,"reconnects":3,"last_disconnect":"connection lost: \"reset\"","stream":"00c0ffee00c0ffee","recovery":null,"ts":"2026-11-23T00:02:03.456Z"}"#
        )
    }

    @Test func aPowerCutIsReportedWithWhatRecoveryFound() {
        var recovery = SpoolRecoveryReport()
        recovery.previousRun = .powerLoss
        recovery.tornTailBytes = 37
        recovery.seqSkipped = 1021
        let json = status(recovery: recovery)
        #expect(
            json.contains(
                #""recovery":{"clean_shutdown":false,"power_loss":true,"previous_run":"power-loss","torn_tail_bytes":37,"corrupt_bytes":0,"ack_state_damaged":false,"seq_skipped":1021,"new_stream":false}"#
            )
        )
    }
}
