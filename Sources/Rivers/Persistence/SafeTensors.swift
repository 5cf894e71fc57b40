// The safetensors format (8-byte little-endian header length, a JSON header of names, dtypes,
// shapes and byte ranges, then the raw little-endian data), Float32 tensors only, so that a
// Python user reads rivers' files with the `safetensors` package.
import Foundation

public enum SafeTensors {
    /// One tensor to write: its values are read from `pointer` (count = product of shape).
    public struct Entry {
        public let name: String
        public let shape: [Int]
        public let pointer: UnsafePointer<Float>
        public init(name: String, shape: [Int], pointer: UnsafePointer<Float>) {
            self.name = name; self.shape = shape; self.pointer = pointer
        }
    }

    /// The bytes of a file holding `entries` (in order) and string `metadata`.
    public static func encode(_ entries: [Entry], metadata: [String: String]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for e in entries {
            let bytes = e.shape.reduce(1, *) * 4
            header[e.name] = ["dtype": "F32", "shape": e.shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces to a multiple of 8 so the data is aligned (allowed by the format).
        while (json.count + 8) % 8 != 0 { json.append(0x20) }
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for e in entries {
            data.append(UnsafeBufferPointer(start: e.pointer, count: e.shape.reduce(1, *)))
        }
        return data
    }

    /// A file read back: tensors by name (shape and values) and the metadata.
    public struct File {
        public var tensors: [String: (shape: [Int], values: [Float])]
        public var metadata: [String: String]
    }

    /// Parses a file's bytes; any inconsistency is an error naming `path`.
    public static func decode(_ data: Data, path: String) throws -> File {
        func bad(_ reason: String) -> RiversError {
            .file(path: path, reason: "not a valid safetensors file: \(reason)")
        }
        guard data.count >= 8 else { throw bad("shorter than its header length") }
        let headerLength = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw bad("header length \(headerLength) past the end of the file")
        }
        let start = 8 + Int(headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<start)) as? [String: Any] else {
            throw bad("the header is not a JSON object")
        }
        var file = File(tensors: [:], metadata: [:])
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else { throw bad("metadata is not a map of strings") }
                file.metadata = m
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                let shape = info["shape"] as? [Int], let range = info["data_offsets"] as? [Int], range.count == 2
            else {
                throw bad("entry \(name) lacks dtype, shape or data_offsets")
            }
            guard dtype == "F32" else { throw bad("tensor \(name) is \(dtype); only F32 is read") }
            // The element count, refusing shapes whose product overflows.
            var count = 1
            for d in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: max(d, 0))
                guard !overflow, product <= data.count else {
                    throw bad("tensor \(name)'s shape \(shape) is larger than the file")
                }
                count = product
            }
            guard shape.allSatisfy({ $0 >= 0 }), range[0] >= 0, range[0] <= range[1], range[1] - range[0] == count * 4,
                range[1] <= data.count - start
            else {
                throw bad("tensor \(name)'s byte range does not match its shape \(shape)")
            }
            let values = data.subdata(in: (start + range[0])..<(start + range[1])).withUnsafeBytes { raw in
                (0..<count).map {
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
                }
            }
            file.tensors[name] = (shape, values)
        }
        return file
    }

    public static func read(_ path: String) throws -> File {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RiversError.file(
                path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist")
        }
        return try decode(data, path: path)
    }
}
