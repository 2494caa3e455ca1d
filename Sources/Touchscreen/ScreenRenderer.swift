import Imaging
import KioskCore
import Screens

/// Draws the machine's current screen: large type, high contrast, and never colour alone (every bin also has its
/// icon and its name). Positions come from `ScreenLayout`, the same rectangles that taps are tested against.
final class ScreenRenderer {
    struct Content {
        var machine: ScreenMachine
        /// Today's scans per bin, for Ready.
        var counts: [WasteCategory: Int]
        /// The live picture on Ready; the frozen frame while scanning, on the empty-tray message and beside the
        /// answer (result and not sure), so the resident sees what the kiosk judged.
        var picture: Texture?
        /// Seconds since the scan started, for the progress animation.
        var scanningFor: Double
    }

    let display: Display
    let text: TextPainter
    let catalogue: Catalogue
    let texts: UIText.Table
    private var icons: [WasteCategory: Texture] = [:]
    /// Why an icon could not be loaded, one line each (the app logs them as warnings).
    private(set) var iconProblems: [String] = []

    init(display: Display, font: FontFile, catalogue: Catalogue, texts: UIText.Table, iconDirectory: String?) throws(TouchscreenError) {
        self.display = display
        self.text = try TextPainter(file: font, display: display)
        self.catalogue = catalogue
        self.texts = texts
        // A missing icon is drawn as a plain swatch; the bin's name is always written next to it.
        guard let iconDirectory else {
            iconProblems = ["no icon folder: every bin is drawn as a plain swatch"]
            return
        }
        for info in catalogue.categories {
            let path = iconDirectory + "/" + info.icon
            do {
                let image = try PNGCodec.decodeRGBA(file: path)
                guard let texture = display.texture(image) else {
                    iconProblems.append("\(info.id.rawValue) icon \(path): SDL refused the texture: \(Display.sdlError())")
                    continue
                }
                icons[info.id] = texture
            } catch {
                iconProblems.append("\(info.id.rawValue) icon: \(error)")
            }
        }
    }

    var loadedIcons: Int { icons.count }

    func render(_ content: Content) {
        let layout = ScreenLayout(width: display.width, height: display.height)
        let machine = content.machine
        let language = machine.language
        display.clear(.night)
        switch machine.screen {
        case .ready:
            drawPicture(content.picture, layout: layout)
            drawCounts(content.counts, layout: layout, language: language)
            drawPrompt(layout: layout, language: language)
        case .scanning:
            drawPicture(content.picture, layout: layout)
            display.fill(Rect(x: 0, y: 0, width: layout.width, height: layout.height), .black, alpha: 150)
            drawScanning(layout: layout, language: language, elapsed: content.scanningFor)
        case .emptyTray:
            drawPicture(content.picture, layout: layout)
            display.fill(Rect(x: 0, y: 0, width: layout.width, height: layout.height), .black, alpha: 120)
            drawMessageCard(title: texts[.emptyTrayTitle, language], body: texts[.emptyTrayHint, language], layout: layout)
        case .result(_, let shown, let corrected):
            drawResult(shown: shown, corrected: corrected, machine: machine, layout: layout)
            drawJudged(content.picture, in: layout.resultPicture, layout: layout)
        case .notSure:
            drawNotSure(machine: machine, layout: layout)
            drawJudged(content.picture, in: layout.notSurePicture, layout: layout)
        case .browse:
            drawBrowse(layout: layout, language: language)
        case .problem(let problem):
            drawProblem(problem, detail: machine.problems[problem] ?? "", layout: layout, language: language)
        }
        drawLanguageToggle(layout: layout, language: language)
    }

    // MARK: Screens

    private func drawPicture(_ picture: Texture?, layout: ScreenLayout) {
        if let picture { display.drawFilling(picture, in: Rect(x: 0, y: 0, width: layout.width, height: layout.height)) }
    }

    /// The frame the answer is about, framed, in a square: the middle of the frame, as the model looks at it.
    private func drawJudged(_ picture: Texture?, in rect: Rect, layout: ScreenLayout) {
        guard let picture else { return }
        display.drawFilling(picture, in: rect)
        display.outline(rect, .panel, thickness: max(2, layout.unit / 2))
    }

