internal import COpenBLAS
import KioskCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs one matrix product at a time split by columns across a fixed team of threads (the caller is one of
/// them), each slice a single-threaded `cblas_sgemm`. The team is made at load; a product allocates nothing,
/// where OpenBLAS's own threading mallocs a job array on every call.
final class GemmTeam {
    /// C[m×n] = A[m×k] · B[k×n] (row-major, contiguous), then + bias per row and ReLU when asked.
    struct Product {
        var m: Int
        var n: Int
        var k: Int
        var a: UnsafePointer<Float>
        var b: UnsafePointer<Float>
        var c: UnsafeMutablePointer<Float>
        var bias: UnsafePointer<Float>?
        var relu: Bool
    }

    /// What the threads share, guarded by `mutex`: the product of the current round and who is still on it.
    private final class Round: @unchecked Sendable {
        // @unchecked: every field is read and written with `mutex` held, and `product`'s pointers are only
        // dereferenced between the start of a round and the caller seeing `pending` reach zero.
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        let started = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        let finished = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        var product: Product?
        var generation = 0
        var pending = 0
        var stopping = false

        init() {
            pthread_mutex_init(mutex, nil)
            pthread_cond_init(started, nil)
            pthread_cond_init(finished, nil)
        }

        deinit {
            pthread_cond_destroy(finished)
            pthread_cond_destroy(started)
            pthread_mutex_destroy(mutex)
            finished.deallocate()
            started.deallocate()
            mutex.deallocate()
        }
    }

    let size: Int
    private let round = Round()
    private var workers: [OSThread] = []

    init(threads: Int) {
        size = max(1, threads)
        for part in 1..<size {
            let (round, size) = (self.round, self.size)
            workers.append(OSThread { Self.work(part: part, of: size, round: round) })
        }
    }

    deinit {
        pthread_mutex_lock(round.mutex)
        round.stopping = true
        pthread_cond_broadcast(round.started)
        pthread_mutex_unlock(round.mutex)
        for worker in workers { worker.join() }
    }

    /// Computes `product` with the whole team; returns when every slice is done.
    func run(_ product: Product) {
        guard size > 1 else { return Self.compute(product, part: 0, of: 1) }
        pthread_mutex_lock(round.mutex)
        round.product = product
        round.generation += 1
        round.pending = size - 1
        pthread_cond_broadcast(round.started)
        pthread_mutex_unlock(round.mutex)
        Self.compute(product, part: 0, of: size)
        pthread_mutex_lock(round.mutex)
        while round.pending > 0 { pthread_cond_wait(round.finished, round.mutex) }
        round.product = nil
        pthread_mutex_unlock(round.mutex)
    }

    private static func work(part: Int, of size: Int, round: Round) {
        var seen = 0
        while true {
            pthread_mutex_lock(round.mutex)
            while round.generation == seen && !round.stopping { pthread_cond_wait(round.started, round.mutex) }
            if round.stopping {
                pthread_mutex_unlock(round.mutex)
                return
            }
            seen = round.generation
            let product = round.product!
            pthread_mutex_unlock(round.mutex)
            compute(product, part: part, of: size)
            pthread_mutex_lock(round.mutex)
            round.pending -= 1
            if round.pending == 0 { pthread_cond_signal(round.finished) }
            pthread_mutex_unlock(round.mutex)
        }
    }

    /// Slice `part` of `size`: a run of columns, a multiple of 16 wide so slices start on cache lines.
    static func compute(_ p: Product, part: Int, of size: Int) {
        let width = ((p.n + size - 1) / size + 15) & ~15
        let first = part * width
        let last = min(p.n, first + width)
        guard first < last else { return }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(p.m), Int32(last - first), Int32(p.k), 1,
            p.a, Int32(p.k), p.b + first, Int32(p.n), 0, p.c + first, Int32(p.n))
        guard let bias = p.bias else { return }
        for row in 0..<p.m {
            let line = p.c + row * p.n
            let b = bias[row]
            if p.relu {
                for i in first..<last { line[i] = max(line[i] + b, 0) }
            } else {
                for i in first..<last { line[i] += b }
            }
        }
    }
}
