// A thread-safe progress bar with rate and ETA on standard error.
import Foundation

public final class ProgressBar: @unchecked Sendable {
    private let title: String
    private let unit: String
    private let total: Int
    /// Units done: whole units, or fractions of them (an image a sampler step at a time).
    private var done = 0.0
    private let start = Date()
    private var lastDraw = Date.distantPast
    private let lock = NSLock()
    private let interactive: Bool
    private let enabled: Bool
    /// Text after the rate and ETA (losses, the run's ETA), set with `advance(by:note:)`.
    private var note = ""

    /// `enabled: false` makes every call a no-op (tests, --quiet).
    public init(title: String, total: Int, unit: String = "img", enabled: Bool = true) {
        self.title = title
        self.total = max(total, 0)
        self.unit = unit
        self.enabled = enabled
        self.interactive = isatty(2) != 0
    }

    public func advance(by n: Int = 1, note: String? = nil) { advance(fraction: Double(n), note: note) }

    /// Advances by part of a unit or more: `n` of them (an image's share of one sampler step of
    /// its batch, 1 / steps), so that the rate and the ETA move with every step.
    public func advance(fraction n: Double, note: String? = nil) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        done += n
        if let note { self.note = note }
        let now = Date()
        // A terminal redraws ten times a second; a log file gets a line every ten seconds.
        let interval = interactive ? 0.1 : 10
        if now.timeIntervalSince(lastDraw) >= interval || isComplete {
            lastDraw = now
            draw(now)
        }
    }

    /// Draws the final state; `clearing` removes the bar from a terminal instead (a summary line
    /// takes its place), and a log file gets its last line either way.
    public func finish(clearing: Bool = false) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        if interactive && clearing {
            FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8)!)
            return
        }
        if !isComplete || total == 0 { draw(Date()) }
        if interactive { FileHandle.standardError.write("\n".data(using: .utf8)!) }
    }

    /// Fractions that add up to a whole unit may fall short of it by a rounding error.
    private var shown: Int { Int((done + 1e-6).rounded(.down)) }
    private var isComplete: Bool { shown >= total }

    private func draw(_ now: Date) {
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? done / elapsed : 0
        let eta = rate > 0 ? max(Double(total) - done, 0) / rate : 0
        let width = 24
        let filled = total > 0 ? min(width, Int(done * Double(width) / Double(total))) : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        // Below one unit a second, two decimals (0.25 img/s, not 0.2).
        let line =
            "\(title) [\(bar)] \(shown)/\(total)  \(String(format: rate < 1 ? "%.2f" : "%.1f", rate)) \(unit)/s  ETA \(ProgressBar.clock(eta))"
            + (note.isEmpty ? "" : "  " + note)
        let text = interactive ? "\r\u{1B}[K" + line : line + "\n"
        FileHandle.standardError.write(text.data(using: .utf8)!)
    }

    /// Seconds as h:mm:ss or m:ss; "-" for a value that is not a duration (NaN, infinite,
    /// negative), ">999h" from 1000 hours on. Never traps.
    public static func clock(_ seconds: Double) -> String {
        // Half a second below zero still rounds to 0:00.
        guard seconds.isFinite, seconds > -0.5 else { return "-" }
        // 1000 hours (six weeks) is beyond any duration worth reading to the second; the bound also
        // keeps the conversion to Int far from overflow.
        guard seconds < 1000 * 3600 - 0.5 else { return ">999h" }
        let s = max(Int(seconds.rounded()), 0)
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