    private func drawPrompt(layout: ScreenLayout, language: Language) {
        let band = layout.promptBand
        display.fill(band, .black, alpha: 190)
        let u = layout.unit
        text.draw(texts[.tapToScan, language], size: layout.titleSize, colour: .accent,
                  in: Rect(x: band.x + 3 * u, y: band.y + 2 * u, width: band.width - 6 * u, height: 12 * u))
        text.draw(texts[.placeItem, language], size: layout.bodySize, colour: .white,
                  in: Rect(x: band.x + 3 * u, y: band.y + 15 * u, width: band.width - 6 * u, height: 7 * u))
    }

    private func drawCounts(_ counts: [WasteCategory: Int], layout: ScreenLayout, language: Language) {
        let strip = layout.countsStrip
        let u = layout.unit
        display.fill(strip, .black, alpha: 170)
        let label = texts[.today, language]
        let labelWidth = min(strip.width / 5, text.measure(label, size: layout.smallSize).width + 4 * u)
        text.draw(label, size: layout.smallSize, colour: .white, in: Rect(x: strip.x + 2 * u, y: strip.y, width: labelWidth, height: strip.height))
        let categories = WasteCategory.allCases
        let chipWidth = (strip.width - labelWidth - 3 * u) / categories.count
        for (i, category) in categories.enumerated() {
            let x = strip.x + labelWidth + 2 * u + i * chipWidth
            let iconSide = strip.height - 3 * u
            let icon = Rect(x: x, y: strip.y + (strip.height - iconSide) / 2, width: iconSide, height: iconSide)
            drawIcon(category, in: icon)
            text.draw("\(counts[category] ?? 0)", size: layout.bodySize, colour: .white,
                      in: Rect(x: icon.maxX + u, y: strip.y, width: chipWidth - iconSide - 2 * u, height: strip.height),
                      alignment: .leading)
        }
    }

    private func drawScanning(layout: ScreenLayout, language: Language, elapsed: Double) {
        let u = layout.unit
        let centre = Rect(x: 6 * u, y: layout.height / 2 - 16 * u, width: layout.width - 12 * u, height: 14 * u)
        text.draw(texts[.scanning, language], size: layout.titleSize, colour: .white, in: centre)
        // An indeterminate bar: a block sweeping left to right once a second.
        let track = Rect(x: layout.width / 4, y: centre.maxY + 6 * u, width: layout.width / 2, height: 3 * u)
        display.fill(track, .panel)
        let block = track.width / 4
        let phase = elapsed.truncatingRemainder(dividingBy: 1)
        display.fill(Rect(x: track.x + Int(Double(track.width - block) * phase), y: track.y, width: block, height: track.height), .accent)
    }

    private func drawMessageCard(title: String, body: String, layout: ScreenLayout) {
        let u = layout.unit
        let card = Rect(x: layout.width / 10, y: layout.height / 4, width: layout.width * 8 / 10, height: layout.height / 2)
        display.fill(card, .night, alpha: 235)
        display.outline(card, .accent, thickness: u)
        text.draw(title, size: layout.titleSize, colour: .accent, in: Rect(x: card.x + 4 * u, y: card.y + 6 * u, width: card.width - 8 * u, height: 14 * u))
        text.draw(body, size: layout.bodySize, colour: .white,
                  in: Rect(x: card.x + 4 * u, y: card.y + 22 * u, width: card.width - 8 * u, height: card.height - 28 * u), maxLines: 3)
    }

