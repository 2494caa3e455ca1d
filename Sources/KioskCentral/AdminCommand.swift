import ArgumentParser
import Central
import Foundation
import SyncWire

#if canImport(Glibc)
import Glibc
#endif

struct AdminCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Manage the operators who may read the dashboard.", subcommands: [AdminAddCommand.self])
}

struct AdminAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add an operator (or set a new password with --reset). The password is read from standard input when it is not a terminal, else asked for twice.")

    @Argument(help: "The operator's name (letters, digits, '-', '_', '.').")
    var name: String

    @Flag(name: .long, help: "Set a new password for an existing operator.")
    var reset = false

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        if let problem = KioskName.problem(name) { throw fail(problem.replacingOccurrences(of: "kiosk name", with: "operator name")) }
        let password = try Self.readPassword()
        if let problem = OperatorCredential.problem(password: password) { throw fail(problem) }
        let credential: OperatorCredential
        do {
            credential = try OperatorCredential(name: name, password: password)
        } catch {
            throw fail("\(error)")
        }
        let store = try database.open()
        let reset = self.reset
        do {
            try await store.whileRunning { store in try await store.setOperator(credential, replace: reset) }
        } catch {
            throw fail("\(error)")
        }
        print(reset ? "new password set for \(name)" : "operator \(name) added; sign in at /login on the server")
    }

    /// One line from a pipe, or typed twice without echo at a terminal.
    static func readPassword() throws -> String {
        if isatty(0) == 0 {
            guard let line = readLine(strippingNewline: true) else { throw fail("no password on standard input") }
            return line
        }
        func ask(_ prompt: String) -> String {
            guard let p = getpass(prompt) else { return "" }
            return String(cString: p)
        }
        let first = ask("password: ")
        guard ask("again: ") == first else { throw fail("the two passwords differ") }
        return first
    }
}
