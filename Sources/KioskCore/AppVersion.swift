/// The kiosk software's version, reported in heartbeats and by `--version` (bumped with each release).
public enum AppVersion {
    public static let current = "1.2.0"
}
