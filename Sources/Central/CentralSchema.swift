/// The central database's schema: one list of versions, each a list of statements, spelled per dialect only in
/// its column types. Versions are only ever appended: a file or database at version n gets steps n+1… .
/// SQLite keeps the version in `PRAGMA user_version`, PostgreSQL in `kiosk_schema`, as they always have.
enum CentralSchema {
    static let versions: [[SQL]] = [
        [
            """
            CREATE TABLE devices (
                name \(.text) PRIMARY KEY NOT NULL,
                token_sha256 \(.text) NOT NULL UNIQUE,
                created_at_ms \(.int64) NOT NULL
            )
            """,
            """
            CREATE TABLE records (
                id \(.uuid) PRIMARY KEY NOT NULL,
                kiosk \(.text) NOT NULL,
                sequence \(.int64) NOT NULL,
                captured_at_ms \(.int64) NOT NULL,
                received_at_ms \(.int64) NOT NULL,
                label \(.text) NOT NULL,
                category \(.text) NOT NULL,
                confidence \(.double) NOT NULL,
                top \(.text) NOT NULL,
                model_version \(.text) NOT NULL,
                language \(.text) NOT NULL,
                correction \(.text),
                thumbnail \(.bytes)
            )
            """,
            "CREATE INDEX records_kiosk ON records (kiosk, sequence)",
            "CREATE INDEX records_captured ON records (captured_at_ms)",
        ],
        // The dashboard: rollups kept with the records (see Rollup), kiosks' latest state, operators.
        [
            """
            CREATE TABLE stats_daily (
                day \(.text) NOT NULL, kiosk \(.text) NOT NULL, label \(.text) NOT NULL, category \(.text) NOT NULL,
                correction \(.text) NOT NULL, uncertain \(.bool) NOT NULL, n \(.int64) NOT NULL,
                PRIMARY KEY (day, kiosk, label, category, correction, uncertain)
            )\(.withoutRowID)
            """,
            "CREATE INDEX stats_daily_kiosk ON stats_daily (kiosk, day)",
            """
            CREATE TABLE stats_hourly (
                day \(.text) NOT NULL, hour \(.int32) NOT NULL, kiosk \(.text) NOT NULL, n \(.int64) NOT NULL,
                PRIMARY KEY (day, kiosk, hour)
            )\(.withoutRowID)
            """,
            """
            CREATE TABLE kiosk_state (
                kiosk \(.text) PRIMARY KEY NOT NULL, last_batch_ms \(.int64), newest_scan_ms \(.int64),
                records \(.int64) NOT NULL DEFAULT 0, model_version \(.text)
            )
            """,
            """
            CREATE TABLE operators (
                name \(.text) PRIMARY KEY NOT NULL, salt \(.bytes) NOT NULL, hash \(.bytes) NOT NULL, rounds \(.int32) NOT NULL,
                created_at_ms \(.int64) NOT NULL
            )
            """,
            "CREATE TABLE server_settings (key \(.text) PRIMARY KEY NOT NULL, value \(.text) NOT NULL)",
        ],
        ["ALTER TABLE records ADD COLUMN asked \(.bool)"],
        // Quiz answers from the kiosks (and, later, the resident page): what residents get wrong.
        [
            """
            CREATE TABLE quiz_answers (
                id \(.uuid) PRIMARY KEY NOT NULL,
                kiosk \(.text) NOT NULL,
                answered_at_ms \(.int64) NOT NULL,
                received_at_ms \(.int64) NOT NULL,
                question \(.text) NOT NULL,
                answer \(.text) NOT NULL,
                correct \(.bool) NOT NULL,
                language \(.text) NOT NULL
            )
            """,
            "CREATE INDEX quiz_answers_answered ON quiz_answers (answered_at_ms)",
        ],
        // Residents' points: a nickname and PIN (nothing more personal), and each claimed code once.
        [
            """
            CREATE TABLE residents (
                nickname \(.text) PRIMARY KEY NOT NULL, salt \(.bytes) NOT NULL, hash \(.bytes) NOT NULL, rounds \(.int32) NOT NULL,
                created_at_ms \(.int64) NOT NULL, failures \(.int32) NOT NULL DEFAULT 0, locked_until_ms \(.int64)
            )
            """,
            """
            CREATE TABLE claims (
                record_id \(.uuid) PRIMARY KEY NOT NULL,
                kiosk \(.text) NOT NULL,
                resident \(.text) NOT NULL,
                issued_at_ms \(.int64) NOT NULL,
                claimed_at_ms \(.int64) NOT NULL,
                state \(.text) NOT NULL,
                category \(.text),
                points \(.int64) NOT NULL DEFAULT 0,
                settled_at_ms \(.int64),
                reason \(.text)
            )
            """,
            "CREATE INDEX claims_resident ON claims (resident, claimed_at_ms)",
            "CREATE INDEX claims_state ON claims (state)",
            "CREATE INDEX claims_issued ON claims (issued_at_ms)",
        ],
        // Models for the fleet: each file with its signed manifest, and the rollouts that assign them (the newest
        // rollout covering a kiosk decides its model).
        [
            """
            CREATE TABLE models (
                version \(.text) PRIMARY KEY NOT NULL,
                size \(.int64) NOT NULL,
                signed_manifest \(.text) NOT NULL,
                notes \(.text),
                added_at_ms \(.int64) NOT NULL,
                file \(.bytes) NOT NULL
            )
            """,
            """
            CREATE TABLE model_rollouts (
                id \(.uuid) PRIMARY KEY NOT NULL,
                version \(.text) NOT NULL REFERENCES models (version),
                kiosk \(.text),
                share_percent \(.int32) NOT NULL,
                created_at_ms \(.int64) NOT NULL
            )
            """,
            "CREATE INDEX model_rollouts_created ON model_rollouts (created_at_ms)",
        ],
        // Each kiosk's latest heartbeat: its health as it last reported it.
        [
            """
            CREATE TABLE kiosk_health (
                kiosk \(.text) PRIMARY KEY NOT NULL,
                received_at_ms \(.int64) NOT NULL,
                sent_at_ms \(.int64) NOT NULL,
                app_version \(.text) NOT NULL,
                model_version \(.text),
                model_error \(.text),
                camera \(.text) NOT NULL,
                disk_free_bytes \(.int64),
                pending \(.int64) NOT NULL,
                refused \(.int64) NOT NULL,
                uptime_s \(.int64),
                last_error \(.text),
                cpu_temp_c \(.double)
            )
            """,
        ],
        // Field photos from the kiosks (opt-in there) for retraining; kept for the retention, then deleted.
        [
            """
            CREATE TABLE field_photos (
                id \(.uuid) PRIMARY KEY NOT NULL,
                kiosk \(.text) NOT NULL,
                taken_at_ms \(.int64) NOT NULL,
                received_at_ms \(.int64) NOT NULL,
                label \(.text),
                source \(.text) NOT NULL,
                record_id \(.uuid),
                model_label \(.text),
                model_version \(.text),
                jpeg \(.bytes) NOT NULL
            )
            """,
            "CREATE INDEX field_photos_taken ON field_photos (taken_at_ms, id)",
        ],
    ]

