// The ranks of an `mpirun` job, over OpenMPI (built with `--traits MPI`). Only the main thread
// calls MPI; the kernels' threads never do.
#if MPI
    import CMPI
    import Foundation
    import Rivers

    final class MPICommunicator: Communicator {
        let rank: Int
        let size: Int
        private let world = rivers_mpi_world()

        init() {
            var provided: Int32 = 0
            MPI_Init_thread(nil, nil, Int32(MPI_THREAD_FUNNELED), &provided)
            var r: Int32 = 0, s: Int32 = 0
            MPI_Comm_rank(world, &r)
            MPI_Comm_size(world, &s)
            rank = Int(r)
            size = Int(s)
        }

        /// Sums to rank 0, then sends the sum to every rank: every rank holds the same bits (an
        /// all-reduce may add in another order on each rank), so every rank takes the same step.
        func allReduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) {
            for start in stride(from: 0, to: count, by: Int(Int32.max)) {
                let n = Int32(min(count - start, Int(Int32.max)))
                let p = values + start
                if rank == 0 {
                    MPI_Reduce(rivers_mpi_in_place(), p, n, rivers_mpi_float(), rivers_mpi_sum(), 0, world)
                } else {
                    MPI_Reduce(p, nil, n, rivers_mpi_float(), rivers_mpi_sum(), 0, world)
                }
                MPI_Bcast(p, n, rivers_mpi_float(), 0, world)
            }
        }

        func allReduceSum(_ values: inout [Double]) {
            let n = Int32(values.count)
            values.withUnsafeMutableBufferPointer { b in
                if rank == 0 {
                    MPI_Reduce(rivers_mpi_in_place(), b.baseAddress, n, rivers_mpi_double(), rivers_mpi_sum(), 0, world)
                } else {
                    MPI_Reduce(b.baseAddress, nil, n, rivers_mpi_double(), rivers_mpi_sum(), 0, world)
                }
                MPI_Bcast(b.baseAddress, n, rivers_mpi_double(), 0, world)
            }
        }

        func broadcast(_ data: Data, root: Int) -> Data {
            var length = Int64(data.count)
            MPI_Bcast(&length, 1, rivers_mpi_int64(), Int32(root), world)
            var bytes = rank == root ? [UInt8](data) : [UInt8](repeating: 0, count: Int(length))
            if length > 0 { MPI_Bcast(&bytes, Int32(length), rivers_mpi_byte(), Int32(root), world) }
            return Data(bytes)
        }

        func barrier() { MPI_Barrier(world) }

        func abort(status: Int32) -> Never {
            MPI_Abort(world, status)
            exit(status)
        }

        func finalize() { MPI_Finalize() }
    }
#endif
