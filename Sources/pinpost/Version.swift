import ArgumentParser
import PinpostAgent

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")

    func run() {
        print("pinpost \(PinpostVersion.current)")
    }
}
