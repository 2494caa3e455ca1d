import KioskCore

/// The dashboard's words in both languages, and the bins' names and colours (those of the kiosk's catalogue).
enum DashboardText {
    static let bins: [(id: String, zh: String, en: String, colour: String)] = [
        ("recyclable", "可回收物", "Recyclable", "#005BAC"),
        ("hazardous", "有害垃圾", "Hazardous", "#D7000F"),
        ("kitchen", "厨余垃圾", "Kitchen / food", "#00843D"),
        ("other", "其他垃圾", "Other / residual", "#6E6E6E"),
        ("e-waste", "电子废弃物", "E-waste", "#E87722"),
        ("bulky", "大件垃圾", "Bulky", "#8B5A2B"),
    ]

    private static let texts: [String: (zh: String, en: String)] = [
        "title": ("垃圾分类站 · 运营统计", "Sorting stations · operations"),
        "health": ("分类站状态", "Kiosk health"),
        "last_heard": ("最近心跳", "Last heard"),
        "app": ("软件", "App"),
        "camera": ("摄像头", "Camera"),
        "disk": ("磁盘剩余", "Disk free"),
        "uptime": ("运行时间", "Uptime"),
        "temperature": ("温度", "Temp."),
        "status": ("状态", "Status"),
        "healthy": ("正常", "OK"),
        "silent": ("失联", "silent"),
        "no_heartbeats": ("还没有分类站发来心跳", "No kiosk has sent a heartbeat yet"),
        "health_note": ("超过 %@ 没有心跳的分类站标为失联。", "A kiosk not heard from for more than %@ is marked silent."),
        "rollout": ("模型发布", "Model rollout"),
        "assigned": ("已指定", "Assigned"),
        "running": ("正在运行", "Running"),
        "field_accuracy": ("各模型的实地准确率", "Field accuracy per model"),
        "field_note": ("按所选日期内的扫描统计；居民更正的答案计为错误。", "Scans in the chosen days; an answer a resident corrected counts as wrong."),
        "right_share": ("未被更正", "Not corrected"),
        "quiz": ("居民小测验", "Residents' quiz"),
        "points": ("居民积分", "Residents' points"),
        "no_points": ("所选日期内没有领取积分", "No points claimed in these days"),
        "claims": ("领取", "Claims"),
        "credited": ("已到账", "Credited"),
        "pending": ("待到账", "Pending"),
        "void": ("无积分", "Void"),
        "points_total": ("积分", "Points"),
        "day": ("日期", "Day"),
        "export_points": ("导出积分 CSV", "Export points (CSV)"),
        "points_note": ("按二维码显示的日期统计。待到账：居民已领取，但这次扫描的记录还未上传；无积分：扫描后被更正、来自其他分类站或该类不计积分。",
                        "By the day the code was shown. Pending: claimed before the kiosk's record of the scan arrived. Void: the scan was corrected, came from another kiosk, or its bin earns no points."),
        "no_quiz": ("还没有测验答题记录", "No quiz answers yet"),
        "bin": ("分类", "Bin"),
        "answered": ("答题数", "Answered"),
        "right": ("答对率", "Right"),
        "mastery": ("掌握程度", "Mastery"),
        "question": ("题目", "Question"),
        "quiz_hardest": ("最容易答错的题目", "What residents get wrong most"),
        "quiz_note": ("全部时间的答题（不受日期筛选影响）；掌握程度：答对率 ≥ 80% 精通，≥ 60% 熟练，其余需加强。", "All answers held (the date filter does not apply); mastery: ≥ 80% right is mastered, ≥ 60% proficient, otherwise needs work."),
        "signin": ("登录", "Sign in"),
        "name": ("用户名", "Name"),
        "password": ("密码", "Password"),
        "signout": ("退出", "Sign out"),
        "bad_login": ("用户名或密码错误", "Wrong name or password"),
        "locked": ("尝试次数过多，请稍后再试", "Too many attempts; try again later"),
        "from": ("开始", "From"),
        "to": ("结束", "To"),
        "kiosk": ("站点", "Kiosk"),
        "all_kiosks": ("全部站点", "All kiosks"),
        "apply": ("查看", "Show"),
        "today": ("今天", "Today"),
        "last_7": ("近7天", "Last 7 days"),
        "last_30": ("近30天", "Last 30 days"),
        "in_range": ("所选期间", "Selected range"),
        "not_sure": ("不确定占比", "Not sure"),
        "per_category": ("各类别占比", "Share per bin"),
        "trend": ("每日识别量（近30天）", "Scans per day (last 30 days of the range)"),
        "hours": ("繁忙时段", "Busiest hours"),
        "kiosks": ("站点", "Kiosks"),
        "last_sync": ("最近同步", "Last sync"),
        "newest_scan": ("最新识别", "Newest scan"),
        "records": ("记录（期间/全部）", "Records (range / all)"),
        "model": ("模型版本", "Model version"),
        "accuracy": ("现场准确性（居民更正）", "Field accuracy (residents' corrections)"),
        "label": ("识别结果", "Model's answer"),
        "answers": ("次数", "Answers"),
        "corrected": ("被更正", "Corrected"),
        "corrected_to": ("更正为", "Corrected to"),
        "export": ("导出CSV", "Export CSV"),
        "never": ("从未", "never"),
        "no_records": ("此期间没有记录", "No records in this range"),
        "kiosk_page": ("站点详情", "Kiosk"),
        "back": ("返回总览", "Back to the overview"),
        "not_sure_note": ("“不确定”：终端显示了“不太确定”页面；未注明的记录按终端默认阈值估算（置信度低于0.55或与第二结果相差小于0.15）",
                          "\"Not sure\": the kiosk showed its not-sure screen; records that do not say are estimated with the kiosks' default thresholds (confidence below 0.55 or within 0.15 of the second guess)"),
    ]

    static func text(_ key: String, _ language: Language) -> String {
        guard let t = texts[key] else { return key }
        return language == .zh ? t.zh : t.en
    }

    static func bin(_ id: String, _ language: Language) -> String {
        guard let b = bins.first(where: { $0.id == id }) else { return id }
        return language == .zh ? b.zh : b.en
    }

    static func colour(_ id: String) -> String { bins.first { $0.id == id }?.colour ?? "#888888" }
}
