import KioskCore

/// A rectangle in screen pixels.
public struct Rect: Hashable, Sendable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public func contains(x px: Int, y py: Int) -> Bool { px >= x && py >= y && px < x + width && py < y + height }
    public var centerX: Int { x + width / 2 }
    public var centerY: Int { y + height / 2 }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }

    public func intersects(_ other: Rect) -> Bool {
        x < other.maxX && other.x < maxX && y < other.maxY && other.y < maxY
    }

    public func inset(by d: Int) -> Rect { Rect(x: x + d, y: y + d, width: max(0, width - 2 * d), height: max(0, height - 2 * d)) }
}

/// Where everything sits on a screen of a given size, shared by the renderer (what to draw) and the tap handling
/// (what a tap at a point means), so the two never disagree. Sizes scale with the display; 1280x800 is typical.
public struct ScreenLayout: Sendable {
    public let width: Int
    public let height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// Base unit: 1% of the shorter side.
    public var unit: Int { max(1, min(width, height) / 100) }
    var margin: Int { unit * 3 }

    // MARK: Type sizes (pixels), large enough to read from a metre away.
    public var titleSize: Int { unit * 9 }
    public var headingSize: Int { unit * 7 }
    public var bodySize: Int { unit * 5 }
    public var smallSize: Int { unit * 4 }

    /// The language toggle, top right on every screen.
    public var languageToggle: Rect {
        let w = max(unit * 30, width / 5)
        return Rect(x: width - w - margin, y: margin, width: w, height: unit * 11)
    }

    /// Ready: today's counts along the top left.
    public var countsStrip: Rect {
        Rect(x: margin, y: margin, width: languageToggle.x - 2 * margin, height: unit * 11)
    }

    /// Ready: the prompt band along the bottom.
    public var promptBand: Rect { Rect(x: 0, y: height - unit * 24, width: width, height: unit * 24) }

    /// Ready: "Learn", under the language toggle.
    public var learnButton: Rect {
        let toggle = languageToggle
        return Rect(x: toggle.x, y: toggle.maxY + margin, width: toggle.width, height: toggle.height)
    }

    /// Ready: the band a quiz question (or its answer) takes, taller than the prompt's for the six bins.
    public var quizBand: Rect { Rect(x: 0, y: height - unit * 42, width: width, height: unit * 42) }

    /// Ready: the six bins as answers to the question, in one row along the bottom of the quiz band.
    public func quizButton(_ index: Int) -> Rect {
        let count = WasteCategory.allCases.count
        let gap = unit * 2
        let w = (width - 2 * margin - (count - 1) * gap) / count
        let h = unit * 20
        return Rect(x: margin + index * (w + gap), y: height - margin - h, width: w, height: h)
    }

    /// Learn: one card per bin, in the browse screen's grid.
    public func learnCard(_ index: Int) -> Rect { categoryButton(index) }

    /// Result: the coloured banner with icon and bin name.
    public var banner: Rect { Rect(x: 0, y: 0, width: width, height: height * 30 / 100) }

    /// Result: the bottom row of buttons.
    public var doneButton: Rect {
        let w = width * 30 / 100
        return Rect(x: width - w - margin, y: height - unit * 16 - margin, width: w, height: unit * 16)
    }

    public var notRightButton: Rect {
        let w = width * 30 / 100
        return Rect(x: margin, y: height - unit * 16 - margin, width: w, height: unit * 16)
    }

    /// Result: the frame that was judged, square (the model looks at the middle of the frame), right of the text.
    public var resultPicture: Rect {
        let top = banner.maxY + margin
        let side = min(doneButton.y - margin - top, width * 40 / 100)
        return Rect(x: width - margin - side, y: top, width: side, height: side)
    }

    /// Result: the text column left of the picture (item name, guidance, confidence).
    public var resultText: Rect {
        let top = banner.maxY + margin
        return Rect(x: margin, y: top, width: resultPicture.x - 2 * margin, height: doneButton.y - margin - top)
    }

    /// Result: the look-alike line ("a spray can? It is hazardous"), a button along the bottom of the text column.
    public var lookAlikeButton: Rect {
        let text = resultText
        return Rect(x: text.x, y: text.maxY - unit * 12, width: text.width, height: unit * 12)
    }

