// The processes of one job: a single process, or the ranks of an MPI job (the `rivers` executable
// built with the MPI trait supplies that one). Training all-reduces its gradient slab through
// this; generation splits its plan's items by rank.
import Foundation

public protocol Communicator: AnyObject {
    /// This process's place, 0 ..< size; rank 0 writes what the job writes once.
    var rank: Int { get }
    var size: Int { get }
    /// Replaces `values` on every rank by their element-wise sum over the ranks.
    func allReduceSum(_ values: UnsafeMutablePointer<Float>, count: Int)
    func allReduceSum(_ values: inout [Double])
    /// Rank `root`'s bytes, on every rank.
    func broadcast(_ data: Data, root: Int) -> Data
    func barrier()
    /// Ends every rank of the job at once with `status` (after this rank printed why).
    func abort(status: Int32) -> Never
}

extension Communicator {
    public var isRoot: Bool { rank == 0 }

    /// Every rank's bytes, in rank order, on every rank.
    public func allGather(_ data: Data) -> [Data] {
        (0..<size).map { broadcast($0 == rank ? data : Data(), root: $0) }
    }

    /// The items of `count` that this rank takes: item i goes to rank i mod size.
    public func share(of count: Int) -> [Int] { Array(stride(from: rank, to: count, by: size)) }
}

/// The communicator of a job of one process: every collective is the identity.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allReduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) {}
    public func allReduceSum(_ values: inout [Double]) {}
    public func broadcast(_ data: Data, root: Int) -> Data { data }
    public func barrier() {}
    public func abort(status: Int32) -> Never { exit(status) }
}

/// The job this process belongs to; the executable replaces it at start under `mpirun`.
public enum Job {
    nonisolated(unsafe) public static var world: Communicator = SingleProcess()
}
