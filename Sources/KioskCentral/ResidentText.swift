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
        "points": ("我的积分", "My points"),
        "claim_title": ("领取积分", "Claim your points"),
        "claim_intro": ("输入昵称和 PIN 码领取这次分类的积分。第一次领取时会用它们开一个积分账户，不需要其他个人信息。",
                        "Enter a nickname and a PIN to claim this scan's points. Your first claim opens an account with them; nothing else about you is asked."),
        "nickname": ("昵称", "Nickname"),
        "pin": ("PIN 码（4–8 位数字）", "PIN (4–8 digits)"),
        "claim_button": ("领取积分", "Claim points"),
        "balance_button": ("查看积分", "Show my points"),
        "credited": ("已到账", "Added"),
        "pending": ("已登记：这次分类的记录上传到服务器后，积分会自动到账。", "Claimed: the points are added as soon as the kiosk's record of the scan reaches the server."),
        "balance": ("积分余额", "Balance"),
        "pending_count": ("待到账", "Waiting"),
        "history": ("最近的领取", "Recent claims"),
        "state_credited": ("已到账", "added"),
        "state_pending": ("待到账", "waiting"),
        "state_void": ("无积分", "no points"),
        "no_code": ("这个链接里没有积分码，请用手机扫描分类站屏幕上的二维码。", "This link holds no points code: scan the QR code on the kiosk's screen with your phone."),
        "refused": ("未能领取", "Not claimed"),
        "points_unit": ("积分", "points"),
    ]

    static func text(_ key: String, _ language: Language) -> String {
        guard let entry = texts[key] else { return key }
        return language == .zh ? entry.zh : entry.en
    }
}
