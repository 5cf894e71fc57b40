// Text for people: numbers, sizes, aligned tables and typo suggestions.
import Foundation

/// A whole number without a decimal point, anything else as Swift prints it.
public func formatNumber(_ v: Double) -> String {
    v.isFinite && v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
}

/// Bytes as a whole number of MiB with thousands separators.
public func mebibytes(_ bytes: Int) -> String { grouped(bytes >> 20) + " MiB" }

/// 8335939 -> "8,335,939".
public func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (k, c) in digits.enumerated() {
        if k > 0 && (digits.count - k) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + out
}

/// "1 image", "3 images" (with `thousands`: "1,200 images"): for messages whose count can be 1.
public func counted(_ n: Int, _ noun: String, plural: String? = nil, thousands: Bool = false) -> String {
    (thousands ? grouped(n) : String(n)) + " " + (n == 1 ? noun : plural ?? noun + "s")
}

/// Rows of cells as aligned columns; columns in `rightAligned` (numbers) are aligned right, their
/// headers too, so that every number ends under the end of its header.
public func textTable(_ rows: [[String]], rightAligned: Set<Int> = []) -> String {
    let widths = (0..<(rows.first?.count ?? 0)).map { c in rows.map { $0[c].count }.max() ?? 0 }
    return rows.map { row in
        row.enumerated().map { c, cell in
            rightAligned.contains(c)
                ? String(repeating: " ", count: widths[c] - cell.count) + cell
                : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }.map { line in
        // Only the end is trimmed: a right-aligned first column keeps its leading spaces.
        String(line.reversed().drop(while: { $0 == " " }).reversed())
    }.joined(separator: "\n")
}

/// The candidate with the smallest edit distance, if it is close enough to be a likely typo.
public func closest(_ word: String, among candidates: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let saved = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = saved
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
    let scored = candidates.map { ($0, distance(Array(word), Array($0))) }.min { $0.1 < $1.1 }
    guard let (best, d) = scored, d <= max(2, best.count / 3) else { return nil }
    return best
}

/// `date` in UTC with a fixed (POSIX) format, for file names.
public func utcDate(_ date: Date, _ format: String) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = format
    return formatter.string(from: date)
}
