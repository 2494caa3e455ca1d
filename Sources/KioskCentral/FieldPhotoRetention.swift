import Central
import KioskCore
import Logging

/// Deletes field photos older than the retention: once when the server starts, then once a day.
struct FieldPhotoRetention: Sendable {
    let days: Int
    let logger: Logger
    var clock: any Clock<Duration> = ContinuousClock()

    func run(_ store: CentralStore) async {
        while !Task.isCancelled {
            let cutoff = WallClock.nowMilliseconds - Int64(days) * 86_400_000
            do {
                let deleted = try await store.deleteFieldPhotos(takenBeforeMilliseconds: cutoff)
                if deleted > 0 { logger.info("field photos past their retention deleted", metadata: ["count": "\(deleted)", "days": "\(days)"]) }
            } catch {
                logger.error("field photo retention: \(error)")
            }
            do {
                try await clock.sleep(for: .seconds(86_400))
            } catch {
                return
            }
        }
    }
}
