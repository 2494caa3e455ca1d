/// Assigns every activation tensor to a reusable buffer, once, at load: a tensor's buffer is handed to a later
/// tensor after its last reader has run. ResNet50 at 224 px needs about 3 buffers' worth instead of ~70.
struct MemoryPlan {
    /// Buffer index of each tensor.
    var bufferOfTensor: [Int]
    /// Element capacity of each buffer.
    var bufferSizes: [Int]

    init(network: Network, elementsOf size: (Network.Shape) -> Int = { $0.count }) {
        let tensorCount = network.shapes.count
        var lastUse = [Int](repeating: -1, count: tensorCount)
        for (index, layer) in network.layers.enumerated() {
            for input in layer.inputs { lastUse[input] = index }
        }
        lastUse[network.layers.last!.output] = Int.max  // the output stays readable after the run
        var bufferOfTensor = [Int](repeating: -1, count: tensorCount)
        var sizes: [Int] = []
        var free: [Int] = []

        func assign(_ tensor: Int) {
            let need = size(network.shapes[tensor])
            // Best fit among free buffers; grow the largest one if none is big enough.
            if let best = free.filter({ sizes[$0] >= need }).min(by: { sizes[$0] < sizes[$1] }) {
                free.removeAll { $0 == best }
                bufferOfTensor[tensor] = best
            } else if let largest = free.max(by: { sizes[$0] < sizes[$1] }) {
                free.removeAll { $0 == largest }
                sizes[largest] = need
                bufferOfTensor[tensor] = largest
            } else {
                sizes.append(need)
                bufferOfTensor[tensor] = sizes.count - 1
            }
        }

        assign(0)
        for (index, layer) in network.layers.enumerated() {
            assign(layer.output)
            for input in Set(layer.inputs) where lastUse[input] == index {
                free.append(bufferOfTensor[input])
            }
        }
        self.bufferOfTensor = bufferOfTensor
        self.bufferSizes = sizes
    }

    var totalElements: Int { bufferSizes.reduce(0, +) }
}
