import KioskCore

/// The resident page's own words in both languages (the bins, items and quiz come from the catalogue).
enum ResidentText {
    private static let texts: [String: (zh: String, en: String)] = [
        "title": ("垃圾分类小助手", "Which bin?"),
        "intro": ("拍张照片或输入名称，看看它该投进哪个桶。", "Take a photo or type a name to see which bin it goes in."),
        "photo": ("拍照识别", "Photo"),
        "photo_button": ("拍照或选择照片", "Take or choose a photo"),
        "photo_note": ("照片只用于识别，不会保存。", "Photos are only used to answer and are not kept."),
        "working": ("正在识别…", "Recognising…"),
        "not_sure": ("不太确定，也可能是：", "Not sure. It could also be:"),
        "confidence": ("把握", "Confidence"),
        "photo_failed": ("无法识别这张照片", "This photo could not be recognised"),
        "no_engine": ("本服务器未开启拍照识别，请使用搜索。", "Photo recognition is not set up on this server; please search instead."),
        "search": ("搜索物品", "Search"),
        "search_placeholder": ("例如：电池、dianchi、dc", "e.g. battery, plastic bottle"),
        "search_button": ("搜索", "Search"),
        "no_results": ("没有找到，换个说法试试，或在分类站拍照识别。", "Nothing found. Try another word, or scan it at a sorting station."),
        "query_too_long": ("搜索词太长了", "That search is too long"),
        "quiz": ("小测验", "Quiz"),
        "right": ("答对了！", "Right!"),
        "wrong": ("不对哦，应投入：", "Not quite. It goes in:"),
        "next": ("下一题", "Next question"),
        "did_you_know": ("你知道吗？", "Did you know?"),
        "unknown_question": ("这道题已不存在，来试试新的一题。", "That question no longer exists; here is a new one."),
        "bins": ("六类垃圾", "The six bins"),
    ]

    static func text(_ key: String, _ language: Language) -> String {
        guard let entry = texts[key] else { return key }
        return language == .zh ? entry.zh : entry.en
    }
}
