import KioskCore

/// Recognises the empty tray. It learns what the tray looks like from Ready frames while nothing changes, and
/// follows slow lighting drift; a captured frame that matches it holds no item.
///
/// Frames are reduced to a coarse grid of mean colours (a signature). Two signatures differ where a cell changed
/// by more than `cellThreshold`; the tray is empty when under `emptyFraction` of the cells differ from the
/// background. A change in overall brightness (auto exposure) is removed before comparing.
public struct TrayBackground: Sendable {
    public struct Settings: Sendable, Equatable {
        public var columns = 32
        public var rows = 18
        /// Per-cell difference (0…255, mean of the channels) that counts as changed.
        public var cellThreshold: Float = 22
        /// Below this share of changed cells two signatures show the same scene.
        public var emptyFraction: Float = 0.015
        /// How long the scene must stay unchanged before it is learned.
        public var settleTime: Duration = .seconds(2)
        /// A settled scene unlike the background replaces it after this long (the tray was moved, the light
        /// changed for good); an item left on the tray that long without a scan is taken as part of the tray.
        public var relearnTime: Duration = .seconds(120)

        public init() {}
    }

    public struct Signature: Sendable, Equatable {
        var cells: [Float]
    }

    public let settings: Settings
    public private(set) var background: Signature?
    private var previous: Signature?
    private var previousAt: ContinuousClock.Instant?
    private var stillSince: ContinuousClock.Instant?

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// Feeds a Ready frame (a few per second is plenty).
    public mutating func observe(_ image: RGBImage, at now: ContinuousClock.Instant) {
        let signature = signature(of: image)
        let previousAt = self.previousAt
        defer {
            previous = signature
            self.previousAt = now
        }
        guard let previous, let previousAt, changedFraction(previous, signature) < settings.emptyFraction else {
            stillSince = nil
            return
        }
        // Still since the first of the unchanged frames.
        let since = stillSince ?? previousAt
        stillSince = since
        let stillFor = now - since
        guard let background else {
            if stillFor >= settings.settleTime { self.background = signature }
            return
        }
        if changedFraction(background, signature) < settings.emptyFraction {
            // Same scene: follow slow drift of the light.
            var blended = background
            for i in blended.cells.indices { blended.cells[i] = 0.9 * blended.cells[i] + 0.1 * signature.cells[i] }
            self.background = blended
        } else if stillFor >= settings.relearnTime {
            self.background = signature
        }
    }

    /// Forgets the background (e.g. after the camera reconnects).
    public mutating func reset() {
        background = nil
        previous = nil
        previousAt = nil
        stillSince = nil
    }

    /// True when the frame shows the learned empty tray; false when something is on it or nothing is learned yet.
    public func isEmpty(_ image: RGBImage) -> Bool {
        guard let background else { return false }
        return changedFraction(background, signature(of: image)) < settings.emptyFraction
    }

    /// Share of cells that differ between two signatures, after removing a uniform brightness change.
    func changedFraction(_ a: Signature, _ b: Signature) -> Float {
        let count = a.cells.count
        guard count == b.cells.count, count > 0 else { return 1 }
        var offset: Float = 0
        for i in 0..<count { offset += b.cells[i] - a.cells[i] }
        offset /= Float(count)
        var changed = 0
        for i in 0..<count where abs(b.cells[i] - a.cells[i] - offset) > settings.cellThreshold { changed += 1 }
        return Float(changed) / Float(count)
    }

    /// Mean colour (channels averaged) of each grid cell, from a sparse sample of its pixels.
    func signature(of image: RGBImage) -> Signature {
        let columns = settings.columns, rows = settings.rows
        var cells = [Float](repeating: 0, count: columns * rows)
        let step = max(1, min(image.width / columns, image.height / rows) / 6)
        image.pixels.withUnsafeBufferPointer { p in
            for row in 0..<rows {
                let y0 = row * image.height / rows, y1 = max(y0 + 1, (row + 1) * image.height / rows)
                for column in 0..<columns {
                    let x0 = column * image.width / columns, x1 = max(x0 + 1, (column + 1) * image.width / columns)
                    var sum = 0, n = 0
                    var y = y0
                    while y < y1 {
                        var x = x0
                        while x < x1 {
                            let o = (y * image.width + x) * 3
                            sum += Int(p[o]) + Int(p[o + 1]) + Int(p[o + 2])
                            n += 3
                            x += step
                        }
                        y += step
                    }
                    cells[row * columns + column] = Float(sum) / Float(max(n, 1))
                }
            }
        }
        return Signature(cells: cells)
    }
}
