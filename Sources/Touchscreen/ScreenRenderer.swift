import Foundation
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
        /// The points code for the answer on screen, drawn instead of the judged frame.
        var claim: Claim? = nil
    }

    /// A points code ready to draw: the QR code at whole pixels a module, and the points it is worth.
    struct Claim {
        var texture: Texture
        var points: Int
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
            drawBand(machine, layout: layout)
            if machine.offersLearnScreen {
                let rect = layout.learnButton
                display.fill(rect, .panel, alpha: 230)
                display.outline(rect, .accent, thickness: max(2, layout.unit / 2))
                text.draw(texts[.learn, language], size: layout.bodySize, colour: .accent, in: rect.inset(by: layout.unit))
            }
        case .learn:
            drawLearn(layout: layout, language: language)
        case .scanning:
            drawPicture(content.picture, layout: layout)
            display.fill(Rect(x: 0, y: 0, width: layout.width, height: layout.height), .black, alpha: 150)
            drawScanning(layout: layout, language: language, elapsed: content.scanningFor)
        case .emptyTray:
            drawPicture(content.picture, layout: layout)
            display.fill(Rect(x: 0, y: 0, width: layout.width, height: layout.height), .black, alpha: 120)
            drawMessageCard(title: texts[.emptyTrayTitle, language], body: texts[.emptyTrayHint, language], layout: layout)
        case .result(_, let shown, let corrected):
            drawResult(shown: shown, corrected: corrected, machine: machine, layout: layout, claim: content.claim)
            if let claim = content.claim {
                drawClaim(claim, in: layout.resultPicture)
            } else {
                drawJudged(content.picture, in: layout.resultPicture, layout: layout)
            }
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

    /// Ready's lower band: the prompt, a lesson, a quiz question with the six bins, or its answer and reason.
    private func drawBand(_ machine: ScreenMachine, layout: ScreenLayout) {
        let language = machine.language
        let u = layout.unit
        switch machine.band {
        case .prompt:
            drawPrompt(layout: layout, language: language)
        case .lesson(let index):
            let lesson = machine.lessons[index]
            let band = layout.promptBand
            display.fill(band, .black, alpha: 200)
            let iconSide = band.height - 6 * u
            let icon = Rect(x: band.x + 3 * u, y: band.y + 3 * u, width: iconSide, height: iconSide)
            drawIcon(lesson.category, in: icon)
            let column = Rect(x: icon.maxX + 3 * u, y: band.y + 2 * u, width: band.maxX - icon.maxX - 6 * u, height: band.height - 4 * u)
            text.draw(texts[.lessonTitle, language], size: layout.smallSize, colour: .accent,
                      in: Rect(x: column.x, y: column.y, width: column.width, height: 6 * u), alignment: .leading)
            text.draw(lesson.text[language], size: layout.bodySize, colour: .white,
                      in: Rect(x: column.x, y: column.y + 6 * u, width: column.width, height: column.height - 6 * u),
                      maxLines: 2, alignment: .leading)
        case .question(let index):
            let band = layout.quizBand
            display.fill(band, .black, alpha: 215)
            drawQuestionLine(machine.questions[index].question[language], layout: layout, language: language)
            for (i, category) in WasteCategory.allCases.enumerated() {
                let rect = layout.quizButton(i)
                let info = catalogue.info(for: category)
                let colour = Colour(hex: info.color) ?? .panel
                display.fill(rect, colour)
                let iconSide = min(rect.height * 45 / 100, rect.width / 2)
                let icon = Rect(x: rect.centerX - iconSide / 2, y: rect.y + u, width: iconSide, height: iconSide)
                drawIcon(category, in: icon)
                text.draw(info.name[language], size: layout.smallSize, colour: colour.textColour,
                          in: Rect(x: rect.x + u, y: icon.maxY, width: rect.width - 2 * u, height: rect.maxY - icon.maxY - u / 2), maxLines: 2)
            }
        case .answered(let index, let chosen):
            let question = machine.questions[index]
            let band = layout.quizBand
            display.fill(band, .black, alpha: 215)
            drawQuestionLine(question.question[language], layout: layout, language: language)
            let right = chosen == question.answer
            let info = catalogue.info(for: question.answer)
            let row = Rect(x: band.x + 3 * u, y: band.y + 15 * u, width: band.width - 6 * u, height: 11 * u)
            let verdict = texts[right ? .quizRight : .quizWrong, language]
            let verdictWidth = min(row.width / 2, text.measure(verdict, size: layout.headingSize).width + 2 * u)
            text.draw(verdict, size: layout.headingSize, colour: right ? Colour(red: 120, green: 220, blue: 140) : Colour(red: 255, green: 150, blue: 140),
                      in: Rect(x: row.x, y: row.y, width: verdictWidth, height: row.height), alignment: .leading)
            let chip = Rect(x: row.x + verdictWidth + 2 * u, y: row.y, width: min(row.width - verdictWidth - 2 * u, 60 * u), height: row.height)
            let colour = Colour(hex: info.color) ?? .panel
            display.fill(chip, colour)
            let icon = Rect(x: chip.x + u, y: chip.y + u, width: chip.height - 2 * u, height: chip.height - 2 * u)
            drawIcon(question.answer, in: icon)
            text.draw(info.name[language], size: layout.bodySize, colour: colour.textColour,
                      in: Rect(x: icon.maxX + 2 * u, y: chip.y, width: chip.maxX - icon.maxX - 3 * u, height: chip.height), alignment: .leading)
            text.draw(question.reason[language], size: layout.bodySize, colour: .white,
                      in: Rect(x: band.x + 3 * u, y: row.maxY + 2 * u, width: band.width - 6 * u, height: band.maxY - row.maxY - 4 * u),
                      maxLines: 2, alignment: .leading)
        }
    }

    /// The quiz band's first line: "Quiz" and the question.
    private func drawQuestionLine(_ question: String, layout: ScreenLayout, language: Language) {
        let u = layout.unit
        let band = layout.quizBand
        let title = texts[.quizTitle, language]
        let titleWidth = text.measure(title, size: layout.smallSize).width + 3 * u
        let row = Rect(x: band.x + 3 * u, y: band.y + 2 * u, width: band.width - 6 * u, height: 12 * u)
        text.draw(title, size: layout.smallSize, colour: .accent, in: Rect(x: row.x, y: row.y, width: titleWidth, height: row.height),
                  alignment: .leading)
        text.draw(question, size: layout.headingSize, colour: .white,
                  in: Rect(x: row.x + titleWidth, y: row.y, width: row.width - titleWidth, height: row.height), maxLines: 2, alignment: .leading)
    }

    /// The six bins, each with its colour, icon, name and the common items it takes.
    private func drawLearn(layout: ScreenLayout, language: Language) {
        let u = layout.unit
        text.draw(texts[.learnTitle, language], size: layout.headingSize, colour: .accent,
                  in: Rect(x: 4 * u, y: layout.languageToggle.maxY + u, width: layout.width - 8 * u, height: 11 * u))
        let items = catalogue.items ?? []
        for (i, category) in WasteCategory.allCases.enumerated() {
            let rect = layout.learnCard(i)
            let info = catalogue.info(for: category)
            let colour = Colour(hex: info.color) ?? .panel
            display.fill(rect, .panel)
            let head = Rect(x: rect.x, y: rect.y, width: rect.width, height: min(14 * u, rect.height / 3))
            display.fill(head, colour)
            let icon = Rect(x: head.x + u, y: head.y + u, width: head.height - 2 * u, height: head.height - 2 * u)
            drawIcon(category, in: icon)
            text.draw(info.name[language], size: layout.bodySize, colour: colour.textColour,
                      in: Rect(x: icon.maxX + 2 * u, y: head.y, width: head.maxX - icon.maxX - 3 * u, height: head.height), alignment: .leading)
            let names = items.filter { $0.category == category }.prefix(8).map { $0.name[language] }
            text.draw(names.joined(separator: language == .zh ? "、" : ", "), size: layout.smallSize, colour: .white,
                      in: Rect(x: rect.x + 2 * u, y: head.maxY + u, width: rect.width - 4 * u, height: rect.maxY - head.maxY - 2 * u),
                      maxLines: 5, alignment: .leading, verticallyCentered: false)
        }
        drawButton(texts[.back, language], in: layout.backButton, fill: .panel, layout: layout)
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

    /// The QR code on white, centred in the square where the judged frame would be.
    private func drawClaim(_ claim: Claim, in rect: Rect) {
        display.fill(rect, .white)
        let side = min(claim.texture.width, rect.width)
        display.draw(claim.texture, in: Rect(x: rect.centerX - side / 2, y: rect.centerY - side / 2, width: side, height: side))
    }

    private func drawResult(shown: Choice, corrected: Bool, machine: ScreenMachine, layout: ScreenLayout, claim: Claim?) {
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
        var noteTop = bottom - 6 * u
        if let claim {
            // What the code is for, above the confidence line.
            noteTop -= 7 * u
            text.draw(texts[.claimPoints, language].replacingOccurrences(of: "{points}", with: "\(claim.points)"), size: layout.smallSize,
                      colour: .accent, in: Rect(x: column.x, y: noteTop + 6 * u, width: width, height: 7 * u), maxLines: 1, alignment: .leading)
        }
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
