internal import CRdKafka
import Foundation
import Logging
import Synchronization

/// Owns one librdkafka producer (`rd_kafka_t`) and the thread that polls it.
///
/// `@unchecked Sendable`: the handle is thread-safe by librdkafka's contract
/// (produce, poll, flush and purge may be called from any thread); this class
/// only adds the poll thread, whose lifetime it manages, and it destroys the
/// handle exactly once, after the thread has stopped: in ``shutdown()``, on a
/// thread of its own (stopping joins the poll thread and `rd_kafka_destroy`
/// joins librdkafka's, so neither may run on the cooperative pool), or as a
/// last resort in `deinit` for a producer nobody shut down.
///
/// Delivery reports arrive on the poll thread and are handed to `onDelivery`
/// with the opaque number each message was produced with.
public final class KafkaProducer: @unchecked Sendable {
    private let handle: OpaquePointer
    private let router: Unmanaged<DeliveryRouter>
    private let poller = PollThreadControl()
    private let logger: Logger
    /// Set once by ``shutdown()`` (or `deinit`): the handle is destroyed or about to be.
    private let isShutDown = Atomic<Bool>(false)

    /// Creates the producer with `properties` (any librdkafka property) and
    /// starts polling. `onDelivery` runs on the poll thread; `onConnectivity`
    /// too, with `false` when librdkafka reports every broker down and `true`
    /// when the first delivery or metadata answer after that ends the outage
    /// (while it lasts, the poll thread asks for metadata every 500 ms).
    public init(
        properties: [String: String], logger: Logger,
        onDelivery: @escaping @Sendable (KafkaDeliveryReport) -> Void,
        onFatal: @escaping @Sendable (KafkaError) -> Void = { _ in },
        onConnectivity: @escaping @Sendable (Bool) -> Void = { _ in }
    ) throws(KafkaError) {
        self.logger = logger
        let conf = try KafkaClientConfig.make(properties)
        let router = Unmanaged.passRetained(
            DeliveryRouter(onDelivery: onDelivery, onFatal: onFatal, onConnectivity: onConnectivity, logger: logger))
        rd_kafka_conf_set_opaque(conf, router.toOpaque())
        rd_kafka_conf_set_dr_msg_cb(conf, deliveryCallback)
        rd_kafka_conf_set_error_cb(conf, errorCallback)
        rd_kafka_conf_set_log_cb(conf, logCallback)
        var errorText = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            router.release()
            let reason = errorText.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw KafkaError(configuration: "cannot create the Kafka producer: \(reason)")
        }
        self.handle = handle
        self.router = router
        // The thread cannot outlive the handle: deinit stops and joins it first.
        let address = Int(bitPattern: handle)
        let thread = Thread { [poller, router] in
            let handle = OpaquePointer(bitPattern: address)
            let router = router.takeUnretainedValue()
            let probeEvery = ContinuousClock.Duration.milliseconds(500)
            var nextProbe = ContinuousClock.now
            while !poller.stopped.load(ordering: .acquiring) {
                rd_kafka_poll(handle, 100)
                // Every broker was down: ask for metadata now and then, so a cluster
                // that is back is noticed even when no message is queued to find out.
                if !router.isReachable, ContinuousClock.now >= nextProbe {
                    nextProbe = ContinuousClock.now + probeEvery
                    var metadata: UnsafePointer<rd_kafka_metadata>?
                    if rd_kafka_metadata(handle, 0, nil, &metadata, 250) == RD_KAFKA_RESP_ERR_NO_ERROR {
                        router.reachable()
                    }
                    if let metadata { rd_kafka_metadata_destroy(metadata) }
                }
            }
            poller.done.signal()
        }
        thread.name = "cibridge-kafka-poll"
        thread.start()
    }

    /// Stops polling and destroys the handle, on a thread of its own. Messages
    /// still queued are dropped without reports: flush first. Later calls do nothing.
    public func shutdown() async {
        guard !isShutDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread { [self] in
                destroy()
                continuation.resume()
            }
            thread.name = "cibridge-kafka-shutdown"
            thread.start()
        }
    }

    private func destroy() {
        poller.stopped.store(true, ordering: .releasing)
        poller.done.wait()
        rd_kafka_destroy(handle)
        router.release()
    }

    deinit {
        // Blocks whatever thread drops the last reference: sinks call shutdown() instead.
        if !isShutDown.exchange(true, ordering: .acquiringAndReleasing) { destroy() }
    }

    /// Queues `message`; the delivery report comes back with `opaque`.
    /// Throws at once when librdkafka refuses it (`_QUEUE_FULL`, `_MSG_SIZE_TOO_LARGE`, …).
    public func produce(_ message: KafkaMessage, opaque: UInt64) throws(KafkaError) {
        guard !isShutDown.load(ordering: .acquiring) else { throw KafkaError(RD_KAFKA_RESP_ERR__DESTROY, "producer is shut down") }
        let error: OpaquePointer? = message.topic.withCString { topic in
            message.key.withUnsafeBytes { key in
                message.value.withUnsafeBytes { value in
                    // The fields and the headers' bytes live on the stack for the call:
                    // librdkafka copies both (RD_KAFKA_MSG_F_COPY, and headers always),
                    // so no allocation is made per message for them.
                    let count = 5 + message.headers.count
                    return withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: count) { fields in
                        fields.initialize(repeating: rd_kafka_vu_t())
                        fields[0].vtype = RD_KAFKA_VTYPE_TOPIC
                        fields[0].u.cstr = topic
                        fields[1].vtype = RD_KAFKA_VTYPE_KEY
                        fields[1].u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                        fields[1].u.mem.size = key.count
                        fields[2].vtype = RD_KAFKA_VTYPE_VALUE
                        fields[2].u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                        fields[2].u.mem.size = value.count
                        fields[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                        fields[3].u.i = RD_KAFKA_MSG_F_COPY
                        fields[4].vtype = RD_KAFKA_VTYPE_OPAQUE
                        fields[4].u.ptr = UnsafeMutableRawPointer(bitPattern: UInt(opaque))
                        return withHeaderBytes(message.headers) { headers in
                            for (index, header) in headers.enumerated() {
                                fields[5 + index].vtype = RD_KAFKA_VTYPE_HEADER
                                fields[5 + index].u.header.name = header.name
                                fields[5 + index].u.header.val = header.value
                                fields[5 + index].u.header.size = header.size
                            }
                            return rd_kafka_produceva(handle, fields.baseAddress, count)
                        }
                    }
                }
            }
        }
        if let error {
            defer { rd_kafka_error_destroy(error) }
            let code = rd_kafka_error_code(error)
            throw KafkaError(code, String(cString: rd_kafka_error_string(error)))
        }
    }

    /// Waits up to `timeout` for queued messages to be delivered (reports included).
    /// Returns how many are still queued or in flight.
    @discardableResult
    public func flush(timeout: Duration) -> Int {
        guard !isShutDown.load(ordering: .acquiring) else { return 0 }
        let milliseconds = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        rd_kafka_flush(handle, milliseconds)
        return Int(rd_kafka_outq_len(handle))
    }

    /// ``flush(timeout:)`` on a thread of its own: it blocks, and blocking C
    /// calls never run on Swift's cooperative pool.
    public func flushOffPool(timeout: Duration) async -> Int {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: self.flush(timeout: timeout)) }
            thread.name = "cibridge-kafka-flush"
            thread.start()
        }
    }

    /// Drops everything queued or in flight; their reports come back with
    /// `_PURGE_QUEUE` / `_PURGE_INFLIGHT` (retriable), so nothing is forgotten.
    public func purge() {
        guard !isShutDown.load(ordering: .acquiring) else { return }
        rd_kafka_purge(handle, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT)
        rd_kafka_poll(handle, 0)
    }

    /// Messages queued or in flight.
    public var outstanding: Int { isShutDown.load(ordering: .acquiring) ? 0 : Int(rd_kafka_outq_len(handle)) }
}

