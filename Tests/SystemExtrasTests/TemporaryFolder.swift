import SystemExtras

/// A fresh folder under /tmp for one test, removed with everything in it when the test ends.
final class TemporaryFolder {
    let path: String

    init(_ label: String = #function) throws {
        let name = label.filter { $0.isLetter || $0.isNumber }
        path = "/tmp/pinpost-systemextras-\(CurrentProcess.id)-\(name)-\(UInt32.random(in: 0...UInt32.max))"
        try FileSystem.createDirectory(path)
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit {
        Self.removeTree(path)
    }

    private static func removeTree(_ folder: String) {
        for name in FileSystem.listDirectory(folder) {
            let child = folder + "/" + name
            if (try? FileSystem.removeFile(child)) == nil { removeTree(child) }
        }
        try? FileSystem.removeDirectory(folder)
    }
}
