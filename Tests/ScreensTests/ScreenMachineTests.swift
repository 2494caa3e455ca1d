import KioskCore
import Screens
import Testing

/// Every transition of the screen logic, with made-up instants instead of a clock.
@Suite struct ScreenMachineTests {
    let t0 = ContinuousClock.now
    let labels: Set<String> = ["cardboard", "glass", "food", "electronics", "trash"]

    func machine() -> ScreenMachine {
        ScreenMachine(settings: ScreenSettings(), knownLabels: labels, language: .zh)
    }

    func confident() -> Classification {
        Classification(ranked: [.init(label: "glass", probability: 0.9), .init(label: "food", probability: 0.06),
                                .init(label: "trash", probability: 0.04)])
    }

    func unsure() -> Classification {
        Classification(ranked: [.init(label: "food", probability: 0.45), .init(label: "trash", probability: 0.35),
                                .init(label: "glass", probability: 0.15), .init(label: "cardboard", probability: 0.05)])
    }

    /// Taps scan and returns the scan id from the capture effect.
    func scan(_ m: inout ScreenMachine, at time: Duration = .zero) -> ScanID {
        let effects = m.handle(.tap(.scan), at: t0 + time)
        guard case .capture(let id) = effects.first else {
            Issue.record("no capture effect: \(effects)")
            return ScanID(0)
        }
        return id
    }