    private func drawResult(shown: Choice, corrected: Bool, machine: ScreenMachine, layout: ScreenLayout) {
        let language = machine.language
        let u = layout.unit
        let category: CategoryInfo
        let itemName: String
        var lines: [String]
        switch shown {
        case .label(let label):
            guard let guidance = catalogue.guidance(forLabel: label, language: language) else { return }
            category = guidance.category
            itemName = guidance.itemName
            lines = guidance.lines
        case .category(let id):
            category = catalogue.info(for: id)
            itemName = ""
            lines = Array(category.guidance[language].prefix(4))
        }
        let colour = Colour(hex: category.color) ?? .panel
        let banner = layout.banner
        display.fill(banner, colour)
        let iconSide = banner.height * 70 / 100
        let icon = Rect(x: 4 * u, y: (banner.height - iconSide) / 2, width: iconSide, height: iconSide)
        drawIcon(category.id, in: icon)
        let nameBox = Rect(x: icon.maxX + 4 * u, y: banner.y + 2 * u,
                           width: layout.languageToggle.x - icon.maxX - 6 * u, height: banner.height - 4 * u)
        text.draw(category.name[language], size: layout.titleSize * 13 / 10, colour: colour.textColour, in: nameBox,
                  maxLines: 2, alignment: .leading)

        let column = layout.resultText
        var y = column.y
        let width = column.width
        // The item's name, unless it would only repeat the bin's (a bin chosen by the resident, "other" items).
        if !itemName.isEmpty && itemName != category.name[language] {
            text.draw(itemName, size: layout.headingSize, colour: .white, in: Rect(x: column.x, y: y, width: width, height: 10 * u),
                      alignment: .leading)
            y += 11 * u
        }
        let lookAlike = machine.lookAlike
        var bottom = column.maxY
        if let lookAlike {
            drawLookAlike(lookAlike, in: layout.lookAlikeButton, layout: layout, language: language)
            bottom = layout.lookAlikeButton.y - u
        }
        let noteTop = bottom - 6 * u
        let lineBox = min(10 * u, max(5 * u, (noteTop - y) / max(1, lines.count)))
        for line in lines where y + lineBox <= noteTop {
            display.fill(Rect(x: column.x, y: y + lineBox / 2 - u, width: 2 * u, height: 2 * u), .accent)
            text.draw(line, size: lineBox >= 8 * u ? layout.bodySize : layout.smallSize, colour: .white,
                      in: Rect(x: column.x + 4 * u, y: y, width: width - 4 * u, height: lineBox),
                      maxLines: lineBox >= 8 * u ? 2 : 1, alignment: .leading)
            y += lineBox
        }
        let note: String
        if corrected {
            note = texts[.correctedNote, language]
        } else {
            let p = Int(((machine.classification?.top.probability ?? 0) * 100).rounded())
            note = "\(texts[.confidence, language]) \(p)%"
        }
        text.draw(note, size: layout.smallSize, colour: Colour(red: 190, green: 198, blue: 206),
                  in: Rect(x: column.x, y: noteTop, width: width, height: 6 * u), alignment: .leading)
        drawButton(texts[.notRight, language], in: layout.notRightButton, fill: .panel, layout: layout)
        drawButton(texts[.done, language], in: layout.doneButton, fill: .accent, layout: layout)
    }

    /// What the answer may be mistaken for, with the other bin's icon: a tap moves the answer to that bin.
    private func drawLookAlike(_ lookAlike: SafetyRules.LookAlike, in rect: Rect, layout: ScreenLayout, language: Language) {
        let u = layout.unit
        let info = catalogue.info(for: lookAlike.category)
        let colour = Colour(hex: info.color) ?? .panel
        display.fill(rect, .panel)
        display.outline(rect, colour, thickness: max(2, u / 2))
        let iconSide = rect.height - 2 * u
        let icon = Rect(x: rect.x + u, y: rect.y + u, width: iconSide, height: iconSide)
        drawIcon(lookAlike.category, in: icon)
        text.draw(lookAlike.text[language], size: layout.smallSize, colour: .white,
                  in: Rect(x: icon.maxX + 2 * u, y: rect.y + u / 2, width: rect.maxX - icon.maxX - 3 * u, height: rect.height - u),
                  maxLines: 2, alignment: .leading)
    }

    private func drawNotSure(machine: ScreenMachine, layout: ScreenLayout) {
        let language = machine.language
        let u = layout.unit
        text.draw(texts[.notSureTitle, language], size: layout.headingSize, colour: .accent,
                  in: Rect(x: 4 * u, y: layout.languageToggle.maxY + u, width: layout.width - 8 * u, height: 11 * u))
        for (i, guess) in machine.guesses.enumerated() {
            let rect = layout.guessButton(i)
            guard let guidance = catalogue.guidance(forLabel: guess.label, language: language) else { continue }
            let colour = Colour(hex: guidance.category.color) ?? .panel
            display.fill(rect, .panel)
            display.fill(Rect(x: rect.x, y: rect.y, width: 3 * u, height: rect.height), colour)
            let iconSide = rect.height - 4 * u
            let icon = Rect(x: rect.x + 5 * u, y: rect.y + 2 * u, width: iconSide, height: iconSide)
            drawIcon(guidance.category.id, in: icon)
            let percent = "\(Int((guess.probability * 100).rounded()))%"
            let percentWidth = 16 * u
            let textBox = Rect(x: icon.maxX + 3 * u, y: rect.y + u, width: rect.maxX - icon.maxX - percentWidth - 5 * u, height: rect.height - 2 * u)
            let binName = guidance.category.name[language]
            let title = guidance.itemName == binName ? binName : "\(guidance.itemName) · \(binName)"
            text.draw(title, size: layout.bodySize, colour: .white,
                      in: textBox, maxLines: 2, alignment: .leading)
            text.draw(percent, size: layout.smallSize, colour: Colour(red: 190, green: 198, blue: 206),
                      in: Rect(x: rect.maxX - percentWidth - u, y: rect.y, width: percentWidth, height: rect.height))
        }
        let browse = layout.browseButton
        display.outline(browse, .accent, thickness: max(2, u / 2))
        text.draw(texts[.browseCategories, language], size: layout.bodySize, colour: .accent, in: browse.inset(by: 2 * u))
    }