    /// Brings the schema up to date inside the caller's transaction, and answers the version it found.
    /// A database newer than this program knows is refused, not touched.
    static func migrate(_ db: any SQLExecutor, database: String) async throws(CentralError) -> Int {
        let found: Int
        switch db.dialect {
        case .sqlite:
            found = Int(try await db.query("PRAGMA user_version").first?.int(0) ?? 0)
        case .postgres:
            // One migrator at a time, even with several servers starting together (released at commit).
            try await db.execute("SELECT pg_advisory_xact_lock(7345123)")
            try await db.execute("CREATE TABLE IF NOT EXISTS kiosk_schema (version INT NOT NULL)")
            found = Int(try await db.query("SELECT version FROM kiosk_schema").first?.int(0) ?? 0)
        }
        guard found <= versions.count else { throw .newerSchema(database: database, version: found, known: versions.count) }
        guard found < versions.count else { return found }
        for step in versions[found...] {
            for statement in step { try await db.execute(statement) }
        }
        switch db.dialect {
        case .sqlite:
            try await db.execute("PRAGMA user_version = \(literal: versions.count)")
        case .postgres:
            try await db.execute("DELETE FROM kiosk_schema")
            try await db.execute("INSERT INTO kiosk_schema (version) VALUES (\(bind: .integer(Int64(versions.count))))")
        }
        return found
    }
}
