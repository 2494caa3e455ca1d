import ArgumentParser
import Camera
import KioskCore
import Testing

@testable import KioskApp

/// The camera controls `kiosk run` and `kiosk camera …` share: the command line wins, then the configuration
/// file's `camera` section, then the defaults.
struct CameraControlOptionsTests {
    let file = KioskConfiguration.Camera(modes: ["YUYV:640x480@30"], exposure: .fixed(150), whiteBalance: .fixed(4600), focus: .auto)

    @Test func withoutOptionsTheFileDecides() throws {
        let settings = try CameraControlOptions.parse([]).settings(device: "/dev/video2", file: file)
        #expect(settings.device == "/dev/video2")
        #expect(settings.modes == [CaptureMode(format: .yuyv, width: 640, height: 480, framesPerSecond: 30)])
        #expect(settings.exposure == .manual(150))
        #expect(settings.whiteBalance == .kelvin(4600))
        #expect(settings.focus == .auto)
    }

    @Test func theCommandLineWinsOverTheFile() throws {
        let options = try CameraControlOptions.parse(["--mode", "MJPG:1920x1080@30", "--mode", "MJPG:1280x720@30",
                                                      "--exposure", "auto", "--focus", "40"])
        let settings = try options.settings(device: "/dev/video0", file: file)
        #expect(settings.modes == [CaptureMode(format: .mjpeg, width: 1920, height: 1080, framesPerSecond: 30),
                                   CaptureMode(format: .mjpeg, width: 1280, height: 720, framesPerSecond: 30)])
        #expect(settings.exposure == .auto)
        #expect(settings.whiteBalance == .kelvin(4600))
        #expect(settings.focus == .fixed(40))
    }

    @Test func withNeitherEverythingIsAutomaticWithTheBuiltInModes() throws {
        let settings = try CameraControlOptions.parse([]).settings(device: "/dev/video0")
        #expect(settings == CameraSettings(device: "/dev/video0"))
    }

    @Test(arguments: [["--exposure", "bright"], ["--focus", "near"], ["--focus=-3"], ["--white-balance", "99999999999"], ["--mode", "MJPG:big"]])
    func badValuesAreRefused(arguments: [String]) throws {
        let options = try CameraControlOptions.parse(arguments)
        #expect(throws: ExitCode.self) { try options.settings(device: "/dev/video0") }
    }

    /// The configuration parser checks the controls but not the modes' syntax, so a bad mode is found here.
    @Test func aBadModeInTheFileIsRefusedToo() throws {
        let bad = KioskConfiguration.Camera(modes: ["MJPG:1280x720@30", "YUYV:small"])
        #expect(throws: ExitCode.self) { try CameraControlOptions.parse([]).settings(device: "/dev/video0", file: bad) }
    }
}
