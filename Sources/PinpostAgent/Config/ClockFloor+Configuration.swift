public import ClockTrust

extension ClockFloor {
    /// The floor for this device's configuration: its certificate chain and trust anchors.
    public static func make(for configuration: AgentConfiguration) -> ClockFloor {
        make(certificateFile: configuration.tls.certFile, trustAnchorFile: configuration.tls.caFile)
    }
}
