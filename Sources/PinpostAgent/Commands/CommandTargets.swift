/// What commands act on: the outputs, the sensors, the publisher's status and the configuration. The agent's
/// services provide it (`DeviceControl`); tests use a fake.
protocol CommandTargets: Sendable {
    func setOutput(
        _ name: String,
        to value: CommandRequest.OutputValue,
        pulse: Duration?
    ) async throws(CommandError) -> CommandReply.Fields
    func readSensor(_ name: String) async throws(CommandError) -> CommandReply.Fields
    func publishStatus() async -> CommandReply.Fields
    func applyConfig(_ text: String?) async throws(CommandError) -> CommandReply.Fields
}