    private func drawBrowse(layout: ScreenLayout, language: Language) {
        let u = layout.unit
        text.draw(texts[.chooseCategory, language], size: layout.headingSize, colour: .accent,
                  in: Rect(x: 4 * u, y: layout.languageToggle.maxY + u, width: layout.width - 8 * u, height: 11 * u))
        for (i, category) in WasteCategory.allCases.enumerated() {
            let rect = layout.categoryButton(i)
            let info = catalogue.info(for: category)
            let colour = Colour(hex: info.color) ?? .panel
            display.fill(rect, colour)
            let iconSide = min(rect.height * 55 / 100, rect.width / 2)
            let icon = Rect(x: rect.centerX - iconSide / 2, y: rect.y + 2 * u, width: iconSide, height: iconSide)
            drawIcon(category, in: icon)
            text.draw(info.name[language], size: layout.bodySize, colour: colour.textColour,
                      in: Rect(x: rect.x + u, y: icon.maxY + u, width: rect.width - 2 * u, height: rect.maxY - icon.maxY - 2 * u), maxLines: 2)
        }
        drawButton(texts[.back, language], in: layout.backButton, fill: .panel, layout: layout)
    }

    private func drawProblem(_ problem: Problem, detail: String, layout: ScreenLayout, language: Language) {
        let u = layout.unit
        let message: UIText = switch problem {
        case .camera: .problemCamera
        case .model: .problemModel
        case .storage: .problemStorage
        }
        text.draw(texts[message, language], size: layout.titleSize, colour: .white,
                  in: Rect(x: 6 * u, y: layout.height / 4, width: layout.width - 12 * u, height: 22 * u), maxLines: 2)
        text.draw(texts[.problemHint, language], size: layout.bodySize, colour: .accent,
                  in: Rect(x: 6 * u, y: layout.height / 4 + 25 * u, width: layout.width - 12 * u, height: 16 * u), maxLines: 2)
        text.draw("\(texts[.technician, language]): \(detail)", size: layout.smallSize * 8 / 10,
                  colour: Colour(red: 150, green: 158, blue: 166),
                  in: Rect(x: 6 * u, y: layout.height - 12 * u, width: layout.width - 12 * u, height: 8 * u), maxLines: 2)
    }

    private func drawLanguageToggle(layout: ScreenLayout, language: Language) {
        let rect = layout.languageToggle
        let half = Rect(x: rect.x, y: rect.y, width: rect.width / 2, height: rect.height)
        let other = Rect(x: rect.x + rect.width / 2, y: rect.y, width: rect.width - rect.width / 2, height: rect.height)
        display.fill(rect, .panel, alpha: 230)
        let active = language == .zh ? half : other
        display.fill(active, .accent)
        text.draw("中文", size: layout.bodySize, colour: language == .zh ? .black : .white, in: half.inset(by: layout.unit))
        text.draw("English", size: layout.bodySize, colour: language == .en ? .black : .white, in: other.inset(by: layout.unit))
    }

    // MARK: Parts

    private func drawButton(_ label: String, in rect: Rect, fill: Colour, layout: ScreenLayout) {
        display.fill(rect, fill)
        text.draw(label, size: layout.headingSize, colour: fill.textColour, in: rect.inset(by: 2 * layout.unit))
    }

    private func drawIcon(_ category: WasteCategory, in rect: Rect) {
        if let icon = icons[category] {
            display.draw(icon, in: rect)
        } else {
            display.fill(rect, Colour(hex: catalogue.info(for: category).color) ?? .panel)
        }
    }
}
