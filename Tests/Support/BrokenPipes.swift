#if canImport(Glibc)
import Glibc
#endif

/// Makes a write to a closed socket or pipe fail with `EPIPE` instead of
/// killing the whole test process with SIGPIPE: the end-to-end tests talk to
/// servers that are meant to close connections on them. Idempotent.
public func ignoreBrokenPipes() {
    signal(SIGPIPE, SIG_IGN)
}
