import KioskCore
import Screens
import Testing

@Suite struct ScreenLayoutTests {
    static let sizes = [(1280, 800), (1024, 600), (800, 480), (1920, 1080)]
    let guesses = ["food", "trash", "glass"]
    let screens: [Screen] = [
        .ready, .scanning(ScanID(1)), .emptyTray, .result(ScanID(1), shown: .label("glass"), corrected: false),
        .notSure(ScanID(1)), .browse(ScanID(1)), .problem(.camera),
    ]

    @Test(arguments: sizes)
    func buttonsLieOnScreenAndDoNotOverlap(width: Int, height: Int) {
        let layout = ScreenLayout(width: width, height: height)
        for screen in screens {
            let buttons = layout.buttons(for: screen, guesses: guesses, lookAlike: true)
            for (rect, action) in buttons {
                #expect(rect.x >= 0 && rect.y >= 0 && rect.maxX <= width && rect.maxY <= height, "\(action) on \(screen) at \(width)x\(height)")
                // Large enough for a fingertip: at least 7 mm on a 10.1" 1280x800 panel (~150 dpi) is ~40 px.
                #expect(min(rect.width, rect.height) >= height / 20, "\(action) too small")
            }
            // Apart from the whole-screen scan target, buttons never overlap.
            let solid = buttons.filter { $0.1 != .scan }
            for i in solid.indices {
                for j in solid.indices where j > i {
                    #expect(!solid[i].0.intersects(solid[j].0), "\(solid[i].1) overlaps \(solid[j].1) on \(screen)")
                }
            }
        }
    }

    @Test(arguments: sizes)
    func aTapAtEachButtonsCentreMeansThatButton(width: Int, height: Int) {
        let layout = ScreenLayout(width: width, height: height)
        for screen in screens {
            for (rect, action) in layout.buttons(for: screen, guesses: guesses, lookAlike: true) where action != .scan {
                #expect(layout.action(atX: rect.centerX, y: rect.centerY, screen: screen, guesses: guesses, lookAlike: true) == action)
            }
        }
    }

    @Test(arguments: sizes)
    func theJudgedFrameSitsBesideTheAnswerAndClearOfItsButtons(width: Int, height: Int) {
        let layout = ScreenLayout(width: width, height: height)
        let result = layout.buttons(for: .result(ScanID(1), shown: .label("metal"), corrected: false), guesses: [], lookAlike: true)
        #expect(result.map(\.1).contains(.chooseLookAlike))
        #expect(!layout.buttons(for: .result(ScanID(1), shown: .label("metal"), corrected: false), guesses: []).map(\.1)
            .contains(.chooseLookAlike))
        for (picture, buttons) in [(layout.resultPicture, result),
                                   (layout.notSurePicture, layout.buttons(for: .notSure(ScanID(1)), guesses: guesses))] {
            #expect(picture.width == picture.height && picture.width >= height / 4, "\(picture) at \(width)x\(height)")
            #expect(picture.x >= 0 && picture.maxX <= width && picture.maxY <= height)
            for (rect, action) in buttons { #expect(!rect.intersects(picture), "\(action) under the picture") }
        }
        #expect(!layout.resultText.intersects(layout.resultPicture))
        #expect(!layout.banner.intersects(layout.resultPicture))
    }

    @Test func readyScansOnATapAnywhereButTheToggle() {
        let layout = ScreenLayout(width: 1280, height: 800)
        #expect(layout.action(atX: 5, y: 795, screen: .ready, guesses: []) == .scan)
        #expect(layout.action(atX: 640, y: 400, screen: .ready, guesses: []) == .scan)
        let toggle = layout.languageToggle
        #expect(layout.action(atX: toggle.centerX, y: toggle.centerY, screen: .ready, guesses: []) == .toggleLanguage)
        #expect(layout.action(atX: 640, y: 400, screen: .scanning(ScanID(1)), guesses: []) == nil)
        #expect(layout.action(atX: 640, y: 400, screen: .problem(.model), guesses: []) == nil)
        #expect(layout.action(atX: 640, y: 400, screen: .emptyTray, guesses: []) == .scan)
    }

    @Test func notSureOffersOnlyTheGuessesItHas() {
        let layout = ScreenLayout(width: 1280, height: 800)
        let buttons = layout.buttons(for: .notSure(ScanID(1)), guesses: ["glass"])
        #expect(buttons.map(\.1) == [.toggleLanguage, .choose("glass"), .browse])
        let browse = layout.buttons(for: .browse(ScanID(1)), guesses: [])
        #expect(browse.count == 1 + WasteCategory.allCases.count + 1)
    }
}
