internal import Publisher
internal import SystemExtras

/// Writes the MQTT session file when its content changed (atomically and durably), and only then:
/// the publisher asks at every checkpoint, and most checkpoints change nothing.
struct SessionFileWriter {
    let path: String
    private var lastWritten: [UInt8] = []

    init(path: String) {
        self.path = path
    }

    mutating func save(_ file: SessionStateFile) throws(SystemError) {
        let bytes = file.encoded()
        guard bytes != lastWritten else { return }
        try FileSystem.writeFileAtomically(path, bytes)
        lastWritten = bytes
    }
}
