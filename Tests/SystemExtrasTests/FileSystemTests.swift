import SystemPackage
import Testing

@testable import SystemExtras

@Suite("Files: whole reads, atomic replaces, folders")
struct FileSystemTests {
    @Test func aReplacedFileHoldsTheNewContentAndNoTemporaryIsLeft() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("state")
        try FileSystem.writeFileAtomically(path, Array("old".utf8))
        try FileSystem.writeFileAtomically(path, Array("new".utf8))
        #expect(try FileSystem.readFile(path) == Array("new".utf8))
        #expect(FileSystem.listDirectory(folder.path) == ["state"])
        let mode = try Stat(FilePath(path)).permissions
        #expect(mode == .ownerReadWrite)
    }

    /// A reader never sees a mix, a truncated file or no file while another thread keeps replacing it.
    @Test func aReaderSeesEitherTheOldOrTheNewContent() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("ack")
        let old = [UInt8](repeating: UInt8(ascii: "a"), count: 256 << 10)
        let new = [UInt8](repeating: UInt8(ascii: "b"), count: 256 << 10)
        try FileSystem.writeFileAtomically(path, old)
        let writer = try SystemThread {
            for round in 0..<40 {
                try? FileSystem.writeFileAtomically(path, round.isMultiple(of: 2) ? new : old)
            }
        }
        var mixed = 0
        for _ in 0..<400 {
            let bytes = try FileSystem.readFile(path)
            if bytes != old && bytes != new { mixed += 1 }
        }
        writer.join()
        #expect(mixed == 0)
    }

    @Test func aFailedReplaceKeepsTheOldContent() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("state")
        try FileSystem.writeFileAtomically(path, Array("old".utf8))
        // The temporary file cannot be created: its name is taken by a folder.
        try FileSystem.createDirectory(path + ".tmp")
        #expect {
            try FileSystem.writeFileAtomically(path, Array("new".utf8))
        } throws: { error in
            (error as? SystemError)?.code == .isDirectory
        }
        #expect(try FileSystem.readFile(path) == Array("old".utf8))
    }

    @Test func readsStopAtTheLimitWithTheirOwnCode() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("big")
        try FileSystem.writeFileAtomically(path, [UInt8](repeating: 7, count: 200_000))
        #expect(try FileSystem.readFile(path, limit: 200_000).count == 200_000)
        #expect {
            try FileSystem.readFile(path, limit: 100_000)
        } throws: { error in
            let failure = error as? SystemError
            return failure?.code == .fileTooLarge && "\(error)".hasPrefix("too large to read '\(path)'")
        }
    }

    @Test func aMissingFileNamesThePathAndCarriesTheErrno() throws {
        #expect {
            try FileSystem.readFile("/nonexistent/pinpost/key.pem")
        } throws: { error in
            guard let failure = error as? SystemError else { return false }
            return failure.isNotFound && !failure.isDiskFull
                && failure.description == "cannot open '/nonexistent/pinpost/key.pem': No such file or directory"
        }
    }

    @Test func diskFullIsDecidedByTheCode() {
        #expect(SystemError(.noSpace, "cannot append to", path: "/x").isDiskFull)
        #expect(SystemError(.diskQuotaExceeded, "cannot append to", path: "/x").isDiskFull)
        #expect(!SystemError(.ioError, "cannot append to", path: "/x").isDiskFull)
    }

    @Test func foldersAreCreatedWithTheirParentsAndListed() throws {
        let folder = try TemporaryFolder()
        try FileSystem.createDirectory(folder.file("a/b/c"))
        try FileSystem.createDirectory(folder.file("a/b/c"))  // already there: fine
        #expect(try Stat(FilePath(folder.file("a/b"))).permissions == .ownerReadWriteExecute)
        for name in ["x", "y.seg", ".hidden"] {
            try FileSystem.writeFileAtomically(folder.file("a/" + name), [])
        }
        #expect(Set(try FileSystem.contentsOfDirectory(folder.file("a"))) == ["b", "x", "y.seg", ".hidden"])
        #expect(FileSystem.listDirectory(folder.file("missing")).isEmpty)
        #expect {
            try FileSystem.contentsOfDirectory(folder.file("missing"))
        } throws: { error in
            (error as? SystemError)?.isNotFound == true
        }
        try FileSystem.removeFile(folder.file("a/x"))
        #expect(!FileSystem.exists(folder.file("a/x")))
        #expect(throws: SystemError.self) { try FileSystem.removeDirectory(folder.file("a")) }  // not empty
    }

    @Test func pathsAreJoinedAndSplit() {
        #expect(FileSystem.directoryName(of: "/etc/pinpost/pinpost.toml") == "/etc/pinpost")
        #expect(FileSystem.directoryName(of: "/pinpost.toml") == "/")
        #expect(FileSystem.directoryName(of: "pinpost.toml") == ".")
        #expect(FileSystem.absolute("spool", relativeTo: "/var/lib") == "/var/lib/spool")
        #expect(FileSystem.absolute("/abs", relativeTo: "/var/lib") == "/abs")
        #expect(FileSystem.absolute("spool", relativeTo: "/") == "/spool")
    }

    @Test func secureRandomFillsTheBuffer() throws {
        var buffer = [UInt8](repeating: 0, count: 4096)
        try SecureRandom.fill(&buffer, count: 4096)
        #expect(buffer.contains { $0 != 0 })
    }
}
