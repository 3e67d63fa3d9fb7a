import Logging

/// swift-log's `StreamLogHandler` on standard error, the same lines, except
/// that the handler's own metadata is kept as a dictionary and turned into
/// text only when a line is written.
///
/// `StreamLogHandler` re-renders its metadata on every change, and
/// Hummingbird sets a request id on the logger of every request: that was
/// 1.7 % of an accepted callback's CPU at full load, though nothing was
/// logged (docs/performance.md). Here the handler's metadata goes to the
/// stream handler with each line, as explicit metadata, which it renders the
/// same way.
struct TextLogHandler: LogHandler {
    private var base: StreamLogHandler
    var metadata: Logger.Metadata = [:]

    init(label: String) {
        base = StreamLogHandler.standardError(label: label)
    }

    var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        if !metadata.isEmpty { event.metadata = metadata.merging(event.metadata ?? [:]) { _, explicit in explicit } }
        base.log(event: event)
    }
}