/// Tells the poll thread to stop, and says when it has.
final class PollThreadControl: Sendable {
    let stopped = Atomic<Bool>(false)
    let done = DispatchSemaphore(value: 0)
}

/// The conf opaque: turns librdkafka's C callbacks back into Swift calls.
final class DeliveryRouter: Sendable {
    let onDelivery: @Sendable (KafkaDeliveryReport) -> Void
    let onFatal: @Sendable (KafkaError) -> Void
    let onConnectivity: @Sendable (Bool) -> Void
    let logger: Logger
    private let reachableFlag = Atomic<Bool>(true)

    /// False from librdkafka's "all brokers down" until the next delivery or metadata answer.
    var isReachable: Bool { reachableFlag.load(ordering: .relaxed) }

    /// A broker answered: tells `onConnectivity` when that ends an outage.
    func reachable() {
        if !reachableFlag.exchange(true, ordering: .relaxed) { onConnectivity(true) }
    }

    /// librdkafka reported every broker down.
    func unreachable() {
        if reachableFlag.exchange(false, ordering: .relaxed) { onConnectivity(false) }
    }

    init(
        onDelivery: @escaping @Sendable (KafkaDeliveryReport) -> Void, onFatal: @escaping @Sendable (KafkaError) -> Void,
        onConnectivity: @escaping @Sendable (Bool) -> Void, logger: Logger
    ) {
        self.onDelivery = onDelivery
        self.onFatal = onFatal
        self.onConnectivity = onConnectivity
        self.logger = logger
    }
}

