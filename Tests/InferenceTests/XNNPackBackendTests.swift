import Foundation
import Testing

@testable import Inference

/// The int8 backend frees what it made exactly once when its construction fails part-way (the XNNPACK calls
/// after the buffers and threadpool exist are made to fail), and a backend that was made frees it when it goes.
/// Serialized: the count of live resources is process-wide.
@Suite(.serialized) struct XNNPackBackendTests {
    let tiny = TinyModelTests()

    @Test(arguments: [XNNPackBackend.InjectedFailure.createRuntime, .setupRuntime], [1, 2])
    func aFailedLoadReleasesEverythingOnceAndSaysWhichCall(failure: XNNPackBackend.InjectedFailure, threads: Int) throws {
        let path = try tiny.quantizedTinyModel("xnnpack-failure-\(threads).kmodel")
        defer { unlink(path) }
        let model = try KioskModel(path: path)
        let before = XNNPackResources.live.load(ordering: .relaxed)
        let call = failure == .createRuntime ? "xnn_create_runtime_v2" : "xnn_setup_runtime"
        do {
            _ = try XNNPackBackend(model: model, threads: threads, failing: failure)
            Issue.record("the injected \(call) failure was not reported")
        } catch {
            guard case .xnnpack(call, _) = error else {
                Issue.record("wrong error: \(error)")
                return
            }
        }
        #expect(XNNPackResources.live.load(ordering: .relaxed) == before, "the failed load left resources behind")
        // The process is intact: the next load of the same file works and answers.
        let backend = try XNNPackBackend(model: model, threads: threads)
        #expect(XNNPackResources.live.load(ordering: .relaxed) == before + 1)
        let logits = UnsafeMutableBufferPointer<Float>.allocate(capacity: model.labels.count)
        defer { logits.deallocate() }
        try backend.run(logits: logits)
        #expect(logits.allSatisfy { $0.isFinite })
    }

    @Test func aBackendThatGoesFreesItsResources() throws {
        let path = try tiny.quantizedTinyModel("xnnpack-lifetime.kmodel")
        defer { unlink(path) }
        let model = try KioskModel(path: path)
        let before = XNNPackResources.live.load(ordering: .relaxed)
        do {
            let backend = try XNNPackBackend(model: model, threads: 2)
            #expect(XNNPackResources.live.load(ordering: .relaxed) == before + 1)
            _ = backend
        }
        #expect(XNNPackResources.live.load(ordering: .relaxed) == before)
    }
}
