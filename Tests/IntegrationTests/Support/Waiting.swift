/// Polls `condition` until it holds or `timeout` has passed, sleeping with `Task.sleep` in between so the thread
/// serves other tests meanwhile. The timeout is a failure bound for a shared, loaded machine, never a timing
/// assertion: keep it generous. Returns whether the condition held; throws only when the test is cancelled (its time
/// limit passed).
@discardableResult
func waitFor(
    timeout: Duration = .seconds(30),
    every interval: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}
