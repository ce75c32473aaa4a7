import Foundation

extension EtcdClient {
    /// `KV/Range` over gRPC on the preferred member, with the members failed over as `callData`
    /// does. A member that does not speak gRPC (an HTTP/1.1-only proxy) is asked through the
    /// gateway instead, from then on.
    func rangeOverGRPC(key: String, rangeEnd: String?, limit: Int, revision: Int64, serializable: Bool) async throws(EtcdError) -> EtcdRange {
        let message = RangeProtobuf.request(
            key: Array(key.utf8), rangeEnd: rangeEnd.map { Array($0.utf8) }, limit: Int64(limit), revision: max(revision, 0),
            serializable: serializable)
        return try await withFailover { endpoint throws(EtcdError) in
            if !grpc.isKnownNotGRPC(endpoint) {
                do throws(GRPCFailure) {
                    return try await grpc.withConnection(to: endpoint, connectTimeout: configuration.requestTimeout) { connection throws(GRPCFailure) in
                        let answer = try await connection.unary(path: "/etcdserverpb.KV/Range", message: message, timeout: configuration.pageTimeout)
                        do {
                            return try answer.withUnsafeReadableBytes { bytes throws(EtcdError) in try RangeProtobuf.response(bytes) }
                        } catch let error as EtcdError {
                            throw .etcd(error)
                        } catch {
                            throw .etcd(EtcdError(.malformedResponse, "\(error)"))
                        }
                    }
                } catch {
                    switch error {
                    case .etcd(let error):
                        throw error
                    case .notGRPC(let reason):
                        if grpc.markNotGRPC(endpoint) {
                            logger.debug("etcd (\(endpoint)) does not speak gRPC (\(reason)); its list pages go through the JSON gateway")
                        }
                    }
                }
            }
            let request = Self.gatewayRangeRequest(key: key, rangeEnd: rangeEnd, limit: limit, revision: revision, serializable: serializable)
            let data = try await onceData(endpoint + "/v3/kv/range", body: try Self.encode(request), timeout: configuration.pageTimeout)
            return try Self.gatewayRange(data)
        }
    }
}
