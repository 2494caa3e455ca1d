/// Charts drawn on the server as SVG: no script, nothing fetched from elsewhere, readable on a phone (they scale
/// with the page through their viewBox).
enum SVGCharts {
    /// Horizontal bars with a label, the count and the share.
    static func bars(_ items: [(label: String, value: Int, colour: String)], id: String) -> String {
        let total = max(1, items.reduce(0) { $0 + $1.value })
        let maximum = max(1, items.map(\.value).max() ?? 1)
        let row = 34, width = 640, labelWidth = 170, valueWidth = 150
        var svg = "<svg id=\"\(id)\" viewBox=\"0 0 \(width) \(items.count * row + 8)\" role=\"img\" class=\"chart\">"
        for (i, item) in items.enumerated() {
            let y = 4 + i * row
            let w = (width - labelWidth - valueWidth) * item.value / maximum
            svg += "<text x=\"0\" y=\"\(y + 22)\" class=\"l\">\(HTML.escape(item.label))</text>"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y + 4)\" width=\"\(max(w, item.value > 0 ? 2 : 0))\" height=\"24\" fill=\"\(item.colour)\" rx=\"3\"/>"
            svg += "<text x=\"\(labelWidth + w + 8)\" y=\"\(y + 22)\" class=\"v\">\(HTML.number(item.value)) · \(HTML.percent(Double(item.value) / Double(total)))</text>"
        }
        return svg + "</svg>"
    }

    /// Columns over a sequence (days, hours), with a few axis labels.
    static func columns(_ items: [(label: String, value: Int)], id: String, colour: String = "#005BAC", labelEvery: Int = 1) -> String {
        let width = 640, height = 220, bottom = 30, left = 46
        let maximum = max(1, items.map(\.value).max() ?? 1)
        let step = Double(width - left) / Double(max(1, items.count))
        var svg = "<svg id=\"\(id)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" class=\"chart\">"
        svg += "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width)\" y2=\"\(height - bottom)\" stroke=\"#999\"/>"
        svg += "<text x=\"\(left - 6)\" y=\"14\" class=\"a\" text-anchor=\"end\">\(HTML.number(maximum))</text>"
        svg += "<text x=\"\(left - 6)\" y=\"\(height - bottom)\" class=\"a\" text-anchor=\"end\">0</text>"
        for (i, item) in items.enumerated() {
            let h = (height - bottom - 20) * item.value / maximum
            let x = Double(left) + Double(i) * step
            svg += "<rect x=\"\(String(format: "%.1f", x + step * 0.15))\" y=\"\(height - bottom - h)\" width=\"\(String(format: "%.1f", step * 0.7))\" height=\"\(h)\" fill=\"\(colour)\"><title>\(HTML.escape(item.label)): \(item.value)</title></rect>"
            if i % labelEvery == 0 {
                svg += "<text x=\"\(String(format: "%.1f", x + step / 2))\" y=\"\(height - 10)\" class=\"a\" text-anchor=\"middle\">\(HTML.escape(item.label))</text>"
            }
        }
        return svg + "</svg>"
    }
}