    @Test func readyScanResultDoneRecordsTheModelAnswer() {
        var m = machine()
        #expect(m.screen == .ready)
        let id = scan(&m)
        #expect(m.screen == .scanning(id))
        #expect(m.handle(.classified(id, confident()), at: t0 + .milliseconds(20)).isEmpty)
        #expect(m.screen == .result(id, shown: .label("glass"), corrected: false))
        let effects = m.handle(.tap(.done), at: t0 + .seconds(2))
        #expect(effects == [.record(ScanOutcome(scan: id, classification: confident(), language: .zh, correction: nil, asked: false,
                                                   settled: .label("glass")))])
        #expect(m.screen == .ready)
    }

    @Test func resultTimesOutAfterTheIdleTimeoutAndStillRecords() {
        var m = machine()
        let id = scan(&m)
        _ = m.handle(.classified(id, confident()), at: t0 + .seconds(1))
        #expect(m.handle(.tick, at: t0 + .seconds(10)).isEmpty)  // 9 s after the answer: not yet
        #expect(m.screen == .result(id, shown: .label("glass"), corrected: false))
        let effects = m.handle(.tick, at: t0 + .seconds(11))
        #expect(effects.count == 1)
        #expect(m.screen == .ready)
    }

    @Test func aTapOnTheLanguageToggleRestartsTheIdleTimeout() {
        var m = machine()
        let id = scan(&m)
        _ = m.handle(.classified(id, confident()), at: t0)
        _ = m.handle(.tap(.toggleLanguage), at: t0 + .seconds(8))
        #expect(m.language == .en)
        #expect(m.handle(.tick, at: t0 + .seconds(17)).isEmpty)
        #expect(m.screen != .ready)
        let effects = m.handle(.tick, at: t0 + .seconds(18))
        #expect(effects == [.record(ScanOutcome(scan: id, classification: confident(), language: .en, correction: nil,
                                                   settled: .label("glass")))])
    }

    @Test func lowConfidenceAsksAndTheChoiceIsRecordedAsACorrection() {
        var m = machine()
        let id = scan(&m)
        _ = m.handle(.classified(id, unsure()), at: t0)
        #expect(m.screen == .notSure(id))
        #expect(m.guesses.map(\.label) == ["food", "trash", "glass"])
        _ = m.handle(.tap(.choose("trash")), at: t0 + .seconds(1))
        #expect(m.screen == .result(id, shown: .label("trash"), corrected: true))
        let effects = m.handle(.tap(.done), at: t0 + .seconds(2))
        #expect(effects == [.record(ScanOutcome(scan: id, classification: unsure(), language: .zh, correction: .label("trash"), asked: true,
                                                   settled: .label("trash")))])
    }

    @Test func choosingTheModelsOwnAnswerIsNotACorrection() {
        var m = machine()
        let id = scan(&m)
        _ = m.handle(.classified(id, unsure()), at: t0)
        _ = m.handle(.tap(.choose("food")), at: t0)
        #expect(m.screen == .result(id, shown: .label("food"), corrected: false))
        #expect(m.handle(.tap(.done), at: t0) == [.record(ScanOutcome(scan: id, classification: unsure(), language: .zh, correction: nil, asked: true,
                                                                          settled: .label("food")))])
    }

    @Test func aSmallMarginAsksEvenWhenTheTopGuessIsHigh() {
        var m = machine()
        let id = scan(&m)
        let close = Classification(ranked: [.init(label: "glass", probability: 0.56), .init(label: "trash", probability: 0.44)])
        _ = m.handle(.classified(id, close), at: t0)
        #expect(m.screen == .notSure(id))
    }

    @Test func anAnswerTheCatalogueCannotMapIsNeverShownAsTheResult() {
        var m = machine()
        let id = scan(&m)
        let unknown = Classification(ranked: [.init(label: "battery", probability: 0.95), .init(label: "glass", probability: 0.05)])
        _ = m.handle(.classified(id, unknown), at: t0)
        #expect(m.screen == .notSure(id))
        #expect(m.guesses.map(\.label) == ["glass"])
    }

    @Test func browseBackAndPickABin() {
        var m = machine()
        let id = scan(&m)
        _ = m.handle(.classified(id, unsure()), at: t0)
        _ = m.handle(.tap(.browse), at: t0)
        #expect(m.screen == .browse(id))
        _ = m.handle(.tap(.back), at: t0)
        #expect(m.screen == .notSure(id))
        _ = m.handle(.tap(.browse), at: t0)
        _ = m.handle(.tap(.chooseCategory(.hazardous)), at: t0 + .seconds(1))
        #expect(m.screen == .result(id, shown: .category(.hazardous), corrected: true))
        // The idle timeout ends a corrected result too, and keeps the correction.
        let effects = m.handle(.tick, at: t0 + .seconds(11))
        #expect(effects == [.record(ScanOutcome(scan: id, classification: unsure(), language: .zh, correction: .category(.hazardous), asked: true,
                                                   settled: .category(.hazardous)))])
        #expect(Choice.category(.hazardous).recordValue == "category:hazardous")
    }

    @Test func notSureAndBrowseTimeOutWithoutACorrection() {
        for browse in [false, true] {
            var m = machine()
            let id = scan(&m)
            _ = m.handle(.classified(id, unsure()), at: t0)
            if browse { _ = m.handle(.tap(.browse), at: t0) }
            let effects = m.handle(.tick, at: t0 + .seconds(10))
            #expect(effects == [.record(ScanOutcome(scan: id, classification: unsure(), language: .zh, correction: nil, asked: true))])
            #expect(m.screen == .ready)
        }
    }

    @Test func notRightOffersTheGuesses() {
        var m = machine()
        let id = scan(&m)
        _ = m.handle(.classified(id, confident()), at: t0)
        _ = m.handle(.tap(.notRight), at: t0)
        #expect(m.screen == .notSure(id))
        _ = m.handle(.tap(.choose("food")), at: t0)
        #expect(m.screen == .result(id, shown: .label("food"), corrected: true))
        // The kiosk was sure; the resident was not: a correction, but not an "asked" answer.
        #expect(m.handle(.tap(.done), at: t0)
                == [.record(ScanOutcome(scan: id, classification: confident(), language: .zh, correction: .label("food"), asked: false,
                                        settled: .label("food")))])
    }

    @Test func emptyTrayAsksForTheItemThenTimesOutOrScansAgain() {
        var m = machine()
        let id = scan(&m)
        #expect(m.handle(.trayEmpty(id), at: t0).isEmpty)
        #expect(m.screen == .emptyTray)
        #expect(m.handle(.tick, at: t0 + .milliseconds(4999)).isEmpty)
        #expect(m.screen == .emptyTray)
        _ = m.handle(.tick, at: t0 + .seconds(5))
        #expect(m.screen == .ready)
        // A tap on the message scans again straight away.
        let second = scan(&m, at: .seconds(6))
        _ = m.handle(.trayEmpty(second), at: t0 + .seconds(6))
        let third = scan(&m, at: .seconds(7))
        #expect(third != second)
        #expect(m.screen == .scanning(third))
    }

    @Test func stuckOrFailedScansReturnToReadyWithoutARecord() {
        var m = machine()
        let id = scan(&m)
        #expect(m.handle(.tick, at: t0 + .seconds(15)).isEmpty)
        #expect(m.screen == .ready)
        #expect(m.lastFailure?.contains("no answer") == true)
        // A late answer for the abandoned scan is ignored.
        #expect(m.handle(.classified(id, confident()), at: t0 + .seconds(16)).isEmpty)
        #expect(m.screen == .ready)
        let next = scan(&m, at: .seconds(20))
        _ = m.handle(.scanFailed(next, reason: "engine failed"), at: t0 + .seconds(20))
        #expect(m.screen == .ready)
        #expect(m.lastFailure == "engine failed")
    }

    @Test func answersForAnotherScanAreIgnored() {
        var m = machine()
        let id = scan(&m)
        _ = m.handle(.classified(ScanID(id.value + 7), confident()), at: t0)
        _ = m.handle(.trayEmpty(ScanID(id.value + 7)), at: t0)
        #expect(m.screen == .scanning(id))
    }

    @Test func tapsThatMeanNothingHereChangeNothing() {
        var m = machine()
        for action in [ScreenAction.done, .notRight, .choose("glass"), .browse, .chooseCategory(.bulky), .back] {
            #expect(m.handle(.tap(action), at: t0).isEmpty)
            #expect(m.screen == .ready)
        }
        let id = scan(&m)
        #expect(m.handle(.tap(.scan), at: t0).isEmpty)  // a second tap while scanning
        _ = m.handle(.classified(id, unsure()), at: t0)
        _ = m.handle(.tap(.choose("cardboard")), at: t0)  // not offered (fourth guess)
        #expect(m.screen == .notSure(id))
    }

    @Test func problemsReplaceReadyInOrderAndClearByThemselves() {
        var m = machine()
        _ = m.handle(.problem(.storage, detail: "disk full"), at: t0)
        #expect(m.screen == .problem(.storage))
        _ = m.handle(.problem(.camera, detail: "/dev/video0: no camera found"), at: t0)
        #expect(m.screen == .problem(.camera))
        #expect(m.handle(.tap(.scan), at: t0).isEmpty)  // no scan while a problem shows
        _ = m.handle(.tap(.toggleLanguage), at: t0)
        #expect(m.language == .en)
        _ = m.handle(.recovered(.camera), at: t0)
        #expect(m.screen == .problem(.storage))
        _ = m.handle(.recovered(.storage), at: t0)
        #expect(m.screen == .ready)
    }

    @Test func aProblemDuringAScanWaitsUntilTheResultIsDone() {
        var m = machine()
        let id = scan(&m)
        _ = m.handle(.problem(.camera, detail: "lost"), at: t0)
        _ = m.handle(.classified(id, confident()), at: t0)
        #expect(m.screen == .result(id, shown: .label("glass"), corrected: false))
        _ = m.handle(.tap(.done), at: t0)
        #expect(m.screen == .problem(.camera))
    }
}
