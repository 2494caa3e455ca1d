// Appends scan records as fast as it can and prints "ack <id>" after each append has returned (the record is
// then acknowledged).   record-writer DIR [COUNT] [KIOSK] [CLOCK_OFFSET_MS] The power-loss test kills it with SIGKILL at random moments and checks that every
// acknowledged record is in the store and the file is intact. With QUIZ, that many quiz answers (every third one
// wrong) are stored after the records:   record-writer DIR COUNT KIOSK CLOCK_OFFSET_MS QUIZ
import Foundation
import KioskCore
import Sync

let directory = CommandLine.arguments[1]
let count = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 1_000_000 : 1_000_000
let kiosk = CommandLine.arguments.count > 3 ? CommandLine.arguments[3] : "writer"
// A kiosk whose clock is wrong: its records carry that wrong time.
let clockOffsetMilliseconds = CommandLine.arguments.count > 4 ? Int64(CommandLine.arguments[4]) ?? 0 : 0
let quizCount = CommandLine.arguments.count > 5 ? Int(CommandLine.arguments[5]) ?? 0 : 0
do {
    let store = try RecordStore(dataDirectory: directory)
    for i in 0..<count {
        let record = ScanRecord(
            kiosk: kiosk, capturedAtMilliseconds: Int64(Date().timeIntervalSince1970 * 1000) + clockOffsetMilliseconds,
            label: "glass",
            category: .recyclable, confidence: 0.9, top: [.init(label: "glass", p: 0.9)], modelVersion: "test",
            language: .en, thumbnail: i % 10 == 0 ? Data(repeating: UInt8(i % 251), count: 4096) : nil)
        let stored = try store.append(record)
        // Unbuffered, so a line printed is a line the test sees even when the writer is killed right after.
        FileHandle.standardOutput.write(Data("ack \(stored.id.uuidString.lowercased()) \(stored.sequence)\n".utf8))
    }
    for i in 0..<quizCount {
        let answer = QuizAnswer(kiosk: kiosk, answeredAtMilliseconds: Int64(Date().timeIntervalSince1970 * 1000) + clockOffsetMilliseconds,
                                question: i % 2 == 0 ? "battery" : "big-bone", answer: i % 3 == 0 ? .kitchen : (i % 2 == 0 ? .hazardous : .other),
                                right: i % 3 != 0, language: .zh)
        try store.append(answer)
        FileHandle.standardOutput.write(Data("quiz \(answer.id.uuidString.lowercased())\n".utf8))
    }
} catch {
    FileHandle.standardError.write(Data("record-writer: \(error)\n".utf8))
    exit(1)
}
