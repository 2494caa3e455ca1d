import Central
import Foundation
import KioskCore
import SyncWire
import Testing

/// Heartbeats: what the server accepts, keeps and flags.
@Suite struct KioskHealthTests {
    static func beat(_ kiosk: String = "station-a", sent: Int64 = 1_795_000_000_000, camera: String = "ok") -> Heartbeat {
        Heartbeat(kiosk: kiosk, sentAtMilliseconds: sent, appVersion: "1.2.0", modelVersion: String(repeating: "a", count: 64),
                  camera: camera, diskFreeBytes: 20_000_000_000, pending: 3, refused: 0, uptimeSeconds: 86_400,
                  cpuTemperatureCelsius: 51.2)
    }

    @Test func insaneHeartbeatsAreNamedAndSaneOnesPass() {
        #expect(Self.beat().problem() == nil)
        var b = Self.beat()
        b.pending = -1
        #expect(b.problem() == "counts, disk, uptime and time must not be negative")
        b = Self.beat()
        b.lastError = String(repeating: "x", count: 501)
        #expect(b.problem() == "last_error is longer than 500 bytes")
        b = Self.beat()
        b.cpuTemperatureCelsius = .nan
        #expect(b.problem() != nil)
        b = Self.beat("bad name!")
        #expect(b.problem() != nil)
    }

    @Test func aKioskIsFlaggedWhenSilentOrUnhealthy() {
        let now: Int64 = 1_795_000_100_000
        let fine = KioskHealth(heartbeat: Self.beat(), receivedAtMilliseconds: now - 1000)
        #expect(fine.problems(now: now, silentAfterMilliseconds: 60_000).isEmpty)
        #expect(fine.problems(now: now + 120_000, silentAfterMilliseconds: 60_000) == ["silent"])
        var b = Self.beat(camera: "/dev/video0: no camera found (is it plugged in?)")
        b.diskFreeBytes = 100_000_000
        b.refused = 2
        b.modelError = "model refused"
        b.cpuTemperatureCelsius = 85
        #expect(KioskHealth(heartbeat: b, receivedAtMilliseconds: now).problems(now: now, silentAfterMilliseconds: 60_000)
                == ["camera", "disk", "refused records", "model", "temperature"])
    }

    @Test(arguments: Backend.available)
    func theNewestHeartbeatPerKioskIsKept(_ backend: Backend) async throws {
        let database = try await FreshDatabase.make(backend)
        try await database.store().whileRunning { store in
            try await store.recordHeartbeat(Self.beat(sent: 2000), receivedAtMilliseconds: 2100)
            var late = Self.beat(sent: 1000, camera: "busy")
            try await store.recordHeartbeat(late, receivedAtMilliseconds: 2200)  // older, arriving late: ignored
            try await store.recordHeartbeat(Self.beat("station-b", sent: 1500), receivedAtMilliseconds: 1600)
            var health = try await store.health()
            #expect(health.map(\.heartbeat.kiosk) == ["station-a", "station-b"])
            #expect(health[0] == KioskHealth(heartbeat: Self.beat(sent: 2000), receivedAtMilliseconds: 2100))
            late.sentAtMilliseconds = 3000
            late.cpuTemperatureCelsius = nil
            late.modelVersion = nil
            try await store.recordHeartbeat(late, receivedAtMilliseconds: 3100)
            health = try await store.health()
            #expect(health[0] == KioskHealth(heartbeat: late, receivedAtMilliseconds: 3100))
        }
        await database.remove()
    }
}