private func deliveryCallback(
    _ handle: OpaquePointer?, _ message: UnsafePointer<rd_kafka_message_t>?, _ opaque: UnsafeMutableRawPointer?
) {
    guard let message, let opaque else { return }
    let router = Unmanaged<DeliveryRouter>.fromOpaque(opaque).takeUnretainedValue()
    let sequence = UInt64(UInt(bitPattern: message.pointee._private))
    var error: KafkaError?
    if message.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR {
        error = KafkaError(message.pointee.err)
    } else if rd_kafka_message_status(message) != RD_KAFKA_MSG_STATUS_PERSISTED {
        // Acknowledge only what the broker persisted.
        error = KafkaError(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, "not persisted")
    } else if message.pointee.offset < 0 {
        // "Persisted" without an offset: the broker answered DUPLICATE_SEQUENCE_NUMBER
        // and librdkafka assumed an earlier attempt was stored. The fault tests saw the
        // mock cluster say so for a message it never stored (after a leader move and
        // injected errors), so it is not taken as proof: sent again, at worst a
        // duplicate with the same CloudEvents id.
        error = KafkaError(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, "acknowledged without an offset (duplicate sequence); sending again")
    }
    if error == nil { router.reachable() }
    router.onDelivery(
        KafkaDeliveryReport(opaque: sequence, error: error, partition: message.pointee.partition, offset: message.pointee.offset))
}

private func errorCallback(_ handle: OpaquePointer?, _ code: Int32, _ reason: UnsafePointer<CChar>?, _ opaque: UnsafeMutableRawPointer?) {
    guard let opaque else { return }
    let router = Unmanaged<DeliveryRouter>.fromOpaque(opaque).takeUnretainedValue()
    let text = reason.map { String(cString: $0) } ?? ""
    let error = KafkaError(rd_kafka_resp_err_t(rawValue: code), text)
    if code == RD_KAFKA_RESP_ERR__FATAL.rawValue {
        var detail = [CChar](repeating: 0, count: 512)
        let original = rd_kafka_fatal_error(handle, &detail, detail.count)
        let fatal = KafkaError(original, detail.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        router.logger.error("kafka producer fatal error", metadata: ["error": "\(fatal)"])
        router.onFatal(fatal)
    } else {
        if code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue { router.unreachable() }
        router.logger.warning("kafka client error", metadata: ["error": "\(error)"])
    }
}

private func logCallback(_ handle: OpaquePointer?, _ level: Int32, _ facility: UnsafePointer<CChar>?, _ text: UnsafePointer<CChar>?) {
    guard let handle, let opaque = rd_kafka_opaque(handle) else { return }
    let router = Unmanaged<DeliveryRouter>.fromOpaque(opaque).takeUnretainedValue()
    let message = Logger.Message(stringLiteral: text.map { String(cString: $0) } ?? "")
    let metadata: Logger.Metadata = ["facility": .string(facility.map { String(cString: $0) } ?? "")]
    // syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug
    switch level {
    case ...3: router.logger.error(message, metadata: metadata)
    case 4: router.logger.warning(message, metadata: metadata)
    case 5...6: router.logger.info(message, metadata: metadata)
    default: router.logger.debug(message, metadata: metadata)
    }
}

/// Calls `body` with C strings and byte pointers for `headers`, valid during the
/// call: every name (NUL-terminated) and value copied into one stack buffer.
private func withHeaderBytes<R>(
    _ headers: [(name: String, value: [UInt8])],
    _ body: ([(name: UnsafePointer<CChar>, value: UnsafeRawPointer?, size: Int)]) -> R
) -> R {
    var size = 0
    for header in headers { size += header.name.utf8.count + 1 + header.value.count }
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(size, 1)) { storage in
        let base = storage.baseAddress!
        var pointers: [(name: UnsafePointer<CChar>, value: UnsafeRawPointer?, size: Int)] = []
        pointers.reserveCapacity(headers.count)
        var at = 0
        for header in headers {
            let name = base + at
            var nameCopy = header.name
            nameCopy.withUTF8 { utf8 in
                if let from = utf8.baseAddress { (base + at).initialize(from: from, count: utf8.count) }
                at += utf8.count
            }
            base[at] = 0
            at += 1
            let value = base + at
            header.value.withUnsafeBufferPointer { bytes in
                if let from = bytes.baseAddress { (base + at).initialize(from: from, count: bytes.count) }
                at += bytes.count
            }
            pointers.append(
                (UnsafeRawPointer(name).assumingMemoryBound(to: CChar.self), UnsafeRawPointer(value), header.value.count))
        }
        return body(pointers)
    }
}