    /// Not sure: up to three guesses stacked on the left, then "browse categories".
    public func guessButton(_ index: Int) -> Rect {
        let top = languageToggle.maxY + margin + unit * 10
        let h = unit * 15
        let w = width * 60 / 100
        return Rect(x: margin, y: top + index * (h + unit * 3), width: w, height: h)
    }

    /// Not sure: the frame that was judged, square, right of the guesses.
    public var notSurePicture: Rect {
        let first = guessButton(0), last = guessButton(2)
        let side = min(width - margin - (first.maxX + margin), last.maxY - first.y)
        return Rect(x: width - margin - side, y: first.y, width: side, height: side)
    }

    public var browseButton: Rect {
        let w = width * 80 / 100
        let h = unit * 13
        return Rect(x: (width - w) / 2, y: height - h - margin, width: w, height: h)
    }

    /// Browse: the six bins in a 3x2 grid, then "back".
    public func categoryButton(_ index: Int) -> Rect {
        let columns = 3
        let top = languageToggle.maxY + margin + unit * 10
        let bottom = backButton.y - margin
        let gap = unit * 3
        let w = (width - 2 * margin - (columns - 1) * gap) / columns
        let h = (bottom - top - gap) / 2
        return Rect(x: margin + (index % columns) * (w + gap), y: top + (index / columns) * (h + gap), width: w, height: h)
    }

    public var backButton: Rect {
        let w = width * 30 / 100
        return Rect(x: margin, y: height - unit * 14 - margin, width: w, height: unit * 14)
    }

    /// Every button on a screen with what it does (the not-sure screen needs the guesses it offers, the result
    /// screen whether it shows a look-alike line, Ready its band and whether it offers "Learn").
    public func buttons(for screen: Screen, guesses: [String], lookAlike: Bool = false, band: ReadyBand = .prompt,
                        learn: Bool = false) -> [(Rect, ScreenAction)] {
        var result: [(Rect, ScreenAction)] = [(languageToggle, .toggleLanguage)]
        switch screen {
        case .ready:
            if learn { result.append((learnButton, .learn)) }
            if case .question = band {
                for (i, category) in WasteCategory.allCases.enumerated() { result.append((quizButton(i), .answerQuiz(category))) }
            }
            result.append((Rect(x: 0, y: 0, width: width, height: height), .scan))
        case .emptyTray:
            result.append((Rect(x: 0, y: 0, width: width, height: height), .scan))
        case .learn:
            result.append((backButton, .back))
        case .result:
            result += [(doneButton, .done), (notRightButton, .notRight)]
            if lookAlike { result.append((lookAlikeButton, .chooseLookAlike)) }
        case .notSure:
            for (i, label) in guesses.prefix(3).enumerated() { result.append((guessButton(i), .choose(label))) }
            result.append((browseButton, .browse))
        case .browse:
            for (i, category) in WasteCategory.allCases.enumerated() {
                result.append((categoryButton(i), .chooseCategory(category)))
            }
            result.append((backButton, .back))
        case .scanning, .problem:
            break
        }
        return result
    }

    /// What a tap at (x, y) means; the first button that contains the point wins (the language toggle first).
    public func action(atX x: Int, y: Int, screen: Screen, guesses: [String], lookAlike: Bool = false,
                       band: ReadyBand = .prompt, learn: Bool = false) -> ScreenAction? {
        buttons(for: screen, guesses: guesses, lookAlike: lookAlike, band: band, learn: learn).first { $0.0.contains(x: x, y: y) }?.1
    }

    /// Every button on the machine's current screen.
    public func buttons(for machine: ScreenMachine) -> [(Rect, ScreenAction)] {
        buttons(for: machine.screen, guesses: machine.guesses.map(\.label), lookAlike: machine.lookAlike != nil,
                band: machine.band, learn: machine.offersLearnScreen)
    }

    /// What a tap at (x, y) means on the machine's current screen.
    public func action(atX x: Int, y: Int, machine: ScreenMachine) -> ScreenAction? {
        buttons(for: machine).first { $0.0.contains(x: x, y: y) }?.1
    }
}
