internal import DurableSpool
internal import Timestamps

/// The retained status message: whether the device is online and how its delivery is doing.
///
/// `{"state":"online","spool_depth":0,"spool_bytes":512,"oldest_pending_age_s":null,"dropped":0,
///   "rejected":0,"reconnects":0,"last_disconnect":null,"stream":"9f86d081884c7d65","recovery":null,
///   "ts":"2026-11-23T01:02:03.456Z"}`
struct AgentStatus {
    var state: String
    var spool: SpoolStatistics
    var reconnects: Int
    var lastDisconnect: String?
    /// The seq counter's name, as in every reading.
    var stream: String
    /// What opening the spool found; published as `null` after a clean start.
    var recovery: SpoolRecoveryReport
    var now: UTCTime

    func encoded() -> [UInt8] {
        var json = "{\"state\":\"\(state)\",\"spool_depth\":\(spool.depth),\"spool_bytes\":\(spool.bytes)"
        if let oldest = spool.oldestPendingTakenAt {
            json += ",\"oldest_pending_age_s\":\(max(0, now.epochMilliseconds - oldest) / 1000)"
        } else {
            json += ",\"oldest_pending_age_s\":null"
        }
        json += ",\"dropped\":\(spool.dropped),\"rejected\":\(spool.rejected),\"reconnects\":\(reconnects)"
        if let lastDisconnect {
            json += ",\"last_disconnect\":"
            ReadingPayload.appendString(lastDisconnect, to: &json)
        } else {
            json += ",\"last_disconnect\":null"
        }
        json += ",\"stream\":"
        ReadingPayload.appendString(stream, to: &json)
        json += ",\"recovery\":"
        if recovery.isCleanStart {
            json += "null"
        } else {
            json += "{\"clean_shutdown\":\(recovery.previousRun == .clean)"
            json += ",\"power_loss\":\(recovery.previousRun == .powerLoss)"
            json += ",\"previous_run\":\"\(recovery.previousRun.rawValue)\""
            json += ",\"torn_tail_bytes\":\(recovery.tornTailBytes),\"corrupt_bytes\":\(recovery.corruptBytes)"
            json += ",\"ack_state_damaged\":\(recovery.ackStateDamaged),\"seq_skipped\":\(recovery.seqSkipped)"
            json += ",\"new_stream\":\(recovery.newStream)}"
        }
        json += ",\"ts\":\"\(now.rfc3339)\"}"
        return Array(json.utf8)
    }
}
